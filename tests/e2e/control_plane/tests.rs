//! The control plane itself: what the live-cluster tests rely on.

use super::{
    objects::{api_for, documents},
    *,
};

#[test]
fn admin_creates_a_load_balancer_service_and_sets_its_status() {
    let cluster = ControlPlane::shared();
    let namespace = cluster.fresh_namespace("lb");
    cluster.apply_yaml(&format!(
        "apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: {namespace}
spec:
  type: LoadBalancer
  ports:
    - port: 80
"
    ));
    cluster.apply_status_yaml(&format!(
        "apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: {namespace}
status:
  loadBalancer:
    ingress:
      - ip: 192.0.2.10
      - ip: 2001:db8::10
"
    ));
    let services: Api<Service> = Api::namespaced(cluster.admin_client(), &namespace);
    let service = cluster.block_on(services.get("web")).expect("get Service");
    let ips: Vec<String> = service
        .status
        .and_then(|s| s.load_balancer)
        .and_then(|lb| lb.ingress)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|ingress| ingress.ip)
        .collect();
    assert_eq!(ips, ["192.0.2.10", "2001:db8::10"]);
    let cluster_ip = service.spec.and_then(|s| s.cluster_ip);
    assert!(
        cluster_ip
            .as_deref()
            .is_some_and(|ip| ip.starts_with("10.96.")),
        "cluster IP from the service range, got {cluster_ip:?}"
    );
}

#[test]
fn kubezone_may_read_only_what_its_cluster_role_grants() {
    let cluster = ControlPlane::start();
    let services: Api<Service> = Api::all(cluster.kubezone_client());
    let list = || cluster.block_on(services.list(&ListParams::default()));
    match list() {
        Err(kube::Error::Api(status)) if status.code == 403 => {}
        other => panic!("kubezone listed services without RBAC: {other:?}"),
    }

    cluster.grant_kubezone();
    list().expect("kubezone lists services after grant_kubezone");
    let secrets: Api<Secret> = Api::all(cluster.kubezone_client());
    match cluster.block_on(secrets.list(&ListParams::default())) {
        Err(kube::Error::Api(status)) if status.code == 403 => {}
        other => panic!("the chart's ClusterRole does not grant secrets: {other:?}"),
    }

    cluster.grant_kubezone_except("", "services");
    match list() {
        Err(kube::Error::Api(status)) if status.code == 403 => {}
        other => panic!("kubezone listed services after they left its role: {other:?}"),
    }
    assert!(cluster.kubezone_can("watch", "networking.k8s.io", "ingresses"));
}

#[test]
fn gateway_api_routes_and_dns_endpoints_are_served_at_the_versions_kubezone_reads() {
    let cluster = ControlPlane::shared();
    cluster.install_crds(Crds::GatewayApi);
    cluster.install_crds(Crds::DnsEndpoint);
    let namespace = cluster.fresh_namespace("routes");
    let objects = format!(
        "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: web, namespace: {namespace}}}
spec:
  parentRefs: [{{name: gw}}]
  hostnames: [web.example.test]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {{name: tls, namespace: {namespace}}}
spec:
  parentRefs: [{{name: gw}}]
  hostnames: [tls.example.test]
  rules:
    - backendRefs: [{{name: backend, port: 443}}]
---
apiVersion: externaldns.k8s.io/v1alpha1
kind: DNSEndpoint
metadata: {{name: records, namespace: {namespace}}}
spec:
  endpoints:
    - dnsName: txt.example.test
      recordType: A
      targets: [192.0.2.20]
"
    );
    cluster.apply_yaml(&objects);
    let client = cluster.admin_client();
    for object in documents(&objects) {
        let (api, name) = cluster.block_on(api_for(&client, &object));
        let stored = cluster.block_on(api.get(&name)).expect("get back");
        assert_eq!(stored.types, object.types);
        assert_eq!(
            stored.data["spec"]["hostnames"],
            object.data["spec"]["hostnames"]
        );
    }
}

#[test]
fn data_survives_an_apiserver_restart() {
    let cluster = ControlPlane::start();
    let namespace = cluster.fresh_namespace("outage");
    let configmap = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: kept, namespace: {namespace}}}\ndata: {{a: b}}\n"
    );
    cluster.apply_yaml(&configmap);
    let client = cluster.admin_client();

    cluster.stop_apiserver();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    assert!(
        cluster.block_on(namespaces.get(&namespace)).is_err(),
        "the apiserver answered while stopped"
    );

    cluster.restart_apiserver_with(&["--watch-cache-sizes=configmaps#0"]);
    // The client from before the outage reconnects.
    let configmaps: Api<DynamicObject> = Api::namespaced_with(
        client,
        &namespace,
        &kube::discovery::ApiResource::erase::<k8s_openapi::api::core::v1::ConfigMap>(&()),
    );
    let kept = cluster
        .block_on(configmaps.get("kept"))
        .expect("ConfigMap survives");
    assert_eq!(kept.data["data"]["a"], "b");
}

#[test]
fn uninstalled_crds_take_their_objects_along() {
    let cluster = ControlPlane::start();
    cluster.install_crds(Crds::DnsEndpoint);
    let namespace = cluster.fresh_namespace("crds");
    let endpoint = format!(
        "apiVersion: externaldns.k8s.io/v1alpha1
kind: DNSEndpoint
metadata: {{name: records, namespace: {namespace}}}
spec:
  endpoints: [{{dnsName: a.example.test, recordType: A, targets: [192.0.2.30]}}]
"
    );
    cluster.apply_yaml(&endpoint);
    cluster.delete(
        "externaldns.k8s.io/v1alpha1",
        "DNSEndpoint",
        Some(&namespace),
        "records",
    );
    cluster.apply_yaml(&endpoint);

    cluster.uninstall_crds(Crds::DnsEndpoint);
    let client = cluster.admin_client();
    let gvk = GroupVersionKind::gvk("externaldns.k8s.io", "v1alpha1", "DNSEndpoint");
    assert!(
        cluster
            .block_on(discovery::pinned_kind(&client, &gvk))
            .is_err(),
        "DNSEndpoint is still served"
    );

    cluster.install_crds(Crds::DnsEndpoint);
    let (api, _) = cluster.block_on(api_for(&client, &documents(&endpoint)[0]));
    let left = cluster
        .block_on(api.list(&ListParams::default()))
        .expect("list DNSEndpoints");
    assert!(left.items.is_empty(), "DNSEndpoints outlived their CRD");
}
