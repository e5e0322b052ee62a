//! Server blocks → one kubezone config. CoreDNS runs each server block on its own port with its
//! own plugins; kubezone has one listen list, one upstream list and one cluster for all zones.

use crate::{
    MigrateError,
    k8s_gateway::{self, Gateway},
    names::{self, ServerKey},
    notes::Notes,
    output::{Config, Fallthrough, Http, Kubernetes, Zone},
    parse::ServerBlock,
    plugins::{self, Plugins},
};

type Cluster = Option<(String, Option<String>)>;

#[derive(Default)]
struct Global {
    listen: Vec<String>,
    /// The listen addresses of each carried-over block, to tell when they differ.
    block_listens: Vec<Vec<String>>,
    zones: Vec<(Zone, usize)>,
    upstream: Vec<String>,
    upstream_line: Option<usize>,
    /// The first k8s_gateway's cluster, and its line.
    cluster: Option<(usize, Cluster)>,
    prometheus: Option<(usize, String)>,
    health: Option<(usize, String)>,
    ready: Option<(usize, String)>,
    lameduck: Option<(usize, u64)>,
    query_log: bool,
}

pub fn assemble(blocks: &[ServerBlock], notes: &mut Notes) -> Result<Config, MigrateError> {
    let mut global = Global::default();
    let mut found = None;
    for block in blocks {
        if let Some(key) = block.keys.first()
            && key.text == "k8s_gateway"
        {
            return Err(MigrateError::Syntax {
                line: key.line,
                message: "k8s_gateway must be inside a server block, e.g. `.:53 { k8s_gateway example.com }`".into(),
            });
        }
        let Some(first) = block.directives.iter().find(|d| d.is("k8s_gateway")) else {
            let line = block.keys.first().map_or(1, |k| k.line);
            notes.at(
                line,
                format!(
                    "server block `{}` has no k8s_gateway and is not carried over: kubezone answers only its zones and refuses other names (REFUSED)",
                    keys_text(block)
                ),
            );
            continue;
        };
        found.get_or_insert(first.line());
        server_block(block, &mut global, notes);
    }
    let Some(first_line) = found else {
        return Err(MigrateError::NoK8sGateway);
    };
    if global.zones.is_empty() {
        return Err(MigrateError::NoZones { line: first_line });
    }
    finish(global, notes)
}

fn keys_text(block: &ServerBlock) -> String {
    let keys: Vec<&str> = block.keys.iter().map(|k| k.text.as_str()).collect();
    keys.join(" ")
}

fn server_block(block: &ServerBlock, global: &mut Global, notes: &mut Notes) {
    let keys: Vec<ServerKey> = block
        .keys
        .iter()
        .map(|k| names::server_key(&k.text))
        .collect();
    let mut block_zones: Vec<String> = Vec::new();
    for key in &keys {
        if !block_zones
            .iter()
            .any(|z| z.eq_ignore_ascii_case(&key.zone))
        {
            block_zones.push(key.zone.clone());
        }
    }

    let mut plugins = Plugins::default();
    let mut gateways: Vec<Gateway> = Vec::new();
    for d in &block.directives {
        if d.is("k8s_gateway") {
            gateways.push(k8s_gateway::read(d, &block_zones, notes));
        } else {
            plugins::read(d, &mut plugins, notes);
        }
    }

    listen(block, &keys, &plugins, global, notes);
    let upstream = forward(&block_zones, &gateways, &plugins, global, notes);
    let fallthrough_to = match (&plugins.forward, upstream.is_empty()) {
        (_, false) => FallthroughTo::Upstream,
        (Some(f), true) => FallthroughTo::UnusableForward(f.line),
        (None, true) => FallthroughTo::Nothing,
    };
    for gateway in &gateways {
        cluster(gateway, global, notes);
        zones(gateway, &block_zones, fallthrough_to, global, notes);
    }

    first_of_all(
        &mut global.prometheus,
        plugins.prometheus,
        "prometheus",
        notes,
    );
    first_of_all(&mut global.health, plugins.health, "health", notes);
    first_of_all(&mut global.ready, plugins.ready, "ready", notes);
    first_of_all(&mut global.lameduck, plugins.lameduck, "lameduck", notes);
    global.query_log |= plugins.log;
}

/// kubezone has one HTTP listener and one lameduck: the first server block's setting is kept.
fn first_of_all<T: PartialEq>(
    global: &mut Option<(usize, T)>,
    block: Option<(usize, T)>,
    what: &str,
    notes: &mut Notes,
) {
    match (global.as_ref(), block) {
        (None, block) => *global = block,
        (Some((first, kept)), Some((line, other))) if *kept != other => notes.at(
            line,
            format!(
                "{what} differs from line {first}'s; kubezone has one, the first is carried over"
            ),
        ),
        _ => {}
    }
}

/// The block's ports, on its `bind` addresses or on every IPv4 address.
fn listen(
    block: &ServerBlock,
    keys: &[ServerKey],
    plugins: &Plugins,
    global: &mut Global,
    notes: &mut Notes,
) {
    let mut addrs: Vec<String> = Vec::new();
    for (key, token) in keys.iter().zip(&block.keys) {
        let transport = match key.scheme.as_str() {
            "dns" => None,
            "tls" => Some("TLS"),
            "https" => Some("HTTPS"),
            "grpc" => Some("gRPC"),
            "quic" => Some("QUIC"),
            "https3" => Some("HTTP/3"),
            _ => Some("an unknown transport"),
        };
        if let Some(transport) = transport {
            notes.at(
                token.line,
                format!(
                    "`{}` is DNS over {transport}: kubezone serves plain DNS over UDP and TCP only, so its port is not carried over",
                    token.text
                ),
            );
            continue;
        }
        let port = key.port.unwrap_or(53);
        let ips: Vec<&str> = if plugins.bind.is_empty() {
            vec!["0.0.0.0"]
        } else {
            plugins.bind.iter().map(String::as_str).collect()
        };
        for ip in ips {
            let addr = if ip.contains(':') {
                format!("[{ip}]:{port}")
            } else {
                format!("{ip}:{port}")
            };
            if !addrs.contains(&addr) {
                addrs.push(addr);
            }
        }
    }
    for addr in &addrs {
        if !global.listen.contains(addr) {
            global.listen.push(addr.clone());
        }
    }
    global.block_listens.push(addrs);
}

/// The block's `forward`: its targets become `upstream` when a k8s_gateway of the block falls
/// through to it. Returns the upstream this block's fallthrough can use.
fn forward(
    block_zones: &[String],
    gateways: &[Gateway],
    plugins: &Plugins,
    global: &mut Global,
    notes: &mut Notes,
) -> Vec<String> {
    let Some(forward) = &plugins.forward else {
        return Vec::new();
    };
    // Names of the server block that no k8s_gateway zone covers went to forward.
    let outside = block_zones.iter().any(|bz| {
        !gateways
            .iter()
            .flat_map(|g| &g.zones)
            .any(|gz| names::within(bz, gz))
    });
    if !gateways.iter().any(|g| g.fallthrough.is_some()) {
        notes.at(
            forward.line,
            "forward is not carried over: without fallthrough it only answered names outside the k8s_gateway zones, and kubezone refuses those (REFUSED) as it is authoritative only; keep a resolver for them",
        );
        return Vec::new();
    }
    if outside {
        notes.at(
            forward.line,
            "forward also answered names outside the k8s_gateway zones; kubezone refuses those (REFUSED) as it is authoritative only; keep a resolver for them",
        );
    }
    if forward.from != "." {
        notes.at(
            forward.line,
            format!(
                "forward FROM {}: kubezone sends every fallthrough query to `upstream`, whatever its name",
                forward.from
            ),
        );
    }
    let upstream = forward.upstream(notes);
    if upstream.is_empty() {
        return upstream;
    }
    match global.upstream_line {
        Some(first) if global.upstream != upstream => notes.at(
            forward.line,
            format!(
                "kubezone has one `upstream` list for every zone: this forward's targets are added to those of line {first}"
            ),
        ),
        Some(_) => {}
        None => global.upstream_line = Some(forward.line),
    }
    for u in &upstream {
        if !global.upstream.contains(u) {
            global.upstream.push(u.clone());
        }
    }
    upstream
}

fn cluster(gateway: &Gateway, global: &mut Global, notes: &mut Notes) {
    if let Some((path, _)) = &gateway.kubeconfig
        && !path.starts_with('/')
    {
        notes.at(
            gateway.kubeconfig_line,
            format!(
                "kubeconfig {path} is relative: kubezone resolves it against the config file's folder, CoreDNS against its working directory"
            ),
        );
    }
    match &global.cluster {
        None => global.cluster = Some((gateway.line, gateway.kubeconfig.clone())),
        Some((line, cluster)) if *cluster != gateway.kubeconfig => notes.at(
            gateway.line,
            format!(
                "this k8s_gateway watches another cluster than line {line}'s: kubezone watches one cluster, the first one is carried over"
            ),
        ),
        Some(_) => {}
    }
}

/// Where a server block's fallthrough went, as kubezone can have it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FallthroughTo {
    Upstream,
    /// A forward (on this line) none of whose targets can be an upstream.
    UnusableForward(usize),
    Nothing,
}

fn zones(
    gateway: &Gateway,
    block_zones: &[String],
    fallthrough_to: FallthroughTo,
    global: &mut Global,
    notes: &mut Notes,
) {
    let line = gateway.line;
    let has_upstream = fallthrough_to == FallthroughTo::Upstream;
    if let Some(list) = &gateway.fallthrough {
        match fallthrough_to {
            FallthroughTo::Upstream => {}
            FallthroughTo::UnusableForward(forward) => notes.at(
                gateway.fallthrough_line,
                format!("fallthrough is not carried over: kubezone's fallthrough forwards to `upstream`, and none of the targets of the forward on line {forward} can be one; add `upstream` and `fallthrough` by hand"),
            ),
            FallthroughTo::Nothing => notes.at(
                gateway.fallthrough_line,
                "fallthrough is not carried over: it passed unanswered names to the next plugin, and this server block has no forward; kubezone's fallthrough only forwards to `upstream`",
            ),
        }
        for f in list {
            if !gateway
                .zones
                .iter()
                .any(|z| names::within(z, f) || names::within(f, z))
            {
                notes.at(
                    gateway.fallthrough_line,
                    format!(
                        "fallthrough zone {f} is outside k8s_gateway's zones and had no effect"
                    ),
                );
            }
        }
    }
    let s = &gateway.settings;
    for name in &gateway.zones {
        if name == "." {
            notes.at(
                line,
                "zone `.` (the root) is not carried over: kubezone serves named zones; name them on the k8s_gateway line",
            );
            continue;
        }
        if !block_zones.iter().any(|bz| names::within(name, bz)) {
            notes.at(
                line,
                format!(
                    "zone {name} is outside its server block's zones ({}): CoreDNS never passed its queries to k8s_gateway, kubezone will serve it",
                    block_zones.join(" ")
                ),
            );
        }
        let fallthrough = match &gateway.fallthrough {
            Some(list) if has_upstream => fallthrough_for(name, list),
            _ => Fallthrough::Off,
        };
        let zone = Zone {
            zone: name.clone(),
            ttl: s.ttl,
            apex: s.apex.clone(),
            secondary: s.secondary.clone(),
            resources: s.resources.clone(),
            ingress_classes: s.ingress_classes.clone(),
            gateway_classes: s.gateway_classes.clone(),
            service_label_selectors: s.service_label_selectors.clone(),
            node_address_type: s.node_address_type.clone(),
            fallthrough,
        };
        match global
            .zones
            .iter()
            .find(|(z, _)| z.zone.eq_ignore_ascii_case(name))
        {
            Some((existing, first)) => {
                if *existing != zone {
                    notes.at(
                        line,
                        format!(
                            "zone {name} is also served on line {first} with other settings: kubezone serves a zone once, the first one is carried over"
                        ),
                    );
                }
            }
            None => global.zones.push((zone, line)),
        }
    }
}

/// k8s_gateway's fallthrough zones as they apply to `zone`: all of it when one of them covers
/// it, else those inside it.
fn fallthrough_for(zone: &str, list: &[String]) -> Fallthrough {
    if list.is_empty() || list.iter().any(|f| names::within(zone, f)) {
        return Fallthrough::All;
    }
    let inside: Vec<String> = list
        .iter()
        .filter(|f| names::within(f, zone))
        .cloned()
        .collect();
    if inside.is_empty() {
        Fallthrough::Off
    } else {
        Fallthrough::Zones(inside)
    }
}

fn finish(global: Global, notes: &mut Notes) -> Result<Config, MigrateError> {
    let mut listen = global.listen;
    if listen.is_empty() {
        listen.push("0.0.0.0:53".into());
        notes.general("no server block serves plain DNS: kubezone listens on 0.0.0.0:53");
    }
    if global
        .block_listens
        .iter()
        .any(|l| *l != global.block_listens[0])
    {
        notes.general(
            "kubezone serves every zone on every `listen` address; CoreDNS served each server block's zones on that block's own addresses only",
        );
    }

    let http_listen = global
        .prometheus
        .as_ref()
        .or(global.health.as_ref())
        .or(global.ready.as_ref())
        .map(|(_, addr)| addr.clone());
    if let Some(listen) = &http_listen {
        if let Some((line, _)) = &global.prometheus {
            notes.at(
                *line,
                format!(
                    "prometheus: metrics are served at http://{listen}/metrics with kubezone_* names; CoreDNS's coredns_* metrics do not exist, update dashboards and alerts"
                ),
            );
        }
        let moved = |addr: &str, probe: &str| {
            if addr == listen {
                String::new()
            } else {
                format!(", not on {addr}: point the {probe} probe there")
            }
        };
        if let Some((line, addr)) = &global.health {
            notes.at(
                *line,
                format!(
                    "health: kubezone serves its liveness endpoint on `http.listen` ({listen}){}",
                    moved(addr, "liveness")
                ),
            );
        }
        if let Some((line, addr)) = &global.ready {
            notes.at(
                *line,
                format!(
                    "ready: readiness is built in, kubezone is ready once every watched Kind has been listed; /readyz is on `http.listen` ({listen}){}",
                    moved(addr, "readiness")
                ),
            );
        }
    }

    let kubernetes = match global.cluster {
        Some((_, Some((path, context)))) => Kubernetes {
            kubeconfig: Some(path),
            context,
        },
        _ => Kubernetes::default(),
    };
    Ok(Config {
        listen,
        zones: global.zones.into_iter().map(|(z, _)| z).collect(),
        upstream: global.upstream,
        kubernetes,
        http: http_listen.map(|listen| Http {
            listen,
            metrics: global.prometheus.is_some(),
        }),
        lameduck_seconds: global.lameduck.map(|(_, secs)| secs),
        query_log: global.query_log,
    })
}
