use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use super::*;
use crate::parse_cidr;

fn ip(text: &str) -> IpAddr {
    text.parse().expect("address")
}

/// `name` (absolute, lower case) in wire format, as the index keys names.
fn wire(name: &str) -> Vec<u8> {
    let mut wire = Vec::new();
    for label in name
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
    {
        wire.push(u8::try_from(label.len()).expect("label"));
        wire.extend_from_slice(label.as_bytes());
    }
    wire.push(0);
    wire
}

const A: u16 = 1;
const AAAA: u16 = 28;
const TXT: u16 = 16;

/// The key of an answer for `www.example.com.` A: the stream most tests count.
fn www(limiter: &RateLimiter) -> ResponseKey {
    limiter.key(ResponseKind::Answer, &wire("www.example.com."), A)
}

fn limiter(rate: u32, window: u32, slip: u32) -> RateLimiter {
    RateLimiter::new(&RateLimitConfig {
        responses_per_second: rate,
        window,
        slip,
        ..RateLimitConfig::default()
    })
}

/// `n` answers for `www.example.com.` to `client` at `now`, counted by verdict: (sent,
/// slipped, dropped).
fn burst(limiter: &RateLimiter, client: IpAddr, now: Instant, n: usize) -> (usize, usize, usize) {
    burst_of(limiter, client, www(limiter), now, n)
}

/// `n` responses keyed `key` to `client` at `now`, counted by verdict.
fn burst_of(
    limiter: &RateLimiter,
    client: IpAddr,
    key: ResponseKey,
    now: Instant,
    n: usize,
) -> (usize, usize, usize) {
    let mut counts = (0, 0, 0);
    for _ in 0..n {
        match limiter.check(client, key, now) {
            RateVerdict::Send => counts.0 += 1,
            RateVerdict::Slip => counts.1 += 1,
            RateVerdict::Drop => counts.2 += 1,
        }
    }
    counts
}

#[test]
fn a_fast_prefix_is_limited_and_a_slow_one_never() {
    let limiter = limiter(20, 15, 2);
    let t0 = Instant::now();
    let (fast, slow) = (ip("192.0.2.1"), ip("198.51.100.1"));
    let mut fast_counts = (0, 0, 0);
    let mut slow_sent = 0;
    // 30 simulated seconds: fast at 100/s (every 10 ms), slow at 10/s (every 100 ms).
    for ms in (0..30_000).step_by(10) {
        let now = t0 + Duration::from_millis(ms);
        let (s, l, d) = burst(&limiter, fast, now, 1);
        fast_counts = (fast_counts.0 + s, fast_counts.1 + l, fast_counts.2 + d);
        if ms % 100 == 0 {
            assert_eq!(
                limiter.check(slow, www(&limiter), now),
                RateVerdict::Send,
                "slow at {ms} ms"
            );
            slow_sent += 1;
        }
    }
    assert_eq!(slow_sent, 300);
    let (sent, slipped, dropped) = fast_counts;
    assert_eq!(sent + slipped + dropped, 3000);
    // Over the limit on average, so after the first second's credit it is all but silenced.
    assert!(sent <= 20 + 20, "fast prefix sent {sent}");
    assert!(dropped > 1000, "fast prefix dropped {dropped}");
    // slip 2: every other limited response slips.
    assert!(slipped.abs_diff(dropped) <= 1, "{slipped} vs {dropped}");
}

#[test]
fn a_new_prefix_gets_one_seconds_worth_at_once() {
    let limiter = limiter(10, 15, 0);
    let now = Instant::now();
    assert_eq!(burst(&limiter, ip("192.0.2.1"), now, 25), (10, 0, 15));
}

#[test]
fn addresses_share_their_prefix_account() {
    let limiter = RateLimiter::new(&RateLimitConfig {
        responses_per_second: 4,
        slip: 0,
        ..RateLimitConfig::default()
    });
    let now = Instant::now();
    // 127.0.0.1 and 127.0.0.200 are one /24; ::ffff:127.0.0.9 is 127.0.0.9.
    assert_eq!(burst(&limiter, ip("127.0.0.1"), now, 2), (2, 0, 0));
    assert_eq!(burst(&limiter, ip("127.0.0.200"), now, 1), (1, 0, 0));
    assert_eq!(burst(&limiter, ip("::ffff:127.0.0.9"), now, 2), (1, 0, 1));
    assert_eq!(burst(&limiter, ip("127.0.1.1"), now, 4), (4, 0, 0));
    // IPv6 /56: 2001:db8:0:1:: and 2001:db8:0:ff:: share 2001:db8::/56; 2001:db8:0:100:: not.
    assert_eq!(burst(&limiter, ip("2001:db8:0:1::1"), now, 2), (2, 0, 0));
    assert_eq!(burst(&limiter, ip("2001:db8:0:ff::9"), now, 3), (2, 0, 1));
    assert_eq!(burst(&limiter, ip("2001:db8:0:100::1"), now, 4), (4, 0, 0));
}

#[test]
fn prefix_lengths_are_configurable() {
    let limiter = RateLimiter::new(&RateLimitConfig {
        responses_per_second: 1,
        slip: 0,
        ipv4_prefix_length: 32,
        ipv6_prefix_length: 128,
        ..RateLimitConfig::default()
    });
    let now = Instant::now();
    for client in ["10.0.0.1", "10.0.0.2", "2001:db8::1", "2001:db8::2"] {
        assert_eq!(burst(&limiter, ip(client), now, 2), (1, 0, 1), "{client}");
    }
}

#[test]
fn every_slip_th_limited_response_slips() {
    let now = Instant::now();
    let client = ip("192.0.2.1");
    for (slip, expected) in [(0, "DDDDDD"), (1, "SSSSSS"), (2, "SDSDSD"), (3, "SDDSDD")] {
        let limiter = limiter(5, 15, slip);
        assert_eq!(burst(&limiter, client, now, 5), (5, 0, 0));
        let seen: String = (0..6)
            .map(|_| match limiter.check(client, www(&limiter), now) {
                RateVerdict::Send => '+',
                RateVerdict::Slip => 'S',
                RateVerdict::Drop => 'D',
            })
            .collect();
        assert_eq!(seen, expected, "slip {slip}");
    }
}

#[test]
fn exempt_networks_are_never_limited_nor_tracked() {
    let limiter = RateLimiter::new(&RateLimitConfig {
        responses_per_second: 1,
        exempt: vec![
            parse_cidr("10.0.0.0/8").expect("net"),
            parse_cidr("2001:db8::/32").expect("net"),
        ],
        ..RateLimitConfig::default()
    });
    let now = Instant::now();
    assert_eq!(burst(&limiter, ip("10.1.2.3"), now, 1000), (1000, 0, 0));
    assert_eq!(
        burst(&limiter, ip("::ffff:10.1.2.3"), now, 1000),
        (1000, 0, 0)
    );
    assert_eq!(
        burst(&limiter, ip("2001:db8:5::1"), now, 1000),
        (1000, 0, 0)
    );
    assert_eq!(limiter.tracked(now), 0);
    let (sent, _, _) = burst(&limiter, ip("11.1.2.3"), now, 1000);
    assert_eq!(sent, 1);
    assert_eq!(limiter.tracked(now), 1);
}

#[test]
fn debt_is_repaid_at_the_rate() {
    let limiter = limiter(10, 15, 0);
    let client = ip("192.0.2.1");
    let t0 = Instant::now();
    // 10 sent, 20 limited: 20 responses in debt.
    assert_eq!(burst(&limiter, client, t0, 30), (10, 0, 20));
    // One second repays 10: still in debt, and this response deepens it by one.
    assert_eq!(
        limiter.check(client, www(&limiter), t0 + Duration::from_secs(1)),
        RateVerdict::Drop
    );
    // Two more seconds repay 20: out of debt.
    assert_eq!(
        limiter.check(client, www(&limiter), t0 + Duration::from_secs(3)),
        RateVerdict::Send
    );
}

#[test]
fn debt_is_capped_at_the_window() {
    let client = ip("192.0.2.1");
    let t0 = Instant::now();
    let later = t0 + Duration::from_millis(2100);
    // A window of 2 s: at most 20 responses of debt, and 2.1 s of silence forgets the prefix.
    let short = limiter(10, 2, 0);
    burst(&short, client, t0, 10_000);
    assert_eq!(short.check(client, www(&short), later), RateVerdict::Send);
    // A window of 15 s: 10 000 responses leave 150 of debt; 2.1 s repays 21 of them.
    let long = limiter(10, 15, 0);
    burst(&long, client, t0, 10_000);
    assert_eq!(long.check(client, www(&long), later), RateVerdict::Drop);
    // After the whole window without a response the account is fresh again.
    assert_eq!(
        burst(&long, client, later + Duration::from_millis(15_001), 12),
        (10, 0, 2)
    );
}

#[test]
fn a_client_at_the_limit_is_never_limited() {
    let limiter = limiter(50, 15, 2);
    let client = ip("192.0.2.1");
    let t0 = Instant::now();
    // Exactly 50/s for a minute, every 20 ms.
    for ms in (0..60_000).step_by(20) {
        assert_eq!(
            limiter.check(client, www(&limiter), t0 + Duration::from_millis(ms)),
            RateVerdict::Send,
            "at {ms} ms"
        );
    }
}

#[test]
fn time_going_backwards_counts_as_no_time() {
    let limiter = limiter(2, 15, 0);
    let client = ip("192.0.2.1");
    let t0 = Instant::now();
    let t1 = t0 + Duration::from_secs(5);
    assert_eq!(burst(&limiter, client, t1, 3), (2, 0, 1));
    // Another thread's older `now` earns nothing.
    assert_eq!(limiter.check(client, www(&limiter), t0), RateVerdict::Drop);
}

#[test]
fn spraying_addresses_recycles_entries_and_keeps_hot_prefixes() {
    let limiter = RateLimiter::new(&RateLimitConfig {
        responses_per_second: 5,
        slip: 0,
        max_table_size: 1024,
        ..RateLimitConfig::default()
    });
    assert_eq!(limiter.capacity(), 1024);
    let hot = ip("198.51.100.7");
    let t0 = Instant::now();
    let mut hot_sent = 0;
    // A million distinct /24s (and /56s) within a second, a hot client between every ten.
    for i in 0..1_000_000u32 {
        let now = t0 + Duration::from_micros(u64::from(i));
        let sprayed = if i % 2 == 0 {
            IpAddr::from(std::net::Ipv4Addr::from((i << 8) | 1))
        } else {
            IpAddr::from(std::net::Ipv6Addr::from(u128::from(i) << 72))
        };
        assert_eq!(
            limiter.check(sprayed, www(&limiter), now),
            RateVerdict::Send
        );
        if i % 10 == 0 && limiter.check(hot, www(&limiter), now) == RateVerdict::Send {
            hot_sent += 1;
        }
    }
    let end = t0 + Duration::from_secs(1);
    assert!(limiter.tracked(end) <= limiter.capacity());
    assert_eq!(limiter.capacity(), 1024);
    // 100 000 responses in one second to a prefix allowed 5 per second (plus what a second
    // earns): recycling never handed it a fresh account.
    assert!(hot_sent <= 10, "hot prefix sent {hot_sent}");
}

#[test]
fn worker_threads_share_one_account() {
    let limiter = Arc::new(limiter(1000, 15, 0));
    let now = Instant::now();
    let sent = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (limiter, sent) = (limiter.clone(), sent.clone());
            std::thread::spawn(move || {
                let (s, _, _) = burst(&limiter, ip("192.0.2.1"), now, 1000);
                sent.fetch_add(s as u64, Ordering::Relaxed);
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
    assert_eq!(sent.load(Ordering::Relaxed), 1000);
}

/// Every limited response the limiter reports, with the account that limited it.
#[derive(Default)]
struct Reported(std::sync::Mutex<Vec<(RateVerdict, Account)>>);

impl Reported {
    fn count(&self, verdict: RateVerdict, account: Account) -> usize {
        let seen = self.0.lock().expect("lock");
        seen.iter().filter(|&&v| v == (verdict, account)).count()
    }
}

impl Observer for Reported {
    fn acl_rejected(&self, _: crate::Verdict) {}
    fn rate_limited(&self, verdict: RateVerdict, account: Account) {
        self.0.lock().expect("lock").push((verdict, account));
    }
}

#[test]
fn slipped_and_dropped_responses_are_reported() {
    let reported = Arc::new(Reported::default());
    let observer: Arc<dyn Observer> = reported.clone();
    let limiter = limiter(3, 15, 2).with_observer(Some(observer));
    let (sent, slipped, dropped) = burst(&limiter, ip("192.0.2.1"), Instant::now(), 13);
    assert_eq!((sent, slipped, dropped), (3, 5, 5));
    let answers = Account::Response(ResponseKind::Answer);
    assert_eq!(reported.count(RateVerdict::Slip, answers), 5);
    assert_eq!(reported.count(RateVerdict::Drop, answers), 5);
    assert_eq!(reported.0.lock().expect("lock").len(), 10);
}

#[test]
fn validation_names_the_key_and_value() {
    assert_eq!(RateLimitConfig::default().validate(), Ok(()));
    // 0 turns a kind's own limit off.
    let off = RateLimitConfig {
        nxdomains_per_second: Some(0),
        nodata_per_second: Some(0),
        referrals_per_second: Some(0),
        errors_per_second: Some(0),
        all_per_second: 0,
        ..RateLimitConfig::default()
    };
    assert_eq!(off.validate(), Ok(()));
    for (config, key, value) in [
        (
            RateLimitConfig {
                responses_per_second: 0,
                ..RateLimitConfig::default()
            },
            "responsesPerSecond",
            "0",
        ),
        (
            RateLimitConfig {
                window: 3601,
                ..RateLimitConfig::default()
            },
            "window",
            "3601",
        ),
        (
            RateLimitConfig {
                slip: 11,
                ..RateLimitConfig::default()
            },
            "slip",
            "11",
        ),
        (
            RateLimitConfig {
                ipv4_prefix_length: 33,
                ..RateLimitConfig::default()
            },
            "ipv4PrefixLength",
            "33",
        ),
        (
            RateLimitConfig {
                ipv6_prefix_length: 129,
                ..RateLimitConfig::default()
            },
            "ipv6PrefixLength",
            "129",
        ),
        (
            RateLimitConfig {
                max_table_size: 0,
                ..RateLimitConfig::default()
            },
            "maxTableSize",
            "0",
        ),
        (
            RateLimitConfig {
                nxdomains_per_second: Some(1_000_001),
                ..RateLimitConfig::default()
            },
            "nxdomainsPerSecond",
            "1000001",
        ),
        (
            RateLimitConfig {
                nodata_per_second: Some(2_000_000),
                ..RateLimitConfig::default()
            },
            "nodataPerSecond",
            "2000000",
        ),
        (
            RateLimitConfig {
                referrals_per_second: Some(u32::MAX),
                ..RateLimitConfig::default()
            },
            "referralsPerSecond",
            "4294967295",
        ),
        (
            RateLimitConfig {
                errors_per_second: Some(1_000_001),
                ..RateLimitConfig::default()
            },
            "errorsPerSecond",
            "1000001",
        ),
        (
            RateLimitConfig {
                all_per_second: 1_000_001,
                ..RateLimitConfig::default()
            },
            "allPerSecond",
            "1000001",
        ),
    ] {
        let err = config.validate().expect_err(key).to_string();
        assert!(err.starts_with(&format!("{key}: {value} ")), "{err}");
    }
}

#[test]
fn the_table_is_sized_from_the_config() {
    let sized = |max_table_size| {
        RateLimiter::new(&RateLimitConfig {
            max_table_size,
            ..RateLimitConfig::default()
        })
        .capacity()
    };
    assert_eq!(sized(65_536), 65_536);
    assert_eq!(sized(1000), 1000);
    assert_eq!(sized(1001), 1008);
    assert_eq!(sized(1), WAYS);
}

#[test]
fn an_entry_takes_32_bytes() {
    // docs/guarding.md and the chart size the table with this.
    assert_eq!(std::mem::size_of::<Entry>(), 32);
}

/// A limiter at `responses_per_second` 100 with the other settings from `config`, never
/// slipping.
fn kinds(config: RateLimitConfig) -> RateLimiter {
    RateLimiter::new(&RateLimitConfig {
        responses_per_second: 100,
        slip: 0,
        ..config
    })
}

#[test]
fn keys_tell_responses_apart_as_bind_does() {
    let limiter = limiter(10, 15, 0);
    let key = |kind, name, qtype| limiter.key(kind, &wire(name), qtype);
    let www = "www.example.com.";
    let api = "api.example.com.";
    use ResponseKind::*;
    // Answers: per name and type.
    assert_ne!(key(Answer, www, A), key(Answer, api, A));
    assert_ne!(key(Answer, www, A), key(Answer, www, AAAA));
    assert_eq!(key(Answer, www, A), key(Answer, www, A));
    // NODATA, referrals, NXDOMAIN: per name, whatever the type.
    for kind in [NoData, Referral, NxDomain] {
        assert_eq!(key(kind, www, A), key(kind, www, TXT), "{kind:?}");
        assert_ne!(key(kind, www, A), key(kind, api, A), "{kind:?}");
        assert_eq!(key(kind, www, TXT).kind(), kind);
    }
    // Errors: neither name nor type.
    assert_eq!(key(Error, www, A), key(Error, api, TXT));
    assert_eq!(key(Error, www, A), ResponseKey::ERROR);
    // The same name is another account in another kind.
    let all: Vec<_> = ResponseKind::ALL.map(|kind| key(kind, www, A)).into();
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            assert_ne!(a, b);
        }
    }
}

#[test]
fn a_client_asking_many_names_is_not_limited_like_one_asking_one() {
    let limiter = limiter(5, 15, 0);
    let client = ip("192.0.2.1");
    let now = Instant::now();
    // 200 different names in the same instant: each its own account.
    for i in 0..200 {
        let key = limiter.key(
            ResponseKind::Answer,
            &wire(&format!("n{i}.example.com.")),
            A,
        );
        assert_eq!(limiter.check(client, key, now), RateVerdict::Send, "n{i}");
    }
    // One name 200 times: one second's worth.
    assert_eq!(burst(&limiter, client, now, 200), (5, 0, 195));
    // Another type of the same name is another answer; so is another prefix.
    let aaaa = limiter.key(ResponseKind::Answer, &wire("www.example.com."), AAAA);
    assert_eq!(burst_of(&limiter, client, aaaa, now, 6), (5, 0, 1));
    assert_eq!(burst(&limiter, ip("192.0.3.1"), now, 6), (5, 0, 1));
}

#[test]
fn nxdomain_answers_share_one_account_per_zone() {
    let limiter = kinds(RateLimitConfig {
        nxdomains_per_second: Some(4),
        ..RateLimitConfig::default()
    });
    let client = ip("192.0.2.1");
    let now = Instant::now();
    // The answer path keys every NXDOMAIN by the zone's origin, whatever the name asked.
    let nxdomain = |zone: &str, qtype| limiter.key(ResponseKind::NxDomain, &wire(zone), qtype);
    let mut sent = 0;
    for i in 0..1000u16 {
        let qtype = [A, AAAA, TXT][usize::from(i % 3)];
        if limiter.check(client, nxdomain("example.com.", qtype), now) == RateVerdict::Send {
            sent += 1;
        }
    }
    assert_eq!(sent, 4, "nxdomainsPerSecond, not responsesPerSecond");
    // Another zone is another stream; answers are untouched.
    assert_eq!(
        burst_of(&limiter, client, nxdomain("example.org.", A), now, 5),
        (4, 0, 1)
    );
    assert_eq!(burst(&limiter, client, now, 100), (100, 0, 0));
}

#[test]
fn nodata_is_counted_per_name_whatever_the_type() {
    let limiter = kinds(RateLimitConfig {
        nodata_per_second: Some(3),
        ..RateLimitConfig::default()
    });
    let client = ip("192.0.2.1");
    let now = Instant::now();
    let nodata = |name: &str, qtype| limiter.key(ResponseKind::NoData, &wire(name), qtype);
    let www = "www.example.com.";
    let verdicts: Vec<_> = [A, TXT, AAAA, TXT]
        .into_iter()
        .map(|qtype| limiter.check(client, nodata(www, qtype), now))
        .collect();
    use RateVerdict::*;
    assert_eq!(verdicts, [Send, Send, Send, Drop]);
    assert_eq!(
        burst_of(&limiter, client, nodata("api.example.com.", A), now, 4),
        (3, 0, 1)
    );
    assert_eq!(burst(&limiter, client, now, 100), (100, 0, 0));
}

#[test]
fn referrals_are_counted_per_delegation() {
    let limiter = kinds(RateLimitConfig {
        referrals_per_second: Some(2),
        ..RateLimitConfig::default()
    });
    let client = ip("192.0.2.1");
    let now = Instant::now();
    let referral = |cut: &str, qtype| limiter.key(ResponseKind::Referral, &wire(cut), qtype);
    let cut = "team.example.com.";
    assert_eq!(
        limiter.check(client, referral(cut, A), now),
        RateVerdict::Send
    );
    assert_eq!(
        limiter.check(client, referral(cut, TXT), now),
        RateVerdict::Send
    );
    assert_eq!(
        limiter.check(client, referral(cut, A), now),
        RateVerdict::Drop
    );
    assert_eq!(
        burst_of(&limiter, client, referral("other.example.com.", A), now, 3),
        (2, 0, 1)
    );
}

#[test]
fn errors_are_counted_per_prefix_alone() {
    let limiter = RateLimiter::new(&RateLimitConfig {
        responses_per_second: 100,
        errors_per_second: Some(3),
        slip: 2,
        ..RateLimitConfig::default()
    });
    let now = Instant::now();
    let error = |name: &str, qtype| limiter.key(ResponseKind::Error, &wire(name), qtype);
    let client = ip("192.0.2.1");
    let verdicts: Vec<_> = [
        error("a.example.com.", A),
        error("b.example.net.", TXT),
        ResponseKey::ERROR,
        error("c.example.org.", AAAA),
        error("d.example.com.", A),
    ]
    .into_iter()
    .map(|key| limiter.check(client, key, now))
    .collect();
    use RateVerdict::*;
    assert_eq!(verdicts, [Send, Send, Send, Slip, Drop]);
    assert_eq!(
        burst_of(&limiter, ip("192.0.3.1"), ResponseKey::ERROR, now, 4),
        (3, 1, 0)
    );
}

#[test]
fn every_kind_defaults_to_responses_per_second() {
    let limiter = limiter(7, 15, 0);
    let client = ip("192.0.2.1");
    let now = Instant::now();
    for kind in ResponseKind::ALL {
        let key = limiter.key(kind, &wire("www.example.com."), A);
        assert_eq!(
            burst_of(&limiter, client, key, now, 10),
            (7, 0, 3),
            "{kind:?}"
        );
    }
}

#[test]
fn a_kind_at_zero_is_never_limited_nor_tracked() {
    let limiter = RateLimiter::new(&RateLimitConfig {
        responses_per_second: 1,
        nxdomains_per_second: Some(0),
        errors_per_second: Some(0),
        slip: 0,
        ..RateLimitConfig::default()
    });
    let client = ip("192.0.2.1");
    let now = Instant::now();
    let nxdomain = limiter.key(ResponseKind::NxDomain, &wire("example.com."), A);
    assert_eq!(
        burst_of(&limiter, client, nxdomain, now, 1000),
        (1000, 0, 0)
    );
    assert_eq!(
        burst_of(&limiter, client, ResponseKey::ERROR, now, 1000),
        (1000, 0, 0)
    );
    assert_eq!(limiter.tracked(now), 0);
    assert_eq!(burst(&limiter, client, now, 2), (1, 0, 1));
    assert_eq!(limiter.tracked(now), 1);
}

#[test]
fn all_per_second_caps_every_kind_of_a_prefix_and_never_slips() {
    let reported = Arc::new(Reported::default());
    let observer: Arc<dyn Observer> = reported.clone();
    let limiter = RateLimiter::new(&RateLimitConfig {
        responses_per_second: 10,
        all_per_second: 12,
        slip: 1,
        ..RateLimitConfig::default()
    })
    .with_observer(Some(observer));
    let client = ip("192.0.2.1");
    let now = Instant::now();
    // Within their own limits, but 10 + 10 + 10 responses to one prefix: 12 pass the cap.
    assert_eq!(burst(&limiter, client, now, 10), (10, 0, 0));
    let nodata = limiter.key(ResponseKind::NoData, &wire("api.example.com."), A);
    assert_eq!(burst_of(&limiter, client, nodata, now, 10), (2, 0, 8));
    let nxdomain = limiter.key(ResponseKind::NxDomain, &wire("example.com."), A);
    assert_eq!(burst_of(&limiter, client, nxdomain, now, 10), (0, 0, 10));
    assert_eq!(reported.count(RateVerdict::Drop, Account::All), 18);
    // Over the kind's own limit too: the cap still says drop, where slip 1 would slip.
    assert_eq!(limiter.check(client, www(&limiter), now), RateVerdict::Drop);
    // Another prefix has its own cap.
    assert_eq!(burst(&limiter, ip("192.0.3.1"), now, 10), (10, 0, 0));
    // Without the cap, nothing limits the sum.
    let uncapped = self::limiter(10, 15, 1);
    assert_eq!(burst(&uncapped, client, now, 10), (10, 0, 0));
    let nodata = uncapped.key(ResponseKind::NoData, &wire("api.example.com."), A);
    assert_eq!(burst_of(&uncapped, client, nodata, now, 10), (10, 0, 0));
}

#[test]
fn spraying_names_recycles_entries_and_keeps_hot_accounts() {
    let limiter = RateLimiter::new(&RateLimitConfig {
        responses_per_second: 5,
        slip: 0,
        max_table_size: 1024,
        ..RateLimitConfig::default()
    });
    let (sprayer, hot) = (ip("203.0.113.1"), ip("198.51.100.7"));
    let t0 = Instant::now();
    let mut hot_sent = 0;
    // 200 000 different names from one prefix within a second, the hot stream between them.
    for i in 0..200_000u32 {
        let now = t0 + Duration::from_micros(u64::from(i) * 5);
        let name = limiter.key(
            ResponseKind::Answer,
            &wire(&format!("n{i}.example.com.")),
            A,
        );
        assert_eq!(limiter.check(sprayer, name, now), RateVerdict::Send);
        if i % 10 == 0 && limiter.check(hot, www(&limiter), now) == RateVerdict::Send {
            hot_sent += 1;
        }
    }
    assert!(limiter.tracked(t0 + Duration::from_secs(1)) <= 1024);
    assert!(hot_sent <= 10, "hot stream sent {hot_sent}");
}

#[test]
fn in_debt_tells_an_account_over_its_limit_without_debiting_it() {
    let limiter = limiter(2, 15, 0);
    let now = Instant::now();
    let client = ip("192.0.2.1");
    let other = limiter.key(ResponseKind::NxDomain, &wire("example.com."), 0);
    // Asking debits nothing: a fresh account stays full however often it is asked about.
    for _ in 0..10 {
        assert!(!limiter.in_debt(client, www(&limiter), now));
    }
    // Its second's worth spent, the account is at zero, not yet in debt.
    assert_eq!(burst(&limiter, client, now, 2), (2, 0, 0));
    assert!(!limiter.in_debt(client, www(&limiter), now));
    // The next response is limited and leaves it in debt, until it has earned credit again.
    assert_eq!(burst(&limiter, client, now, 1), (0, 0, 1));
    assert!(limiter.in_debt(client, www(&limiter), now));
    assert!(!limiter.in_debt(client, other, now), "another account");
    assert!(
        !limiter.in_debt(ip("198.51.100.1"), www(&limiter), now),
        "another prefix"
    );
    assert!(!limiter.in_debt(client, www(&limiter), now + Duration::from_secs(1)));
}

#[test]
fn in_debt_counts_the_all_per_second_cap_and_exemptions() {
    let limiter = RateLimiter::new(&RateLimitConfig {
        responses_per_second: 100,
        all_per_second: 1,
        slip: 0,
        exempt: vec![parse_cidr("192.0.2.9").expect("cidr")],
        ..RateLimitConfig::default()
    });
    let now = Instant::now();
    let client = ip("198.51.100.7");
    assert_eq!(burst(&limiter, client, now, 2), (1, 0, 1));
    // Any response to the prefix is over the cap, whatever its own account says.
    let other = limiter.key(ResponseKind::NoData, &wire("other.example.com."), 0);
    assert!(limiter.in_debt(client, other, now));
    let exempt = ip("192.0.2.9");
    burst(&limiter, exempt, now, 5);
    assert!(!limiter.in_debt(exempt, www(&limiter), now));
}
