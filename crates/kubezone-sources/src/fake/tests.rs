use std::{collections::BTreeSet, time::Duration};

use kubezone_model::{DnsName, Kind, ObjectRef, Target};
use kubezone_translate::{KubeObject, Translator, ZoneFilter};
use tokio::{sync::mpsc, time::Instant};

use super::*;

fn zone() -> DnsName {
    DnsName::parse("example.com").expect("zone")
}

fn config(objects: u32, changes_per_second: u32, seed: u64) -> FakeConfig {
    FakeConfig {
        objects,
        changes_per_second,
        seed,
        zone: zone(),
        kinds: FAKE_KINDS.to_vec(),
        namespaces: Vec::new(),
        ingress_class: None,
    }
}

fn churn(config: &FakeConfig) -> Churn {
    FakeSource::new(config.clone()).expect("valid config").churn
}

/// The first state and then `changes` changes, printed, to compare runs.
fn run_of(config: &FakeConfig, changes: usize) -> Vec<String> {
    let mut churn = churn(config);
    let mut all: Vec<Change> = (0..config.objects)
        .map(|slot| churn.create(slot, 7))
        .collect();
    all.extend((0..changes).map(|_| churn.next_change(7)));
    all.iter().map(|c| format!("{c:?}")).collect()
}

#[test]
fn the_same_seed_gives_the_same_objects_and_changes() {
    let a = run_of(&config(50, 10, 42), 500);
    assert_eq!(a.len(), 550);
    assert_eq!(a, run_of(&config(50, 10, 42), 500));
    let other = run_of(&config(50, 10, 43), 500);
    // Another seed: the same slots (names), other addresses and another order of changes.
    assert_ne!(a[..50], other[..50]);
    assert_ne!(a[50..], other[50..]);
}

#[test]
fn the_first_state_is_every_slot_once_in_turn_of_kind() {
    let config = config(300, 0, 1);
    let mut churn = churn(&config);
    let mut refs = BTreeSet::new();
    let mut kinds = [0usize; 3];
    for slot in 0..config.objects {
        let Change::Apply {
            object, object_ref, ..
        } = churn.create(slot, 7)
        else {
            panic!("the first state only applies");
        };
        assert_eq!(object.object_ref(), object_ref);
        let kind = FAKE_KINDS
            .iter()
            .position(|k| *k == object.kind())
            .expect("a fake Kind");
        kinds[kind] += 1;
        assert_eq!(
            object
                .metadata()
                .labels
                .as_ref()
                .and_then(|l| l.get(MANAGED_BY.0)),
            Some(&MANAGED_BY.1.to_string())
        );
        assert!(refs.insert(object_ref), "slot {slot} repeats an object");
    }
    assert_eq!(refs.len(), 300);
    assert_eq!(kinds, [100, 100, 100]);
    let namespaces: BTreeSet<_> = refs.iter().filter_map(ObjectRef::namespace).collect();
    assert_eq!(
        namespaces,
        BTreeSet::from(["default", "media", "payments", "shop"])
    );
}

/// Every object, translated as the writer translates it: one valid name in the zone each,
/// with addresses (or a load balancer's host name), and nothing skipped.
#[test]
fn every_name_is_valid_and_in_the_zone() {
    let mut filter = ZoneFilter::new(zone());
    filter.resources = FAKE_KINDS.to_vec();
    let other = ZoneFilter::new(DnsName::parse("example.org").expect("zone"));
    let mut translator = Translator::new(vec![filter, other]);
    let config = config(1000, 10, 5);
    let mut churn = churn(&config);
    let mut names = BTreeSet::new();
    let mut shapes = BTreeSet::new();
    let mut changes: Vec<Change> = (0..config.objects)
        .map(|slot| churn.create(slot, 7))
        .collect();
    changes.extend((0..2000).map(|_| churn.next_change(7)));
    for change in changes {
        let Change::Apply {
            object, object_ref, ..
        } = change
        else {
            continue;
        };
        let translated = translator.apply_as(&object, object_ref.clone(), 7);
        assert!(translated.problems.is_empty(), "{:?}", translated.problems);
        let [records] = &translated.updates[..] else {
            panic!(
                "{object_ref}: one update expected: {:?}",
                translated.updates
            );
        };
        let [endpoint] = &records.endpoints[..] else {
            panic!("{object_ref}: one name expected: {:?}", records.endpoints);
        };
        assert_eq!(endpoint.zone, 0, "{object_ref}: in the fake zone");
        let name = endpoint.endpoint.name.to_string();
        assert!(name.ends_with(".example.com."), "{name}");
        assert!(
            name.starts_with(&format!(
                "{}.{}.",
                object_ref.name(),
                object_ref.namespace().unwrap_or_default()
            )),
            "{name} is <name>.<namespace>.<zone>"
        );
        let targets = &endpoint.endpoint.targets;
        for target in targets {
            match target {
                Target::V4(ip) => assert_eq!(ip.octets()[..1], [198], "{ip}"),
                Target::V6(ip) => assert_eq!(ip.segments()[..2], [0x2001, 0xdb8], "{ip}"),
                Target::Host(host) => assert!(host.to_string().ends_with(".elb.example.net.")),
                other => panic!("{object_ref}: unexpected target {other:?}"),
            }
        }
        shapes.insert((
            object.kind(),
            targets.len(),
            matches!(targets.first(), Some(Target::Host(_))),
        ));
        names.insert(name);
    }
    assert_eq!(names.len(), 1000);
    // Single- and dual-stack Services, Ingresses by address and by host name, DNSEndpoints.
    assert_eq!(
        shapes,
        BTreeSet::from([
            (Kind::Ingress, 1, false),
            (Kind::Ingress, 1, true),
            (Kind::Service, 1, false),
            (Kind::Service, 2, false),
            (Kind::DnsEndpoint, 1, false),
        ])
    );
}

#[test]
fn changes_move_addresses_and_delete_one_object_at_a_time() {
    let config = config(20, 10, 9);
    let mut churn = churn(&config);
    let mut current: Vec<String> = (0..config.objects)
        .map(|slot| format!("{:?}", churn.create(slot, 7)))
        .collect();
    let mut deleted: Option<ObjectRef> = None;
    let (mut deletes, mut moves) = (0, 0);
    for _ in 0..2000 {
        match churn.next_change(7) {
            Change::Delete(object) => {
                assert!(deleted.is_none(), "two objects missing at once");
                deleted = Some(object);
                deletes += 1;
            }
            change @ Change::Apply { .. } => {
                let object = change.object_ref().clone();
                if deleted.as_ref() == Some(&object) {
                    deleted = None;
                } else {
                    assert!(deleted.is_none(), "{object} changed before the re-create");
                    moves += 1;
                }
                // Slots are named by their number after the app: `web-12`.
                let slot: usize = object
                    .name()
                    .rsplit('-')
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("slot number");
                let text = format!("{change:?}");
                assert_ne!(current[slot], text, "a change changes the object");
                current[slot] = text;
            }
        }
    }
    // One in ten changes is a delete, each followed by its re-create.
    assert!((120..=240).contains(&deletes), "{deletes} deletes");
    assert_eq!(moves + 2 * deletes, 2000 - usize::from(deleted.is_some()));
}

#[test]
fn namespaces_and_the_ingress_class_follow_the_zone() {
    let mut config = config(12, 0, 1);
    config.kinds = vec![Kind::Ingress];
    config.namespaces = vec!["team-a".into(), "team-b".into()];
    config.ingress_class = Some("nginx".into());
    let mut churn = churn(&config);
    for slot in 0..config.objects {
        let Change::Apply { object, .. } = churn.create(slot, 7) else {
            panic!("the first state only applies");
        };
        let KubeObject::Ingress(ingress) = object else {
            panic!("only Ingresses asked for");
        };
        let namespace = ingress.metadata.namespace.as_deref().unwrap_or_default();
        assert_eq!(
            namespace,
            ["team-a", "team-b"][usize::try_from(slot).expect("small") % 2]
        );
        let spec = ingress.spec.expect("spec");
        assert_eq!(spec.ingress_class_name.as_deref(), Some("nginx"));
    }
}

#[test]
fn unusable_configs_say_why() {
    let error = |config: FakeConfig| {
        FakeSource::new(config)
            .err()
            .expect("an unusable config")
            .to_string()
    };
    assert!(error(config(0, 1, 1)).contains("objects is 0"));
    let mut nodes = config(1, 1, 1);
    nodes.kinds = vec![Kind::Service, Kind::Node];
    assert!(error(nodes).contains("not Node"));
    let mut none = config(1, 1, 1);
    none.kinds.clear();
    assert!(error(none).contains("serves none of Service, Ingress and DNSEndpoint"));
    // A zone of 236 characters: `search-999NN.payments.<zone>` passes 255 bytes,
    // `web-4.shop.<zone>` does not.
    let label = "a".repeat(60);
    let long =
        DnsName::parse(&format!("{label}.{label}.{label}.{}", "b".repeat(53))).expect("zone");
    let mut big = config(100_000, 1, 1);
    big.zone = long.clone();
    let message = error(big);
    assert!(
        message.contains("\"search-999")
            && message.contains(".payments.")
            && message.contains("the limit is 255"),
        "{message}"
    );
    let mut smaller = config(5, 1, 1);
    smaller.zone = long;
    assert!(FakeSource::new(smaller).is_ok());
}

/// What a run sent: the first state in `Changes`, `Synced`, then changes as they fell due.
struct Received {
    first: Vec<Change>,
    /// Each later `Changes`, with when it arrived after `Synced` (on tokio's paused clock).
    later: Vec<(Duration, Vec<Change>)>,
}

async fn receive(config: FakeConfig, changes: usize) -> Received {
    let (events, mut rx) = mpsc::channel(4);
    let source = FakeSource::new(config).expect("valid config");
    let task = tokio::spawn(source.run(events));
    let mut received = Received {
        first: Vec::new(),
        later: Vec::new(),
    };
    let mut synced = None;
    let mut count = 0;
    while count < changes {
        match rx.recv().await.expect("the source runs") {
            SourceEvent::Changes { source, changes } => {
                assert_eq!(source, SourceId::FAKE);
                match synced {
                    None => received.first.extend(changes),
                    Some(at) => {
                        count += changes.len();
                        received.later.push((Instant::now() - at, changes));
                    }
                }
            }
            SourceEvent::Synced { source } => {
                assert_eq!(source, SourceId::FAKE);
                assert!(synced.is_none(), "synced twice");
                synced = Some(Instant::now());
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    drop(rx);
    // A closed channel ends the source.
    task.await.expect("the source ends");
    received
}

#[tokio::test(start_paused = true)]
async fn changes_come_at_their_rate_spread_over_each_second() {
    let received = receive(config(2500, 40, 3), 120).await;
    assert_eq!(received.first.len(), 2500, "every object before Synced");
    // On the paused clock every change is sent alone, at exactly k/40 s: 120 over 3 s.
    assert_eq!(received.later.len(), 120);
    for (k, (at, changes)) in received.later.iter().enumerate() {
        assert_eq!(changes.len(), 1);
        let k = u64::try_from(k).expect("small") + 1;
        assert_eq!(*at, Duration::from_millis(25 * k), "change {k}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_writer_that_falls_behind_gets_the_changes_it_missed_in_batches() {
    let (events, mut rx) = mpsc::channel(1);
    let source = FakeSource::new(config(10, 100, 3)).expect("valid config");
    let task = tokio::spawn(source.run(events));
    while !matches!(rx.recv().await, Some(SourceEvent::Synced { .. })) {}
    // Nobody reads for 2.5 s: 250 changes fall due, sent one second's worth at a time.
    let stalled = Instant::now();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mut total = 0;
    let mut batches = Vec::new();
    while total < 250 {
        let Some(SourceEvent::Changes { changes, .. }) = rx.recv().await else {
            panic!("changes expected");
        };
        total += changes.len();
        batches.push(changes.len());
    }
    assert!(batches.iter().all(|n| *n <= 100), "{batches:?}");
    assert_eq!(total, 250, "{batches:?}");
    assert_eq!(Instant::now() - stalled, Duration::from_millis(2500));
    drop(rx);
    task.await.expect("the source ends");
}

#[tokio::test(start_paused = true)]
async fn a_still_source_syncs_and_then_waits() {
    let (events, mut rx) = mpsc::channel(16);
    let source = FakeSource::new(config(3, 0, 3)).expect("valid config");
    let task = tokio::spawn(source.run(events));
    let Some(SourceEvent::Changes { changes, .. }) = rx.recv().await else {
        panic!("the first state");
    };
    assert_eq!(changes.len(), 3);
    assert!(matches!(rx.recv().await, Some(SourceEvent::Synced { .. })));
    let quiet = tokio::time::timeout(Duration::from_secs(3600), rx.recv()).await;
    assert!(quiet.is_err(), "no change in an hour: {quiet:?}");
    drop(rx);
    task.await.expect("the source ends");
}
