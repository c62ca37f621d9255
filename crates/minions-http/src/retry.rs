//! When and how long to wait before trying again.

use std::time::Duration;

/// How failed requests are retried.
///
/// Which errors are retryable is decided by
/// [`minions_core::Error::is_retryable`]; this policy decides how many times
/// and how long to wait.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included. `1` disables retries.
    pub max_attempts: u32,
    /// Wait before the first retry, when the server did not say.
    pub initial_backoff: Duration,
    /// Upper bound of one computed wait.
    pub max_backoff: Duration,
    /// Growth of the wait from one retry to the next.
    pub multiplier: f64,
    /// The longest `Retry-After` we honour. A server asking for more (a daily
    /// quota, say) gets no retry: the error goes straight to the user, who is
    /// better placed to decide.
    pub max_retry_after: Duration,
    /// Randomise computed waits (half fixed, half random), so that many
    /// clients failing together do not retry in lockstep.
    pub jitter: bool,
    /// Keep retrying, whatever `max_attempts` says, until this long after
    /// the first attempt began, once the server has been reached: a local
    /// server that restarts or loads its model answers 503 (or refuses
    /// connections) for longer than a few quick attempts last. `None` bounds
    /// retries by attempts alone. See [`RetryPolicy::for_local_server`].
    pub retry_window: Option<Duration>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(20),
            multiplier: 2.0,
            max_retry_after: Duration::from_secs(60),
            jitter: true,
            retry_window: None,
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The policy for a model server on the user's side (llama.cpp, Ollama,
    /// vLLM): the usual attempts, and past them, retries for up to `window`
    /// after the first attempt once the server has answered at all, with
    /// waits of at most 4 s, so that a restart is bridged and noticed soon.
    /// A zero window keeps the usual attempts only.
    pub fn for_local_server(window: Duration) -> Self {
        Self {
            max_backoff: Duration::from_secs(4),
            retry_window: (!window.is_zero()).then_some(window),
            ..Self::default()
        }
    }

    /// How long to wait before retry number `retry`, `elapsed` after the
    /// first attempt began, or `None` to give up. Within the retry window
    /// (when `windowed` says it applies: the server was reached), attempts
    /// are not counted, and no wait runs past the window's end.
    pub fn delay_within(
        &self,
        retry: u32,
        retry_after: Option<Duration>,
        elapsed: Duration,
        windowed: bool,
    ) -> Option<Duration> {
        match self.retry_window {
            Some(window) if windowed => {
                let left = window.checked_sub(elapsed).filter(|d| !d.is_zero())?;
                let unbounded = Self {
                    max_attempts: u32::MAX,
                    ..self.clone()
                };
                let delay = unbounded.delay_before(retry, retry_after)?;
                Some(delay.min(left))
            }
            _ => self.delay_before(retry, retry_after),
        }
    }

    /// The computed wait before retry number `retry` (1 for the first retry),
    /// before jitter: `initial * multiplier^(retry-1)`, capped.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exponent = retry.saturating_sub(1).min(63) as i32;
        let secs = self.initial_backoff.as_secs_f64() * self.multiplier.max(1.0).powi(exponent);
        let capped = secs.min(self.max_backoff.as_secs_f64());
        Duration::from_secs_f64(capped.max(0.0))
    }

    /// How long to wait before retry number `retry` after an attempt that
    /// failed with a retryable error, or `None` to give up.
    ///
    /// A server's `Retry-After` is honoured as given (no jitter: the server
    /// knows when it will be ready), unless it exceeds `max_retry_after`.
    pub fn delay_before(&self, retry: u32, retry_after: Option<Duration>) -> Option<Duration> {
        if retry >= self.max_attempts {
            return None;
        }
        if let Some(wait) = retry_after {
            return (wait <= self.max_retry_after).then_some(wait);
        }
        let backoff = self.backoff(retry);
        if !self.jitter {
            return Some(backoff);
        }
        let half = backoff / 2;
        Some(half + half.mul_f64(fastrand::f64()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.backoff(1), Duration::from_millis(500));
        assert_eq!(policy.backoff(2), Duration::from_secs(1));
        assert_eq!(policy.backoff(3), Duration::from_secs(2));
        assert_eq!(policy.backoff(10), Duration::from_secs(20));
        assert_eq!(policy.backoff(u32::MAX), Duration::from_secs(20));
    }

    #[test]
    fn jitter_stays_within_half_and_full_backoff() {
        let policy = RetryPolicy::default();
        for _ in 0..100 {
            let delay = policy.delay_before(3, None).unwrap();
            assert!(
                delay >= Duration::from_secs(1) && delay <= Duration::from_secs(2),
                "{delay:?}"
            );
        }
    }

    #[test]
    fn retry_after_is_honoured_within_the_cap() {
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.delay_before(1, Some(Duration::from_secs(2))),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            policy.delay_before(1, Some(Duration::from_secs(3600))),
            None
        );
    }

    #[test]
    fn attempts_are_bounded() {
        let policy = RetryPolicy {
            max_attempts: 3,
            ..RetryPolicy::default()
        };
        assert!(policy.delay_before(1, None).is_some());
        assert!(policy.delay_before(2, None).is_some());
        assert!(policy.delay_before(3, None).is_none());
        assert!(RetryPolicy::none().delay_before(1, None).is_none());
    }

    #[test]
    fn a_local_server_gets_its_window_once_reached() {
        let policy = RetryPolicy::for_local_server(Duration::from_secs(30));
        let early = Duration::from_secs(1);
        // Past the usual five attempts, within the window: go on.
        let delay = policy.delay_within(20, None, early, true).unwrap();
        assert!(delay <= Duration::from_secs(4), "{delay:?}");
        // Never reached: the usual attempts only.
        assert!(policy.delay_within(20, None, early, false).is_none());
        assert!(policy.delay_within(1, None, early, false).is_some());
        // No wait runs past the window, and none starts after it.
        let late = Duration::from_millis(29_900);
        assert!(policy.delay_within(20, None, late, true).unwrap() <= Duration::from_millis(100));
        assert!(
            policy
                .delay_within(20, None, Duration::from_secs(30), true)
                .is_none()
        );
        // A zero window is no window.
        let off = RetryPolicy::for_local_server(Duration::ZERO);
        assert!(off.delay_within(20, None, early, true).is_none());
    }
}
