//! Which NXDOMAIN names of a zone go to the upstream instead (CoreDNS `fallthrough`).

use hickory_proto::rr::Name;
use kubezone_index::NameKey;

/// One zone's fallthrough setting.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Fallthrough {
    /// NXDOMAIN is final.
    #[default]
    Off,
    /// Every name that would be NXDOMAIN falls through.
    All,
    /// Only names at or below these sub-zones fall through.
    Zones(Vec<Name>),
}

/// Fallthrough settings of every zone, by zone id.
#[derive(Clone, Debug, Default)]
pub struct FallthroughPolicy {
    zones: Vec<Vec<Vec<u8>>>,
    all: Vec<bool>,
}

impl FallthroughPolicy {
    /// `per_zone[i]` is the setting of the zone with id `i`.
    pub fn new(per_zone: &[Fallthrough]) -> FallthroughPolicy {
        let mut policy = FallthroughPolicy::default();
        for setting in per_zone {
            policy.all.push(*setting == Fallthrough::All);
            policy.zones.push(match setting {
                Fallthrough::Zones(names) => names
                    .iter()
                    .filter_map(|n| NameKey::new(n).map(|k| k.as_bytes().to_vec()))
                    .collect(),
                _ => Vec::new(),
            });
        }
        policy
    }

    /// Whether `key`, which would be NXDOMAIN in zone `zone`, goes upstream.
    pub fn applies(&self, zone: usize, key: &NameKey) -> bool {
        if self.all.get(zone).copied().unwrap_or(false) {
            return true;
        }
        self.zones.get(zone).is_some_and(|subzones| {
            (0..=key.labels()).any(|skip| {
                let ancestor = key.ancestor(skip);
                subzones.iter().any(|z| z.as_slice() == ancestor)
            })
        })
    }

    /// Whether any zone falls through at all (so a forwarder is needed).
    pub fn any(&self) -> bool {
        self.all.iter().any(|a| *a) || self.zones.iter().any(|z| !z.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> NameKey {
        NameKey::new(&Name::from_ascii(s).expect("name")).expect("key")
    }

    #[test]
    fn sub_zones_cover_themselves_and_below() {
        let p = FallthroughPolicy::new(&[
            Fallthrough::Zones(vec![Name::from_ascii("legacy.example.com.").expect("name")]),
            Fallthrough::All,
            Fallthrough::Off,
        ]);
        assert!(p.applies(0, &key("legacy.example.com.")));
        assert!(p.applies(0, &key("a.b.LEGACY.example.com.")));
        assert!(!p.applies(0, &key("other.example.com.")));
        assert!(!p.applies(0, &key("xlegacy.example.com.")));
        assert!(p.applies(1, &key("anything.example.org.")));
        assert!(!p.applies(2, &key("anything.example.net.")));
        assert!(!p.applies(7, &key("no.such.zone.")));
        assert!(p.any());
        assert!(!FallthroughPolicy::new(&[Fallthrough::Off]).any());
    }
}
