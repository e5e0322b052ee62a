use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use super::*;
use crate::parse_cidr;

fn ip(text: &str) -> IpAddr {
    text.parse().expect("address")
}

fn limiter(rate: u32, window: u32, slip: u32) -> RateLimiter {
    RateLimiter::new(&RateLimitConfig {
        responses_per_second: rate,
        window,
        slip,
        ..RateLimitConfig::default()
    })
}

/// `n` responses to `client` at `now`, counted by verdict: (sent, slipped, dropped).
fn burst(limiter: &RateLimiter, client: IpAddr, now: Instant, n: usize) -> (usize, usize, usize) {
    let mut counts = (0, 0, 0);
    for _ in 0..n {
        match limiter.check(client, now) {
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
                limiter.check(slow, now),
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
            .map(|_| match limiter.check(client, now) {
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
        limiter.check(client, t0 + Duration::from_secs(1)),
        RateVerdict::Drop
    );
    // Two more seconds repay 20: out of debt.
    assert_eq!(
        limiter.check(client, t0 + Duration::from_secs(3)),
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
    assert_eq!(short.check(client, later), RateVerdict::Send);
    // A window of 15 s: 10 000 responses leave 150 of debt; 2.1 s repays 21 of them.
    let long = limiter(10, 15, 0);
    burst(&long, client, t0, 10_000);
    assert_eq!(long.check(client, later), RateVerdict::Drop);
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
            limiter.check(client, t0 + Duration::from_millis(ms)),
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
    assert_eq!(limiter.check(client, t0), RateVerdict::Drop);
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
        assert_eq!(limiter.check(sprayed, now), RateVerdict::Send);
        if i % 10 == 0 && limiter.check(hot, now) == RateVerdict::Send {
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

#[derive(Default)]
struct Counted {
    slipped: AtomicU64,
    dropped: AtomicU64,
}

impl Observer for Counted {
    fn acl_rejected(&self, _: crate::Verdict) {}
    fn rate_limited(&self, verdict: RateVerdict) {
        match verdict {
            RateVerdict::Slip => self.slipped.fetch_add(1, Ordering::Relaxed),
            RateVerdict::Drop => self.dropped.fetch_add(1, Ordering::Relaxed),
            RateVerdict::Send => 0,
        };
    }
}

#[test]
fn slipped_and_dropped_responses_are_reported() {
    let counted = Arc::new(Counted::default());
    let observer: Arc<dyn Observer> = counted.clone();
    let limiter = limiter(3, 15, 2).with_observer(Some(observer));
    let (sent, slipped, dropped) = burst(&limiter, ip("192.0.2.1"), Instant::now(), 13);
    assert_eq!((sent, slipped, dropped), (3, 5, 5));
    assert_eq!(counted.slipped.load(Ordering::Relaxed), 5);
    assert_eq!(counted.dropped.load(Ordering::Relaxed), 5);
}

#[test]
fn validation_names_the_key_and_value() {
    assert_eq!(RateLimitConfig::default().validate(), Ok(()));
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
fn an_entry_takes_40_bytes() {
    // docs/guarding.md sizes the table with this.
    assert_eq!(std::mem::size_of::<Entry>(), 40);
}
