//! When each change is due: `changesPerSecond` spread evenly over every second, counted from
//! the moment the first state was sent, so a slow writer delays changes but never thins them.

use std::time::Duration;

const NANOS_PER_SECOND: u128 = 1_000_000_000;

/// The schedule of `per_second` changes a second: change `k` (counting from 1) is due `k / R`
/// seconds after the start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Pace {
    per_second: u32,
}

impl Pace {
    pub(super) fn new(per_second: u32) -> Pace {
        Pace { per_second }
    }

    /// How long after the start change `k` (from 1) is due; `None` when nothing ever is.
    pub(super) fn due(self, k: u64) -> Option<Duration> {
        if self.per_second == 0 {
            return None;
        }
        let nanos = u128::from(k) * NANOS_PER_SECOND / u128::from(self.per_second);
        // Past u64 nanoseconds (585 years) nothing is due in a run.
        Some(Duration::from_nanos(
            u64::try_from(nanos).unwrap_or(u64::MAX),
        ))
    }

    /// How many changes are due `elapsed` after the start.
    pub(super) fn due_by(self, elapsed: Duration) -> u64 {
        let count = elapsed.as_nanos() * u128::from(self.per_second) / NANOS_PER_SECOND;
        u64::try_from(count).unwrap_or(u64::MAX)
    }

    /// The most changes sent at once after a stall: one second's worth, so catching up never
    /// builds a batch larger than the rate asked for.
    pub(super) fn batch_limit(self) -> u64 {
        u64::from(self.per_second.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_spread_evenly_over_each_second() {
        let pace = Pace::new(10);
        assert_eq!(pace.due(1), Some(Duration::from_millis(100)));
        assert_eq!(pace.due(10), Some(Duration::from_secs(1)));
        assert_eq!(pace.due(25), Some(Duration::from_millis(2500)));
        // A simulated clock, read every millisecond for three seconds: the count due rises by
        // exactly one every 100 ms, and each change becomes due at its own time.
        let mut last = 0;
        for ms in 0..=3000u64 {
            let due = pace.due_by(Duration::from_millis(ms));
            assert_eq!(due, ms / 100, "at {ms} ms");
            if due > last {
                assert_eq!(
                    pace.due(due),
                    Some(Duration::from_millis(ms)),
                    "change {due}"
                );
                last = due;
            }
        }
        assert_eq!(last, 30);
    }

    #[test]
    fn rates_that_do_not_divide_a_second_keep_the_count() {
        let pace = Pace::new(3);
        assert_eq!(pace.due_by(Duration::from_millis(333)), 0);
        assert_eq!(pace.due_by(Duration::from_millis(334)), 1);
        assert_eq!(pace.due_by(Duration::from_secs(1)), 3);
        assert_eq!(pace.due_by(Duration::from_secs(100)), 300);
        let fast = Pace::new(100_000);
        assert_eq!(fast.due_by(Duration::from_secs(1)), 100_000);
        assert_eq!(fast.due(1), Some(Duration::from_micros(10)));
    }

    #[test]
    fn a_still_source_has_nothing_due() {
        let pace = Pace::new(0);
        assert_eq!(pace.due(1), None);
        assert_eq!(pace.due_by(Duration::from_secs(3600)), 0);
        assert_eq!(pace.batch_limit(), 1);
    }
}
