//! The fake source (`fake:`): made-up objects answered like real ones, a churn that moves
//! their answers, and the same seed giving the same answers (docs/fake.md).

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use crate::{
    dig::tool,
    harness::{PATIENCE, Server, Setup, ZONE},
};

const HTTP: &str = "http: {listen: \"127.0.0.1:0\"}\n";

/// The name of object `i` when the zone serves all three Kinds and limits no namespace, as
/// docs/fake.md gives it: `<app>-<i>.<namespace>.<zone>`, the Kind turning with every object,
/// the namespace with every three, the app with every twelve.
fn name(i: usize) -> String {
    const NAMESPACES: [&str; 4] = ["default", "shop", "payments", "media"];
    const APPS: [&str; 8] = [
        "web", "api", "cart", "auth", "blog", "cdn", "mail", "search",
    ];
    format!(
        "{}-{i}.{}.example.com.",
        APPS[(i / 12) % 8],
        NAMESPACES[(i / 3) % 4]
    )
}

/// kubezone with only the fake source, `fake` being its settings.
fn server(fake: &str) -> Server {
    let extra = format!("{HTTP}fake: {fake}\n");
    Server::start_with(Setup {
        zones: ZONE,
        extra: &extra,
        no_manifests: true,
        ..Setup::default()
    })
}

/// The answer `dig` gives for each of `names` (type A), by owner name: one line per record.
fn answers(server: &Server, names: &[String]) -> BTreeMap<String, Vec<String>> {
    let mut args = vec!["+noall", "+answer"];
    for name in names {
        args.extend([name.as_str(), "A"]);
    }
    let out = tool("dig", server, &args);
    let mut by_name: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in out.lines().filter(|l| !l.is_empty() && !l.starts_with(';')) {
        let owner = line.split(' ').next().unwrap_or_default().to_string();
        by_name.entry(owner).or_default().push(line.to_string());
    }
    by_name
}

fn serial(server: &Server) -> u64 {
    let out = tool("dig", server, &["+short", "example.com", "SOA"]);
    out.split(' ')
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no SOA serial in {out:?}"))
}

#[test]
fn every_made_up_object_answers_through_dig() {
    let s = server("{objects: 60, changesPerSecond: 0}");
    let names: Vec<String> = (0..60).map(name).collect();
    let answers = answers(&s, &names);
    assert_eq!(
        answers.keys().cloned().collect::<Vec<_>>(),
        {
            let mut sorted = names.clone();
            sorted.sort();
            sorted
        },
        "every name answers"
    );
    // Services and DNSEndpoints answer with an address of 198.18.0.0/15; an Ingress with an
    // address or, every fifth Ingress, with its load balancer's host name.
    for (i, name) in names.iter().enumerate() {
        let lines = &answers[name];
        let [line] = &lines[..] else {
            panic!("{name}: one record expected: {lines:?}");
        };
        let by_host_name = i % 3 == 1 && (i / 3) % 5 == 4;
        if by_host_name {
            assert!(
                line.contains(" IN CNAME lb-") && line.ends_with(".elb.example.net."),
                "{line}"
            );
        } else {
            assert!(line.contains(" IN A 198.1"), "{line}");
        }
        // DNSEndpoints ask for a TTL of their own.
        let ttl = if i % 3 == 2 { " 30 IN " } else { " 60 IN " };
        assert!(line.contains(ttl), "{line}");
    }
    // Every fourth Service is dual-stack.
    let out = tool("dig", &s, &["+short", &name(9), "AAAA"]);
    assert!(out.starts_with("2001:db8:"), "{out}");
    let out = tool("dig", &s, &[&name(60), "A"]);
    assert!(out.contains("status: NXDOMAIN"), "object 60 of 60: {out}");
    let (code, ready) = s.http_get("/readyz?verbose");
    assert_eq!(code, 200, "{ready}");
    assert!(ready.contains("sources: fake"), "{ready}");
}

#[test]
fn answers_change_while_it_churns() {
    let s = server("{objects: 20, changesPerSecond: 50, seed: 5}");
    let names: Vec<String> = (0..20).map(name).collect();
    let first = answers(&s, &names);
    let first_serial = serial(&s);
    // 50 changes a second over 20 objects: each moves about twice a second. Wait until most
    // have been seen with another answer than their first.
    let deadline = Instant::now() + PATIENCE;
    let mut changed = std::collections::BTreeSet::new();
    while changed.len() < 15 {
        assert!(
            Instant::now() < deadline,
            "only {changed:?} changed\n{}",
            s.log()
        );
        std::thread::sleep(Duration::from_millis(100));
        let now = answers(&s, &names);
        for name in &names {
            if now
                .get(name)
                .is_some_and(|lines| first.get(name) != Some(lines))
            {
                changed.insert(name.clone());
            }
        }
    }
    // The serial follows the changes, though never ahead of the clock: it may wait for the
    // next second.
    while serial(&s) <= first_serial {
        assert!(
            Instant::now() < deadline,
            "the serial stayed {first_serial}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(s.metric_sum("kubezone_fake_changes_total") > 0.0);
}

#[test]
fn the_same_seed_gives_the_same_answers() {
    let names: Vec<String> = (0..30).map(name).collect();
    let a = answers(&server("{objects: 30, seed: 11}"), &names);
    let b = answers(&server("{objects: 30, seed: 11}"), &names);
    let other = answers(&server("{objects: 30, seed: 12}"), &names);
    assert_eq!(a.len(), 30);
    assert_eq!(a, b);
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        other.keys().collect::<Vec<_>>(),
        "the same names"
    );
    assert_ne!(a, other, "other addresses");
}
