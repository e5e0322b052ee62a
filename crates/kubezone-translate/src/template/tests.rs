use super::*;

fn template(text: &str) -> NameTemplate {
    text.parse().expect("valid template")
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Renders for Service shop/web with labels and annotations.
fn render(text: &str) -> Result<Vec<String>, String> {
    let labels = map(&[
        ("app", "web"),
        ("app.kubernetes.io/name", "storefront"),
        ("env", "prod"),
        ("marker", ""),
    ]);
    let annotations = map(&[
        ("dns/primary", "api.example.com"),
        ("dns/secondary", "api-backup.example.com"),
        ("team", "Payments"),
        (
            "records",
            r#"[{"dns":"a.example.com"},{"dns":"b.example.com"}]"#,
        ),
    ]);
    template(text).render(&TemplateObject {
        kind: Kind::Service,
        name: "web",
        namespace: "shop",
        labels: Some(&labels),
        annotations: Some(&annotations),
        cluster: "",
    })
}

fn one(text: &str) -> String {
    let names = render(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    assert_eq!(names.len(), 1, "{text}: {names:?}");
    names.into_iter().next().unwrap_or_default()
}

#[test]
fn every_field() {
    assert_eq!(one("{{.Name}}.example.com"), "web.example.com");
    assert_eq!(one("{{.Namespace}}.example.com"), "shop.example.com");
    assert_eq!(one("{{.Kind}}.example.com"), "Service.example.com");
    assert_eq!(one("{{.Labels.app}}.example.com"), "web.example.com");
    assert_eq!(
        one(r#"{{ index .Labels "app.kubernetes.io/name" }}.example.com"#),
        "storefront.example.com"
    );
    assert_eq!(
        one(r#"{{ index .Annotations "dns/primary" }}"#),
        "api.example.com"
    );
    assert_eq!(
        one("{{.Namespace}}-{{.Name}}.example.com"),
        "shop-web.example.com"
    );
}

#[test]
fn cluster_scoped_objects_have_an_empty_namespace() {
    let names = template("{{.Name}}{{.Namespace}}.example.com").render(&TemplateObject {
        kind: Kind::Node,
        name: "n1",
        namespace: "",
        labels: None,
        annotations: None,
        cluster: "",
    });
    assert_eq!(names, Ok(vec!["n1.example.com".to_string()]));
}

#[test]
fn go_template_syntax() {
    assert_eq!(
        one(r#"{{ printf "%s-%s" .Name .Namespace }}.example.com"#),
        "web-shop.example.com"
    );
    assert_eq!(
        one(r#"{{ .Name | printf "%s.apps.example.com" }}"#),
        "web.apps.example.com"
    );
    assert_eq!(
        one(r#"{{ if eq .Kind "Service" }}svc{{ else }}other{{ end }}.example.com"#),
        "svc.example.com"
    );
    assert_eq!(
        one("{{- .Name -}} . {{- .Namespace }}.example.com"),
        "web.shop.example.com"
    );
    assert_eq!(
        one("{{/* a comment */}}{{ with .Labels.env }}{{ . }}.{{ end }}example.com"),
        "prod.example.com"
    );
    assert_eq!(
        one(r#"{{ or .Annotations.dns "fallback" }}.example.com"#),
        "fallback.example.com"
    );
    assert_eq!(
        one("{{ $n := .Name }}{{ $n }}.example.com"),
        "web.example.com"
    );
}

#[test]
fn several_names_separated_by_commas() {
    assert_eq!(
        render("{{.Name}}.example.com, {{.Name}}.{{.Namespace}}.example.org., ,"),
        Ok(vec![
            "web.example.com".to_string(),
            "web.shop.example.org".to_string()
        ])
    );
    // external-dns's range over annotations, a name per matching one; each name once.
    let names = render(
        r#"{{ range $k, $v := .Annotations }}{{ if contains $k "dns/" }}{{ $v }},{{ $v }},{{ end }}{{ end }}"#,
    )
    .expect("renders");
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(sorted, ["api-backup.example.com", "api.example.com"]);
    assert_eq!(
        render(r#"{{ if eq .Kind "Ingress" }}x{{ end }}"#),
        Ok(vec![])
    );
}

#[test]
fn external_dns_functions() {
    for (text, expected) in [
        (r#"{{ trimPrefix .Name "w" }}"#, "eb"),
        (r#"{{ trimSuffix .Name "b" }}"#, "we"),
        (r#"{{ trim "  x  " }}"#, "x"),
        (r#"{{ toLower .Annotations.team }}"#, "payments"),
        (r#"{{ .Name | replace "e" "3" }}"#, "w3b"),
        (r#"{{ contains .Name "eb" }}"#, "true"),
        (r#"{{ contains .Name "x" }}"#, "false"),
        (r#"{{ isIPv4 "192.0.2.1" }}"#, "true"),
        (r#"{{ isIPv4 "2001:db8::1" }}"#, "false"),
        (r#"{{ isIPv6 "::ffff:192.0.2.1" }}"#, "true"),
        (r#"{{ isIPv6 "web" }}"#, "false"),
        (r#"{{ hasKey .Labels "marker" }}"#, "true"),
        (r#"{{ hasKey .Labels "missing" }}"#, "false"),
        ("{{ len .Labels }}", "4"),
        ("{{ len .Name }}", "3"),
        // A missing label is the empty string to these functions, as in Go.
        (r#"{{ toLower .Labels.missing }}x"#, "x"),
    ] {
        assert_eq!(one(text), expected, "{text}");
    }
    let names = render(
        r#"{{ range $e := (index .Annotations "records" | fromJson) }}{{ index $e "dns" }},{{ end }}"#,
    )
    .expect("renders");
    assert_eq!(names, ["a.example.com", "b.example.com"]);
    assert_eq!(
        render(r#"{{ fromJson "not json" }}x"#),
        Ok(vec!["nilx".into()])
    );
}

#[test]
fn rendering_errors_say_why() {
    let err = render(r#"{{ trimPrefix .Name }}"#).expect_err("one argument short");
    assert!(err.contains("trimPrefix") && err.contains('2'), "{err}");
    let err = render(r#"{{ printf "%d" .Name }}"#).expect_err("not a number");
    assert!(err.contains("web"), "{err}");
    let err = render("{{ range .Name }}{{ end }}").expect_err("not a list");
    assert!(err.contains("range"), "{err}");
}

#[test]
fn a_missing_key_is_told_apart() {
    let names = render("{{ .Labels.missing }}.example.com").expect("renders");
    let name = names.first().expect("one name");
    assert!(no_value_reason(name).is_some(), "{name}");
    assert!(no_value_reason("web.example.com").is_none());
}

#[test]
fn bad_templates_are_named_with_the_reason() {
    for (text, reason) in [
        ("{{ .Name", "no closing }}"),
        ("{{ nope .Name }}", "nope"),
        ("{{ end }}", "end"),
        ("{{ .name }}.example.com", ".name"),
        ("{{ $.Spec.Type }}", ".Spec"),
        ("", "empty"),
        ("  ", "empty"),
    ] {
        let err = text.parse::<NameTemplate>().expect_err(text);
        assert_eq!(err.template, text);
        assert!(err.to_string().contains(&format!("{text:?}")), "{err}");
        assert!(err.reason.contains(reason), "{text}: {err}");
    }
    // Fields are checked on the path a sample object takes; the message lists the fields.
    let err = "{{ .Nmae }}".parse::<NameTemplate>().expect_err("typo");
    assert!(err.reason.contains(FIELDS), "{err}");
    assert!(!err.reason.contains("Labels\": Map"), "{err}");
}

#[test]
fn compared_and_printed_as_written() {
    let a = template("{{.Name}}.example.com");
    assert_eq!(a, template("{{.Name}}.example.com"));
    assert_ne!(a, template("{{ .Name }}.example.com"));
    assert_eq!(a.to_string(), "{{.Name}}.example.com");
    assert_eq!(a.as_str(), "{{.Name}}.example.com");
    assert!(format!("{a:?}").contains("{{.Name}}.example.com"));
}

#[test]
fn texts_that_break_gtmpl_are_refused_first() {
    for (text, reason) in [
        ("{{ .Name ", "no closing }}"),
        ("{{ ", "no closing }}"),
        ("{{ 12 ", "no closing }}"),
        ("{{ .Name }}  {{-   ", "no closing }}"),
        ("{{ .Name€ }}", "not ASCII"),
        ("{{ é }}", "not ASCII"),
        ("ü{{ .Name }}", "not ASCII"),
        (r#"{{ "a }}"#, "closing \""),
        ("{{ `a }}", "closing `"),
        ("{{ 'a }}", "closing '"),
        ("{{/* a }}", "*/"),
        ("{{/* a */ .Name }}", "followed by }}"),
    ] {
        let err = text.parse::<NameTemplate>().expect_err(text);
        assert!(err.reason.contains(reason), "{text:?}: {err}");
    }
    // String literals, escapes and comments are read as Go reads them.
    for text in [
        r#"{{ replace "ü" "ue" .Name }}.example.com"#,
        r#"{{ "}}\"" | trim }}x"#,
        "{{ `}}` }}x",
        "{{/* }} */}}x",
        "{{- /* c */ -}}x",
        "{{ '}' }}x",
    ] {
        assert!(text.parse::<NameTemplate>().is_ok(), "{text}");
    }
}

/// Texts pieced together from the pieces of templates, right and wrong, in every order a
/// fixed generator gives: none may hang or panic the parser, each parses or is refused.
#[test]
fn arbitrary_texts_parse_or_are_refused() {
    const PIECES: [&str; 24] = [
        "{{", "}}", " ", ".Name", "\"", "`", "'", "(", ")", "-", "/*", "*/", "1", "é", "€", "\n",
        "|", "$x", ":=", "end", "if", "{{-", "-}}", "\\",
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: usize| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from(state >> 33).unwrap_or_default() % n
    };
    let (mut parsed, mut refused) = (0, 0);
    for _ in 0..3000 {
        let len = 1 + next(8);
        let text: String = (0..len).map(|_| PIECES[next(PIECES.len())]).collect();
        match text.parse::<NameTemplate>() {
            Ok(_) => parsed += 1,
            Err(err) => {
                assert_eq!(err.template, text);
                refused += 1;
            }
        }
    }
    assert!(
        parsed > 0 && refused > 0,
        "{parsed} parsed, {refused} refused"
    );
}
