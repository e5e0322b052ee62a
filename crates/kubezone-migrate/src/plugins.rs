//! The other plugins of a server block: what kubezone has an equivalent for, and a warning for
//! the rest.

use crate::{names, notes::Notes, parse::Directive};

/// What a server block's plugins carry over.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Plugins {
    pub forward: Option<Forward>,
    /// IP addresses from `bind`.
    pub bind: Vec<String>,
    /// (line, `ip:port`)
    pub prometheus: Option<(usize, String)>,
    pub health: Option<(usize, String)>,
    pub ready: Option<(usize, String)>,
    /// (line, seconds)
    pub lameduck: Option<(usize, u64)>,
    pub log: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    pub line: usize,
    pub from: String,
    /// As written.
    pub targets: Vec<String>,
    /// (line, arguments, name) of each option in its block.
    pub options: Vec<(usize, String, String)>,
}

/// Reads one directive of a server block other than `k8s_gateway`.
pub fn read(d: &Directive, plugins: &mut Plugins, notes: &mut Notes) {
    let line = d.line();
    let args = d.arg_texts();
    let name = d.name.text.as_str();
    match name {
        "forward" => forward(d, plugins, notes),
        "bind" => bind(d, plugins, notes),
        "prometheus" => {
            let addr = args.first().copied().unwrap_or("localhost:9153");
            match names::http_listen(addr) {
                Some(listen) => keep_first(&mut plugins.prometheus, line, listen, "prometheus", notes),
                None => notes.at(
                    line,
                    format!("prometheus address {addr:?} is not ip:port; metrics are not carried over"),
                ),
            }
        }
        "health" => {
            let addr = args.first().copied().unwrap_or(":8080");
            match names::http_listen(addr) {
                Some(listen) => keep_first(&mut plugins.health, line, listen, "health", notes),
                None => notes.at(line, format!("health address {addr:?} is not ip:port")),
            }
            for option in d.block.iter().flatten() {
                match (option.name.text.as_str(), &option.arg_texts()[..]) {
                    ("lameduck", [duration]) => match seconds(duration) {
                        Some((secs, exact)) => {
                            if !exact {
                                notes.at(
                                    option.line(),
                                    format!("lameduck {duration} is rounded up to {secs} seconds"),
                                );
                            }
                            plugins.lameduck.get_or_insert((option.line(), secs));
                        }
                        None => notes.at(
                            option.line(),
                            format!("lameduck {duration:?} is not a duration; not carried over"),
                        ),
                    },
                    (other, _) => notes.at(
                        option.line(),
                        format!("health option `{other}` is not carried over"),
                    ),
                }
            }
        }
        "ready" => {
            let addr = args.first().copied().unwrap_or(":8181");
            match names::http_listen(addr) {
                Some(listen) => keep_first(&mut plugins.ready, line, listen, "ready", notes),
                None => notes.at(line, format!("ready address {addr:?} is not ip:port")),
            }
        }
        "log" => {
            plugins.log = true;
            if !args.is_empty() || d.block.is_some() {
                notes.at(
                    line,
                    "log: its names, format and classes are not carried over; `queryLog: true` logs every query in kubezone's format",
                );
            }
        }
        "errors" => notes.at(
            line,
            "errors: nothing to carry over, kubezone logs its errors itself",
        ),
        "debug" => notes.at(
            line,
            "debug: not carried over; run kubezone with `--log-level debug` instead",
        ),
        "loop" => notes.at(
            line,
            "loop: nothing to carry over, kubezone does not recurse and cannot loop on itself",
        ),
        "reload" => notes.at(
            line,
            "reload: nothing to carry over, kubezone reloads its config on SIGHUP and when the file changes",
        ),
        "loadbalance" => notes.at(
            line,
            "loadbalance is not carried over: kubezone does not rotate A/AAAA records; resolvers and clients pick among them",
        ),
        "cache" => notes.at(
            line,
            "cache: not carried over and not needed, kubezone answers from an in-memory index that is always current; resolvers cache for the records' TTL",
        ),
        "any" => notes.at(
            line,
            "any: nothing to carry over, kubezone answers ANY with one RRset (RFC 8482)",
        ),
        "bufsize" => notes.at(
            line,
            "bufsize is not carried over: kubezone limits UDP answers to 1232 bytes with EDNS itself",
        ),
        "file" | "hosts" | "auto" | "template" | "secondary" => notes.at(
            line,
            format!("plugin `{name}` is not carried over: kubezone serves only what Kubernetes objects publish; publish such records as DNSEndpoint objects (in the cluster or in `manifests`)"),
        ),
        "transfer" => notes.at(
            line,
            "transfer is not carried over: kubezone refuses zone transfers (AXFR/IXFR); run a second kubezone as the secondary nameserver (zones[].secondary)",
        ),
        "kubernetes" | "k8s_external" => notes.at(
            line,
            format!("plugin `{name}` is not carried over: kubezone does not answer cluster-internal names; keep the cluster DNS for them"),
        ),
        "acl" => notes.at(
            line,
            "acl is not carried over: kubezone has no query ACLs; restrict who reaches it with a NetworkPolicy, loadBalancerSourceRanges or a firewall",
        ),
        "tls" => notes.at(
            line,
            "tls is not carried over: kubezone serves plain DNS over UDP and TCP only",
        ),
        "dnssec" | "sign" => notes.at(
            line,
            format!("plugin `{name}` is not carried over: kubezone does not sign its answers"),
        ),
        _ => notes.at(
            line,
            format!("plugin `{name}` is not carried over: kubezone has no equivalent"),
        ),
    }
}

/// One address per server block for the HTTP plugins; a second one is reported.
fn keep_first(
    slot: &mut Option<(usize, String)>,
    line: usize,
    listen: String,
    plugin: &str,
    notes: &mut Notes,
) {
    match slot {
        Some((first, _)) => notes.at(
            line,
            format!(
                "{plugin} is given again (first on line {first}); the first one is carried over"
            ),
        ),
        None => *slot = Some((line, listen)),
    }
}

fn forward(d: &Directive, plugins: &mut Plugins, notes: &mut Notes) {
    let line = d.line();
    if let Some(first) = &plugins.forward {
        notes.at(
            line,
            format!("a second forward in this server block is not carried over (the first is on line {})", first.line),
        );
        return;
    }
    let Some((from, targets)) = d.args.split_first() else {
        notes.at(line, "forward without FROM and TO is ignored");
        return;
    };
    plugins.forward = Some(Forward {
        line,
        from: names::zone(&from.text),
        targets: targets.iter().map(|t| t.text.clone()).collect(),
        options: d
            .block
            .iter()
            .flatten()
            .map(|o| (o.line(), o.arg_texts().join(" "), o.name.text.clone()))
            .collect(),
    });
}

impl Forward {
    /// The targets kubezone can use as `upstream`, with a warning for each one and each option
    /// it cannot carry over.
    pub fn upstream(&self, notes: &mut Notes) -> Vec<String> {
        let mut upstream = Vec::new();
        for text in &self.targets {
            match names::upstream(text) {
                Some(u) => upstream.push(u),
                None if text.starts_with('/') || text.starts_with('.') => notes.at(
                    self.line,
                    format!("forward to {text} cannot be carried over: kubezone does not read resolver files; put the resolvers' addresses (ip or ip:port) in `upstream`"),
                ),
                None if text.starts_with("tls://") => notes.at(
                    self.line,
                    format!("forward to {text} cannot be carried over: kubezone forwards over plain DNS (UDP, TCP on truncation), not DNS over TLS"),
                ),
                None => notes.at(
                    self.line,
                    format!("forward to {text:?} cannot be carried over: an upstream is ip or ip:port"),
                ),
            }
        }
        let mut sequential = false;
        for (line, args, name) in &self.options {
            if name == "policy" && args == "sequential" {
                sequential = true;
            } else {
                notes.at(
                    *line,
                    format!("forward option `{name}` is not carried over: kubezone tries the upstreams in order over UDP, retrying over TCP when an answer is truncated"),
                );
            }
        }
        if upstream.len() > 1 && !sequential {
            notes.at(
                self.line,
                "forward picked among its targets at random; kubezone tries `upstream` in order",
            );
        }
        upstream
    }
}

fn bind(d: &Directive, plugins: &mut Plugins, notes: &mut Notes) {
    for arg in d.arg_texts() {
        match arg.parse::<std::net::IpAddr>() {
            Ok(ip) => plugins.bind.push(ip.to_string()),
            Err(_) => notes.at(
                d.line(),
                format!("bind {arg:?} is not carried over: kubezone listens on IP addresses, not interface names"),
            ),
        }
    }
    if d.block.is_some() {
        notes.at(
            d.line(),
            "bind's `except` block is not carried over: list the addresses to listen on instead",
        );
    }
}

/// A Go duration (`5s`, `1m30s`, `500ms`) in whole seconds, rounded up, and whether that was
/// exact.
pub fn seconds(text: &str) -> Option<(u64, bool)> {
    if text.is_empty() {
        return None;
    }
    if text == "0" {
        return Some((0, true));
    }
    let mut rest = text;
    let mut nanos: f64 = 0.0;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let value: f64 = rest[..number_len].parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        nanos += value * scale;
    }
    let secs = nanos / 1e9;
    let whole = secs.ceil();
    Some((whole as u64, (whole - secs).abs() < 1e-9))
}

#[cfg(test)]
mod tests {
    use super::seconds;

    #[test]
    fn go_durations_in_seconds() {
        assert_eq!(seconds("5s"), Some((5, true)));
        assert_eq!(seconds("1m30s"), Some((90, true)));
        assert_eq!(seconds("1h"), Some((3600, true)));
        assert_eq!(seconds("500ms"), Some((1, false)));
        assert_eq!(seconds("1.5s"), Some((2, false)));
        assert_eq!(seconds("0"), Some((0, true)));
        assert_eq!(seconds("5"), None);
        assert_eq!(seconds("5x"), None);
        assert_eq!(seconds(""), None);
    }
}
