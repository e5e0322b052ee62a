//! The DNS Service and the metrics Service with its ServiceMonitor.

use super::*;

#[test]
fn service_monitor_scrapes_metrics_from_a_cluster_ip_service() {
    let rendered = render(
        "domain: example.com
prometheus:
  monitor:
    enabled: true
    interval: 30s
    additionalLabels: {release: prometheus}
",
    );
    let monitor = rendered.one("ServiceMonitor");
    assert_eq!(monitor["metadata"]["labels"]["release"], "prometheus");
    assert_eq!(
        monitor["spec"]["endpoints"],
        json!([{"port": "http-metrics", "path": "/metrics", "interval": "30s"}])
    );
    let metrics = rendered.get("Service", &format!("{}-metrics", fullname()));
    assert_eq!(metrics["spec"]["type"], "ClusterIP");
    assert_eq!(
        metrics["spec"]["ports"],
        json!([{"name": "http-metrics", "port": 8080, "targetPort": "http", "protocol": "TCP"}])
    );
    let labels = metrics["metadata"]["labels"]
        .as_object()
        .expect("metrics Service labels");
    for (key, value) in monitor["spec"]["selector"]["matchLabels"]
        .as_object()
        .expect("ServiceMonitor selector")
    {
        assert_eq!(
            labels.get(key),
            Some(value),
            "ServiceMonitor selects on {key}"
        );
    }
    assert_eq!(
        monitor["spec"]["namespaceSelector"]["matchNames"],
        json!([rendered.namespace])
    );
    // /metrics is never on the public DNS Service.
    assert!(
        rendered
            .service_ports(&fullname())
            .iter()
            .all(|(port, _, _)| *port == 53)
    );
}

#[test]
fn service_options_reach_the_service() {
    let rendered = render(
        "domain: example.com
service:
  annotations: {service.beta.kubernetes.io/aws-load-balancer-type: nlb}
  labels: {example.com/exposed: \"true\"}
  loadBalancerIP: 192.0.2.53
  loadBalancerClass: example.com/lb
  loadBalancerSourceRanges: [192.0.2.0/24]
  externalTrafficPolicy: Local
  ipFamilyPolicy: PreferDualStack
  nodePort: 30053
",
    );
    let service = rendered.get("Service", &fullname());
    let spec = &service["spec"];
    assert_eq!(
        service["metadata"]["annotations"]["service.beta.kubernetes.io/aws-load-balancer-type"],
        "nlb"
    );
    assert_eq!(service["metadata"]["labels"]["example.com/exposed"], "true");
    assert_eq!(spec["loadBalancerIP"], "192.0.2.53");
    assert_eq!(spec["loadBalancerClass"], "example.com/lb");
    assert_eq!(spec["loadBalancerSourceRanges"], json!(["192.0.2.0/24"]));
    assert_eq!(spec["externalTrafficPolicy"], "Local");
    assert_eq!(spec["ipFamilyPolicy"], "PreferDualStack");
    for port in spec["ports"].as_array().expect("ports") {
        assert_eq!(port["nodePort"], 30053);
    }
}

#[test]
fn an_ipv6_only_cluster_gets_an_ipv6_service_and_a_pod_listening_on_ipv6() {
    // Rendered only: the test apiserver's Service range is IPv4, so a dry run refuses IPv6.
    let rendered = template(
        "domain: example.com
service:
  ipFamilyPolicy: SingleStack
  ipFamilies: [IPv6]
",
    );
    let spec = &rendered.get("Service", &fullname())["spec"];
    assert_eq!(spec["ipFamilyPolicy"], "SingleStack");
    assert_eq!(spec["ipFamilies"], json!(["IPv6"]));
    let config = rendered.config();
    assert_eq!(config["listen"], json!(["[::]:1053"]));
    assert_eq!(config["http"]["listen"], "[::]:8080");
    // The kubelet probes the pod's own address, IPv6 here, which `[::]:8080` covers.
    let container = rendered.container();
    for probe in ["livenessProbe", "readinessProbe"] {
        let get = &container[probe]["httpGet"];
        assert_eq!(get["port"], "http", "{probe}: {get}");
        assert!(get.get("host").is_none(), "{probe}: {get}");
    }
}
