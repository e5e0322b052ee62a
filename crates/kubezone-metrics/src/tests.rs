use std::time::Duration;

use hickory_proto::{op::ResponseCode, rr::RecordType};
use kubezone_model::Kind;

use crate::Metrics;

fn line<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    text.lines().find(|l| l.starts_with(prefix))
}

#[test]
fn queries_count_under_their_zone_type_and_rcode() {
    let metrics = Metrics::new("1.2.3");
    let counters = metrics.query_counters(&["example.com.".into(), "b.example.".into()]);
    counters.answered(
        Some(1),
        RecordType::AAAA,
        ResponseCode::NXDomain,
        Duration::from_micros(20),
    );
    counters.answered(
        Some(1),
        RecordType::AAAA,
        ResponseCode::NXDomain,
        Duration::from_micros(20),
    );
    counters.answered(
        None,
        RecordType::NULL,
        ResponseCode::Refused,
        Duration::from_micros(5),
    );
    let text = metrics.render();
    assert_eq!(
        line(
            &text,
            r#"kubezone_queries_total{rcode="NXDOMAIN",type="AAAA",zone="b.example."}"#
        ),
        Some(r#"kubezone_queries_total{rcode="NXDOMAIN",type="AAAA",zone="b.example."} 2"#)
    );
    assert_eq!(
        line(
            &text,
            r#"kubezone_queries_total{rcode="REFUSED",type="other",zone=""}"#
        ),
        Some(r#"kubezone_queries_total{rcode="REFUSED",type="other",zone=""} 1"#)
    );
    assert_eq!(
        line(&text, "kubezone_query_duration_seconds_count"),
        Some("kubezone_query_duration_seconds_count 3")
    );
    assert_eq!(
        line(&text, "kubezone_build_info"),
        Some(r#"kubezone_build_info{version="1.2.3"} 1"#)
    );
}

#[test]
fn every_name_starts_with_kubezone() {
    let metrics = Metrics::new("0");
    let watch = metrics.watch_counters(Kind::TlsRoute);
    watch.crd_missing(true);
    watch.events.inc();
    metrics.skipped(Kind::Ingress);
    metrics.conflict(Kind::Service);
    metrics.set_records("example.com.", Kind::HttpRoute, 7);
    metrics.fake_changes().changed(3);
    let push = metrics.push_counters("example.com.");
    push.changes.inc_by(4);
    push.failed("not_allowed");
    let text = metrics.render();
    assert!(
        text.contains(r#"kubezone_push_changes_total{zone="example.com."} 4"#)
            && text.contains(
                r#"kubezone_push_failures_total{fault="not_allowed",zone="example.com."} 1"#
            )
            && text.contains(
                r#"kubezone_push_failures_total{fault="prerequisite",zone="example.com."} 0"#
            ),
        "{text}"
    );
    for l in text.lines().filter(|l| !l.starts_with('#')) {
        assert!(l.starts_with("kubezone_"), "{l}");
    }
    assert!(
        text.contains(r#"kubezone_crd_missing{cluster="",kind="TLSRoute"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"kubezone_records{kind="HTTPRoute",zone="example.com."} 7"#),
        "{text}"
    );
    assert_eq!(
        line(&text, "kubezone_fake_changes_total"),
        Some("kubezone_fake_changes_total 3")
    );
    watch.synced(1.0);
    assert!(
        metrics
            .render()
            .contains(r#"kubezone_crd_missing{cluster="",kind="TLSRoute"} 0"#)
    );
    // Several clusters: each cluster's watches apart, and its reach.
    metrics
        .watch_counters_in(Kind::Service, "west")
        .errors
        .inc();
    let gauges = metrics.cluster_gauges("west");
    gauges.stale.set(1);
    let text = metrics.render();
    assert!(
        text.contains(r#"kubezone_watch_errors_total{cluster="west",kind="Service"} 1"#)
            && text.contains(r#"kubezone_cluster_stale{cluster="west"} 1"#),
        "{text}"
    );
}

#[test]
fn guard_verdicts_count_as_rrl_and_acl_metrics() {
    use kubezone_guard::{Account, Observer, RateVerdict, ResponseKind, Verdict};

    let metrics = Metrics::new("0");
    let text = metrics.render();
    // Every kind exists from the start; the allPerSecond cap only drops.
    for kind in ["answer", "referral", "nodata", "nxdomain", "error", "all"] {
        let dropped = format!(r#"kubezone_rrl_dropped_total{{kind="{kind}"}}"#);
        assert_eq!(line(&text, &dropped), Some(format!("{dropped} 0").as_str()));
    }
    for kind in ["answer", "referral", "nodata", "nxdomain", "error"] {
        let slipped = format!(r#"kubezone_rrl_slipped_total{{kind="{kind}"}}"#);
        assert_eq!(line(&text, &slipped), Some(format!("{slipped} 0").as_str()));
    }
    assert_eq!(
        line(&text, r#"kubezone_rrl_slipped_total{kind="all"}"#),
        None
    );
    assert_eq!(
        line(&text, r#"kubezone_acl_rejected_total{action="drop"}"#),
        Some(r#"kubezone_acl_rejected_total{action="drop"} 0"#)
    );
    let counters = metrics.guard_counters();
    let nxdomain = Account::Response(ResponseKind::NxDomain);
    let answer = Account::Response(ResponseKind::Answer);
    for (verdict, account) in [
        (RateVerdict::Drop, nxdomain),
        (RateVerdict::Drop, nxdomain),
        (RateVerdict::Slip, nxdomain),
        (RateVerdict::Drop, Account::All),
        (RateVerdict::Send, answer),
    ] {
        counters.rate_limited(verdict, account);
    }
    for verdict in [
        Verdict::Refuse,
        Verdict::Drop,
        Verdict::Refuse,
        Verdict::Allow,
    ] {
        counters.acl_rejected(verdict);
    }
    // A reload's new guard gets new handles on the same counters.
    metrics
        .guard_counters()
        .rate_limited(RateVerdict::Slip, answer);
    let text = metrics.render();
    for (series, value) in [
        (r#"kubezone_rrl_dropped_total{kind="nxdomain"}"#, 2),
        (r#"kubezone_rrl_dropped_total{kind="all"}"#, 1),
        (r#"kubezone_rrl_dropped_total{kind="answer"}"#, 0),
        (r#"kubezone_rrl_slipped_total{kind="nxdomain"}"#, 1),
        (r#"kubezone_rrl_slipped_total{kind="answer"}"#, 1),
        (r#"kubezone_rrl_slipped_total{kind="error"}"#, 0),
        (r#"kubezone_acl_rejected_total{action="refuse"}"#, 2),
        (r#"kubezone_acl_rejected_total{action="drop"}"#, 1),
    ] {
        assert_eq!(
            line(&text, series),
            Some(format!("{series} {value}").as_str())
        );
    }
}

#[test]
fn counts_from_many_threads_and_from_a_reloaded_config_add_up() {
    let metrics = Metrics::new("1.2.3");
    let before = metrics.query_counters(&["example.com.".into()]);
    let after = metrics.query_counters(&["other.org.".into(), "example.com.".into()]);
    std::thread::scope(|scope| {
        for thread in 0..8 {
            let counters = if thread % 2 == 0 { &before } else { &after };
            let zone = if thread % 2 == 0 { 0 } else { 1 };
            scope.spawn(move || {
                for _ in 0..1000 {
                    counters.answered(
                        Some(zone),
                        RecordType::A,
                        ResponseCode::NoError,
                        Duration::from_micros(30),
                    );
                }
            });
        }
    });
    let text = metrics.render();
    assert_eq!(
        line(
            &text,
            r#"kubezone_queries_total{rcode="NOERROR",type="A",zone="example.com."}"#
        ),
        Some(r#"kubezone_queries_total{rcode="NOERROR",type="A",zone="example.com."} 8000"#)
    );
    assert_eq!(
        line(&text, "kubezone_query_duration_seconds_count"),
        Some("kubezone_query_duration_seconds_count 8000")
    );
    assert_eq!(
        line(
            &text,
            r#"kubezone_query_duration_seconds_bucket{le="0.00005"}"#
        ),
        Some(r#"kubezone_query_duration_seconds_bucket{le="0.00005"} 8000"#)
    );
    assert_eq!(
        line(
            &text,
            r#"kubezone_query_duration_seconds_bucket{le="0.000025"}"#
        ),
        Some(r#"kubezone_query_duration_seconds_bucket{le="0.000025"} 0"#)
    );
}

#[test]
fn replacements_count_while_open_and_the_oldest_ages_until_it_ends() {
    let metrics = Metrics::new("0");
    let oldest = |text: &str| -> f64 {
        line(text, "kubezone_replacement_oldest_open_seconds ")
            .and_then(|l| l.rsplit(' ').next()?.parse().ok())
            .unwrap_or_else(|| panic!("no oldest age:\n{text}"))
    };
    assert_eq!(oldest(&metrics.render()), 0.0, "none open");
    let services = r#"kubezone_replacements_open{kind="Service",namespace="",source="kubernetes"}"#;
    let ingresses =
        r#"kubezone_replacements_open{kind="Ingress",namespace="shop",source="kubernetes"}"#;

    let first = metrics.replacement_opened("kubernetes", Kind::Service, "");
    std::thread::sleep(Duration::from_millis(50));
    let second = metrics.replacement_opened("kubernetes", Kind::Ingress, "shop");
    // A reload's pipeline lists the same watch while the old one still has it open.
    let again = metrics.replacement_opened("kubernetes", Kind::Service, "");
    let text = metrics.render();
    assert_eq!(
        line(&text, services),
        Some(format!("{services} 2").as_str())
    );
    assert_eq!(
        line(&text, ingresses),
        Some(format!("{ingresses} 1").as_str())
    );
    assert!(oldest(&text) >= 0.05, "the first one's age:\n{text}");

    drop(first);
    drop(again);
    let text = metrics.render();
    assert_eq!(
        line(&text, services),
        Some(format!("{services} 0").as_str())
    );
    assert!(oldest(&text) > 0.0, "the second is still open:\n{text}");
    drop(second);
    let text = metrics.render();
    assert_eq!(
        line(&text, ingresses),
        Some(format!("{ingresses} 0").as_str())
    );
    assert_eq!(oldest(&text), 0.0, "none open:\n{text}");
}
