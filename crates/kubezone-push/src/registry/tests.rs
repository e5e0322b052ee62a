//! The registry against external-dns's own test cases (`endpoint/labels_test.go`,
//! `registry/mapper/mapper_test.go`, `registry/txt/registry_test.go`).

use hickory_proto::rr::{Name, RecordType};
use kubezone_model::{Kind, ObjectRef};

use super::*;
use crate::plan::Rdata;

fn mapper(prefix: &str, suffix: &str, wildcard: &str) -> Registry {
    Registry::new("owner", prefix, suffix, wildcard).expect("test fixture")
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

#[test]
fn labels_serialize_as_external_dns() {
    let foo = labels(&[("owner", "foo-owner"), ("resource", "foo-resource")]);
    assert_eq!(
        foo.serialize(),
        "heritage=external-dns,external-dns/owner=foo-owner,external-dns/resource=foo-resource"
    );
    // Keys sorted, whatever their order of insertion; the encryption nonce never written.
    let more = labels(&[
        ("resource", "r"),
        ("txt-encryption-nonce", "n"),
        ("new-key", "k"),
        ("owner", "o"),
    ]);
    assert_eq!(
        more.serialize(),
        "heritage=external-dns,external-dns/new-key=k,external-dns/owner=o,external-dns/resource=r"
    );
}

#[test]
fn kubezone_writes_what_external_dns_writes() {
    let registry = Registry::new("owner", "", "", "").expect("test fixture");
    assert_eq!(
        registry.value(Some("ingress/default/my-ingress")),
        "heritage=external-dns,external-dns/owner=owner,external-dns/resource=ingress/default/my-ingress"
    );
    assert_eq!(
        registry.value(None),
        "heritage=external-dns,external-dns/owner=owner"
    );
    // On the wire: one character-string, no quotes (they are zone-file syntax).
    let rdata = Rdata::txt(&registry.value(None));
    let mut expected = vec![46u8];
    expected.extend_from_slice(b"heritage=external-dns,external-dns/owner=owner");
    assert_eq!(rdata.as_bytes(), &expected[..]);
}

#[test]
fn labels_parse_as_external_dns() {
    let text =
        "heritage=external-dns,external-dns/owner=foo-owner,external-dns/resource=foo-resource";
    let foo = labels(&[("owner", "foo-owner"), ("resource", "foo-resource")]);
    assert_eq!(Labels::parse(text), Ok(foo.clone()));
    assert_eq!(Labels::parse(&format!("\"{text}\"")), Ok(foo));

    let bar = "heritage=external-dns,,external-dns/owner=bar-owner,external-dns/resource=bar-resource,external-dns/new-key=bar-new-key,random=stuff,no-equal-sign,,";
    assert_eq!(
        Labels::parse(bar),
        Ok(labels(&[
            ("owner", "bar-owner"),
            ("resource", "bar-resource"),
            ("new-key", "bar-new-key"),
        ]))
    );

    let equals = Labels::parse(
        "heritage=external-dns,external-dns/owner=team=platform,external-dns/resource=ingress/default/example",
    )
    .expect("test fixture");
    assert_eq!(equals.owner(), Some("team=platform"));
    assert_eq!(equals.resource(), Some("ingress/default/example"));
}

#[test]
fn values_without_external_dns_heritage_are_data() {
    assert_eq!(
        Labels::parse("external-dns/owner=random-owner"),
        Err(LabelsError::NoHeritage {
            value: "external-dns/owner=random-owner".into()
        })
    );
    assert_eq!(
        Labels::parse("heritage=mate,external-dns/owner=random-owner"),
        Err(LabelsError::OtherHeritage {
            found: "mate".into(),
            value: "heritage=mate,external-dns/owner=random-owner".into()
        })
    );
    // A wrong heritage refuses the value even when the right one follows.
    assert!(
        Labels::parse("heritage=mate,heritage=external-dns,external-dns/owner=random-owner")
            .is_err()
    );
    assert!(Labels::parse("v=spf1 -all").is_err());
    assert!(Labels::parse("").is_err());
}

#[test]
fn an_empty_owner_is_nobody() {
    let none =
        Labels::parse("heritage=external-dns,external-dns/resource=x").expect("test fixture");
    assert_eq!(none.owner(), None);
    let empty = Labels::parse("heritage=external-dns,external-dns/owner=").expect("test fixture");
    assert_eq!(empty.owner(), None);
}

#[test]
fn txt_names_as_external_dns() {
    // (prefix, suffix, wildcard, name, type, registry name): TestAffixNameMapper_ToTXTName and
    // TestToEndpointNameNewTXT.
    let cases = [
        (
            "%{record_type}-",
            "",
            "",
            "foo.example.com",
            "A",
            "a-foo.example.com",
        ),
        (
            "%{record_type}-",
            "",
            "",
            "foo.example.com",
            "AAAA",
            "aaaa-foo.example.com",
        ),
        (
            "%{record_type}-",
            "",
            "",
            "foo.example.com",
            "CNAME",
            "cname-foo.example.com",
        ),
        (
            "%{record_type}-",
            "",
            "",
            "2.49.168.192.in-addr.arpa",
            "PTR",
            "ptr-2.49.168.192.in-addr.arpa",
        ),
        (
            "%{record_type}-",
            "",
            "",
            "foo.example.com",
            "TXT",
            "txt-foo.example.com",
        ),
        (
            "",
            "-%{record_type}",
            "",
            "foo.example.com",
            "A",
            "foo-a.example.com",
        ),
        (
            "",
            "-%{record_type}",
            "",
            "foo.example.com",
            "CNAME",
            "foo-cname.example.com",
        ),
        (
            "txt-",
            "",
            "wild",
            "*.example.com",
            "A",
            "txt-a-wild.example.com",
        ),
        (
            "txt-",
            "",
            "wild",
            "*.example.com",
            "MX",
            "txt-mx-wild.example.com",
        ),
        ("", "", "", "foo.example.com", "A", "a-foo.example.com"),
        ("", "", "", "foo.example.com", "NS", "ns-foo.example.com"),
        ("", "", "", "foo.example.com", "SRV", "srv-foo.example.com"),
        (
            "",
            "",
            "",
            "foo.example.com",
            "NAPTR",
            "naptr-foo.example.com",
        ),
        (
            "",
            "",
            "",
            "foo.example.com",
            "DNAME",
            "dname-foo.example.com",
        ),
        ("foo", "", "", "example.com", "A", "fooa-example.com"),
        ("", "foo", "", "example", "AAAA", "aaaa-examplefoo"),
        ("", "foo", "", "example.com", "AAAA", "aaaa-examplefoo.com"),
        ("foo-", "", "", "example.com", "A", "foo-a-example.com"),
        (
            "",
            "-foo",
            "",
            "example.com",
            "CNAME",
            "cname-example-foo.com",
        ),
        (
            "foo.",
            "",
            "",
            "example.com",
            "CNAME",
            "foo.cname-example.com",
        ),
        (
            "",
            ".foo",
            "",
            "example.com",
            "CNAME",
            "cname-example.foo.com",
        ),
        (
            "foo.bar.",
            "",
            "",
            "example.com",
            "CNAME",
            "foo.bar.cname-example.com",
        ),
        (
            "",
            ".foo.bar.test",
            "",
            "example.com",
            "CNAME",
            "cname-example.foo.bar.test.com",
        ),
        (
            "%{record_type}-foo",
            "",
            "",
            "example.com",
            "A",
            "a-fooexample.com",
        ),
        (
            "",
            "foo-%{record_type}",
            "",
            "example.com",
            "A",
            "examplefoo-a.com",
        ),
        (
            "%{record_type}foo.",
            "",
            "",
            "example.com",
            "CNAME",
            "cnamefoo.example.com",
        ),
        (
            "",
            ".foo%{record_type}",
            "",
            "example.com",
            "A",
            "example.fooa.com",
        ),
        (
            "bar.%{record_type}.foo.",
            "",
            "",
            "example.com",
            "CNAME",
            "bar.cname.foo.example.com",
        ),
        (
            "",
            ".foo%{record_type}.bar",
            "",
            "example.com",
            "A",
            "example.fooa.bar.com",
        ),
        // docs/registry/txt.md: the apex with a prefix ending in '.'.
        (
            "%{record_type}-abc-.",
            "",
            "",
            "ex.com",
            "CNAME",
            "cname-abc-.ex.com",
        ),
    ];
    for (prefix, suffix, wildcard, name, record_type, txt) in cases {
        let registry = mapper(prefix, suffix, wildcard);
        assert_eq!(
            registry.to_txt_name(name, record_type),
            txt,
            "prefix {prefix:?} suffix {suffix:?} {name} {record_type}"
        );
    }
}

#[test]
fn registry_names_read_as_external_dns() {
    // (prefix, suffix, registry name, name, type): TestAffixNameMapper_ToEndpointName.
    let a = Some(RecordType::A);
    let cases = [
        (
            "%{record_type}-",
            "",
            "a-foo.example.com",
            "foo.example.com",
            a,
        ),
        (
            "%{record_type}-",
            "",
            "aaaa-foo.example.com",
            "foo.example.com",
            Some(RecordType::AAAA),
        ),
        (
            "%{record_type}-",
            "",
            "ns-foo.example.com",
            "foo.example.com",
            Some(RecordType::NS),
        ),
        (
            "%{record_type}-",
            "",
            "ptr-2.49.168.192.in-addr.arpa",
            "2.49.168.192.in-addr.arpa",
            Some(RecordType::PTR),
        ),
        (
            "",
            "-%{record_type}",
            "foo-a.example.com",
            "foo.example.com",
            a,
        ),
        (
            "",
            "-%{record_type}",
            "foo-cname.example.com",
            "foo.example.com",
            Some(RecordType::CNAME),
        ),
        ("", ".foo.bar", "a-example.foo.bar.com", "example.com", a),
        ("", ".foo.bar", "a-example.foo.bar", "example", a),
        ("", "", "a-foo.example.com", "foo.example.com", a),
        (
            "",
            "",
            "MX-Foo.Example.com",
            "foo.example.com",
            Some(RecordType::MX),
        ),
        (
            "",
            "",
            "txt-foo.example.com",
            "foo.example.com",
            Some(RecordType::TXT),
        ),
        (
            "",
            "",
            "naptr-foo.example.com",
            "foo.example.com",
            Some(RecordType::NAPTR),
        ),
        (
            "",
            "",
            "dname-foo.example.com",
            "foo.example.com",
            Some(RecordType::DNAME),
        ),
        // The old format: the record's own name, no type.
        ("", "", "foo.example.com", "foo.example.com", None),
        (
            "",
            "",
            "txt.bar.test-zone.example.org",
            "txt.bar.test-zone.example.org",
            None,
        ),
        (
            "txt.",
            "",
            "txt.bar.test-zone.example.org",
            "bar.test-zone.example.org",
            None,
        ),
        (
            "txt.",
            "",
            "txt.cname-tar.test-zone.example.org",
            "tar.test-zone.example.org",
            Some(RecordType::CNAME),
        ),
        (
            "txt-",
            "",
            "txt-a.foo.test-zone.example.org",
            "a.foo.test-zone.example.org",
            None,
        ),
        // TestDropPrefix: a templated prefix also reads names written before the template.
        (
            "foo-%{record_type}-",
            "",
            "foo-cname-test.example.com",
            "test.example.com",
            Some(RecordType::CNAME),
        ),
        (
            "foo-%{record_type}-",
            "",
            "foo-a-test.example.com",
            "test.example.com",
            a,
        ),
        (
            "foo-%{record_type}-",
            "",
            "foo--test.example.com",
            "test.example.com",
            None,
        ),
        (
            "%{record_type}-foo",
            "",
            "a-fooexample.com",
            "example.com",
            a,
        ),
        (
            "",
            ".foo%{record_type}.bar",
            "example.fooa.bar.com",
            "example.com",
            a,
        ),
    ];
    for (prefix, suffix, txt, name, record_type) in cases {
        let registry = mapper(prefix, suffix, "");
        assert_eq!(
            registry.covered_by(txt),
            Some(Covered {
                name: name.into(),
                record_type
            }),
            "prefix {prefix:?} suffix {suffix:?} {txt}"
        );
    }
}

#[test]
fn names_external_dns_reads_nothing_from() {
    // Too few labels for the suffix, and names without the affix.
    assert_eq!(mapper("", ".foo.bar", "").covered_by("a-example.foo"), None);
    assert_eq!(mapper("txt.", "", "").covered_by("bar.example.org"), None);
    assert_eq!(mapper("", "-txt", "").covered_by("bar.example.org"), None);
}

#[test]
fn written_names_read_back() {
    for (prefix, suffix) in [
        ("", ""),
        ("reg-", ""),
        ("%{record_type}-reg.", ""),
        ("", "-reg"),
    ] {
        let registry = mapper(prefix, suffix, "");
        for record_type in SUPPORTED_TYPES {
            let name = Name::from_ascii("www.example.com.").expect("test fixture");
            let txt = registry.txt_name(&name, record_type).expect("test fixture");
            assert_eq!(
                registry.covered_by(&endpoint_name(&txt)),
                Some(Covered {
                    name: "www.example.com".into(),
                    record_type: Some(record_type)
                }),
                "prefix {prefix:?} suffix {suffix:?} {record_type}"
            );
        }
    }
}

#[test]
fn txt_name_is_a_name() {
    let registry = mapper("", "", "");
    let name = Name::from_ascii("WWW.Example.COM.").expect("test fixture");
    let txt = registry
        .txt_name(&name, RecordType::AAAA)
        .expect("test fixture");
    assert_eq!(txt.to_ascii(), "aaaa-www.example.com.");
    assert!(txt.is_fqdn());
    assert_eq!(
        registry.txt_name(&name, RecordType::CAA),
        Err(RegistryError::UnsupportedType {
            name: "www.example.com".into(),
            record_type: RecordType::CAA
        })
    );
    // A label longer than 63 bytes once the type is added.
    let long = Name::from_ascii(format!("{}.example.com.", "x".repeat(62))).expect("test fixture");
    assert!(matches!(
        registry.txt_name(&long, RecordType::CNAME),
        Err(RegistryError::BadTxtName { .. })
    ));
}

#[test]
fn wildcards_look_up_under_their_replacement() {
    let star = Name::from_ascii("*.example.com.").expect("test fixture");
    assert_eq!(
        mapper("", "", "wild").lookup_name(&star),
        "wild.example.com"
    );
    assert_eq!(mapper("", "", "").lookup_name(&star), "*.example.com");
    let registry = mapper("", "", "wild");
    let txt = registry
        .txt_name(&star, RecordType::A)
        .expect("test fixture");
    assert_eq!(txt.to_ascii(), "a-wild.example.com.");
    assert_eq!(
        registry.covered_by(&endpoint_name(&txt)).map(|c| c.name),
        Some(registry.lookup_name(&star))
    );
}

#[test]
fn settings_external_dns_refuses() {
    assert_eq!(
        Registry::new("", "", "", ""),
        Err(RegistryError::EmptyOwner)
    );
    assert!(matches!(
        Registry::new("a,b", "", "", ""),
        Err(RegistryError::BadOwner { .. })
    ));
    assert!(matches!(
        Registry::new("\"a", "", "", ""),
        Err(RegistryError::BadOwner { .. })
    ));
    assert_eq!(
        Registry::new("o", "p-", "-s", ""),
        Err(RegistryError::PrefixAndSuffix {
            prefix: "p-".into(),
            suffix: "-s".into()
        })
    );
    // The owner read back is the owner written.
    for owner in ["cluster-east", "team=platform", "a b"] {
        let registry = Registry::new(owner, "", "", "").expect("test fixture");
        let value = registry.value(Some("service/ns/name"));
        assert_eq!(
            Labels::parse(&value).expect("test fixture").owner(),
            Some(owner)
        );
    }
}

#[test]
fn resource_labels_as_external_dns_sources() {
    let cases = [
        (
            Kind::Ingress,
            Some("default"),
            "web",
            Some("ingress/default/web"),
        ),
        (Kind::Service, Some("ns"), "api", Some("service/ns/api")),
        (Kind::DnsEndpoint, Some("ns"), "ep", Some("crd/ns/ep")),
        (Kind::HttpRoute, Some("ns"), "r", Some("httproute/ns/r")),
        (Kind::Node, None, "node-1", Some("node/node-1")),
        (Kind::Config, None, "static", None),
    ];
    for (kind, namespace, name, expected) in cases {
        let object = ObjectRef::new(kind, namespace, name);
        assert_eq!(resource_label(&object).as_deref(), expected, "{kind:?}");
    }
}

#[test]
fn long_values_split_into_strings_and_join_back() {
    let value = format!(
        "heritage=external-dns,external-dns/owner={}",
        "o".repeat(300)
    );
    let rdata = Rdata::txt(&value);
    let bytes = rdata.as_bytes();
    assert_eq!(bytes.first(), Some(&255));
    assert_eq!(
        bytes.get(256),
        Some(&u8::try_from(value.len() - 255).expect("test fixture"))
    );
    assert_eq!(bytes.len(), value.len() + 2);
    assert_eq!(rdata.txt_text().as_deref(), Some(value.as_str()));
    // Not character-strings: no text, no panic.
    assert_eq!(Rdata::from_wire(&[10, b'a']).txt_text(), None);
}
