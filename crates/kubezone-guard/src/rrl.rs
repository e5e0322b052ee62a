//! Response rate limiting in the style of BIND 9's `rate-limit`.
//!
//! Each client prefix (/24 for IPv4, /56 for IPv6 by default) has an account. It holds at most
//! one second's worth of responses (`responsesPerSecond`) and earns that many per second. Every
//! response debits one, sent or not, down to a debt of `window` seconds' worth. A response is
//! sent while the account is not in debt: a prefix whose rate, averaged over up to `window`
//! seconds, is above the limit gets nothing but the slipped replies until it slows down. An
//! account untouched for longer than `window` starts afresh.
//!
//! Accounts live in a table allocated once: `maxTableSize` entries in buckets of [`WAYS`],
//! each bucket behind its own lock. A prefix not in its bucket takes the bucket's entry with the
//! most credit (an unused or expired one first), so a flood of source addresses recycles
//! entries instead of growing memory, and the accounts in debt are the last to go.

use std::{
    collections::hash_map::RandomState,
    fmt,
    hash::BuildHasher,
    net::IpAddr,
    sync::{Arc, Mutex, PoisonError},
    time::Instant,
};

use ipnet::IpNet;

use crate::{CidrSet, GuardError, Observer};

/// The rate limiter's outcome for one UDP response about to be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateVerdict {
    /// Send the response.
    Send,
    /// Send instead an empty reply with TC=1 (question only), so a real client retries over TCP.
    Slip,
    /// Send nothing.
    Drop,
}

/// The checked `rateLimit` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitConfig {
    pub responses_per_second: u32,
    /// Seconds over which the rate is averaged: the most debt an account can hold, and how long
    /// an idle account is remembered.
    pub window: u32,
    /// Every `slip`-th limited response is slipped, starting with the first; 0 never, 1 always.
    pub slip: u32,
    pub ipv4_prefix_length: u8,
    pub ipv6_prefix_length: u8,
    /// Networks never limited.
    pub exempt: Vec<IpNet>,
    /// Prefixes tracked at most (rounded up to a multiple of [`WAYS`]).
    pub max_table_size: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            responses_per_second: 20,
            window: 15,
            slip: 2,
            ipv4_prefix_length: 24,
            ipv6_prefix_length: 56,
            exempt: Vec::new(),
            max_table_size: 65_536,
        }
    }
}

impl RateLimitConfig {
    /// Each number's key in the config file and its range (inclusive).
    pub const RANGES: [(&'static str, u64, u64); 6] = [
        ("responsesPerSecond", 1, MAX_RATE as u64),
        ("window", 1, MAX_WINDOW as u64),
        ("slip", 0, 10),
        ("ipv4PrefixLength", 0, 32),
        ("ipv6PrefixLength", 0, 128),
        ("maxTableSize", WAYS as u64, MAX_TABLE as u64),
    ];

    /// Checks every number against its range; the error names the key (as in the config file).
    pub fn validate(&self) -> Result<(), GuardError> {
        let values: [u64; 6] = [
            self.responses_per_second.into(),
            self.window.into(),
            self.slip.into(),
            self.ipv4_prefix_length.into(),
            self.ipv6_prefix_length.into(),
            self.max_table_size.into(),
        ];
        for ((key, min, max), value) in Self::RANGES.into_iter().zip(values) {
            if !(min..=max).contains(&value) {
                return Err(GuardError::OutOfRange {
                    key,
                    value,
                    min,
                    max,
                });
            }
        }
        Ok(())
    }
}

/// Entries per bucket: a prefix can sit in any of them.
pub const WAYS: usize = 8;
const MAX_RATE: u32 = 1_000_000;
const MAX_WINDOW: u32 = 3600;
const MAX_TABLE: u32 = 1 << 24;
/// Account units per response: credit accrues per millisecond, `rate` units each.
const UNIT: i64 = 1000;

#[derive(Clone, Copy, Default)]
struct Entry {
    /// The masked prefix (IPv4 in its IPv4-mapped form), as two halves: a u128 would align
    /// the entry to 16 bytes and make it 48 instead of 40.
    prefix: [u64; 2],
    /// Milliseconds since the limiter's start, plus one, at the last response; 0: unused.
    last: u64,
    balance: i64,
    /// Limited responses since the last slip, modulo `slip`.
    slips: u32,
}

type Bucket = [Entry; WAYS];

/// Per-prefix response accounts; see the module documentation.
pub struct RateLimiter {
    buckets: Box<[Mutex<Bucket>]>,
    hasher: RandomState,
    start: Instant,
    /// Units earned per millisecond (= responses per second).
    rate: i64,
    window_ms: u64,
    slip: u32,
    v4_mask: u32,
    v6_mask: u128,
    exempt: CidrSet,
    observer: Option<Arc<dyn Observer>>,
}

impl fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiter")
            .field("capacity", &self.capacity())
            .field("responses_per_second", &self.rate)
            .field("window_ms", &self.window_ms)
            .field("slip", &self.slip)
            .field("exempt", &self.exempt)
            .finish_non_exhaustive()
    }
}

impl RateLimiter {
    /// Allocates the whole table. Values out of range (see [`RateLimitConfig::validate`]) are
    /// clamped into it.
    pub fn new(config: &RateLimitConfig) -> RateLimiter {
        let table = config.max_table_size.clamp(WAYS as u32, MAX_TABLE) as usize;
        let buckets = table.div_ceil(WAYS);
        RateLimiter {
            buckets: (0..buckets)
                .map(|_| Mutex::new(Bucket::default()))
                .collect(),
            hasher: RandomState::new(),
            start: Instant::now(),
            rate: i64::from(config.responses_per_second.clamp(1, MAX_RATE)),
            window_ms: u64::from(config.window.clamp(1, MAX_WINDOW)) * 1000,
            slip: config.slip,
            v4_mask: mask32(config.ipv4_prefix_length),
            v6_mask: mask128(config.ipv6_prefix_length),
            exempt: CidrSet::new(&config.exempt),
            observer: None,
        }
    }

    /// Reports slipped and dropped responses to `observer`.
    pub fn with_observer(mut self, observer: Option<Arc<dyn Observer>>) -> RateLimiter {
        self.observer = observer;
        self
    }

    /// Prefixes the table can hold.
    pub fn capacity(&self) -> usize {
        self.buckets.len() * WAYS
    }

    /// Prefixes tracked at `now`: entries in use and not yet expired.
    pub fn tracked(&self, now: Instant) -> usize {
        let tick = self.tick(now);
        self.buckets
            .iter()
            .map(|b| {
                let bucket = b.lock().unwrap_or_else(PoisonError::into_inner);
                bucket
                    .iter()
                    .filter(|e| e.last != 0 && tick.saturating_sub(e.last) <= self.window_ms)
                    .count()
            })
            .sum()
    }

    /// The verdict for a UDP response to `client` at `now`, debiting its prefix's account.
    pub fn check(&self, client: IpAddr, now: Instant) -> RateVerdict {
        let client = client.to_canonical();
        if self.exempt.contains(client) {
            return RateVerdict::Send;
        }
        let prefix = match client {
            IpAddr::V4(a) => (0xffff_u128 << 32) | u128::from(u32::from(a) & self.v4_mask),
            IpAddr::V6(a) => u128::from(a) & self.v6_mask,
        };
        let tick = self.tick(now);
        let verdict = {
            // The table is never empty; without a bucket there is nothing to limit with.
            let Some(mut bucket) = self.bucket(prefix) else {
                return RateVerdict::Send;
            };
            let prefix = [(prefix >> 64) as u64, prefix as u64];
            let at = bucket
                .iter()
                .position(|e| e.last != 0 && e.prefix == prefix)
                .unwrap_or_else(|| {
                    // The entry with the most credit says least: a full account is the same
                    // as none. Accounts in debt, the ones that matter, are recycled last.
                    let victim = bucket
                        .iter()
                        .enumerate()
                        .max_by_key(|(_, e)| (self.credit(e, tick), u64::MAX - e.last))
                        .map_or(0, |(i, _)| i);
                    if let Some(entry) = bucket.get_mut(victim) {
                        *entry = Entry {
                            prefix,
                            last: 0,
                            balance: 0,
                            slips: 0,
                        };
                    }
                    victim
                });
            match bucket.get_mut(at) {
                Some(entry) => self.debit(entry, tick),
                None => RateVerdict::Send,
            }
        };
        if verdict != RateVerdict::Send
            && let Some(observer) = &self.observer
        {
            observer.rate_limited(verdict);
        }
        verdict
    }

    fn bucket(&self, prefix: u128) -> Option<std::sync::MutexGuard<'_, Bucket>> {
        let hash = self.hasher.hash_one(prefix);
        // Multiply-shift maps the hash onto 0..len without a division.
        let index = ((u128::from(hash) * self.buckets.len() as u128) >> 64) as usize;
        let bucket = self.buckets.get(index).or(self.buckets.first())?;
        // An account is plain numbers, valid whatever a panicking holder left in it.
        Some(bucket.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn tick(&self, now: Instant) -> u64 {
        let ms = now.saturating_duration_since(self.start).as_millis();
        u64::try_from(ms).unwrap_or(u64::MAX - 1).saturating_add(1)
    }

    /// The balance `entry` would have at `tick`: full when unused or idle past the window.
    fn credit(&self, entry: &Entry, tick: u64) -> i64 {
        let full = self.rate * UNIT;
        // A `now` older than the last response (another thread's) counts as no time.
        let age = tick.saturating_sub(entry.last);
        if entry.last == 0 || age > self.window_ms {
            full
        } else {
            let earned = i64::try_from(age)
                .unwrap_or(i64::MAX)
                .saturating_mul(self.rate);
            entry.balance.saturating_add(earned).min(full)
        }
    }

    /// BIND's account: credit the time since the last response, debit this one.
    fn debit(&self, entry: &mut Entry, tick: u64) -> RateVerdict {
        entry.balance = self.credit(entry, tick);
        if entry.balance == self.rate * UNIT {
            entry.slips = 0;
        }
        entry.last = entry.last.max(tick);
        entry.balance -= UNIT;
        if entry.balance >= 0 {
            return RateVerdict::Send;
        }
        let most_debt = -(self.window_ms as i64) * self.rate;
        entry.balance = entry.balance.max(most_debt);
        if self.slip == 0 {
            return RateVerdict::Drop;
        }
        let first = entry.slips == 0;
        entry.slips += 1;
        if entry.slips >= self.slip {
            entry.slips = 0;
        }
        if first {
            RateVerdict::Slip
        } else {
            RateVerdict::Drop
        }
    }
}

fn mask32(len: u8) -> u32 {
    match len {
        0 => 0,
        l => u32::MAX << (32 - u32::from(l.min(32))),
    }
}

fn mask128(len: u8) -> u128 {
    match len {
        0 => 0,
        l => u128::MAX << (128 - u32::from(l.min(128))),
    }
}

#[cfg(test)]
mod tests;
