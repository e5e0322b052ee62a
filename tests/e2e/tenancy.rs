//! Tenant boundaries per zone, through a real kube-apiserver: `namespaces` and
//! `namespaceSelector` decide which namespaces may publish names, `claims: firstNamespace` keeps
//! a name with the namespace that took it first, and the owner of an object that is not served
//! sees why in a Kubernetes Event on it, once per change of the object.

use std::time::{Duration, Instant};

use hickory_proto::rr::RecordType;
use k8s_openapi::api::{core::v1::Service, events::v1::Event};
use kube::{Api, api::ListParams};

use crate::{
    cluster::{
        answers, cluster, kubernetes_section, load_balancer_service, load_balancer_status, nxdomain,
    },
    control_plane::ControlPlane,
    harness::{Server, Setup, addresses},
};

/// How long an Event may take to appear (the writer hands it to a task that writes it).
const EVENT_PATIENCE: Duration = Duration::from_secs(20);

/// kubezone watching only `namespaces`, so that the tests' servers, each with rules of its
/// own, do not write Events on one another's objects.
fn kubezone(cp: &ControlPlane, zones: &str, namespaces: &[&str]) -> Server {
    Server::start_with(Setup {
        zones,
        extra: &kubernetes_section(cp, namespaces),
        manifests: &[],
        ..Setup::default()
    })
}

/// What the Events on one object say: (reason, note, how many times it happened).
fn events_on(cp: &ControlPlane, ns: &str, kind: &str, name: &str) -> Vec<(String, String, i32)> {
    let api: Api<Event> = Api::namespaced(cp.admin_client(), ns);
    let list = cp
        .block_on(api.list(&ListParams::default()))
        .expect("list Events");
    list.items
        .into_iter()
        .filter(|e| {
            e.regarding
                .as_ref()
                .is_some_and(|r| r.kind.as_deref() == Some(kind) && r.name.as_deref() == Some(name))
        })
        .map(|e| {
            let count = e.series.as_ref().map_or(1, |s| s.count);
            (
                e.reason.unwrap_or_default(),
                e.note.unwrap_or_default(),
                count,
            )
        })
        .collect()
}

/// Waits until the object has an Event with `reason`, and returns its note.
fn event_with(cp: &ControlPlane, ns: &str, kind: &str, name: &str, reason: &str) -> String {
    let deadline = Instant::now() + EVENT_PATIENCE;
    loop {
        let events = events_on(cp, ns, kind, name);
        if let Some((_, note, _)) = events.iter().find(|(r, _, _)| r == reason) {
            return note.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no {reason} Event on {kind} {ns}/{name} within {EVENT_PATIENCE:?}: {events:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// How many times Events with `reason` were written on the object (an Event's series counts
/// repeats).
fn times(cp: &ControlPlane, ns: &str, kind: &str, name: &str, reason: &str) -> i32 {
    events_on(cp, ns, kind, name)
        .iter()
        .filter(|(r, _, _)| r == reason)
        .map(|(_, _, count)| *count)
        .sum()
}

fn ingress(ns: &str, name: &str, host: &str, label: &str) -> String {
    format!(
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: {name}, namespace: {ns}, labels: {{rev: \"{label}\"}}}}\nspec:\n  rules: [{{host: {host}}}]\n"
    )
}

fn ingress_status(ns: &str, name: &str, ips: &[&str]) -> String {
    let ingress: Vec<String> = ips.iter().map(|ip| format!("{{ip: \"{ip}\"}}")).collect();
    format!(
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: {name}, namespace: {ns}}}\nstatus:\n  loadBalancer:\n    ingress: [{}]\n",
        ingress.join(", ")
    )
}

/// A zone that lists its namespaces serves only theirs; a Service elsewhere is not served, and
/// its owner finds an Event naming the rule on it, matched to the object by its uid as
/// `kubectl describe` matches.
#[test]
fn a_zone_serves_only_its_namespaces_and_tells_the_others_why() {
    let cp = cluster();
    let team_a = cp.fresh_namespace("tenant-a");
    let team_b = cp.fresh_namespace("tenant-b");
    let zones = format!("  - zone: example.com\n    namespaces: [{team_a}]\n");
    let s = kubezone(cp, &zones, &[&team_a, &team_b]);
    for (ns, ip) in [(&team_a, "192.0.2.71"), (&team_b, "192.0.2.72")] {
        cp.apply_yaml(&load_balancer_service(ns, "web"));
        cp.apply_status_yaml(&load_balancer_status(ns, "web", &[ip]));
    }
    s.eventually(
        &format!("web.{team_a}.example.com."),
        RecordType::A,
        answers(&["192.0.2.71"]),
    );
    assert!(nxdomain(
        &s.ask(&format!("web.{team_b}.example.com."), RecordType::A)
    ));

    let note = event_with(cp, &team_b, "Service", "web", "NamespaceNotAllowed");
    assert!(
        note.contains(&format!("web.{team_b}.example.com."))
            && note.contains(&format!(
                "namespace {team_b} is not in the zone's namespaces"
            )),
        "{note}"
    );
    let services: Api<Service> = Api::namespaced(cp.admin_client(), &team_b);
    let uid = cp
        .block_on(services.get("web"))
        .expect("the Service")
        .metadata
        .uid;
    let events: Api<Event> = Api::namespaced(cp.admin_client(), &team_b);
    let regarding_uid = cp
        .block_on(events.list(&ListParams::default()))
        .expect("Events")
        .items
        .into_iter()
        .find_map(|e| e.regarding.filter(|r| r.name.as_deref() == Some("web")))
        .and_then(|r| r.uid);
    assert_eq!(regarding_uid, uid, "the Event is about this very Service");
    assert_eq!(
        times(cp, &team_a, "Service", "web", "NamespaceNotAllowed"),
        0,
        "nothing to say about a Service that is served"
    );
}

/// A zone that selects namespaces by label follows the Namespace's labels as they change.
#[test]
fn a_namespace_selector_follows_the_namespace_labels() {
    let cp = cluster();
    let team = cp.fresh_namespace("tenant-sel");
    let zones = "  - zone: example.com\n    namespaceSelector: dns.example.com/publish=true\n";
    let s = kubezone(cp, zones, &[&team]);
    cp.apply_yaml(&load_balancer_service(&team, "api"));
    cp.apply_status_yaml(&load_balancer_status(&team, "api", &["192.0.2.73"]));
    let name = format!("api.{team}.example.com.");
    let note = event_with(cp, &team, "Service", "api", "NamespaceNotAllowed");
    assert!(note.contains("dns.example.com/publish=true"), "{note}");
    assert!(nxdomain(&s.ask(&name, RecordType::A)));

    let labelled = |value: &str| {
        format!(
            "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {team}, labels: {{dns.example.com/publish: \"{value}\"}}}}\n"
        )
    };
    cp.apply_yaml(&labelled("true"));
    s.eventually(&name, RecordType::A, answers(&["192.0.2.73"]));
    cp.apply_yaml(&labelled("false"));
    s.eventually(&name, RecordType::A, nxdomain);
}

/// With `claims: firstNamespace` a name stays with the namespace whose object claimed it first:
/// another team's Ingress for the same host is not served (with shared claims its address would
/// be added), its owner is told once per change of that Ingress, and it takes over when the
/// first one lets go.
#[test]
fn the_first_namespace_keeps_a_name_and_the_other_hears_once_per_change() {
    let cp = cluster();
    let team_a = cp.fresh_namespace("claim-a");
    let team_b = cp.fresh_namespace("claim-b");
    let zones = "  - zone: example.com\n    claims: firstNamespace\n";
    let s = kubezone(cp, zones, &[&team_a, &team_b]);
    let host = format!("shop-{team_a}.example.com");
    let name = format!("{host}.");

    cp.apply_yaml(&ingress(&team_a, "shop", &host, "1"));
    cp.apply_status_yaml(&ingress_status(&team_a, "shop", &["192.0.2.81"]));
    s.eventually(&name, RecordType::A, answers(&["192.0.2.81"]));
    // Created a second later, so its creationTimestamp is newer.
    std::thread::sleep(Duration::from_millis(1100));
    cp.apply_yaml(&ingress(&team_b, "shop", &host, "1"));
    cp.apply_status_yaml(&ingress_status(&team_b, "shop", &["192.0.2.82"]));

    let reason = "NameClaimedByAnotherNamespace";
    let note = event_with(cp, &team_b, "Ingress", "shop", reason);
    assert!(
        note.contains(&name) && note.contains(&format!("{team_a}/shop")),
        "{note}"
    );
    assert_eq!(addresses(&s.ask(&name, RecordType::A)), ["192.0.2.81"]);

    // The owner's Ingress changes: the conflict is found again, but team B's Ingress has not
    // changed, so it is not told again.
    cp.apply_status_yaml(&ingress_status(
        &team_a,
        "shop",
        &["192.0.2.81", "192.0.2.83"],
    ));
    s.eventually(&name, RecordType::A, answers(&["192.0.2.81", "192.0.2.83"]));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(times(cp, &team_b, "Ingress", "shop", reason), 1);

    // Team B's Ingress changes (a second later: write times count in seconds) and is still
    // held back: told once more.
    std::thread::sleep(Duration::from_millis(1100));
    cp.apply_yaml(&ingress(&team_b, "shop", &host, "2"));
    let deadline = Instant::now() + EVENT_PATIENCE;
    while times(cp, &team_b, "Ingress", "shop", reason) < 2 {
        assert!(
            Instant::now() < deadline,
            "team B's change was not reported: {:?}",
            events_on(cp, &team_b, "Ingress", "shop")
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(times(cp, &team_b, "Ingress", "shop", reason), 2);

    // Team A lets go: team B's Ingress is served.
    cp.delete("networking.k8s.io/v1", "Ingress", Some(&team_a), "shop");
    s.eventually(&name, RecordType::A, answers(&["192.0.2.82"]));
}
