//! Rate limits for the OAuth endpoints (per client and per IP): a fixed-window counter
//! per key over the key-value port, moved by the port's atomic `add` so concurrent
//! requests on every instance count exactly. Over the limit: 429 with `Retry-After`.

use learner_core::ports::{KeyValue, KvError};

/// At most `limit` requests per `window_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per window.
    pub limit: u32,
    /// Window length in milliseconds.
    pub window_ms: u64,
}

/// The outcome of counting one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Within the limit; this many more fit in the window.
    Allowed {
        /// Requests left in the window.
        remaining: u32,
    },
    /// Over the limit: retry after this many seconds (the `Retry-After` value).
    Limited {
        /// Seconds until the window ends (at least 1).
        retry_after_s: u64,
    },
}

/// The fixed window `now_ms` falls in, as the counter of one key sees it.
struct Window {
    /// The counter's key.
    counter: String,
    /// Milliseconds from `now_ms` until the window ends.
    remaining_ms: u64,
}

impl Window {
    fn of(key: &str, limit: RateLimit, now_ms: u64) -> Self {
        let window_ms = limit.window_ms.max(1);
        let window = now_ms / window_ms;
        Self {
            counter: format!("rate:{key}:{window}"),
            remaining_ms: (window + 1) * window_ms - now_ms,
        }
    }

    /// The counter outlives its window a little so late readers still see it.
    fn ttl_ms(&self) -> u64 {
        self.remaining_ms + 1_000
    }
}

/// Counts one request against `limit` for `key` (e.g. `token:ip:203.0.113.7`), at
/// `now_ms`. One atomic add: concurrent requests each get their own count, however
/// many arrive at once (a busy school behind one address). A request over the limit
/// takes its count back, so refused requests do not hold the window shut.
pub async fn check<K: KeyValue>(
    kv: &K,
    key: &str,
    limit: RateLimit,
    now_ms: u64,
) -> Result<Decision, KvError> {
    let window = Window::of(key, limit, now_ms);
    let count = kv.add(&window.counter, 1, Some(window.ttl_ms())).await?;
    if count > u64::from(limit.limit) {
        // Best effort: a failed take-back leaves the count one higher (safe side).
        let _ = kv.add(&window.counter, -1, Some(window.ttl_ms())).await;
        return Ok(Decision::Limited {
            retry_after_s: window.remaining_ms.div_ceil(1_000).max(1),
        });
    }
    Ok(Decision::Allowed {
        remaining: u32::try_from(u64::from(limit.limit) - count).unwrap_or(0),
    })
}

/// Takes back one counted request for `key` in the window of `now_ms` (an attempt that
/// turned out not to be what the limit is about, such as a sign-in that succeeded). The
/// count never goes below zero.
pub async fn refund<K: KeyValue>(
    kv: &K,
    key: &str,
    limit: RateLimit,
    now_ms: u64,
) -> Result<(), KvError> {
    let window = Window::of(key, limit, now_ms);
    kv.add(&window.counter, -1, Some(window.ttl_ms()))
        .await
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use learner_testkit::{MemoryKv, TestClock, run};

    fn per(limit: u32, window_ms: u64) -> RateLimit {
        RateLimit { limit, window_ms }
    }

    fn clock_at(now_ms: u64) -> TestClock {
        let clock = TestClock::default();
        clock.0.set(now_ms);
        clock
    }

    /// Counts one request and returns the decision.
    fn decide(kv: &MemoryKv<'_>, key: &str, limit: RateLimit, now_ms: u64) -> Decision {
        run(check(kv, key, limit, now_ms)).unwrap()
    }

    #[test]
    fn requests_over_the_limit_wait_for_the_next_window() {
        let now = 1_800_000_000_000 + 15_000; // 15 s into a window (the epoch is minute-aligned).
        let clock = clock_at(now);
        let kv = MemoryKv::new(&clock);
        let limit = per(3, 60_000);
        for expected in [
            Decision::Allowed { remaining: 2 },
            Decision::Allowed { remaining: 1 },
            Decision::Allowed { remaining: 0 },
            Decision::Limited { retry_after_s: 45 },
        ] {
            assert_eq!(decide(&kv, "ip:a", limit, now), expected);
        }
        // Other keys have their own budget.
        assert_eq!(
            decide(&kv, "ip:b", limit, now),
            Decision::Allowed { remaining: 2 }
        );
        // The next window starts afresh.
        let later = now + 45_000;
        clock.0.set(later);
        assert_eq!(
            decide(&kv, "ip:a", limit, later),
            Decision::Allowed { remaining: 2 }
        );
    }

    #[test]
    fn retry_after_is_at_least_one_second() {
        let now = 1_800_000_000_999;
        let clock = clock_at(now);
        let kv = MemoryKv::new(&clock);
        assert_eq!(
            decide(&kv, "k", per(0, 1_000), now),
            Decision::Limited { retry_after_s: 1 }
        );
    }

    #[test]
    fn a_refund_takes_back_one_count_and_never_goes_below_zero() {
        let clock = TestClock::default();
        let kv = MemoryKv::new(&clock);
        let limit = per(2, 60_000);
        let now = 1_800_000_000_000;
        run(refund(&kv, "u", limit, now)).unwrap();
        for _ in 0..5 {
            assert!(matches!(
                decide(&kv, "u", limit, now),
                Decision::Allowed { .. }
            ));
            run(refund(&kv, "u", limit, now)).unwrap();
        }
        decide(&kv, "u", limit, now);
        decide(&kv, "u", limit, now);
        assert!(matches!(
            decide(&kv, "u", limit, now),
            Decision::Limited { .. }
        ));
        run(refund(&kv, "u", limit, now)).unwrap();
        assert_eq!(
            decide(&kv, "u", limit, now),
            Decision::Allowed { remaining: 0 }
        );
    }
}
