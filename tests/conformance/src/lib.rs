//! Port conformance suite.
//!
//! The tests in `tests/` run against a live server whose base URL is given in
//! `LEARNER_BASE_URL`, built with the core's `test-routes` feature. They are written
//! once and run unchanged against every host (`just test` starts each in turn), so
//! every host's ports are held to the same contract (`wit/ports.wit`).

use std::time::Duration;

use serde_json::Value;

/// The server under test, from `LEARNER_BASE_URL`.
pub fn base_url() -> String {
    std::env::var("LEARNER_BASE_URL")
        .map(|url| url.trim_end_matches('/').to_owned())
        .expect("LEARNER_BASE_URL must name the server under test (run through `just test`)")
}

/// An HTTP agent that returns error statuses as responses rather than errors.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// Calls `POST /__test/ports` and returns the JSON answer (`{"ok": …}` or
/// `{"err": …}`); panics on any other status.
pub fn port_call(call: Value) -> Value {
    let mut response = agent()
        .post(format!("{}/__test/ports", base_url()))
        .send_json(&call)
        .expect("server reachable");
    let status = response.status().as_u16();
    let body: Value = response.body_mut().read_json().expect("JSON answer");
    assert_eq!(status, 200, "port call {call} answered {status}: {body}");
    body
}

/// The `ok` part of an answer; panics on `err`.
pub fn ok(call: Value) -> Value {
    let answer = port_call(call.clone());
    match answer.get("ok") {
        Some(value) => value.clone(),
        None => panic!("port call {call} failed: {answer}"),
    }
}

/// The `err` part of an answer; panics on `ok`.
pub fn err(call: Value) -> Value {
    let answer = port_call(call.clone());
    match answer.get("err") {
        Some(value) => value.clone(),
        None => panic!("port call {call} should have failed: {answer}"),
    }
}

/// A key or table name no other test run uses.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{prefix}_{}_{nanos:x}", std::process::id())
}

/// Percent-encodes a value for a query string or form body (unreserved characters
/// kept as they are).
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
