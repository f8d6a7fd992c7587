//! Dynamic client registration (RFC 7591) over HTTP: what is accepted, what is
//! refused with which error, and that each decision reaches the audit trail.

// Test helpers take JSON values by value, so a call reads as the request it makes.
#![allow(clippy::needless_pass_by_value)]

use learner_conformance::{agent, base_url, ok};
use serde_json::{Value, json};

fn register(body: &str, content_type: &str) -> (u16, Value, Option<String>) {
    let mut response = agent()
        .post(format!("{}/oauth/register", base_url()))
        .header("content-type", content_type)
        .send(body)
        .expect("reachable");
    let status = response.status().as_u16();
    let cache = response
        .headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (
        status,
        response.body_mut().read_json().expect("JSON"),
        cache,
    )
}

fn register_json(body: Value) -> (u16, Value) {
    let (status, json, cache) = register(&body.to_string(), "application/json");
    assert_eq!(cache.as_deref(), Some("no-store"));
    (status, json)
}

#[test]
fn a_public_client_registers() {
    let (status, client) = register_json(json!({
        "redirect_uris": ["http://127.0.0.1:33418/callback"],
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"],
        "client_name": "E2E public client",
    }));
    assert_eq!(status, 201, "{client}");
    assert!(
        client["client_id"]
            .as_str()
            .is_some_and(|id| id.len() == 32),
        "{client}"
    );
    assert!(client["client_id_issued_at"].as_u64().is_some());
    assert!(client.get("client_secret").is_none());
    assert_eq!(
        client["redirect_uris"],
        json!(["http://127.0.0.1:33418/callback"])
    );
    assert_eq!(client["token_endpoint_auth_method"], "none");
    assert_eq!(
        client["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(client["response_types"], json!(["code"]));
    assert_eq!(client["client_name"], "E2E public client");
}

#[test]
fn a_confidential_client_gets_a_secret_once() {
    let (status, client) = register_json(json!({"redirect_uris": ["https://app.example/cb"]}));
    assert_eq!(status, 201, "{client}");
    assert_eq!(client["token_endpoint_auth_method"], "client_secret_basic");
    assert!(
        client["client_secret"]
            .as_str()
            .is_some_and(|s| s.starts_with("ldna_cs_"))
    );
    assert_eq!(client["client_secret_expires_at"], 0);
}

#[test]
fn bad_metadata_is_refused_with_the_rfc_7591_error() {
    let cases = [
        (
            json!({"redirect_uris": ["http://app.example/cb"]}),
            "invalid_redirect_uri",
        ),
        (
            json!({"redirect_uris": ["https://app.example/cb#frag"]}),
            "invalid_redirect_uri",
        ),
        (
            json!({"redirect_uris": ["javascript:alert(1)"]}),
            "invalid_redirect_uri",
        ),
        (json!({"redirect_uris": []}), "invalid_redirect_uri"),
        (
            json!({"client_name": "no redirect"}),
            "invalid_redirect_uri",
        ),
        (
            json!({"redirect_uris": ["https://a.example/cb"], "grant_types": ["implicit"]}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": ["https://a.example/cb"], "response_types": ["token"]}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "private_key_jwt"}),
            "invalid_client_metadata",
        ),
    ];
    for (body, expected) in cases {
        let (status, error) = register_json(body.clone());
        assert_eq!(status, 400, "{body}");
        assert_eq!(error["error"], expected, "{body}: {error}");
        assert!(
            error["error_description"]
                .as_str()
                .is_some_and(|d| !d.is_empty())
        );
    }
    let (status, error, _) = register("{not json", "application/json");
    assert_eq!(
        (status, error["error"].as_str()),
        (400, Some("invalid_client_metadata"))
    );
    let (status, error, _) = register(
        r#"{"redirect_uris":["https://a.example/cb"]}"#,
        "application/x-www-form-urlencoded",
    );
    assert_eq!(
        (status, error["error"].as_str()),
        (400, Some("invalid_client_metadata"))
    );
}

#[test]
fn registration_is_post_only() {
    let response = agent()
        .get(format!("{}/oauth/register", base_url()))
        .call()
        .expect("reachable");
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
}

#[test]
fn each_registration_decision_is_audited() {
    let (status, client) = register_json(json!({
        "redirect_uris": ["https://audited.example/cb"],
        "token_endpoint_auth_method": "none",
    }));
    assert_eq!(status, 201);
    let client_id = client["client_id"].as_str().expect("client_id").to_owned();
    let entries = ok(json!({"port": "audit", "op": "read", "after": 0, "limit": 100_000}));
    let ours: Vec<&Value> = entries
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["kind"] == "oauth.client.registered" && e["actor"] == json!(client_id))
        .collect();
    assert_eq!(ours.len(), 1, "{ours:?}");
    assert_eq!(ours[0]["outcome"], "allowed");
    let detail: Value =
        serde_json::from_str(ours[0]["detail_json"].as_str().expect("detail")).expect("JSON");
    assert_eq!(
        detail["redirect_uris"],
        json!(["https://audited.example/cb"])
    );
    assert_eq!(detail["token_endpoint_auth_method"], "none");
}
