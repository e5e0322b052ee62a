use super::*;
use crate::NodeAddressType;

fn node(hostname: &str) -> KubeObject {
    obj(&format!(
        r#"
apiVersion: v1
kind: Node
metadata:
  name: node-1
status:
  addresses:
  - {{type: InternalIP, address: 10.0.0.1}}
  - {{type: InternalIP, address: "fd00::1"}}
  - {{type: ExternalIP, address: 203.0.113.1}}
  - {{type: Hostname, address: "{hostname}"}}
"#
    ))
}

#[test]
fn nodes_only_in_zones_that_list_them() {
    let mut external = zone_with("ext.example.com", &[Kind::Node]);
    external.node_address = NodeAddressType::ExternalIp;
    let mut t = Translator::new(vec![
        zone("example.com"),
        zone_with("nodes.example.com", &[Kind::Service, Kind::Node]),
        external,
    ]);
    let out = t.apply(&node("node-1"));
    assert!(out.problems.is_empty(), "{:?}", problems(&out));
    assert_eq!(updated(&out), ["Node/node-1"]);
    assert_eq!(
        lines(&out, "Node/node-1"),
        [
            "1 node-1.nodes.example.com. A 10.0.0.1",
            "1 node-1.nodes.example.com. AAAA fd00::1",
            "2 node-1.ext.example.com. A 203.0.113.1",
        ]
    );
}

#[test]
fn an_absolute_hostname_stays_in_its_zone() {
    let mut t = Translator::new(vec![
        zone_with("nodes.example.com", &[Kind::Node]),
        zone_with("other.org", &[Kind::Node]),
    ]);
    let out = t.apply(&node("node-1.nodes.example.com"));
    assert_eq!(
        lines(&out, "Node/node-1"),
        [
            "0 node-1.nodes.example.com. A 10.0.0.1",
            "0 node-1.nodes.example.com. AAAA fd00::1",
        ]
    );
}

#[test]
fn no_zone_for_nodes_means_no_records() {
    let mut t = translator(&["example.com"]);
    let out = t.apply(&node("node-1"));
    assert!(lines(&out, "Node/node-1").is_empty());
}

#[test]
fn bad_node_addresses() {
    let mut t = Translator::new(vec![zone_with("nodes.example.com", &[Kind::Node])]);
    let out = t.apply(&obj(r#"
apiVersion: v1
kind: Node
metadata: {name: node-1}
status:
  addresses:
  - {type: InternalIP, address: 10.0.0.999}
  - {type: InternalIP, address: 10.0.0.2}
  - {type: ExternalIP, address: not-checked}
  - {type: Hostname, address: node-1}
"#));
    assert_eq!(
        lines(&out, "Node/node-1"),
        ["0 node-1.nodes.example.com. A 10.0.0.2"]
    );
    assert_one_problem(
        &out,
        "Node/node-1",
        "status.addresses[0].address",
        "10.0.0.999",
    );

    let out = t.apply(&obj(r#"
apiVersion: v1
kind: Node
metadata: {name: node-1}
status:
  addresses:
  - {type: InternalIP, address: 10.0.0.2}
  - {type: Hostname, address: "node_1!"}
"#));
    assert!(lines(&out, "Node/node-1").is_empty());
    assert_one_problem(
        &out,
        "Node/node-1",
        "status.addresses[1].address",
        "node_1!",
    );
}
