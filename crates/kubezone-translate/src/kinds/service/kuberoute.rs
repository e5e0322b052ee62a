//! kuberoute's labels on a NodePort Service: `kuberoute_name` and `kuberoute_domain` give the
//! name `<name>.<domain>`, answered with the nodes that run a ready endpoint; with
//! `kuberoute_failover` and `kuberoute_quota` the name becomes a CNAME to the failover name
//! when no node runs a ready endpoint, or when fewer than `quota` percent of the nodes that run
//! an endpoint run a ready one. The decision and its reason go to `explain`.

use std::{collections::BTreeMap, sync::Arc};

use kubezone_model::{DnsName, Target};

use super::node_port::Nodes;
use crate::{TranslateError, output::Builder};

/// The label names kuberoute reads (its `domain_label`, `name_label`, `failover_label` and
/// `quota_label` settings), configurable as they were.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KuberouteLabels {
    pub domain: String,
    pub name: String,
    pub failover: String,
    pub quota: String,
}

impl Default for KuberouteLabels {
    fn default() -> Self {
        KuberouteLabels {
            domain: "kuberoute_domain".into(),
            name: "kuberoute_name".into(),
            failover: "kuberoute_failover".into(),
            quota: "kuberoute_quota".into(),
        }
    }
}

/// What a Service's kuberoute labels ask for.
pub(super) struct Request {
    pub name: DnsName,
    failover: Option<DnsName>,
    /// Percent, 0 to 100; 0 when unset.
    quota: u8,
}

impl Request {
    /// `None` unless both the name and the domain label are set.
    pub(super) fn read(
        b: &mut Builder<'_>,
        labels: &BTreeMap<String, String>,
        keys: &KuberouteLabels,
    ) -> Option<Request> {
        let get = |key: &str| labels.get(key).map(|v| v.trim()).filter(|v| !v.is_empty());
        let field = |key: &str| format!("metadata.labels[{key:?}]");
        let (name, domain) = (get(&keys.name)?, get(&keys.domain)?);
        let text = format!("{name}.{}", domain.trim_end_matches('.'));
        let name = DnsName::parse(&text)
            .map_err(|source| TranslateError::invalid_name(field(&keys.name), &text, source));
        let name = b.check(name)?;
        let failover = get(&keys.failover).and_then(|value| {
            let parsed = DnsName::parse(value).map_err(|source| {
                TranslateError::invalid_name(field(&keys.failover), value, source)
            });
            b.check(parsed)
        });
        let quota = match get(&keys.quota) {
            None => 0,
            Some(value) => match value.parse::<u8>() {
                Ok(percent) if percent <= 100 => percent,
                _ => {
                    b.problem(TranslateError::UnknownValue {
                        field: field(&keys.quota),
                        value: value.to_string(),
                        expected: "a percentage from 0 to 100",
                    });
                    0
                }
            },
        };
        Some(Request {
            name,
            failover,
            quota,
        })
    }
}

/// Whether the name fails over, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Decision {
    Nodes,
    Failover(DnsName),
}

pub(super) fn decide(request: &Request, ready: usize, running: usize) -> (Decision, String) {
    let quota = usize::from(request.quota);
    let below = ready == 0 || ready * 100 < quota * running;
    let counted = format!(
        "{ready} of the {running} nodes running an endpoint run a ready one (quota {quota}%)"
    );
    match (&request.failover, below) {
        (Some(failover), true) => (
            Decision::Failover(failover.clone()),
            format!("kuberoute: failover to {failover}: {counted}"),
        ),
        (None, true) => (
            Decision::Nodes,
            format!("kuberoute: {counted}; no failover label, so the ready nodes answer"),
        ),
        (_, false) => (
            Decision::Nodes,
            format!("kuberoute: the ready nodes answer: {counted}"),
        ),
    }
}

pub(super) fn add(
    b: &mut Builder<'_>,
    zone: usize,
    request: Request,
    nodes: &Nodes<'_>,
    targets: Vec<Target>,
    ttl: Option<u32>,
) {
    let (decision, note) = decide(&request, nodes.ready, nodes.running);
    let targets = match decision {
        Decision::Nodes => targets,
        Decision::Failover(to) => vec![Target::Host(to)],
    };
    let note: Arc<str> = Arc::from(note);
    b.add_noted(zone, request.name, &targets, ttl, note);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(failover: Option<&str>, quota: u8) -> Request {
        Request {
            name: DnsName::parse("quatsch.example.com").expect("valid"),
            failover: failover.map(|f| DnsName::parse(f).expect("valid")),
            quota,
        }
    }

    #[test]
    fn fails_over_below_the_quota_and_back_at_it() {
        let r = request(Some("failover.example.com"), 80);
        // 4 of 5 is exactly 80%: the quota is met.
        assert_eq!(decide(&r, 4, 5).0, Decision::Nodes);
        let (decision, note) = decide(&r, 3, 5);
        assert!(
            matches!(decision, Decision::Failover(ref to) if to.to_string() == "failover.example.com.")
        );
        assert!(
            note.contains("3 of the 5") && note.contains("80%"),
            "{note}"
        );
        assert_eq!(decide(&r, 5, 5).0, Decision::Nodes);
    }

    #[test]
    fn no_ready_node_fails_over_whatever_the_quota() {
        let r = request(Some("failover.example.com"), 0);
        assert!(matches!(decide(&r, 0, 3).0, Decision::Failover(_)));
        assert!(matches!(decide(&r, 0, 0).0, Decision::Failover(_)));
        assert_eq!(decide(&r, 1, 3).0, Decision::Nodes);
    }

    #[test]
    fn without_a_failover_label_the_ready_nodes_answer() {
        let r = request(None, 50);
        let (decision, note) = decide(&r, 1, 4);
        assert_eq!(decision, Decision::Nodes);
        assert!(note.contains("no failover label"), "{note}");
    }
}
