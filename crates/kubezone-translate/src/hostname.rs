//! Which names a route is served under through one listener: the intersection of the route's
//! `spec.hostnames` with the listener's `hostname`, as the Gateway API defines it. A wildcard
//! `*.example.com` stands for one or more labels in front of `example.com`, never for
//! `example.com` itself.

use kubezone_model::DnsName;

/// The names a route with `route` hostnames gets through a listener with `listener`'s. No
/// listener hostname: the route's own. No route hostnames: the listener's. Both: each route
/// hostname the listener's matches, and the listener's hostname where a route wildcard matches
/// it (`*.example.com` on a `foo.example.com` listener is served as `foo.example.com`).
pub(crate) fn intersect(route: &[DnsName], listener: Option<&DnsName>) -> Vec<DnsName> {
    let Some(listener) = listener else {
        return route.to_vec();
    };
    if route.is_empty() {
        return vec![listener.clone()];
    }
    let mut names: Vec<DnsName> = route
        .iter()
        .filter_map(|hostname| {
            if covers(listener, hostname) {
                Some(hostname.clone())
            } else if covers(hostname, listener) {
                Some(listener.clone())
            } else {
                None
            }
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Whether every name `inner` stands for is one that `outer` stands for.
fn covers(outer: &DnsName, inner: &DnsName) -> bool {
    if !outer.is_wildcard() {
        return outer == inner;
    }
    let base = outer.as_name().base_name();
    if inner.is_wildcard() {
        // `*.example.com` covers `*.example.com` and `*.foo.example.com`.
        base.zone_of(&inner.as_name().base_name())
    } else {
        base.zone_of(inner.as_name()) && base.num_labels() < inner.as_name().num_labels()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(texts: &[&str]) -> Vec<DnsName> {
        texts
            .iter()
            .map(|t| DnsName::parse(t).expect("valid name"))
            .collect()
    }

    fn intersection(route: &[&str], listener: Option<&str>) -> Vec<String> {
        let listener = listener.map(|l| DnsName::parse(l).expect("valid name"));
        intersect(&names(route), listener.as_ref())
            .iter()
            .map(|n| n.to_string())
            .collect()
    }

    #[test]
    fn a_missing_side_takes_the_other() {
        assert_eq!(
            intersection(&["a.example.com", "*.b.example.com"], None),
            ["a.example.com.", "*.b.example.com."]
        );
        assert_eq!(intersection(&[], Some("*.example.com")), ["*.example.com."]);
        assert!(intersection(&[], None).is_empty());
    }

    #[test]
    fn exact_names_match_only_themselves() {
        assert_eq!(
            intersection(&["a.example.com", "b.example.com"], Some("A.example.com")),
            ["a.example.com."]
        );
        assert!(intersection(&["a.example.com"], Some("a.example.org")).is_empty());
        assert!(intersection(&["example.com"], Some("a.example.com")).is_empty());
    }

    #[test]
    fn a_listener_wildcard_takes_one_or_more_labels_but_not_its_base() {
        assert_eq!(
            intersection(
                &[
                    "foo.example.com",
                    "foo.bar.example.com",
                    "example.com",
                    "foo.example.org",
                    "notexample.com"
                ],
                Some("*.example.com")
            ),
            ["foo.bar.example.com.", "foo.example.com."]
        );
    }

    #[test]
    fn a_route_wildcard_on_an_exact_listener_gives_the_listeners_name() {
        assert_eq!(
            intersection(&["*.example.com"], Some("foo.example.com")),
            ["foo.example.com."]
        );
        assert_eq!(
            intersection(&["*.example.com"], Some("a.b.example.com")),
            ["a.b.example.com."]
        );
        assert!(intersection(&["*.example.com"], Some("example.com")).is_empty());
        assert!(intersection(&["*.example.com"], Some("foo.example.org")).is_empty());
    }

    #[test]
    fn two_wildcards_give_the_narrower() {
        assert_eq!(
            intersection(&["*.example.com"], Some("*.example.com")),
            ["*.example.com."]
        );
        assert_eq!(
            intersection(&["*.foo.example.com"], Some("*.example.com")),
            ["*.foo.example.com."]
        );
        assert_eq!(
            intersection(&["*.example.com"], Some("*.foo.example.com")),
            ["*.foo.example.com."]
        );
        assert!(intersection(&["*.example.org"], Some("*.example.com")).is_empty());
    }

    #[test]
    fn names_are_given_once() {
        assert_eq!(
            intersection(
                &["*.example.com", "foo.example.com"],
                Some("foo.example.com")
            ),
            ["foo.example.com."]
        );
    }
}
