//! The retry policy shared by the HTTP sinks: a pure function from an HTTP status (or a
//! transport error) to an action, and capped exponential backoff with full jitter that never
//! sleeps past the invocation deadline. `http::HttpSender` applies them.

use std::time::{Duration, Instant};

/// What to do after one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Done,
    /// Try again, after at least this long when the receiver said so (`Retry-After`).
    Retry(Option<Duration>),
    /// Stop: the request cannot succeed as sent (bad token, bad request, …).
    GiveUp,
    /// The receiver refused the item at `item` (counted from the attempt's first) for good:
    /// it is set aside with `reason`, and the items after it are sent again.
    Refuse {
        item: usize,
        reason: &'static str,
    },
}

/// The longest `Retry-After` honoured; a longer one is clamped (the deadline bounds it anyway).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(900);

/// Connection errors and timeouts, 429, 500, 502, 503 and 504 are retried;
/// every other 4xx/5xx is not (400/401/403 are configuration errors).
pub fn classify(status: Option<u16>, retry_after: Option<&str>) -> Action {
    let after =
        retry_after.and_then(|v| v.trim().parse::<u64>().ok()).map(|s| Duration::from_secs(s).min(MAX_RETRY_AFTER));
    match status {
        None => Action::Retry(None),
        Some(200..=299) => Action::Done,
        Some(429) | Some(503) => Action::Retry(after),
        Some(500) | Some(502) | Some(504) => Action::Retry(None),
        Some(_) => Action::GiveUp,
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { base: Duration::from_millis(200), cap: Duration::from_secs(10) }
    }
}

impl Backoff {
    /// Full jitter: uniform in [0, min(cap, base * 2^attempt)], at least `floor`.
    pub fn delay(&self, attempt: u32, floor: Option<Duration>, unit_random: f64) -> Duration {
        let ceiling = self.base.saturating_mul(1u32 << attempt.min(20)).min(self.cap);
        let jittered = ceiling.mul_f64(unit_random.clamp(0.0, 1.0));
        floor.map_or(jittered, |f| jittered.max(f))
    }

    /// The delay before the next attempt, or `None` when it would end past `deadline`.
    pub fn next(&self, attempt: u32, floor: Option<Duration>, deadline: Instant) -> Option<Duration> {
        let delay = self.delay(attempt, floor, rand::random::<f64>());
        Instant::now().checked_add(delay).is_some_and(|t| t < deadline).then_some(delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_statuses_are_retried() {
        assert_eq!(classify(Some(200), None), Action::Done);
        assert_eq!(classify(None, None), Action::Retry(None));
        assert_eq!(classify(Some(503), Some("7")), Action::Retry(Some(Duration::from_secs(7))));
        assert_eq!(classify(Some(429), Some("soon")), Action::Retry(None));
        assert_eq!(classify(Some(429), Some("18446744073709551615")), Action::Retry(Some(MAX_RETRY_AFTER)));
        for s in [500, 502, 504] {
            assert_eq!(classify(Some(s), None), Action::Retry(None));
        }
        for s in [400, 401, 403, 404, 413, 501] {
            assert_eq!(classify(Some(s), None), Action::GiveUp);
        }
    }

    #[test]
    fn backoff_grows_is_capped_and_respects_the_deadline() {
        let b = Backoff { base: Duration::from_millis(100), cap: Duration::from_secs(1) };
        assert_eq!(b.delay(0, None, 1.0), Duration::from_millis(100));
        assert_eq!(b.delay(3, None, 1.0), Duration::from_millis(800));
        assert_eq!(b.delay(10, None, 1.0), Duration::from_secs(1));
        assert_eq!(b.delay(10, None, 0.0), Duration::ZERO);
        assert_eq!(b.delay(0, Some(Duration::from_secs(2)), 0.5), Duration::from_secs(2));
        assert_eq!(b.next(0, Some(Duration::from_secs(5)), Instant::now() + Duration::from_secs(1)), None);
        assert!(b.next(0, None, Instant::now() + Duration::from_secs(5)).is_some());
    }
}
