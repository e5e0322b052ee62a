//! Retry pacing: exponential backoff with jitter and a cap, reset on success.
//!
//! Each failure doubles the step, from `first` up to `cap`; the wait is a random point in the
//! upper half of the step ("equal jitter"), so replicas that failed together do not retry
//! together, and a wait is never shorter than half its step. The random source is injected
//! ([`Jitter`]), so tests are deterministic.

use std::time::Duration;

/// Where the jitter comes from: a fraction in `[0, 1)` per wait.
pub trait Jitter {
    fn fraction(&mut self) -> f64;
}

/// The thread's random generator, for real use.
#[derive(Clone, Copy, Debug, Default)]
pub struct Random;

impl Jitter for Random {
    fn fraction(&mut self) -> f64 {
        rand::random::<f64>()
    }
}

/// Any closure giving fractions, for tests.
impl<F: FnMut() -> f64> Jitter for F {
    fn fraction(&mut self) -> f64 {
        self()
    }
}

/// How waits grow: the first step and the largest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pacing {
    pub first: Duration,
    pub cap: Duration,
}

impl Pacing {
    /// For a primary that is unreachable, slow or failing (SERVFAIL): 1 s, doubling to 60 s.
    pub const TRANSIENT: Pacing = Pacing {
        first: Duration::from_secs(1),
        cap: Duration::from_secs(60),
    };
    /// For a primary that refuses (REFUSED, NOTAUTH, a TSIG error): nothing changes until its
    /// config or kubezone's does, so retried slowly: 30 s, doubling to 10 min.
    pub const REFUSED: Pacing = Pacing {
        first: Duration::from_secs(30),
        cap: Duration::from_secs(600),
    };
}

/// The waits between attempts of one thing (one zone's pushes to its primary).
#[derive(Clone, Debug)]
pub struct Backoff<J = Random> {
    pacing: Pacing,
    jitter: J,
    /// Failures since the last success.
    failures: u32,
}

impl Backoff<Random> {
    pub fn new(pacing: Pacing) -> Backoff<Random> {
        Backoff::with_jitter(pacing, Random)
    }
}

impl<J: Jitter> Backoff<J> {
    pub fn with_jitter(pacing: Pacing, jitter: J) -> Backoff<J> {
        Backoff {
            pacing,
            jitter,
            failures: 0,
        }
    }

    /// Counts a failure and returns how long to wait before the next attempt.
    pub fn failed(&mut self) -> Duration {
        let step = self.step();
        self.failures = self.failures.saturating_add(1);
        let fraction = self.jitter.fraction();
        // A source out of range (or NaN) is held to it rather than trusted.
        let fraction = if fraction.is_finite() {
            fraction.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let half = step / 2;
        half + half.mul_f64(fraction)
    }

    /// After a success: the next failure waits the first step again.
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    /// Failures since the last success, for `/readyz?verbose` and metrics.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// The step of the next failure: `first` doubled once per failure so far, at most `cap`.
    fn step(&self) -> Duration {
        let first = self.pacing.first.min(self.pacing.cap);
        // 2^31 times any first step passes any cap: no need to double further.
        let doublings = self.failures.min(31);
        first
            .checked_mul(1 << doublings)
            .map_or(self.pacing.cap, |step| step.min(self.pacing.cap))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn steps_double_from_the_first_to_the_cap() {
        let mut backoff = Backoff::with_jitter(Pacing::TRANSIENT, || 1.0);
        let waits: Vec<Duration> = (0..9).map(|_| backoff.failed()).collect();
        let expected: Vec<Duration> = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]
            .into_iter()
            .map(secs)
            .collect();
        assert_eq!(waits, expected);
        assert_eq!(backoff.failures(), 9);
    }

    #[test]
    fn jitter_picks_a_point_in_the_upper_half_of_the_step() {
        let fractions = [0.0, 0.5, 0.25];
        let mut next = fractions.into_iter().cycle();
        let mut backoff =
            Backoff::with_jitter(Pacing::TRANSIENT, move || next.next().unwrap_or(0.0));
        assert_eq!(backoff.failed(), secs(0.5));
        assert_eq!(backoff.failed(), secs(1.5));
        assert_eq!(backoff.failed(), secs(2.5));

        // The real source stays within the half too.
        let mut backoff = Backoff::new(Pacing::REFUSED);
        for step in [30.0, 60.0, 120.0, 240.0, 480.0, 600.0, 600.0] {
            let wait = backoff.failed();
            assert!(
                wait >= secs(step / 2.0) && wait <= secs(step),
                "{wait:?} for a step of {step} s"
            );
        }
    }

    #[test]
    fn a_success_starts_over() {
        let mut backoff = Backoff::with_jitter(Pacing::TRANSIENT, || 1.0);
        for _ in 0..5 {
            backoff.failed();
        }
        backoff.reset();
        assert_eq!(backoff.failures(), 0);
        assert_eq!(backoff.failed(), secs(1.0));
        assert_eq!(backoff.failed(), secs(2.0));
    }

    #[test]
    fn many_failures_and_odd_sources_stay_within_bounds() {
        let mut backoff = Backoff::with_jitter(Pacing::TRANSIENT, || f64::NAN);
        for _ in 0..100 {
            backoff.failed();
        }
        assert_eq!(backoff.failed(), secs(30.0), "NaN counts as 0");
        let mut backoff = Backoff::with_jitter(Pacing::TRANSIENT, || 7.0);
        assert_eq!(backoff.failed(), secs(1.0), "held to 1");
        // A first step above the cap is the cap.
        let pacing = Pacing {
            first: Duration::from_secs(90),
            cap: Duration::from_secs(60),
        };
        let mut backoff = Backoff::with_jitter(pacing, || 1.0);
        assert_eq!(backoff.failed(), secs(60.0));
        assert_eq!(backoff.failed(), secs(60.0));
    }
}
