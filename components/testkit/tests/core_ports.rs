//! The core's port helpers over the in-memory ports (here rather than in the core's own
//! tests, which cannot use this crate without two copies of the core's types).

use learner_core::ports::shared_secret;
use learner_testkit::{Counter, MemoryKv, TestClock, run};

#[test]
fn a_shared_secret_is_made_once_and_then_read() {
    let clock = TestClock::default();
    let kv = MemoryKv::new(&clock);
    let random = Counter::default();
    let first = run(shared_secret(&kv, &random, "k")).expect("made");
    assert_eq!(run(shared_secret(&kv, &random, "k")), Ok(first));
    assert_ne!(run(shared_secret(&kv, &random, "other")), Ok(first));
}
