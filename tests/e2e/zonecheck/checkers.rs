//! Zonemaster and DNSViz, run inside a lab, and their messages as findings.

use std::{fmt, process::Stdio};

use serde_json::Value;

use super::lab::{Lab, ROOT, ZONE};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Notice,
    Warning,
    Error,
    Critical,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Notice => "NOTICE",
            Level::Warning => "WARNING",
            Level::Error => "ERROR",
            Level::Critical => "CRITICAL",
        })
    }
}

/// One message of a checker.
#[derive(Clone, Debug)]
pub struct Finding {
    pub tool: &'static str,
    pub level: Level,
    /// What the comparison matches on: Zonemaster's module, test case and tag; DNSViz's code and
    /// the name it is about. Neither holds serials or random names.
    pub key: String,
    /// The message's arguments or description, for the report.
    pub detail: String,
}

impl Finding {
    /// `tool LEVEL key`: what the two server sets are compared on.
    pub fn id(&self) -> String {
        format!("{} {} {}", self.tool, self.level, self.key)
    }
}

/// What one run of the checkers saw, beside the findings: proof that they reached the zone.
pub struct Run {
    pub findings: Vec<Finding>,
    /// Zonemaster's BASIC02 HAS_NAMESERVERS: one per nameserver address that answered.
    pub zonemaster_nameservers: Vec<String>,
    /// DNSViz's probe: the addresses it queried for the zone.
    pub dnsviz_addresses: Vec<String>,
}

pub fn run(lab: &Lab, names: &[String]) -> Run {
    let (mut findings, zonemaster_nameservers) = zonemaster(lab);
    let (more, dnsviz_addresses) = dnsviz(lab, names);
    findings.extend(more);
    findings.sort_by(|a, b| {
        (b.level.cmp(&a.level))
            .then_with(|| a.id().cmp(&b.id()))
            .then_with(|| a.detail.cmp(&b.detail))
    });
    Run {
        findings,
        zonemaster_nameservers,
        dnsviz_addresses,
    }
}

/// `zonemaster-cli` against the zone, from the lab's root (`--hints`), over IPv4 and IPv6.
fn zonemaster(lab: &Lab) -> (Vec<Finding>, Vec<String>) {
    let hints = lab.hints();
    let out = lab.netns.output(
        "zonemaster-cli",
        &[
            "--json",
            "--level",
            "INFO",
            "--no-progress",
            "--hints",
            hints.to_str().expect("utf-8 path"),
            ZONE.trim_end_matches('.'),
        ],
    );
    std::fs::write(lab.path("zonemaster.json"), &out).expect("keep zonemaster output");
    let messages: Vec<Value> = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("zonemaster-cli --json printed no JSON ({e}):\n{out}"));
    let mut findings = Vec::new();
    let mut nameservers = Vec::new();
    for m in &messages {
        let field = |k: &str| m.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let args = m
            .get("args")
            .and_then(Value::as_object)
            .map(|a| {
                a.iter()
                    .map(|(k, v)| {
                        format!("{k}={}", v.as_str().map_or(v.to_string(), str::to_string))
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default();
        if field("tag") == "HAS_NAMESERVERS" {
            nameservers.push(args.clone());
        }
        let level = match field("level").as_str() {
            "NOTICE" => Level::Notice,
            "WARNING" => Level::Warning,
            "ERROR" => Level::Error,
            "CRITICAL" => Level::Critical,
            _ => continue,
        };
        findings.push(Finding {
            tool: "zonemaster",
            level,
            key: format!("{}/{} {}", field("module"), field("testcase"), field("tag")),
            detail: args,
        });
    }
    (findings, nameservers)
}

/// `dnsviz probe` (authoritative, from the lab's root via `-x .:`, with the EDNS and NSID
/// probes) of the zone and the example names, then `dnsviz grok` of what it saw.
///
/// No trust anchor is given to grok: the lab is unsigned, and Debian 12's DNSViz 0.9.4 cannot
/// use one anyway (its check wants `pygraphviz.release`, which pygraphviz 1.7 lacks).
fn dnsviz(lab: &Lab, names: &[String]) -> (Vec<Finding>, Vec<String>) {
    let probe = lab.path("dnsviz-probe.json");
    let grok = lab.path("dnsviz-grok.json");
    let root = format!(
        ".:{name}={v4},{name}=[{v6}]",
        name = ROOT.name,
        v4 = ROOT.v4,
        v6 = ROOT.v6
    );
    let mut args = vec![
        "probe",
        "-A",
        "-a",
        ".",
        "-x",
        &root,
        "-E",
        "-n",
        "-d",
        "0",
        "-o",
        probe.to_str().expect("utf-8 path"),
        ZONE,
    ];
    args.extend(names.iter().map(String::as_str));
    lab.netns.output("dnsviz", &args);
    let probed: Value =
        serde_json::from_str(&std::fs::read_to_string(&probe).expect("dnsviz probe output"))
            .expect("dnsviz probe JSON");
    let mut addresses: Vec<String> = probed[ZONE]["auth_ns_ip_mapping"]
        .as_object()
        .map(|m| {
            m.values()
                .filter_map(Value::as_array)
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    addresses.sort();

    // grok writes nothing at all when there is nothing at or above the level.
    let status = std::process::Command::new("dnsviz")
        .args(["grok", "-l", "warning", "-r"])
        .arg(&probe)
        .arg("-o")
        .arg(&grok)
        .stdin(Stdio::null())
        .status()
        .expect("run dnsviz grok");
    assert!(status.success(), "dnsviz grok failed: {status}");
    let text = std::fs::read_to_string(&grok).unwrap_or_default();
    let mut findings = Vec::new();
    if !text.trim().is_empty() {
        let assessed: Value = serde_json::from_str(&text).expect("dnsviz grok JSON");
        if let Some(names) = assessed.as_object() {
            for (name, status) in names {
                collect(name, status, name, &mut findings);
            }
        }
    }
    (findings, addresses)
}

/// DNSViz puts `errors`/`warnings` (and `error`/`warning` for failed queries) at every level of
/// its assessment: the zone, the delegation, each query, each RRset.
fn collect(name: &str, node: &Value, path: &str, out: &mut Vec<Finding>) {
    match node {
        Value::Object(map) => {
            for (k, v) in map {
                let level = match k.as_str() {
                    "errors" | "error" => Some(Level::Error),
                    "warnings" | "warning" => Some(Level::Warning),
                    _ => None,
                };
                match (level, v.as_array()) {
                    (Some(level), Some(items)) => {
                        for item in items {
                            let text = |k: &str| item.get(k).and_then(Value::as_str).unwrap_or("");
                            out.push(Finding {
                                tool: "dnsviz",
                                level,
                                key: format!("{} at {name}", text("code")),
                                detail: format!(
                                    "{path}: {} servers={}",
                                    text("description"),
                                    item.get("servers").map_or(String::new(), servers)
                                ),
                            });
                        }
                    }
                    _ => collect(name, v, &format!("{path}/{k}"), out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect(name, v, path, out)),
        _ => {}
    }
}

/// DNSViz names servers as a list, or as a map of server to client addresses.
fn servers(v: &Value) -> String {
    let mut list: Vec<String> = match v {
        Value::Object(m) => m.keys().cloned().collect(),
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    list.sort();
    list.join(",")
}

/// What `dnsviz grok -l warning` printed for a lab whose second nameserver was down: a zone
/// error and per-query errors, both found, keyed by code and name.
#[test]
fn dnsviz_errors_are_found_at_every_level() {
    let grok: Value = serde_json::from_str(
        r#"{"example.com.": {
            "queries": {"example.com./IN/A": {"error": [{
                "description": "The UDP connection was refused (ECONNREFUSED).",
                "code": "NETWORK_ERROR",
                "servers": {"11.0.4.53": ["11.0.4.53"], "2a11:0:4::53": ["2a11:0:4::53"]},
                "query_options": ["UDP_-_EDNS0_4096_D_NK"]}]}},
            "zone": {"errors": [{
                "description": "The server(s) were not responsive to queries over UDP.",
                "code": "SERVER_UNRESPONSIVE_UDP",
                "servers": {"11.0.4.53": ["11.0.4.53"], "2a11:0:4::53": ["2a11:0:4::53"]}}],
              "warnings": [{"description": "d", "code": "SOME_WARNING", "servers": ["11.0.3.53"]}]}}}"#,
    )
    .expect("JSON");
    let mut found = Vec::new();
    collect(
        "example.com.",
        &grok["example.com."],
        "example.com.",
        &mut found,
    );
    let mut ids: Vec<String> = found.iter().map(Finding::id).collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            "dnsviz ERROR NETWORK_ERROR at example.com.",
            "dnsviz ERROR SERVER_UNRESPONSIVE_UDP at example.com.",
            "dnsviz WARNING SOME_WARNING at example.com.",
        ]
    );
    assert!(
        found.iter().any(|f| f.detail
            == "example.com./queries/example.com./IN/A: The UDP connection was refused \
                (ECONNREFUSED). servers=11.0.4.53,2a11:0:4::53"),
        "{found:?}"
    );
}
