//! One entry of `zones`: its filters, tenancy, fallthrough, nameservers, SOA, static records
//! and transfer, checked and built into what the index, the translator and transfer take.

use std::{net::IpAddr, str::FromStr};

use kubezone_dns::Fallthrough;
use kubezone_index::{NameServer, ZoneConfig};
use kubezone_model::{DnsName, Kind};
use kubezone_sources::ServiceName;
use kubezone_translate::{LabelSelector, NameTemplate, ZoneFilter};

use super::{
    GlueServices, Zone, push,
    raw::{RawFallthrough, RawZone},
    tenancy, transfer, zone_data,
};

/// Namespace names (RFC 1123 labels), each once.
pub fn namespaces(list: &[String]) -> Result<Vec<String>, (String, String)> {
    let mut out: Vec<String> = Vec::new();
    for (i, ns) in list.iter().enumerate() {
        let valid = !ns.is_empty()
            && ns.len() <= 63
            && ns
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !ns.starts_with('-')
            && !ns.ends_with('-');
        if !valid {
            return Err((
                format!("namespaces[{i}]"),
                format!("{ns:?} is not a namespace name"),
            ));
        }
        if !out.contains(ns) {
            out.push(ns.clone());
        }
    }
    Ok(out)
}

pub(super) fn build_zone(z: RawZone, index: usize) -> Result<Zone, (String, String)> {
    let origin = DnsName::parse(&z.zone).map_err(|e| ("zone".to_string(), e.to_string()))?;
    if origin.is_wildcard() {
        return Err(("zone".into(), format!("{:?} is a wildcard", z.zone)));
    }
    // Under in-addr.arpa. or ip6.arpa., a reverse zone: its labels must name an address prefix.
    kubezone_index::reverse_network(&origin).map_err(|e| ("zone".to_string(), e.to_string()))?;
    let host = |key: &str, relative: &str| -> Result<DnsName, (String, String)> {
        if relative.ends_with('.') {
            return Err((
                key.into(),
                format!("{relative:?} must be relative to the zone"),
            ));
        }
        DnsName::parse(&format!("{relative}.{origin}"))
            .map_err(|e| (key.to_string(), e.to_string()))
    };
    // A host written `name.namespace` is a Service, whose addresses are its glue unless the
    // config gives them.
    let service_of = |host: &str, glue: &[IpAddr]| match host.split('.').collect::<Vec<_>>()[..] {
        [name, namespace] if glue.is_empty() => Some(ServiceName {
            namespace: namespace.into(),
            name: name.into(),
        }),
        _ => None,
    };
    let glue_services = GlueServices {
        nameserver: service_of(&z.apex, &z.glue),
        secondary: z
            .secondary
            .as_deref()
            .and_then(|s| service_of(s, &z.secondary_glue)),
    };
    let nameserver = NameServer {
        name: host("apex", &z.apex)?,
        addrs: z.glue,
    };
    let secondary = match z.secondary {
        Some(s) => Some(NameServer {
            name: host("secondary", &s)?,
            addrs: z.secondary_glue,
        }),
        None if !z.secondary_glue.is_empty() => {
            return Err(("secondaryGlue".into(), "is set but secondary is not".into()));
        }
        None => None,
    };
    let resources = match z.resources {
        None => Kind::DEFAULT_RESOURCES.to_vec(),
        Some(list) => {
            let mut kinds = Vec::new();
            for (i, name) in list.iter().enumerate() {
                let kind =
                    Kind::from_str(name).map_err(|e| (format!("resources[{i}]"), e.to_string()))?;
                if !kind.owns_names() {
                    return Err((
                        format!("resources[{i}]"),
                        format!(
                            "{kind} owns no names; list the Kinds whose objects do (a Gateway's or ListenerSet's are its routes: HTTPRoute, TLSRoute, GRPCRoute, TCPRoute, UDPRoute; an EndpointSlice's its Service)"
                        ),
                    ));
                }
                if kinds.contains(&kind) {
                    return Err((format!("resources[{i}]"), format!("{kind} is listed twice")));
                }
                kinds.push(kind);
            }
            kinds
        }
    };
    let service_selectors = z
        .service_label_selectors
        .iter()
        .enumerate()
        .map(|(i, s)| {
            s.parse::<LabelSelector>()
                .map_err(|e| (format!("serviceLabelSelectors[{i}]"), e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    // A blank template is none, as in external-dns (and as a chart's empty default renders).
    let name_template = z
        .name_template
        .as_deref()
        .filter(|t| !t.trim().is_empty())
        .map(|t| {
            t.parse::<NameTemplate>()
                .map_err(|e| ("nameTemplate".to_string(), e.to_string()))
        })
        .transpose()?;
    let annotation_filter = z
        .annotation_filter
        .as_deref()
        .map(|s| {
            s.parse::<LabelSelector>()
                .map_err(|e| ("annotationFilter".to_string(), e.to_string()))
        })
        .transpose()?;
    let fallthrough = match z.fallthrough {
        RawFallthrough::Unset | RawFallthrough::Flag(false) => Fallthrough::Off,
        RawFallthrough::Flag(true) => Fallthrough::All,
        RawFallthrough::Zones(list) if list.is_empty() => Fallthrough::Off,
        RawFallthrough::Zones(list) => {
            let mut names = Vec::new();
            for (i, s) in list.iter().enumerate() {
                let key = format!("fallthrough[{i}]");
                let name =
                    DnsName::parse_in_zone(s, &origin).map_err(|e| (key.clone(), e.to_string()))?;
                names.push(name.into_name());
            }
            Fallthrough::Zones(names)
        }
    };
    let mut filter = ZoneFilter::new(origin.clone());
    filter.resources = resources.clone();
    filter.ingress_classes = z.ingress_classes;
    filter.gateway_classes = z.gateway_classes;
    filter.service_selectors = service_selectors;
    filter.node_address = z.node_address_type.unwrap_or_default();
    filter.node_port_address = z.node_address_type;
    filter.srv_records = z.srv_records;
    filter.namespaces = tenancy::namespace_filter(&z.namespaces, z.namespace_selector.as_deref())?;
    filter.gateway_consent = z.gateway_consent;
    filter.name_template = name_template;
    filter.annotation_filter = annotation_filter;
    filter.global = super::clusters::global(z.global)?;
    let soa = zone_data::soa(z.soa, &origin)?;
    let nameservers = zone_data::nameservers(&z.nameservers, &origin)?;
    let reserved = zone_data::Reserved {
        hosts: std::iter::once(&nameserver.name)
            .chain(secondary.as_ref().map(|s| &s.name))
            .collect(),
    };
    let records = zone_data::records(&z.records, &origin, index, &reserved)?;
    let transfer = z
        .transfer
        .map(|raw| transfer::transfer(raw, &origin))
        .transpose()?;
    let push = z.push.map(push::push).transpose()?;
    if !z.serve && push.is_none() {
        return Err((
            "serve".into(),
            "is false but the zone has no push: it would do nothing".into(),
        ));
    }
    if !z.serve && transfer.is_some() {
        return Err((
            "serve".into(),
            "is false but the zone has transfer: a zone that is not served cannot be transferred"
                .into(),
        ));
    }
    Ok(Zone {
        index: ZoneConfig {
            origin,
            ttl: z.ttl,
            nameserver,
            secondary,
            nameservers,
            soa,
            records,
            static_written: 0,
            precedence: resources,
            claims: z.claims.into(),
            served: z.serve,
        },
        filter,
        fallthrough,
        glue_services,
        transfer,
        push,
    })
}
