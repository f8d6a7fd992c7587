//! The audit and config port contracts.

use crate::{ok, unique};
use learner_core::audit_chain::{self, Verifier};
use learner_core::ports::{AuditEntry, AuditRecord};
use serde_json::{Value, json};

/// A contract test (run by `port_contract!`).
pub fn appended_records_read_back_in_sequence() {
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
    let mut second = ours[1].clone();
    let (prev_hash, hash) = (second["prev_hash"].take(), second["hash"].take());
    assert_eq!(
        second,
        json!({"sequence": sequences[1], "at_ms": 1_700_000_000_001u64, "kind": kind,
                "actor": "tester", "outcome": "denied", "detail_json": "{\"i\":1}",
                "prev_hash": null, "hash": null})
    );
    let record = AuditRecord {
        at_ms: 1_700_000_000_001,
        kind: kind.clone(),
        actor: "tester".into(),
        outcome: "denied".into(),
        detail_json: "{\"i\":1}".into(),
    };
    assert_eq!(
        hash.as_str(),
        Some(
            audit_chain::link(
                prev_hash.as_str().expect("prev_hash"),
                sequences[1],
                &record
            )
            .as_str()
        )
    );
    let limited = ok(json!({"port": "audit", "op": "read", "after": sequences[0], "limit": 1}));
    assert_eq!(limited.as_array().map(Vec::len), Some(1));
    assert_eq!(limited[0]["sequence"], json!(sequences[1]));
}

/// Everything every suite appended on this host so far (OAuth decisions, privacy
/// decisions, the tests' own records) forms one unbroken chain from the first entry.
/// A contract test (run by `port_contract!`).
pub fn the_whole_trail_is_one_unbroken_hash_chain() {
    ok(
        json!({"port": "audit", "op": "append", "at_ms": 1_700_000_000_000u64,
        "kind": unique("conformance.chain"), "actor": "tester", "outcome": "allowed",
        "detail_json": "{}"}),
    );
    let mut verifier = Verifier::new();
    loop {
        let page =
            ok(json!({"port": "audit", "op": "read", "after": verifier.verified(), "limit": 500}));
        let page = page.as_array().expect("entries");
        if page.is_empty() {
            break;
        }
        for entry in page {
            let entry = AuditEntry {
                sequence: entry["sequence"].as_u64().expect("sequence"),
                record: AuditRecord {
                    at_ms: entry["at_ms"].as_u64().expect("at_ms"),
                    kind: entry["kind"].as_str().expect("kind").into(),
                    actor: entry["actor"].as_str().expect("actor").into(),
                    outcome: entry["outcome"].as_str().expect("outcome").into(),
                    detail_json: entry["detail_json"].as_str().expect("detail").into(),
                },
                prev_hash: entry["prev_hash"].as_str().expect("prev_hash").into(),
                hash: entry["hash"].as_str().expect("hash").into(),
            };
            if let Err(broken) = verifier.check(&entry) {
                panic!("the chain breaks: {broken}");
            }
        }
    }
    assert!(verifier.verified() >= 1);
}

/// A contract test (run by `port_contract!`).
pub fn config_values_and_secrets_are_read_by_name() {
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
