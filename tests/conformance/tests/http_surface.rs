//! What every host's HTTP surface does before any feature: health, errors, limits.

use learner_conformance::{agent, base_url, get, header, strict_url};
use serde_json::{Value, json};

fn json_body(response: &mut ureq::http::Response<ureq::Body>) -> Value {
    response.body_mut().read_json().expect("JSON body")
}

#[test]
fn healthz_reports_version_and_port_round_trips() {
    let mut response = get("/healthz");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body = json_body(&mut response);
    assert_eq!(body["status"], "ok", "{body}");
    assert_eq!(body["service"], "learner-dna-mcp");
    assert!(
        body["version"].as_str().is_some_and(|v| !v.is_empty()),
        "{body}"
    );
    assert!(
        body["host"].as_str().is_some_and(|h| !h.is_empty()),
        "{body}"
    );
    assert_eq!(body["ports"]["key_value"]["ok"], true, "{body}");
    assert_eq!(body["ports"]["key_value"]["round_trip"], "put,get,take,get");
    assert_eq!(
        body["ports"]["sql"],
        json!({"ok": true, "select": 42, "micros": body["ports"]["sql"]["micros"]})
    );
}

/// The main instance runs with `diagnostics.server_timing=true`: the health check's
/// four key-value calls (put, get, take, get) and one SQL query are reported, and
/// nothing else; the strict instance leaves the setting off and says nothing.
#[test]
fn server_timing_reports_port_calls_only_when_turned_on() {
    let response = get("/healthz");
    assert_eq!(response.status(), 200);
    let timing = header(response.headers(), "server-timing").expect("Server-Timing");
    let calls: Vec<(&str, &str)> = timing
        .split(", ")
        .map(|metric| {
            let mut parts = metric.split(';');
            let name = parts.next().unwrap_or_default();
            let desc = parts
                .find_map(|p| p.strip_prefix("desc="))
                .unwrap_or_default();
            (name, desc)
        })
        .collect();
    assert_eq!(
        calls,
        [("kv", "4"), ("sql", "1"), ("audit", "0"), ("fetch", "0")],
        "{timing}"
    );
    let strict = agent()
        .get(format!("{}/healthz", strict_url()))
        .call()
        .expect("reachable");
    assert_eq!(strict.status(), 200);
    assert!(strict.headers().get("server-timing").is_none());
}

#[test]
fn unknown_paths_are_404_json() {
    let mut response = get("/no/such/path");
    assert_eq!(response.status(), 404);
    let body = json_body(&mut response);
    assert_eq!(
        body,
        json!({"error": "not_found", "error_description": "no route for GET /no/such/path"})
    );
}

#[test]
fn wrong_method_is_405_with_allow() {
    let mut response = agent()
        .post(format!("{}/healthz", base_url()))
        .send("")
        .expect("reachable");
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "GET");
    assert_eq!(json_body(&mut response)["error"], "method_not_allowed");
}

#[test]
fn oversize_body_is_413() {
    let body = vec![b'a'; 1024 * 1024 + 1];
    let mut response = agent()
        .post(format!("{}/__test/ports", base_url()))
        .send(&body[..])
        .expect("reachable");
    assert_eq!(response.status(), 413);
    assert_eq!(json_body(&mut response)["error"], "payload_too_large");
}

#[test]
fn oversize_headers_are_431() {
    let big = "v".repeat(17 * 1024);
    let response = agent()
        .get(format!("{}/healthz", base_url()))
        .header("x-filler", &big)
        .call()
        .expect("reachable");
    assert_eq!(response.status(), 431);
}

#[test]
fn malformed_port_calls_are_400_json() {
    let mut response = agent()
        .post(format!("{}/__test/ports", base_url()))
        .header("content-type", "application/json")
        .send("{not json")
        .expect("reachable");
    assert_eq!(response.status(), 400);
    assert_eq!(json_body(&mut response)["error"], "invalid_request");
}
