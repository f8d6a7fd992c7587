//! Time from `Date.now()`; randomness from Web Crypto.

use learner_core::ports as core;
use worker::Date;

/// `Date.now()`.
pub struct CfClock;
/// Web Crypto.
pub struct CfRandom;

impl core::Clock for CfClock {
    fn now_ms(&self) -> u64 {
        Date::now().as_millis()
    }
    fn monotonic_ns(&self) -> u64 {
        // Workers expose no finer clock to code; Date.now() only advances across I/O.
        Date::now().as_millis().saturating_mul(1_000_000)
    }
    async fn sleep_ms(&self, ms: u64) {
        worker::Delay::from(std::time::Duration::from_millis(ms)).await;
    }
}

impl core::Random for CfRandom {
    fn fill(&self, buf: &mut [u8]) {
        // getrandom's wasm_js backend calls crypto.getRandomValues in chunks within
        // its 65,536-byte limit; it fails only if that global is missing, and workerd
        // always provides it. Never fall back to weak bytes.
        getrandom::fill(buf).expect("workerd provides crypto.getRandomValues");
    }
}
