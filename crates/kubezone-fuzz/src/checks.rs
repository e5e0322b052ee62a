//! Invariants shared by the targets: what every translation result must satisfy, whatever the
//! object was.

use hickory_proto::serialize::binary::BinEncodable;
use kubezone_model::{DnsName, Target};
use kubezone_translate::{Translated, ZoneFilter};

/// RFC 1035: 255 bytes of wire format, 63 per label.
const MAX_WIRE_LEN: usize = 255;
const MAX_LABEL_LEN: usize = 63;
/// RFC 2181: TTLs are 31-bit.
const MAX_TTL: u32 = (1 << 31) - 1;

/// A name the index may serve: fully qualified, at most 255 bytes on the wire, labels of 1–63
/// bytes in lower-case letters, digits, `-` and `_` (no `-` at either end), `*` only as the whole
/// first label, and reading back as itself.
pub(crate) fn check_name(name: &DnsName, context: &str) {
    let hickory = name.as_name();
    assert!(
        hickory.is_fqdn(),
        "{context}: {name} is not fully qualified"
    );
    let wire = match hickory.to_bytes() {
        Ok(wire) => wire,
        Err(e) => panic!("{context}: {name} does not encode: {e}"),
    };
    assert!(
        wire.len() <= MAX_WIRE_LEN,
        "{context}: {name} is {} bytes on the wire",
        wire.len()
    );
    let labels: Vec<&[u8]> = hickory.iter().collect();
    assert!(!labels.is_empty(), "{context}: {name} is the root");
    for (i, label) in labels.iter().enumerate() {
        let shown = String::from_utf8_lossy(label);
        assert!(
            !label.is_empty() && label.len() <= MAX_LABEL_LEN,
            "{context}: {name}: label {shown:?} is {} bytes",
            label.len()
        );
        if *label == b"*" {
            assert_eq!(i, 0, "{context}: {name}: `*` is not the first label");
            continue;
        }
        assert!(
            label
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-' || *b == b'_'),
            "{context}: {name}: label {shown:?} has a character outside [a-z0-9_-]"
        );
        assert!(
            label.first() != Some(&b'-') && label.last() != Some(&b'-'),
            "{context}: {name}: label {shown:?} starts or ends with '-'"
        );
    }
    assert_eq!(
        DnsName::parse(&name.to_string()).as_ref(),
        Ok(name),
        "{context}: {name} does not read back as itself"
    );
}

/// What the index relies on in a translation result.
pub(crate) fn check_translated(zones: &[ZoneFilter], translated: &Translated, context: &str) {
    for update in &translated.updates {
        let kind = update.object.kind();
        let context = format!("{context}: {}", update.object);
        if !update.endpoints.is_empty() {
            assert!(kind.owns_names(), "{context}: a {kind} owns no names");
        }
        for pair in update.endpoints.windows(2) {
            if let [a, b] = pair {
                assert!(
                    (a.zone, &a.endpoint.name) < (b.zone, &b.endpoint.name),
                    "{context}: endpoints not sorted and unique: {} then {}",
                    a.endpoint.name,
                    b.endpoint.name
                );
            }
        }
        for zoned in &update.endpoints {
            let name = &zoned.endpoint.name;
            let Some(zone) = zones.get(zoned.zone) else {
                panic!(
                    "{context}: {name} in zone #{} of {}",
                    zoned.zone,
                    zones.len()
                );
            };
            check_name(name, &context);
            assert!(
                zone.origin.contains(name),
                "{context}: {name} is outside its zone {}",
                zone.origin
            );
            assert!(
                zone.serves(kind),
                "{context}: zone {} does not serve {kind}",
                zone.origin
            );
            // The longest zone containing the name serves it (the first of equal ones).
            for (i, other) in zones.iter().enumerate() {
                let longer = other.origin.num_labels() > zone.origin.num_labels()
                    || (other.origin.num_labels() == zone.origin.num_labels() && i < zoned.zone);
                assert!(
                    !(longer && other.origin.contains(name)),
                    "{context}: {name} is in zone {} but {} is closer",
                    zone.origin,
                    other.origin
                );
            }
            let targets = &zoned.endpoint.targets;
            assert!(!targets.is_empty(), "{context}: {name} has no targets");
            assert!(
                targets.windows(2).all(|pair| pair[0] < pair[1]),
                "{context}: {name}: targets not sorted and unique: {targets:?}"
            );
            for target in targets {
                if let Target::Host(host) = target {
                    check_name(host, &format!("{context}: {name} CNAME"));
                    assert!(
                        !host.is_wildcard(),
                        "{context}: {name} CNAME {host} is a wildcard"
                    );
                }
            }
            if let Some(ttl) = zoned.endpoint.ttl {
                assert!(
                    (1..=MAX_TTL).contains(&ttl),
                    "{context}: {name} has TTL {ttl}"
                );
            }
        }
    }
    for problem in &translated.problems {
        assert!(
            translated
                .updates
                .iter()
                .any(|u| u.object == problem.object),
            "problem about {} which got no update: {problem}",
            problem.object
        );
        let shown = problem.to_string();
        assert!(
            !problem.error.field().is_empty() && shown.contains(problem.error.field()),
            "{context}: the problem does not name its field: {shown}"
        );
    }
}

#[cfg(test)]
mod tests {
    use kubezone_model::{Endpoint, Kind, ObjectRef};
    use kubezone_translate::{ObjectRecords, ZonedEndpoint};

    use super::*;

    fn name(text: &str) -> DnsName {
        DnsName::parse(text).expect("valid name")
    }

    fn zones() -> Vec<ZoneFilter> {
        vec![
            ZoneFilter::new(name("example.com")),
            ZoneFilter::new(name("apps.example.com")),
        ]
    }

    fn one(kind: Kind, zone: usize, at: &str, targets: Vec<Target>) -> Translated {
        Translated {
            updates: vec![ObjectRecords {
                object: ObjectRef::new(kind, Some("shop"), "web"),
                endpoints: vec![ZonedEndpoint {
                    zone,
                    endpoint: Endpoint::new(name(at), targets),
                }],
                written: 0,
            }],
            problems: Vec::new(),
        }
    }

    fn ip() -> Vec<Target> {
        vec![Target::V4([192, 0, 2, 1].into())]
    }

    #[test]
    fn a_good_result_passes() {
        check_translated(
            &zones(),
            &one(Kind::Ingress, 1, "www.apps.example.com", ip()),
            "t",
        );
        check_name(&name("*.a-b.c_d.example.com"), "t");
    }

    #[test]
    #[should_panic(expected = "is outside its zone")]
    fn a_name_outside_its_zone_fails() {
        check_translated(
            &zones(),
            &one(Kind::Ingress, 1, "www.example.com", ip()),
            "t",
        );
    }

    #[test]
    #[should_panic(expected = "is closer")]
    fn a_name_in_a_shorter_zone_fails() {
        check_translated(
            &zones(),
            &one(Kind::Ingress, 0, "www.apps.example.com", ip()),
            "t",
        );
    }

    #[test]
    #[should_panic(expected = "owns no names")]
    fn a_gateway_with_names_fails() {
        check_translated(
            &zones(),
            &one(Kind::Gateway, 0, "www.example.com", ip()),
            "t",
        );
    }

    #[test]
    #[should_panic(expected = "has no targets")]
    fn a_name_without_targets_fails() {
        check_translated(
            &zones(),
            &one(Kind::Ingress, 0, "www.example.com", vec![]),
            "t",
        );
    }

    #[test]
    #[should_panic(expected = "not sorted and unique")]
    fn duplicate_targets_fail() {
        let mut twice = ip();
        twice.extend(ip());
        check_translated(
            &zones(),
            &one(Kind::Ingress, 0, "www.example.com", twice),
            "t",
        );
    }
}
