//! The example objects in `config/examples` parse, have the objects the README describes, and
//! translate to the names and records its table lists. A broken example fails here.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::PathBuf,
};

use kubezone_model::{DnsName, Kind};
use kubezone_sources::parse_manifest;
use kubezone_translate::{KubeObject, NodeAddressType, Translator, ZoneFilter};

fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/examples")
}

/// Every example file and its objects, in file name order.
fn examples() -> Vec<(String, Vec<KubeObject>)> {
    let mut files: Vec<PathBuf> = fs::read_dir(examples_dir())
        .expect("config/examples exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| {
            path.extension()
                .is_some_and(|ext| ext == "yaml" || ext == "yml" || ext == "json")
        })
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = fs::read_to_string(&path).expect("readable example");
            let objects = parse_manifest(&path, &text).unwrap_or_else(|e| panic!("{e}"));
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            (name, objects)
        })
        .collect()
}

#[test]
fn every_example_file_parses_with_the_expected_objects() {
    let mut found: BTreeMap<String, BTreeMap<Kind, usize>> = BTreeMap::new();
    for (file, objects) in examples() {
        let kinds = found.entry(file).or_default();
        for object in objects {
            *kinds.entry(object.kind()).or_default() += 1;
        }
    }
    let expected: BTreeMap<String, BTreeMap<Kind, usize>> = [
        ("dnsendpoints.yaml", vec![(Kind::DnsEndpoint, 2)]),
        (
            "endpoints.yaml",
            vec![(Kind::Service, 3), (Kind::EndpointSlice, 3)],
        ),
        (
            "gateway.yaml",
            vec![
                (Kind::Gateway, 1),
                (Kind::HttpRoute, 2),
                (Kind::GrpcRoute, 1),
                (Kind::TlsRoute, 1),
            ],
        ),
        ("ingress.yaml", vec![(Kind::Ingress, 3)]),
        ("nodes.yaml", vec![(Kind::Node, 2)]),
        ("services.yaml", vec![(Kind::Service, 4)]),
    ]
    .into_iter()
    .map(|(file, kinds)| (file.to_string(), kinds.into_iter().collect()))
    .collect();
    assert_eq!(found, expected);
}

/// The zones of `config/kubezone.yaml`.
fn zones() -> Vec<ZoneFilter> {
    let example = ZoneFilter::new(DnsName::parse("example.com").expect("valid"));
    let mut internal = ZoneFilter::new(DnsName::parse("internal.example.com").expect("valid"));
    internal.resources = vec![Kind::Node, Kind::Service];
    internal.node_address = NodeAddressType::InternalIp;
    internal.node_port_address = Some(NodeAddressType::InternalIp);
    vec![example, internal]
}

/// The table of `config/examples/README.md`: every name, its records, and the objects giving
/// them. Precedence is not needed: no name is claimed by two Kinds.
#[test]
fn the_examples_give_the_records_the_readme_lists() {
    let mut translator = Translator::new(zones());
    let mut records = BTreeMap::new();
    let mut problems = Vec::new();
    for (_, objects) in examples() {
        for object in objects {
            let translated = translator.apply(&object);
            problems.extend(translated.problems.iter().map(ToString::to_string));
            for update in translated.updates {
                records.insert(update.object.clone(), update);
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");

    let mut lines = BTreeSet::new();
    let mut kinds_per_name: BTreeMap<String, BTreeSet<Kind>> = BTreeMap::new();
    for update in records.values() {
        for zoned in &update.endpoints {
            let endpoint = &zoned.endpoint;
            let ttl = endpoint
                .ttl
                .map(|t| format!(" ttl={t}"))
                .unwrap_or_default();
            for target in &endpoint.targets {
                lines.insert(format!(
                    "{} {target}{ttl} <- {}",
                    endpoint.name, update.object
                ));
            }
            kinds_per_name
                .entry(endpoint.name.to_string())
                .or_default()
                .insert(update.object.kind());
        }
    }
    for (name, kinds) in &kinds_per_name {
        assert_eq!(kinds.len(), 1, "{name} is claimed by {kinds:?}");
    }

    let expected = [
        "*.apps.example.com. A 203.0.113.10 <- Ingress/apps/preview-apps",
        "*.apps.example.com. AAAA 2001:db8::10 <- Ingress/apps/preview-apps",
        "_http._tcp.cart.example.com. SRV 0 100 30080 cart.example.com. <- Service/shop/cart",
        "_https._tcp.api.example.com. SRV 0 100 443 api.example.com. <- Service/shop/api",
        "_https._tcp.checkout.shop.example.com. SRV 0 100 443 checkout.shop.example.com. <- Service/shop/checkout",
        "_https._tcp.checkout.shop.internal.example.com. SRV 0 100 443 checkout.shop.internal.example.com. <- Service/shop/checkout",
        "cart.example.com. A 198.51.100.21 <- Service/shop/cart",
        "db.example.com. A 10.244.0.31 <- Service/shop/db",
        "db.example.com. A 10.244.1.32 <- Service/shop/db",
        "db-0.db.example.com. A 10.244.0.31 <- Service/shop/db",
        "db-1.db.example.com. A 10.244.1.32 <- Service/shop/db",
        "quatsch.example.com. CNAME failover.example.com. <- Service/shop/quatsch",
        "_dmarc.example.com. TXT \"v=DMARC1; p=reject; rua=mailto:dmarc-reports@example.com\" <- DNSEndpoint/ops/aliases",
        "api.example.com. A 198.51.100.11 <- Service/shop/api",
        "catalog.example.com. A 203.0.113.20 <- HTTPRoute/shop/catalog",
        "checkout.shop.example.com. A 198.51.100.10 <- Service/shop/checkout",
        "checkout.shop.internal.example.com. A 198.51.100.10 <- Service/shop/checkout",
        "docs.example.com. CNAME www.example.com. <- DNSEndpoint/ops/aliases",
        "grpc.example.com. A 203.0.113.20 <- GRPCRoute/payments/payments",
        "mqtt.example.com. A 203.0.113.20 <- TLSRoute/iot/mqtt",
        "node-1.internal.example.com. A 192.0.2.21 <- Node/node-1",
        "node-2.internal.example.com. A 192.0.2.22 <- Node/node-2",
        "node-2.internal.example.com. AAAA 2001:db8::22 <- Node/node-2",
        "portal.example.com. A 203.0.113.20 <- HTTPRoute/portal/portal",
        "shop.example.com. A 203.0.113.10 <- Ingress/shop/storefront",
        "shop.example.com. AAAA 2001:db8::10 <- Ingress/shop/storefront",
        "status.example.com. A 192.0.2.10 ttl=300 <- DNSEndpoint/ops/status-page",
        "status.example.com. A 192.0.2.11 ttl=300 <- DNSEndpoint/ops/status-page",
        "status.example.com. AAAA 2001:db8::10:1 ttl=300 <- DNSEndpoint/ops/status-page",
        "uploads.media.example.com. CNAME a3f9c1e7b5d24e6f8a0b1c2d3e4f5a6b-1234567890.eu-west-1.elb.amazonaws.com. <- Service/media/uploads",
        "uploads.media.internal.example.com. CNAME a3f9c1e7b5d24e6f8a0b1c2d3e4f5a6b-1234567890.eu-west-1.elb.amazonaws.com. <- Service/media/uploads",
        "www.example.com. A 203.0.113.10 <- Ingress/shop/storefront",
        "www.example.com. AAAA 2001:db8::10 <- Ingress/shop/storefront",
    ];
    let expected: BTreeSet<String> = expected.iter().map(|s| s.to_string()).collect();
    let missing: Vec<_> = expected.difference(&lines).collect();
    let extra: Vec<_> = lines.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing: {missing:#?}\nextra: {extra:#?}"
    );
}
