//! Rate limits for the OAuth endpoints (per client and per IP): a fixed-window counter
//! per key over the key-value port, incremented by compare-and-swap so concurrent
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

/// Compare-and-swap attempts before giving up under contention; then the request is
/// refused (fail closed) with a one-second retry.
const MAX_ATTEMPTS: usize = 8;

/// Counts one request against `limit` for `key` (e.g. `token:ip:203.0.113.7`), at
/// `now_ms`.
pub async fn check<K: KeyValue>(
    kv: &K,
    key: &str,
    limit: RateLimit,
    now_ms: u64,
) -> Result<Decision, KvError> {
    let window_ms = limit.window_ms.max(1);
    let window = now_ms / window_ms;
    let window_end = (window + 1) * window_ms;
    let retry_after_s = (window_end - now_ms).div_ceil(1_000).max(1);
    let counter = format!("rate:{key}:{window}");
    for _ in 0..MAX_ATTEMPTS {
        let current = kv.get(&counter).await?;
        let count = current
            .as_ref()
            .and_then(|e| <[u8; 4]>::try_from(e.value.as_slice()).ok())
            .map_or(0, u32::from_be_bytes);
        if count >= limit.limit {
            return Ok(Decision::Limited { retry_after_s });
        }
        let next = (count + 1).to_be_bytes();
        // The counter outlives its window a little so late readers still see it.
        let ttl = window_end - now_ms + 1_000;
        match kv
            .compare_and_swap(&counter, current.map(|e| e.version), &next, Some(ttl))
            .await
        {
            Ok(_) => {
                return Ok(Decision::Allowed {
                    remaining: limit.limit - count - 1,
                });
            }
            Err(KvError::Conflict(_)) => {}
            Err(other) => return Err(other),
        }
    }
    Ok(Decision::Limited { retry_after_s: 1 })
}

/// Takes back one counted request for `key` in the window of `now_ms` (an attempt that
/// turned out not to be what the limit is about, such as a sign-in that succeeded). The
/// count never goes below zero; a lost race is retried like [`check`].
pub async fn refund<K: KeyValue>(
    kv: &K,
    key: &str,
    limit: RateLimit,
    now_ms: u64,
) -> Result<(), KvError> {
    let window_ms = limit.window_ms.max(1);
    let window = now_ms / window_ms;
    let counter = format!("rate:{key}:{window}");
    for _ in 0..MAX_ATTEMPTS {
        let Some(current) = kv.get(&counter).await? else {
            return Ok(());
        };
        let count = <[u8; 4]>::try_from(current.value.as_slice()).map_or(0, u32::from_be_bytes);
        if count == 0 {
            return Ok(());
        }
        let ttl = (window + 1) * window_ms - now_ms + 1_000;
        match kv
            .compare_and_swap(
                &counter,
                Some(current.version),
                &(count - 1).to_be_bytes(),
                Some(ttl),
            )
            .await
        {
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

    #[test]
    fn requests_over_the_limit_wait_for_the_next_window() {
        let clock = TestClock::default();
        let kv = MemoryKv::new(&clock);
        let limit = RateLimit {
            limit: 3,
            window_ms: 60_000,
        };
        let now = 1_800_000_000_000 + 15_000; // 15 s into a window (the epoch is minute-aligned).
        clock.0.set(now);
        assert_eq!(
            run(check(&kv, "ip:a", limit, now)).unwrap(),
            Decision::Allowed { remaining: 2 }
        );
        assert_eq!(
            run(check(&kv, "ip:a", limit, now)).unwrap(),
            Decision::Allowed { remaining: 1 }
        );
        assert_eq!(
            run(check(&kv, "ip:a", limit, now)).unwrap(),
            Decision::Allowed { remaining: 0 }
        );
        assert_eq!(
            run(check(&kv, "ip:a", limit, now)).unwrap(),
            Decision::Limited { retry_after_s: 45 }
        );
        // Other keys have their own budget.
        assert_eq!(
            run(check(&kv, "ip:b", limit, now)).unwrap(),
            Decision::Allowed { remaining: 2 }
        );
        // The next window starts afresh.
        let later = now + 45_000;
        clock.0.set(later);
        assert_eq!(
            run(check(&kv, "ip:a", limit, later)).unwrap(),
            Decision::Allowed { remaining: 2 }
        );
    }

    #[test]
    fn retry_after_is_at_least_one_second() {
        let clock = TestClock::default();
        let kv = MemoryKv::new(&clock);
        let limit = RateLimit {
            limit: 0,
            window_ms: 1_000,
        };
        let now = 1_800_000_000_999;
        clock.0.set(now);
        assert_eq!(
            run(check(&kv, "k", limit, now)).unwrap(),
            Decision::Limited { retry_after_s: 1 }
        );
    }

    #[test]
    fn a_refund_takes_back_one_count_and_never_goes_below_zero() {
        let clock = TestClock::default();
        let kv = MemoryKv::new(&clock);
        let limit = RateLimit {
            limit: 2,
            window_ms: 60_000,
        };
        let now = 1_800_000_000_000;
        run(refund(&kv, "u", limit, now)).unwrap();
        for _ in 0..5 {
            assert!(matches!(
                run(check(&kv, "u", limit, now)).unwrap(),
                Decision::Allowed { .. }
            ));
            run(refund(&kv, "u", limit, now)).unwrap();
        }
        run(check(&kv, "u", limit, now)).unwrap();
        run(check(&kv, "u", limit, now)).unwrap();
        assert!(matches!(
            run(check(&kv, "u", limit, now)).unwrap(),
            Decision::Limited { .. }
        ));
        run(refund(&kv, "u", limit, now)).unwrap();
        assert_eq!(
            run(check(&kv, "u", limit, now)).unwrap(),
            Decision::Allowed { remaining: 0 }
        );
    }
}
