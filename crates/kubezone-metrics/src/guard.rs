//! Counters of the query guards (ACL and response rate limiting), resolved up front.

use kubezone_guard::{Account, Observer, RateVerdict, Verdict};
use prometheus::IntCounter;

/// What the ACL rejected and the rate limiter dropped or slipped. Shared by every `Guard` a
/// reload builds, so the counts carry on across reloads.
#[derive(Clone)]
pub struct GuardCounters {
    rrl_dropped: IntCounter,
    rrl_slipped: IntCounter,
    acl_refused: IntCounter,
    acl_dropped: IntCounter,
}

impl GuardCounters {
    pub(crate) fn new(metrics: &crate::Metrics) -> GuardCounters {
        GuardCounters {
            rrl_dropped: metrics.rrl_dropped.clone(),
            rrl_slipped: metrics.rrl_slipped.clone(),
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

    fn rate_limited(&self, verdict: RateVerdict, _: Account) {
        match verdict {
            RateVerdict::Drop => self.rrl_dropped.inc(),
            RateVerdict::Slip => self.rrl_slipped.inc(),
            RateVerdict::Send => {}
        }
    }
}
