//! The key-value port contract: round trips, versions, TTL, compare-and-swap and
//! take-once, including under concurrent callers.

use std::thread;
use std::time::Duration;

use crate::{err, ok, unique};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

fn put(key: &str, value: &[u8], ttl_ms: Option<u64>) -> u64 {
    ok(json!({"port": "key-value", "op": "put", "key": key, "value": B64.encode(value), "ttl_ms": ttl_ms}))
        .as_u64()
        .expect("put returns a version")
}

fn get(key: &str) -> Value {
    ok(json!({"port": "key-value", "op": "get", "key": key}))
}

fn cas_call(key: &str, expected: Option<u64>, value: &[u8]) -> Value {
    json!({"port": "key-value", "op": "compare_and_swap", "key": key,
           "expected": expected, "value": B64.encode(value), "ttl_ms": null})
}

fn take_call(key: &str) -> Value {
    json!({"port": "key-value", "op": "take", "key": key})
}

/// A contract test (run by `port_contract!`).
pub fn put_then_get_returns_the_bytes_and_version() {
    let key = unique("kv_round_trip");
    let value: Vec<u8> = (0..=255u8).collect();
    let version = put(&key, &value, None);
    assert!(version > 0);
    assert_eq!(
        get(&key),
        json!({"value": B64.encode(&value), "version": version})
    );
}

/// A contract test (run by `port_contract!`).
pub fn absent_key_reads_as_none() {
    assert_eq!(get(&unique("kv_absent")), Value::Null);
}

/// A contract test (run by `port_contract!`).
pub fn every_write_increases_the_version() {
    let key = unique("kv_versions");
    let first = put(&key, b"a", None);
    let second = put(&key, b"b", None);
    assert!(second > first, "{second} > {first}");
    assert_eq!(get(&key)["version"], json!(second));
}

/// A contract test (run by `port_contract!`).
pub fn entries_expire_after_their_ttl() {
    let key = unique("kv_ttl");
    let durable = unique("kv_no_ttl");
    put(&key, b"short-lived", Some(1_000));
    put(&durable, b"stays", None);
    assert_eq!(get(&key)["value"], json!(B64.encode(b"short-lived")));
    thread::sleep(Duration::from_secs(2));
    assert_eq!(get(&key), Value::Null, "expired entry still readable");
    assert_eq!(
        ok(take_call(&key)),
        Value::Null,
        "expired entry still takeable"
    );
    assert_eq!(get(&durable)["value"], json!(B64.encode(b"stays")));
    // An expired key counts as absent for compare-and-swap.
    assert!(ok(cas_call(&key, None, b"again")).is_u64());
}

/// A contract test (run by `port_contract!`).
pub fn compare_and_swap_writes_only_at_the_expected_version() {
    let key = unique("kv_cas");
    assert_eq!(
        err(cas_call(&key, Some(1), b"x")),
        json!({"kind": "conflict", "current": null}),
        "CAS on an absent key with a version must conflict"
    );
    let v1 = ok(cas_call(&key, None, b"one")).as_u64().expect("version");
    assert_eq!(
        err(cas_call(&key, None, b"dup")),
        json!({"kind": "conflict", "current": v1}),
        "create-if-absent must conflict when the key exists"
    );
    let v2 = ok(cas_call(&key, Some(v1), b"two"))
        .as_u64()
        .expect("version");
    assert!(v2 > v1);
    assert_eq!(
        err(cas_call(&key, Some(v1), b"stale")),
        json!({"kind": "conflict", "current": v2})
    );
    assert_eq!(
        get(&key),
        json!({"value": B64.encode(b"two"), "version": v2})
    );
}

/// A contract test (run by `port_contract!`).
pub fn take_returns_the_entry_once() {
    let key = unique("kv_take");
    let version = put(&key, b"code", None);
    assert_eq!(
        ok(take_call(&key)),
        json!({"value": B64.encode(b"code"), "version": version})
    );
    assert_eq!(ok(take_call(&key)), Value::Null);
    assert_eq!(get(&key), Value::Null);
}

/// A contract test (run by `port_contract!`).
pub fn delete_reports_whether_a_live_entry_existed() {
    let key = unique("kv_delete");
    put(&key, b"x", None);
    assert_eq!(
        ok(json!({"port": "key-value", "op": "delete", "key": key})),
        json!(true)
    );
    assert_eq!(
        ok(json!({"port": "key-value", "op": "delete", "key": key})),
        json!(false)
    );
    assert_eq!(get(&key), Value::Null);
}

/// A contract test (run by `port_contract!`).
pub fn keys_outside_the_size_limits_are_refused() {
    for key in [String::new(), "k".repeat(513)] {
        let error = err(json!({"port": "key-value", "op": "get", "key": key}));
        assert_eq!(error["kind"], "invalid-argument", "{error}");
    }
    let longest = "k".repeat(512);
    put(&longest, b"fits", None);
    assert_eq!(ok(take_call(&longest))["value"], json!(B64.encode(b"fits")));
}

const CONTENDERS: usize = 12;

/// A contract test (run by `port_contract!`).
pub fn take_under_concurrent_callers_has_exactly_one_winner() {
    for round in 0..3 {
        let key = unique(&format!("kv_take_race_{round}"));
        put(&key, b"single-use", None);
        let winners: usize = thread::scope(|scope| {
            let handles: Vec<_> = (0..CONTENDERS)
                .map(|_| scope.spawn(|| ok(take_call(&key)) != Value::Null))
                .collect();
            handles
                .into_iter()
                .map(|h| usize::from(h.join().expect("thread")))
                .sum()
        });
        assert_eq!(
            winners, 1,
            "round {round}: {winners} callers took the same key"
        );
    }
}

/// A contract test (run by `port_contract!`).
pub fn compare_and_swap_under_concurrent_callers_has_exactly_one_winner() {
    for round in 0..3 {
        let key = unique(&format!("kv_cas_race_{round}"));
        let base = put(&key, b"base", None);
        let outcomes: Vec<Value> = thread::scope(|scope| {
            let handles: Vec<_> = (0..CONTENDERS)
                .map(|i| {
                    let key = &key;
                    scope.spawn(move || {
                        crate::port_call(cas_call(key, Some(base), format!("w{i}").as_bytes()))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread"))
                .collect()
        });
        let winners: Vec<&Value> = outcomes.iter().filter(|o| o.get("ok").is_some()).collect();
        assert_eq!(winners.len(), 1, "round {round}: {outcomes:?}");
        let winning_version = winners[0]["ok"].clone();
        for loser in outcomes.iter().filter(|o| o.get("err").is_some()) {
            assert_eq!(loser["err"]["kind"], "conflict", "{loser}");
        }
        assert_eq!(get(&key)["version"], winning_version);
    }
}

fn add_call(key: &str, delta: i64, ttl_ms: Option<u64>) -> Value {
    json!({"port": "key-value", "op": "add", "key": key, "delta": delta, "ttl_ms": ttl_ms})
}

fn add(key: &str, delta: i64, ttl_ms: Option<u64>) -> u64 {
    ok(add_call(key, delta, ttl_ms))
        .as_u64()
        .expect("add returns a count")
}

/// A contract test (run by `port_contract!`).
pub fn add_counts_from_zero_and_never_below_it() {
    let key = unique("kv_add");
    assert_eq!(add(&key, 1, None), 1);
    assert_eq!(add(&key, 5, None), 6);
    assert_eq!(add(&key, -2, None), 4);
    assert_eq!(add(&key, -10, None), 0, "never below 0");
    // The count is stored as 8 big-endian bytes, at a new version like any write.
    let before = get(&key)["version"].as_u64().expect("a version");
    assert_eq!(add(&key, 3, None), 3);
    let stored = get(&key);
    assert_eq!(stored["value"], B64.encode(3u64.to_be_bytes()));
    assert!(stored["version"].as_u64().expect("a version") > before);
    // A value that is not a counter counts as 0; an expired counter too.
    let other = unique("kv_add_other");
    put(&other, b"text", None);
    assert_eq!(add(&other, 2, None), 2);
    // An expired counter counts from 0 again (waited for: it expires 300 ms after
    // the add, by the host's clock).
    let brief = unique("kv_add_ttl");
    assert_eq!(add(&brief, 7, Some(300)), 7);
    let mut waited = Duration::ZERO;
    while get(&brief) != Value::Null {
        assert!(
            waited < Duration::from_secs(10),
            "the counter never expired"
        );
        thread::sleep(Duration::from_millis(50));
        waited += Duration::from_millis(50);
    }
    assert_eq!(add(&brief, 1, None), 1);
}

/// A contract test (run by `port_contract!`).
pub fn add_under_concurrent_callers_counts_every_call() {
    let key = unique("kv_add_race");
    let counts: Vec<u64> = thread::scope(|scope| {
        let handles: Vec<_> = (0..CONTENDERS)
            .map(|_| scope.spawn(|| add(&key, 1, Some(60_000))))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    // Each caller saw the count after its own add: 1..=n, each once.
    let mut sorted = counts.clone();
    sorted.sort_unstable();
    let expected: Vec<u64> = (1..=CONTENDERS as u64).collect();
    assert_eq!(sorted, expected, "{counts:?}");
    assert_eq!(
        get(&key)["value"],
        B64.encode((CONTENDERS as u64).to_be_bytes())
    );
}

fn wait(key: &str, timeout_ms: u32) -> Value {
    ok(json!({"port": "key-value", "op": "wait", "key": key, "timeout_ms": timeout_ms}))
}

/// A contract test (run by `port_contract!`).
pub fn wait_returns_a_present_entry_at_once_and_none_when_time_is_up() {
    for key in [unique("wait_now"), format!("@{}/wait", unique("partition"))] {
        let version = put(&key, b"here", None);
        let found = wait(&key, 10_000);
        assert_eq!(found["version"], version);
        assert_eq!(found["value"], B64.encode(b"here"));
        assert_eq!(wait(&format!("{key}-absent"), 200), Value::Null);
    }
}

/// A contract test (run by `port_contract!`).
pub fn a_waiter_is_woken_by_a_write_from_another_request() {
    // In a partition (Cloudflare: the object itself wakes it) and outside one.
    for key in [
        unique("wait_later"),
        format!("@{}/event", unique("partition")),
    ] {
        let writer_key = key.clone();
        let writer = thread::spawn(move || {
            thread::sleep(Duration::from_millis(300));
            put(&writer_key, b"arrived", Some(60_000))
        });
        let found = wait(&key, 20_000);
        let version = writer.join().expect("the writer finishes");
        assert_eq!(found["value"], B64.encode(b"arrived"), "{key}");
        assert_eq!(found["version"], version);
    }
}
