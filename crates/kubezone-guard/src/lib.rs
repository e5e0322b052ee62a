//! Guards the transport applies before answering: an access list of client networks ([`Acl`],
//! UDP and TCP) and response rate limiting in the style of BIND 9's `rate-limit`
//! ([`RateLimiter`], UDP only: a TCP client has proven its address), with accounts per client
//! prefix and kind of response ([`ResponseKey`]).
//!
//! Both are `Send + Sync` and checked through `&self` from any number of worker threads. A check
//! takes no allocation: the ACL compares precomputed masks, the rate limiter locks one small
//! bucket of a table allocated once (two with `allPerSecond`, one at a time), whose size bounds
//! its memory however many source addresses and names it sees.
//!
//! [`GuardConfig`] is the checked configuration; [`GuardConfig::build`] makes the [`Guard`] the
//! transport holds. A reload builds a new one (rate-limit accounts start afresh).

// Everything here handles input from the network or the cluster: nothing may panic on it.
#![cfg_attr(
    not(test),
    deny(clippy::expect_used, clippy::indexing_slicing, clippy::panic)
)]

mod acl;
mod cidr;
mod rrl;

use std::sync::Arc;

pub use ipnet::IpNet;

pub use acl::{Acl, AclAction, AclConfig, Verdict};
pub use cidr::{CidrSet, parse_cidr};
pub use rrl::{Account, RateLimitConfig, RateLimiter, RateVerdict, ResponseKey, ResponseKind};

/// Why a guard setting cannot be used; each names the offending value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    #[error("{value:?} is not a network (address/length) or an address: {reason}")]
    Cidr { value: String, reason: String },
    #[error("{value:?} has bits set past its prefix length; did you mean {suggestion}?")]
    HostBits { value: String, suggestion: String },
    #[error("{key}: {value} is out of range {min}..={max}")]
    OutOfRange {
        key: &'static str,
        value: u64,
        min: u64,
        max: u64,
    },
    #[error("the list is empty, which would reject every client; leave `acl` out to allow all")]
    EmptyAllow,
}

/// Told of every rejected query and limited response, for counting. Called only off the
/// common path (never for an allowed query or a sent response).
pub trait Observer: Send + Sync {
    /// The ACL rejected a query with `verdict` ([`Verdict::Refuse`] or [`Verdict::Drop`]).
    fn acl_rejected(&self, verdict: Verdict);
    /// The rate limiter decided `verdict` ([`RateVerdict::Slip`] or [`RateVerdict::Drop`])
    /// because `account` was in debt: the response's kind's, or the prefix's `allPerSecond`.
    fn rate_limited(&self, verdict: RateVerdict, account: Account);
}

/// The checked `acl` and `rateLimit` settings; both off by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuardConfig {
    pub acl: Option<AclConfig>,
    pub rate_limit: Option<RateLimitConfig>,
}

impl GuardConfig {
    /// The guards for the transport, reporting to `observer` when there is one.
    pub fn build(&self, observer: Option<Arc<dyn Observer>>) -> Guard {
        Guard {
            acl: self
                .acl
                .as_ref()
                .map(|c| Acl::new(c).with_observer(observer.clone())),
            rate_limit: self
                .rate_limit
                .as_ref()
                .map(|c| RateLimiter::new(c).with_observer(observer)),
        }
    }
}

/// What the transport checks: the ACL for every query (UDP and TCP), the rate limiter for every
/// UDP response about to be sent. `None` means off.
#[derive(Debug, Default)]
pub struct Guard {
    pub acl: Option<Acl>,
    pub rate_limit: Option<RateLimiter>,
}

impl Guard {
    /// The ACL's verdict for a query from `client`; [`Verdict::Allow`] when there is no ACL.
    #[inline]
    pub fn check_acl(&self, client: std::net::IpAddr) -> Verdict {
        match &self.acl {
            Some(acl) => acl.check(client),
            None => Verdict::Allow,
        }
    }

    /// The rate limiter's verdict for a UDP response keyed `response` to `client`;
    /// [`RateVerdict::Send`] when rate limiting is off.
    #[inline]
    pub fn check_rate(
        &self,
        client: std::net::IpAddr,
        response: ResponseKey,
        now: std::time::Instant,
    ) -> RateVerdict {
        match &self.rate_limit {
            Some(limiter) => limiter.check(client, response, now),
            None => RateVerdict::Send,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guards_are_shareable_between_worker_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Guard>();
        shareable::<Acl>();
        shareable::<RateLimiter>();
    }

    #[test]
    fn the_default_guard_lets_everything_through() {
        let guard = GuardConfig::default().build(None);
        let client = "203.0.113.9".parse().expect("address");
        assert_eq!(guard.check_acl(client), Verdict::Allow);
        let now = std::time::Instant::now();
        for _ in 0..10_000 {
            assert_eq!(
                guard.check_rate(client, ResponseKey::ERROR, now),
                RateVerdict::Send
            );
        }
    }
}
