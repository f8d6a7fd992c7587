//! Rate limits for the OAuth endpoints (per client and per IP): a fixed-window counter
//! per key over the key-value port, incremented by compare-and-swap so concurrent
//! requests on every instance count exactly. Over the limit: 429 with `Retry-After`.

use learner_core::ports::{KeyValue, KvEntry, KvError};

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

/// Compare-and-swap attempts before giving up under contention; then the request is
/// refused (fail closed) with a one-second retry. Between attempts the caller's `pause`
/// waits a little (a random, growing delay): without it, many concurrent requests from
/// one address (a busy school behind one NAT) kept colliding on their counter until
/// some were refused while far under the limit.
const MAX_ATTEMPTS: usize = 16;

/// The longest pause between attempts, in milliseconds.
pub const MAX_PAUSE_MS: u64 = 32;

/// How long to pause after `attempt` failed attempts (1, 2, …) given a random `draw`:
/// uniformly up to 2^attempt ms, at most [`MAX_PAUSE_MS`].
pub fn pause_ms(attempt: usize, draw: u64) -> u64 {
    let ceiling = 1u64
        .checked_shl(u32::try_from(attempt).unwrap_or(u32::MAX))
        .unwrap_or(u64::MAX)
        .min(MAX_PAUSE_MS);
    draw % (ceiling + 1)
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

/// The count a counter entry holds (0 if it is not one).
fn count(entry: &KvEntry) -> u32 {
    <[u8; 4]>::try_from(entry.value.as_slice()).map_or(0, u32::from_be_bytes)
}

/// Counts one request against `limit` for `key` (e.g. `token:ip:203.0.113.7`), at
/// `now_ms`; `pause(attempt)` waits between attempts that lost a race (see
/// [`pause_ms`]).
pub async fn check<K: KeyValue, P: Future<Output = ()>>(
    kv: &K,
    key: &str,
    limit: RateLimit,
    now_ms: u64,
    pause: impl Fn(usize) -> P,
) -> Result<Decision, KvError> {
    let window = Window::of(key, limit, now_ms);
    let retry_after_s = window.remaining_ms.div_ceil(1_000).max(1);
    for attempt in 1..=MAX_ATTEMPTS {
        let current = kv.get(&window.counter).await?;
        let count = current.as_ref().map_or(0, count);
        if count >= limit.limit {
            return Ok(Decision::Limited { retry_after_s });
        }
        let next = (count + 1).to_be_bytes();
        match kv
            .compare_and_swap(
                &window.counter,
                current.map(|e| e.version),
                &next,
                Some(window.ttl_ms()),
            )
            .await
        {
            Ok(_) => {
                return Ok(Decision::Allowed {
                    remaining: limit.limit - count - 1,
                });
            }
            Err(KvError::Conflict(_)) if attempt < MAX_ATTEMPTS => pause(attempt).await,
            Err(KvError::Conflict(_)) => {}
            Err(other) => return Err(other),
        }
    }
    Ok(Decision::Limited { retry_after_s: 1 })
}

/// Takes back one counted request for `key` in the window of `now_ms` (an attempt that
/// turned out not to be what the limit is about, such as a sign-in that succeeded). The
/// count never goes below zero; a lost race is retried like [`check`].
pub async fn refund<K: KeyValue, P: Future<Output = ()>>(
    kv: &K,
    key: &str,
    limit: RateLimit,
    now_ms: u64,
    pause: impl Fn(usize) -> P,
) -> Result<(), KvError> {
    let window = Window::of(key, limit, now_ms);
    for attempt in 1..=MAX_ATTEMPTS {
        let Some(current) = kv.get(&window.counter).await? else {
            return Ok(());
        };
        let count = count(&current);
        if count == 0 {
            return Ok(());
        }
        match kv
            .compare_and_swap(
                &window.counter,
                Some(current.version),
                &(count - 1).to_be_bytes(),
                Some(window.ttl_ms()),
            )
            .await
        {
            Err(KvError::Conflict(_)) if attempt < MAX_ATTEMPTS => pause(attempt).await,
            Err(KvError::Conflict(_)) => {}
            other => return other.map(|_| ()),
        }
    }
    Err(KvError::Conflict(None))
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
        run(check(kv, key, limit, now_ms, |_| async {})).unwrap()
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
    fn pauses_grow_with_the_attempts_up_to_a_bound() {
        // Drawn uniformly from 0..=2^attempt, capped.
        assert_eq!(pause_ms(1, 5), 5 % 3);
        assert_eq!(pause_ms(3, 8), 8);
        assert_eq!(pause_ms(3, 9), 0);
        for attempt in [5, 6, 15, 64, usize::MAX] {
            assert!(pause_ms(attempt, u64::MAX) <= MAX_PAUSE_MS);
            assert_eq!(pause_ms(attempt, MAX_PAUSE_MS), MAX_PAUSE_MS);
        }
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
        run(refund(&kv, "u", limit, now, |_| async {})).unwrap();
        for _ in 0..5 {
            assert!(matches!(
                decide(&kv, "u", limit, now),
                Decision::Allowed { .. }
            ));
            run(refund(&kv, "u", limit, now, |_| async {})).unwrap();
        }
        decide(&kv, "u", limit, now);
        decide(&kv, "u", limit, now);
        assert!(matches!(
            decide(&kv, "u", limit, now),
            Decision::Limited { .. }
        ));
        run(refund(&kv, "u", limit, now, |_| async {})).unwrap();
        assert_eq!(
            decide(&kv, "u", limit, now),
            Decision::Allowed { remaining: 0 }
        );
    }
}
