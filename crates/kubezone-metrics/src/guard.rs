//! Counters of the query guards (ACL and response rate limiting), resolved up front.

use kubezone_guard::{Account, Observer, RateVerdict, ResponseKind, Verdict};
use prometheus::IntCounter;

/// What the ACL rejected and the rate limiter dropped or slipped, by the account that limited
/// it. Shared by every `Guard` a reload builds, so the counts carry on across reloads.
#[derive(Clone)]
pub struct GuardCounters {
    /// By [`Account::index`].
    rrl_dropped: [IntCounter; 6],
    /// By [`Account::index`] of the response kinds: the `allPerSecond` cap never slips.
    rrl_slipped: [IntCounter; 5],
    acl_refused: IntCounter,
    acl_dropped: IntCounter,
}

impl GuardCounters {
    pub(crate) fn new(metrics: &crate::Metrics) -> GuardCounters {
        GuardCounters {
            rrl_dropped: Account::ALL
                .map(|account| metrics.rrl_dropped.with_label_values(&[account.name()])),
            rrl_slipped: ResponseKind::ALL
                .map(|kind| metrics.rrl_slipped.with_label_values(&[kind.name()])),
            acl_refused: metrics.acl_rejected.with_label_values(&["refuse"]),
            acl_dropped: metrics.acl_rejected.with_label_values(&["drop"]),
        }
    }
}

impl Observer for GuardCounters {
    fn acl_rejected(&self, verdict: Verdict) {
        match verdict {
            Verdict::Refuse => self.acl_refused.inc(),
            Verdict::Drop => self.acl_dropped.inc(),
            Verdict::Allow => {}
        }
    }

    fn rate_limited(&self, verdict: RateVerdict, account: Account) {
        let counters: &[IntCounter] = match verdict {
            RateVerdict::Drop => &self.rrl_dropped,
            RateVerdict::Slip => &self.rrl_slipped,
            RateVerdict::Send => return,
        };
        if let Some(counter) = counters.get(account.index()) {
            counter.inc();
        }
    }
}
