//! Response rate limiting in the style of BIND 9's `rate-limit`.
//!
//! Responses are counted in accounts, one per client prefix (/24 for IPv4, /56 for IPv6 by
//! default) and kind of identical response, keyed as BIND keys them ([`ResponseKey`]): an
//! answer by its name and type, NODATA and a referral by the name, NXDOMAIN by the zone, an
//! error by nothing more. So a resolver asking for many names is not limited like a client
//! asking for one, while random names under one zone are counted as one stream. With
//! `allPerSecond`, every prefix also has one account for all its responses.
//!
//! An account holds at most one second's worth of responses (its kind's rate) and earns that
//! many per second. Every response debits one, sent or not, down to a debt of `window` seconds'
//! worth. A response is sent while its accounts are not in debt: a stream whose rate, averaged
//! over up to `window` seconds, is above its limit gets nothing but the slipped replies until it
//! slows down. An account untouched for longer than `window` starts afresh.
//!
//! Accounts live in a table allocated once: `maxTableSize` entries in buckets of [`WAYS`],
//! each bucket behind its own lock. An account is found by a 64-bit hash of its prefix and key,
//! keyed per limiter. One not in its bucket takes the bucket's entry with the most credit (an
//! unused or expired one first), so a flood of source addresses or names recycles entries
//! instead of growing memory, and the accounts in debt are the last to go.

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

mod response;

pub use response::{Account, ResponseKey, ResponseKind};

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
    /// Answers per second per client prefix, name and type.
    pub responses_per_second: u32,
    /// NXDOMAIN responses per second per client prefix and zone; `None`: as
    /// `responses_per_second`; 0: not limited.
    pub nxdomains_per_second: Option<u32>,
    /// NODATA responses per second per client prefix and name; `None`: as
    /// `responses_per_second`; 0: not limited.
    pub nodata_per_second: Option<u32>,
    /// Referrals per second per client prefix and delegation; `None`: as
    /// `responses_per_second`; 0: not limited.
    pub referrals_per_second: Option<u32>,
    /// Error responses per second per client prefix; `None`: as `responses_per_second`; 0: not
    /// limited.
    pub errors_per_second: Option<u32>,
    /// Responses of every kind per second per client prefix; 0: no such cap.
    pub all_per_second: u32,
    /// Seconds over which the rate is averaged: the most debt an account can hold, and how long
    /// an idle account is remembered.
    pub window: u32,
    /// Every `slip`-th limited response is slipped, starting with the first; 0 never, 1 always.
    pub slip: u32,
    pub ipv4_prefix_length: u8,
    pub ipv6_prefix_length: u8,
    /// Networks never limited.
    pub exempt: Vec<IpNet>,
    /// Accounts tracked at most (rounded up to a multiple of [`WAYS`]).
    pub max_table_size: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            responses_per_second: 20,
            nxdomains_per_second: None,
            nodata_per_second: None,
            referrals_per_second: None,
            errors_per_second: None,
            all_per_second: 0,
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
    pub const RANGES: [(&'static str, u64, u64); 11] = [
        ("responsesPerSecond", 1, MAX_RATE as u64),
        ("nxdomainsPerSecond", 0, MAX_RATE as u64),
        ("nodataPerSecond", 0, MAX_RATE as u64),
        ("referralsPerSecond", 0, MAX_RATE as u64),
        ("errorsPerSecond", 0, MAX_RATE as u64),
        ("allPerSecond", 0, MAX_RATE as u64),
        ("window", 1, MAX_WINDOW as u64),
        ("slip", 0, 10),
        ("ipv4PrefixLength", 0, 32),
        ("ipv6PrefixLength", 0, 128),
        ("maxTableSize", WAYS as u64, MAX_TABLE as u64),
    ];

    /// Checks every number set against its range; the error names the key (as in the config
    /// file).
    pub fn validate(&self) -> Result<(), GuardError> {
        let values: [Option<u64>; 11] = [
            Some(self.responses_per_second.into()),
            self.nxdomains_per_second.map(u64::from),
            self.nodata_per_second.map(u64::from),
            self.referrals_per_second.map(u64::from),
            self.errors_per_second.map(u64::from),
            Some(self.all_per_second.into()),
            Some(self.window.into()),
            Some(self.slip.into()),
            Some(self.ipv4_prefix_length.into()),
            Some(self.ipv6_prefix_length.into()),
            Some(self.max_table_size.into()),
        ];
        for ((key, min, max), value) in Self::RANGES.into_iter().zip(values) {
            if let Some(value) = value
                && !(min..=max).contains(&value)
            {
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

    /// The rate of each account kind, in [`Account::index`] order; 0: not limited. A kind
    /// without its own rate has `responses_per_second`, as in BIND.
    fn rates(&self) -> [u32; 6] {
        let answers = self.responses_per_second.clamp(1, MAX_RATE);
        let own = |rate: Option<u32>| rate.unwrap_or(answers).min(MAX_RATE);
        Account::ALL.map(|account| match account {
            Account::Response(ResponseKind::Answer) => answers,
            Account::Response(ResponseKind::Referral) => own(self.referrals_per_second),
            Account::Response(ResponseKind::NoData) => own(self.nodata_per_second),
            Account::Response(ResponseKind::NxDomain) => own(self.nxdomains_per_second),
            Account::Response(ResponseKind::Error) => own(self.errors_per_second),
            Account::All => self.all_per_second.min(MAX_RATE),
        })
    }
}

/// Entries per bucket: an account can sit in any of them.
pub const WAYS: usize = 8;
const MAX_RATE: u32 = 1_000_000;
const MAX_WINDOW: u32 = 3600;
const MAX_TABLE: u32 = 1 << 24;
/// Account units per response: credit accrues per millisecond, `rate` units each.
const UNIT: i64 = 1000;

#[derive(Clone, Copy, Default)]
struct Entry {
    /// The account: its client prefix and [`ResponseKey`], hashed by [`RateLimiter::tag`]. Two
    /// accounts share an entry only if 64 bits of a hash keyed per limiter collide.
    tag: u64,
    /// Milliseconds since the limiter's start, plus one, at the last response; 0: unused.
    last: u64,
    balance: i64,
    /// Limited responses since the last slip, modulo `slip`.
    slips: u32,
    /// The account's kind ([`Account::index`]), which sets its rate.
    account: u8,
}

type Bucket = [Entry; WAYS];

/// Response accounts per client prefix and kind of response; see the module documentation.
pub struct RateLimiter {
    buckets: Box<[Mutex<Bucket>]>,
    hasher: RandomState,
    start: Instant,
    /// Units earned per millisecond (= responses per second) by each account kind, in
    /// [`Account::index`] order; 0: not limited.
    rates: [i64; 6],
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
            .field("per_second", &self.rates)
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
            rates: config.rates().map(i64::from),
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

    /// Accounts the table can hold.
    pub fn capacity(&self) -> usize {
        self.buckets.len() * WAYS
    }

    /// Accounts tracked at `now`: entries in use and not yet expired.
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

    /// The key of a response of `kind` about `name` (lower-case wire format, as the index keys
    /// names) asked with `qtype`, as BIND 9 keys it: an answer by the name and the type; NODATA
    /// and a referral by the name alone; NXDOMAIN by the name alone, which should be the
    /// zone's origin; an error by neither. Hashes the name; allocates nothing.
    pub fn key(&self, kind: ResponseKind, name: &[u8], qtype: u16) -> ResponseKey {
        let qtype = match kind {
            ResponseKind::Answer => qtype,
            ResponseKind::Referral | ResponseKind::NoData | ResponseKind::NxDomain => 0,
            ResponseKind::Error => return ResponseKey::ERROR,
        };
        ResponseKey {
            kind,
            name: self.hasher.hash_one(name),
            qtype,
        }
    }

    /// The verdict for a UDP response to `client` at `now`, debiting the account of its prefix
    /// and `response`, and the prefix's `allPerSecond` account when there is one.
    pub fn check(&self, client: IpAddr, response: ResponseKey, now: Instant) -> RateVerdict {
        let client = client.to_canonical();
        if self.exempt.contains(client) {
            return RateVerdict::Send;
        }
        let prefix = self.prefix(client);
        let tick = self.tick(now);
        let kind = Account::Response(response.kind);
        let mut verdict = self.debit_account(prefix, kind, response.name, response.qtype, tick);
        let mut by = kind;
        // As in BIND, the cap is debited whatever the kind's account said, and what it limits
        // is dropped, never slipped.
        let all = self.debit_account(prefix, Account::All, 0, 0, tick);
        if all != RateVerdict::Send {
            verdict = all;
            by = Account::All;
        }
        if verdict != RateVerdict::Send
            && let Some(observer) = &self.observer
        {
            observer.rate_limited(verdict, by);
        }
        verdict
    }

    /// Whether a response keyed `response` to `client` would find an account in debt at
    /// `now` (its kind's, or the prefix's `allPerSecond`), without debiting anything: asked
    /// before work whose response is not known yet, such as forwarding upstream.
    pub fn in_debt(&self, client: IpAddr, response: ResponseKey, now: Instant) -> bool {
        let client = client.to_canonical();
        if self.exempt.contains(client) {
            return false;
        }
        let prefix = self.prefix(client);
        let tick = self.tick(now);
        let kind = Account::Response(response.kind);
        self.account_in_debt(prefix, kind, response.name, response.qtype, tick)
            || self.account_in_debt(prefix, Account::All, 0, 0, tick)
    }

    fn account_in_debt(
        &self,
        prefix: u128,
        account: Account,
        name: u64,
        qtype: u16,
        tick: u64,
    ) -> bool {
        let rate = self.rate(account.index());
        if rate == 0 {
            return false;
        }
        let tag = self.tag(prefix, account, name, qtype);
        let Some(bucket) = self.bucket(tag) else {
            return false;
        };
        bucket
            .iter()
            .find(|e| e.last != 0 && e.tag == tag)
            .is_some_and(|e| self.credit(e, rate, tick) < 0)
    }

    /// Debits `prefix`'s account of kind `account` for a response keyed `name` and `qtype`.
    fn debit_account(
        &self,
        prefix: u128,
        account: Account,
        name: u64,
        qtype: u16,
        tick: u64,
    ) -> RateVerdict {
        let rate = self.rate(account.index());
        if rate == 0 {
            return RateVerdict::Send;
        }
        let tag = self.tag(prefix, account, name, qtype);
        // The table is never empty; without a bucket there is nothing to limit with.
        let Some(mut bucket) = self.bucket(tag) else {
            return RateVerdict::Send;
        };
        let at = bucket
            .iter()
            .position(|e| e.last != 0 && e.tag == tag)
            .unwrap_or_else(|| {
                // The entry with the most credit says least: a full account is the same as
                // none. Accounts in debt, the ones that matter, are recycled last. Credit is
                // compared in milliseconds' worth, so accounts of different rates compare.
                let victim = bucket
                    .iter()
                    .enumerate()
                    .max_by_key(|(_, e)| {
                        let rate = self.rate(usize::from(e.account)).max(1);
                        (self.credit(e, rate, tick) / rate, u64::MAX - e.last)
                    })
                    .map_or(0, |(i, _)| i);
                if let Some(entry) = bucket.get_mut(victim) {
                    *entry = Entry {
                        tag,
                        account: account.index() as u8,
                        ..Entry::default()
                    };
                }
                victim
            });
        let slip = match account {
            Account::All => 0,
            Account::Response(_) => self.slip,
        };
        match bucket.get_mut(at) {
            Some(entry) => self.debit(entry, rate, slip, tick),
            None => RateVerdict::Send,
        }
    }

    /// The client's prefix, IPv4 as IPv4-mapped IPv6.
    fn prefix(&self, client: IpAddr) -> u128 {
        match client {
            IpAddr::V4(a) => (0xffff_u128 << 32) | u128::from(u32::from(a) & self.v4_mask),
            IpAddr::V6(a) => u128::from(a) & self.v6_mask,
        }
    }

    /// An account's identity in the table: its prefix and key, under this limiter's hasher.
    fn tag(&self, prefix: u128, account: Account, name: u64, qtype: u16) -> u64 {
        self.hasher
            .hash_one((prefix, account.index() as u8, name, qtype))
    }

    fn rate(&self, account: usize) -> i64 {
        self.rates.get(account).copied().unwrap_or(0)
    }

    fn bucket(&self, tag: u64) -> Option<std::sync::MutexGuard<'_, Bucket>> {
        // Multiply-shift maps the hash onto 0..len without a division.
        let index = ((u128::from(tag) * self.buckets.len() as u128) >> 64) as usize;
        let bucket = self.buckets.get(index).or(self.buckets.first())?;
        // An account is plain numbers, valid whatever a panicking holder left in it.
        Some(bucket.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn tick(&self, now: Instant) -> u64 {
        let ms = now.saturating_duration_since(self.start).as_millis();
        u64::try_from(ms).unwrap_or(u64::MAX - 1).saturating_add(1)
    }

    /// The balance `entry` would have at `tick`, earning `rate` units per millisecond: full
    /// when unused or idle past the window.
    fn credit(&self, entry: &Entry, rate: i64, tick: u64) -> i64 {
        let full = rate * UNIT;
        // A `now` older than the last response (another thread's) counts as no time.
        let age = tick.saturating_sub(entry.last);
        if entry.last == 0 || age > self.window_ms {
            full
        } else {
            let earned = i64::try_from(age).unwrap_or(i64::MAX).saturating_mul(rate);
            entry.balance.saturating_add(earned).min(full)
        }
    }

    /// BIND's account: credit the time since the last response, debit this one.
    fn debit(&self, entry: &mut Entry, rate: i64, slip: u32, tick: u64) -> RateVerdict {
        entry.balance = self.credit(entry, rate, tick);
        if entry.balance == rate * UNIT {
            entry.slips = 0;
        }
        entry.last = entry.last.max(tick);
        entry.balance -= UNIT;
        if entry.balance >= 0 {
            return RateVerdict::Send;
        }
        let most_debt = -(self.window_ms as i64) * rate;
        entry.balance = entry.balance.max(most_debt);
        if slip == 0 {
            return RateVerdict::Drop;
        }
        let first = entry.slips == 0;
        entry.slips += 1;
        if entry.slips >= slip {
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
