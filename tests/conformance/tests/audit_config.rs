//! The audit and config port contracts.

use port_conformance::{ok, unique};
use serde_json::{Value, json};

#[test]
fn appended_records_read_back_in_sequence() {
    let kind = unique("conformance.audit");
    let mut sequences = Vec::new();
    for i in 0..3u64 {
        let sequence = ok(
            json!({"port": "audit", "op": "append", "at_ms": 1_700_000_000_000u64 + i,
            "kind": kind, "actor": "tester", "outcome": if i == 1 { "denied" } else { "allowed" },
            "detail_json": format!("{{\"i\":{i}}}")}),
        );
        sequences.push(sequence.as_u64().expect("sequence"));
    }
    assert!(sequences.windows(2).all(|w| w[1] > w[0]), "{sequences:?}");
    let entries =
        ok(json!({"port": "audit", "op": "read", "after": sequences[0] - 1, "limit": 1000}));
    let ours: Vec<&Value> = entries
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["kind"] == json!(kind))
        .collect();
    assert_eq!(ours.len(), 3);
    assert_eq!(
        ours[1],
        &json!({"sequence": sequences[1], "at_ms": 1_700_000_000_001u64, "kind": kind,
                "actor": "tester", "outcome": "denied", "detail_json": "{\"i\":1}"})
    );
    let limited = ok(json!({"port": "audit", "op": "read", "after": sequences[0], "limit": 1}));
    assert_eq!(limited.as_array().map(Vec::len), Some(1));
    assert_eq!(limited[0]["sequence"], json!(sequences[1]));
}

#[test]
fn config_values_and_secrets_are_read_by_name() {
    let host = ok(json!({"port": "config", "op": "get", "name": "host.name"}));
    assert!(host.as_str().is_some_and(|h| !h.is_empty()), "{host}");
    assert_eq!(
        ok(json!({"port": "config", "op": "get", "name": "no.such.setting"})),
        Value::Null
    );
    assert_eq!(
        ok(json!({"port": "config", "op": "secret", "name": "conformance-secret"})),
        json!("conformance-secret-value"),
        "hosts under test are started with this secret"
    );
    assert_eq!(
        ok(json!({"port": "config", "op": "secret", "name": "no-such-secret"})),
        Value::Null
    );
    // A secret is not readable as a plain value.
    assert_eq!(
        ok(json!({"port": "config", "op": "get", "name": "conformance-secret"})),
        Value::Null
    );
}
