//! The `k8s_gateway ZONES... { ... }` directive: its zones and the settings each of them gets.

use crate::{names, notes::Notes, parse::Directive};

/// Kubezone's Kind names, in its default precedence order.
const KINDS: [&str; 7] = [
    "HTTPRoute",
    "TLSRoute",
    "GRPCRoute",
    "Ingress",
    "Service",
    "DNSEndpoint",
    "Node",
];

/// What k8s_gateway watches when `resources` is not given.
const DEFAULT_RESOURCES: [&str; 2] = ["Ingress", "Service"];

/// One k8s_gateway directive, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gateway {
    pub line: usize,
    /// As written (without a trailing dot); the server block's zones when it names none.
    pub zones: Vec<String>,
    pub settings: Settings,
    /// Path and context.
    pub kubeconfig: Option<(String, Option<String>)>,
    pub kubeconfig_line: usize,
    /// `None`: off; an empty list: every name of the zones.
    pub fallthrough: Option<Vec<String>>,
    pub fallthrough_line: usize,
}

/// The per-zone settings of a k8s_gateway block, in kubezone's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub ttl: u32,
    pub apex: String,
    pub secondary: Option<String>,
    pub resources: Vec<String>,
    pub ingress_classes: Vec<String>,
    pub gateway_classes: Vec<String>,
    pub service_label_selectors: Vec<String>,
    pub node_address_type: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            ttl: 60,
            apex: "dns1.kube-system".into(),
            secondary: None,
            resources: DEFAULT_RESOURCES.map(String::from).to_vec(),
            ingress_classes: Vec::new(),
            gateway_classes: Vec::new(),
            service_label_selectors: Vec::new(),
            node_address_type: None,
        }
    }
}

/// Reads `directive` (a `k8s_gateway`); `block_zones` are its server block's zones.
pub fn read(directive: &Directive, block_zones: &[String], notes: &mut Notes) -> Gateway {
    let line = directive.line();
    let mut zones: Vec<String> = directive
        .args
        .iter()
        .map(|a| names::zone(&a.text))
        .collect();
    if zones.is_empty() {
        zones = block_zones.to_vec();
    }
    let mut gateway = Gateway {
        line,
        zones,
        settings: Settings::default(),
        kubeconfig: None,
        kubeconfig_line: line,
        fallthrough: None,
        fallthrough_line: line,
    };
    let mut resources_line = None;
    for d in directive.block.iter().flatten() {
        let at = d.line();
        let args = d.arg_texts();
        let name = d.name.text.as_str();
        if d.block.is_some() {
            notes.at(
                at,
                format!("k8s_gateway `{name}` takes no block; the block is ignored"),
            );
        }
        let s = &mut gateway.settings;
        match (name, &args[..]) {
            ("resources", []) => notes.at(at, "k8s_gateway `resources` without a Kind is ignored"),
            ("resources", list) => {
                if let Some(previous) = resources_line.replace(at) {
                    notes.at(
                        at,
                        format!("`resources` is given again (first on line {previous}); the last one counts, as in k8s_gateway"),
                    );
                }
                s.resources = resources(list, at, notes);
            }
            ("ttl", [ttl, ..]) => match ttl.parse::<u32>() {
                Ok(ttl) if ttl <= 3600 => s.ttl = ttl,
                _ => notes.at(
                    at,
                    format!("ttl {ttl:?} is not a number of seconds from 0 to 3600 (k8s_gateway refuses it); the default, 60, is used"),
                ),
            },
            ("apex", [apex, ..]) => s.apex = names::relative(apex, "apex", at, notes),
            ("secondary", [secondary, ..]) => {
                s.secondary = Some(names::relative(secondary, "secondary", at, notes));
            }
            ("kubeconfig", [path, rest @ ..]) => {
                gateway.kubeconfig = Some((path.to_string(), rest.first().map(|c| c.to_string())));
                gateway.kubeconfig_line = at;
            }
            ("fallthrough", zones) => {
                gateway.fallthrough = Some(zones.iter().map(|z| names::zone(z)).collect());
                gateway.fallthrough_line = at;
            }
            ("ingressClasses", classes @ [_, ..]) => {
                s.ingress_classes = classes.iter().map(|c| c.to_string()).collect();
            }
            ("gatewayClasses", classes @ [_, ..]) => {
                s.gateway_classes = classes.iter().map(|c| c.to_string()).collect();
            }
            ("serviceLabelSelectors", selectors @ [_, ..]) => {
                s.service_label_selectors.extend(
                    selectors
                        .iter()
                        .filter(|sel| !sel.trim().is_empty())
                        .map(|sel| sel.to_string()),
                );
            }
            ("nodeAddressType", [value]) => {
                match ["InternalIP", "ExternalIP"]
                    .into_iter()
                    .find(|t| t.eq_ignore_ascii_case(value))
                {
                    Some(t) => s.node_address_type = Some(t.into()),
                    None => notes.at(
                        at,
                        format!("nodeAddressType {value:?} is neither InternalIP nor ExternalIP (k8s_gateway refuses it); the default, InternalIP, is used"),
                    ),
                }
            }
            ("clientFiltering", []) | ("clientFiltering", ["true"]) => notes.at(
                at,
                "clientFiltering is not carried over: kubezone does not filter answers by EDNS Client Subnet; every address of a name is answered",
            ),
            ("clientFiltering", ["false"]) => {}
            ("soa", _) => notes.at(
                at,
                "k8s_gateway `soa` (refresh, retry, expire) is not carried over: kubezone sets the SOA timers itself",
            ),
            ("loadBalancerAddressPreference", ["ip"]) => {}
            ("loadBalancerAddressPreference", _) => notes.at(
                at,
                "loadBalancerAddressPreference is not carried over: when a load balancer entry has both, kubezone answers its ip, not its hostname",
            ),
            (
                "apex" | "secondary" | "kubeconfig" | "ttl" | "ingressClasses" | "gatewayClasses"
                | "serviceLabelSelectors" | "nodeAddressType",
                _,
            ) => notes.at(
                at,
                format!("k8s_gateway `{name}` has the wrong number of arguments (k8s_gateway refuses it); it is ignored"),
            ),
            _ => notes.at(
                at,
                format!("unknown k8s_gateway directive `{name}` is not carried over"),
            ),
        }
    }
    if resources_line.is_none() {
        notes.at(
            line,
            "k8s_gateway without `resources` serves Ingress and Service only: carried over as `resources: [Ingress, Service]` (kubezone's own default adds HTTPRoute, TLSRoute, GRPCRoute and DNSEndpoint)",
        );
    }
    gateway
}

/// k8s_gateway's resource names as kubezone Kinds, in the same order (the same precedence:
/// for a name, the first Kind with records for it answers).
fn resources(list: &[&str], line: usize, notes: &mut Notes) -> Vec<String> {
    let mut kinds: Vec<String> = Vec::new();
    for name in list {
        match KINDS.iter().find(|k| k.eq_ignore_ascii_case(name)) {
            Some(kind) if kinds.iter().any(|k| k == kind) => {
                notes.at(line, format!("resource {name} is listed twice; once is kept"));
            }
            Some(kind) => {
                if kind != name {
                    notes.at(
                        line,
                        format!("resource {name:?} is carried over as {kind}; k8s_gateway matches the exact spelling and ignored it"),
                    );
                }
                kinds.push(kind.to_string());
            }
            None if name.eq_ignore_ascii_case("Gateway") => notes.at(
                line,
                "resource Gateway is not carried over: kubezone serves Gateway addresses through the routes attached to them; list HTTPRoute, TLSRoute or GRPCRoute",
            ),
            None => notes.at(
                line,
                format!("resource {name:?} is not carried over: kubezone serves {}", KINDS.join(", ")),
            ),
        }
    }
    kinds
}
