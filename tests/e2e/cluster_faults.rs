//! kubezone against a real kube-apiserver that misbehaves: CRDs that arrive late, RBAC that
//! forbids a Kind, an outage, and a relist. Each test has a control plane of its own.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use hickory_proto::{
    op::{Message, ResponseCode},
    rr::RecordType,
};

use crate::{
    cluster::{
        ZONES, answers, kubernetes_section, load_balancer_service, load_balancer_status, nxdomain,
        route_status,
    },
    control_plane::{ControlPlane, Crds, Options},
    harness::{Server, Setup, addresses},
};

/// Long enough for a watch retrying with backoff (at most 5 s between attempts, plus jitter).
const RETRY_PATIENCE: Duration = Duration::from_secs(40);

fn kubezone_on(cp: &ControlPlane) -> Server {
    Server::start_with(Setup {
        zones: ZONES,
        extra: &kubernetes_section(cp, &[]),
        manifests: &[],
        ..Setup::default()
    })
}

fn occurrences(log: &str, needle: &str) -> usize {
    log.lines().filter(|l| l.contains(needle)).count()
}

fn servfail(reply: &Message) -> bool {
    reply.metadata.response_code == ResponseCode::ServFail
}

#[test]
fn missing_crds_and_forbidden_kinds_are_named_and_the_rest_is_served() {
    let cp = ControlPlane::start();
    cp.grant_kubezone_except("networking.k8s.io", "ingresses");
    cp.create_namespace("shop");
    cp.apply_yaml(&load_balancer_service("shop", "web"));
    cp.apply_status_yaml(&load_balancer_status("shop", "web", &["192.0.2.80"]));

    // Ready without the Gateway API, DNSEndpoint and Ingress: every other Kind is served.
    let s = kubezone_on(&cp);
    s.eventually(
        "web.shop.example.com.",
        RecordType::A,
        answers(&["192.0.2.80"]),
    );
    // Let the unavailable watches retry a few times: each problem is still said once.
    std::thread::sleep(Duration::from_secs(3));
    let log = s.log();
    for crd in [
        "httproutes.gateway.networking.k8s.io",
        "tlsroutes.gateway.networking.k8s.io",
        "grpcroutes.gateway.networking.k8s.io",
        "gateways.gateway.networking.k8s.io",
        "dnsendpoints.externaldns.k8s.io",
    ] {
        assert_eq!(
            occurrences(&log, &format!("the CRD {crd} is not installed")),
            1,
            "{crd} said once:\n{log}"
        );
    }
    assert_eq!(
        occurrences(&log, "forbidden to list: ingresses.networking.k8s.io"),
        1,
        "the forbidden Kind and verb, once:\n{log}"
    );

    // The CRDs arrive and RBAC is fixed: both are served without a restart.
    cp.install_crds(Crds::GatewayApi);
    cp.install_crds(Crds::DnsEndpoint);
    cp.grant_kubezone();
    cp.apply_yaml(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: public, namespace: shop}\nspec:\n  gatewayClassName: eg\n  listeners: [{name: http, port: 80, protocol: HTTP}]\n",
    );
    cp.apply_status_yaml(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: public, namespace: shop}\nstatus:\n  addresses: [{value: \"192.0.2.81\"}]\n",
    );
    cp.apply_yaml(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: web, namespace: shop}\nspec:\n  parentRefs: [{name: public}]\n  hostnames: [route.example.com]\n",
    );
    cp.apply_status_yaml(&route_status(
        "HTTPRoute",
        "shop",
        "web",
        "{name: public}",
        "True",
    ));
    cp.apply_yaml(
        "apiVersion: externaldns.k8s.io/v1alpha1\nkind: DNSEndpoint\nmetadata: {name: legacy, namespace: shop}\nspec:\n  endpoints: [{dnsName: legacy.example.com, recordType: A, targets: [192.0.2.82]}]\n",
    );
    cp.apply_yaml(
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: shop, namespace: shop}\nspec:\n  rules: [{host: ingress.example.com}]\n",
    );
    cp.apply_status_yaml(
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: shop, namespace: shop}\nstatus:\n  loadBalancer:\n    ingress: [{ip: \"192.0.2.83\"}]\n",
    );
    for (name, ip) in [
        ("route.example.com.", ["192.0.2.81"]),
        ("legacy.example.com.", ["192.0.2.82"]),
        ("ingress.example.com.", ["192.0.2.83"]),
    ] {
        s.eventually_within(RETRY_PATIENCE, name, RecordType::A, |reply| {
            addresses(reply) == ip
        });
    }

    // CRDs go away again: their objects go with them, and the rest stays.
    cp.uninstall_crds(Crds::GatewayApi);
    s.eventually("route.example.com.", RecordType::A, nxdomain);
    assert_eq!(
        addresses(&s.ask("legacy.example.com.", RecordType::A)),
        ["192.0.2.82"]
    );
    s.eventually_within(
        RETRY_PATIENCE,
        "web.shop.example.com.",
        RecordType::A,
        |_| {
            occurrences(
                &s.log(),
                "the CRD httproutes.gateway.networking.k8s.io is not installed",
            ) == 2
        },
    );
}

#[test]
fn answers_survive_an_api_server_outage() {
    let cp = ControlPlane::start();
    cp.grant_kubezone();
    cp.create_namespace("shop");
    cp.apply_yaml(&load_balancer_service("shop", "web"));
    cp.apply_status_yaml(&load_balancer_status("shop", "web", &["192.0.2.90"]));

    // Before its first list, kubezone knows nothing: SERVFAIL, not NXDOMAIN.
    cp.stop_apiserver();
    let s = Server::spawn(Setup {
        zones: ZONES,
        extra: &kubernetes_section(&cp, &[]),
        manifests: &[],
        ..Setup::default()
    });
    let until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < until {
        let reply = s.ask("web.shop.example.com.", RecordType::A);
        assert!(servfail(&reply), "not synced yet: {reply:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    cp.start_apiserver();
    s.wait_until_ready_within(RETRY_PATIENCE);
    s.eventually(
        "web.shop.example.com.",
        RecordType::A,
        answers(&["192.0.2.90"]),
    );

    // After it, the last known state is served while the API server is away.
    cp.stop_apiserver();
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        let reply = s.ask("web.shop.example.com.", RecordType::A);
        assert_eq!(addresses(&reply), ["192.0.2.90"], "{reply:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    cp.start_apiserver();
    cp.apply_status_yaml(&load_balancer_status("shop", "web", &["192.0.2.91"]));
    cp.apply_yaml(&load_balancer_service("shop", "api"));
    cp.apply_status_yaml(&load_balancer_status("shop", "api", &["192.0.2.92"]));
    s.eventually_within(
        RETRY_PATIENCE,
        "web.shop.example.com.",
        RecordType::A,
        answers(&["192.0.2.91"]),
    );
    s.eventually(
        "api.shop.example.com.",
        RecordType::A,
        answers(&["192.0.2.92"]),
    );
    let log = s.log();
    assert!(
        log.lines()
            .any(|l| l.contains("watching again") && l.ends_with("watch=Service")),
        "the Service watch reports its recovery:\n{log}"
    );
}

#[test]
fn a_relist_never_drops_an_answer() {
    // Without the watch cache for Services, watches go to etcd, whose compacted history is what
    // makes a resumed watch fail with 410 Gone.
    let cp = ControlPlane::start_with(Options {
        apiserver_args: vec!["--watch-cache-sizes=services#0".into()],
    });
    cp.grant_kubezone();
    cp.create_namespace("shop");
    let count = 40;
    for i in 0..count {
        cp.apply_yaml(&load_balancer_service("shop", &format!("svc{i}")));
        cp.apply_status_yaml(&load_balancer_status(
            "shop",
            &format!("svc{i}"),
            &[&format!("192.0.2.{}", 100 + i)],
        ));
    }
    let s = kubezone_on(&cp);
    let last = format!("svc{}.shop.example.com.", count - 1);
    s.eventually(&last, RecordType::A, |reply| !nxdomain(reply));

    // Ask for every name, all the time, while the API server is away and etcd's history is
    // compacted: kubezone's watch resumes from a resourceVersion that is gone, gets 410 Gone,
    // and relists.
    let stop = Arc::new(AtomicBool::new(false));
    let asker = {
        let stop = stop.clone();
        let addr = s.addr;
        std::thread::spawn(move || {
            let mut wrong = Vec::new();
            let mut asked = 0;
            while !stop.load(Ordering::Relaxed) {
                for i in 0..count {
                    let name = format!("svc{i}.shop.example.com.");
                    let reply = crate::harness::ask_at(addr, &name, RecordType::A);
                    asked += 1;
                    let expected = [format!("192.0.2.{}", 100 + i)];
                    if addresses(&reply) != expected {
                        wrong.push(format!("{name}: {reply:?}"));
                    }
                }
            }
            (asked, wrong)
        })
    };
    // Two writes elsewhere move etcd's revision past the one kubezone's watch resumes from.
    for data in ["a", "b"] {
        cp.apply_yaml(&format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: unrelated, namespace: shop}}\ndata: {{v: {data}}}\n"
        ));
    }
    cp.stop_apiserver();
    cp.compact_etcd();
    cp.start_apiserver();
    // Something changed meanwhile is picked up by the relist.
    cp.apply_yaml(&load_balancer_service("shop", "late"));
    cp.apply_status_yaml(&load_balancer_status("shop", "late", &["192.0.2.99"]));
    s.eventually_within(
        RETRY_PATIENCE,
        "late.shop.example.com.",
        RecordType::A,
        answers(&["192.0.2.99"]),
    );
    stop.store(true, Ordering::Relaxed);
    let (asked, wrong) = asker.join().expect("the asking thread");
    assert!(asked > 0);
    assert!(
        wrong.is_empty(),
        "{} of {asked} answers were wrong during the relist, first: {}",
        wrong.len(),
        wrong[0]
    );
    let log = s.log();
    assert!(
        log.contains("relisted") && log.contains("watch=Service"),
        "the restart should have made the Service watch relist:\n{log}"
    );
}

/// `kubezone check --probe` against the config at `config`: whether it passed, stdout, stderr.
fn check_probe(config: &std::path::Path) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kubezone"))
        .args(["check", "--probe", "--config"])
        .arg(config)
        .env_remove("KUBEZONE_CONFIG")
        .output()
        .expect("run kubezone check");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn problems(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("kubezone: cluster: "))
        .collect()
}

#[test]
fn check_probe_names_a_missing_crd_and_a_missing_rbac_rule() {
    let cp = ControlPlane::start();
    cp.install_crds(Crds::GatewayApi);
    cp.install_crds(Crds::DnsEndpoint);
    cp.grant_kubezone();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("kubezone.yaml");
    let write = |namespaces: &[&str]| {
        std::fs::write(
            &config,
            format!("zones:\n{ZONES}{}", kubernetes_section(&cp, namespaces)),
        )
        .expect("write the config");
    };

    // Everything the zones need is served, and the chart's ClusterRole grants it.
    write(&[]);
    let (ok, out, err) = check_probe(&config);
    assert!(ok, "{out}{err}");
    for kind in [
        "HTTPRoute",
        "TLSRoute",
        "GRPCRoute",
        "Ingress",
        "Service",
        "DNSEndpoint",
        "Node",
        "Gateway",
        "Events (kubernetes.events)",
    ] {
        assert!(
            out.contains(&format!("cluster: {kind}: ")),
            "{kind} probed:\n{out}"
        );
    }
    assert!(
        out.contains("kubezone may create, patch it in all namespaces"),
        "Events are probed for writing:\n{out}"
    );

    // A CRD is uninstalled: its Kind is named, with the CRD, and nothing else is.
    cp.uninstall_crds(Crds::DnsEndpoint);
    let (ok, out, err) = check_probe(&config);
    assert!(!ok, "{out}{err}");
    assert_eq!(
        problems(&err),
        [
            "kubezone: cluster: DNSEndpoint: the CRD dnsendpoints.externaldns.k8s.io is not \
             installed, or does not serve externaldns.k8s.io/v1alpha1"
        ],
        "{err}"
    );

    // The CRD is back, but at a version kubezone does not read: the versions served are named.
    cp.install_crd_yaml(
        "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: dnsendpoints.externaldns.k8s.io
  annotations: {api-approved.kubernetes.io: \"unapproved, a test of kubezone\"}
spec:
  group: externaldns.k8s.io
  names: {kind: DNSEndpoint, listKind: DNSEndpointList, plural: dnsendpoints, singular: dnsendpoint}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
",
    );
    let (ok, out, err) = check_probe(&config);
    assert!(!ok, "{out}{err}");
    let endpoints = "kubezone: cluster: DNSEndpoint: the CRD dnsendpoints.externaldns.k8s.io is \
         not installed, or does not serve externaldns.k8s.io/v1alpha1: the API server serves \
         externaldns.k8s.io at v1 only, and kubezone reads v1alpha1";
    assert_eq!(problems(&err), [endpoints], "{err}");

    // An RBAC rule is missing: the Kind, the verbs, each namespace watched and the rule to add.
    cp.grant_kubezone_except("gateway.networking.k8s.io", "httproutes");
    write(&["shop", "web"]);
    let (ok, out, err) = check_probe(&config);
    assert!(!ok, "{out}{err}");
    let rule = r#"{apiGroups: ["gateway.networking.k8s.io"], resources: ["httproutes"], verbs: ["get", "list", "watch"]}"#;
    let forbidden = |ns: &str| {
        format!(
            "kubezone: cluster: HTTPRoute: forbidden to get, list, watch \
             httproutes.gateway.networking.k8s.io in namespace {ns}; kubezone's ClusterRole needs \
             the rule {rule}"
        )
    };
    let expected = [endpoints.to_owned(), forbidden("shop"), forbidden("web")];
    assert_eq!(problems(&err), expected, "{err}");
    assert!(
        out.contains("cluster: TLSRoute: ") && out.contains("in namespace web"),
        "{out}"
    );

    // Events may not be written: named with the rule, as the reads are.
    cp.grant_kubezone_except("events.k8s.io", "events");
    write(&[]);
    let (ok, out, err) = check_probe(&config);
    assert!(!ok, "{out}{err}");
    assert_eq!(
        problems(&err),
        [
            endpoints.to_owned(),
            "kubezone: cluster: Events (kubernetes.events): forbidden to create, patch \
             events.events.k8s.io in all namespaces; kubezone's ClusterRole needs the rule \
             {apiGroups: [\"events.k8s.io\"], resources: [\"events\"], verbs: [\"create\", \"patch\"]}"
                .to_owned()
        ],
        "{err}"
    );

    // No API server: one line says so.
    cp.stop_apiserver();
    let (ok, out, err) = check_probe(&config);
    assert!(!ok, "{out}{err}");
    let said = problems(&err);
    let server = format!("cannot use the API server at {}", cp.server_url());
    assert!(
        said.len() == 1 && said[0].contains(&server) && said[0].contains("refused"),
        "{err}"
    );
}
