//! What a check costs, per call: `cargo run --release -p kubezone-guard --example check_cost`.
//! Prints figures; asserts nothing (timings depend on the machine).

use std::{
    hint::black_box,
    net::{IpAddr, Ipv4Addr},
    sync::Arc,
    time::{Duration, Instant},
};

use kubezone_guard::{
    Acl, AclAction, AclConfig, RateLimitConfig, RateLimiter, ResponseKind, parse_cidr,
};

const CALLS: u32 = 10_000_000;

/// Nanoseconds per call of `f(i)` for `i` in `0..calls`.
fn per_call(calls: u32, mut f: impl FnMut(u32)) -> f64 {
    let start = Instant::now();
    for i in 0..calls {
        f(i);
    }
    start.elapsed().as_nanos() as f64 / f64::from(calls)
}

fn v4(bits: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(bits))
}

fn main() {
    let t0 = Instant::now();
    let at = move |i: u32| t0 + Duration::from_micros(u64::from(i));
    let limiter = Arc::new(RateLimiter::new(&RateLimitConfig {
        responses_per_second: 1_000_000,
        ..RateLimitConfig::default()
    }));
    // www.example.com. in wire format, as the answer path hands it over.
    let name = b"\x03www\x07example\x03com\x00";
    let answer = limiter.key(ResponseKind::Answer, name, 1);
    let baseline = per_call(CALLS, |i| {
        black_box((v4(((i % 1000) << 8) | 1), at(i)));
    });
    let key = per_call(CALLS, |i| {
        black_box(limiter.key(ResponseKind::Answer, black_box(name), i as u16));
    });
    let tracked = per_call(CALLS, |i| {
        black_box(limiter.check(v4(((i % 1000) << 8) | 1), answer, at(i)));
    });
    let sprayed = per_call(CALLS, |i| {
        black_box(limiter.check(v4(i << 8), answer, at(i)));
    });
    let threads = 2;
    let start = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let limiter = limiter.clone();
            std::thread::spawn(move || {
                for i in 0..CALLS / threads {
                    let prefix = (i % 1000) + t * 1000;
                    black_box(limiter.check(v4((prefix << 8) | 1), answer, at(i)));
                }
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.join();
    }
    let parallel = start.elapsed().as_nanos() as f64 / f64::from(CALLS);
    let acl = Acl::new(&AclConfig {
        allow: ["10.0.0.0/8", "192.168.0.0/16", "::1/128"]
            .iter()
            .filter_map(|n| parse_cidr(n).ok())
            .collect(),
        action: AclAction::Refuse,
    });
    let acl_cost = per_call(CALLS, |i| {
        black_box(acl.check(v4(0x0a00_0000 | (i & 0xffff))));
    });
    println!("ns per call ({CALLS} calls each; loop and argument baseline {baseline:.1} ns)");
    println!("  acl check (3 networks)                 {acl_cost:.1}");
    println!("  response key (hash of a name)          {key:.1}");
    println!("  rate limit, prefix already tracked     {tracked:.1}");
    println!("  rate limit, new prefix every call      {sprayed:.1}");
    println!("  rate limit, {threads} threads, wall per call   {parallel:.1}");
    println!(
        "  new prefix / tracked: {:.1}x; {threads} threads speed-up: {:.2}x",
        sprayed / tracked,
        tracked / parallel
    );
}
