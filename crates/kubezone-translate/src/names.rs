//! Names that may be written relative to a zone (Service annotations, Node host names).

use kubezone_model::{DnsName, Kind, NameError};

use crate::ZoneFilter;

/// Makes `text` absolute. A trailing dot, or a name that already falls in one of the zones,
/// means absolute; anything else is relative and is made absolute against every zone that
/// serves `kind`. Checking every zone first keeps `www.example.com` from also becoming
/// `www.example.com.other.org`.
pub(crate) fn expand(
    zones: &[ZoneFilter],
    kind: Kind,
    text: &str,
) -> Vec<Result<DnsName, NameError>> {
    let absolute = DnsName::parse(text);
    match absolute {
        Ok(name) if text.ends_with('.') || zones.iter().any(|z| z.origin.contains(&name)) => {
            vec![Ok(name)]
        }
        // Anything wrong with the name is wrong with every expansion of it too.
        Err(error) => vec![Err(error)],
        Ok(_) => zones
            .iter()
            .filter(|zone| zone.serves(kind))
            .map(|zone| {
                DnsName::parse(&format!("{text}.{}", zone.origin)).map_err(|error| match error {
                    // Report the expansion against the written text, which is what the user sees.
                    NameError::TooLong { len, .. } => NameError::TooLong {
                        name: text.to_string(),
                        len,
                    },
                    other => other,
                })
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zones() -> Vec<ZoneFilter> {
        let mut internal = ZoneFilter::new(DnsName::parse("internal").expect("valid"));
        internal.resources = vec![Kind::Node];
        vec![
            ZoneFilter::new(DnsName::parse("example.com").expect("valid")),
            ZoneFilter::new(DnsName::parse("other.org").expect("valid")),
            internal,
        ]
    }

    fn ok(results: Vec<Result<DnsName, NameError>>) -> Vec<String> {
        results
            .into_iter()
            .map(|r| r.expect("valid").to_string())
            .collect()
    }

    #[test]
    fn relative_names_go_to_every_serving_zone() {
        assert_eq!(
            ok(expand(&zones(), Kind::Service, "web")),
            ["web.example.com.", "web.other.org."]
        );
        assert_eq!(ok(expand(&zones(), Kind::Node, "n1")), ["n1.internal."]);
        assert_eq!(
            ok(expand(&zones(), Kind::Service, "*.apps")),
            ["*.apps.example.com.", "*.apps.other.org."]
        );
    }

    #[test]
    fn absolute_names_stay_put() {
        assert_eq!(
            ok(expand(&zones(), Kind::Service, "www.example.com")),
            ["www.example.com."]
        );
        assert_eq!(
            ok(expand(&zones(), Kind::Service, "www.elsewhere.net.")),
            ["www.elsewhere.net."]
        );
    }

    #[test]
    fn errors_name_the_written_text() {
        let results = expand(&zones(), Kind::Service, "a.*.b");
        assert_eq!(results.len(), 1);
        let err = results
            .into_iter()
            .next()
            .expect("one")
            .expect_err("invalid");
        assert!(err.to_string().contains("a.*.b"), "{err}");

        let long = vec!["a".repeat(61); 4].join(".");
        for result in expand(&zones(), Kind::Service, &long) {
            let err = result.expect_err("too long once the zone is added");
            assert!(err.to_string().contains(&long), "{err}");
        }
    }
}
