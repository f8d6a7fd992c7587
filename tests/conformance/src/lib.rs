//! The suites that run unchanged against every host.
//!
//! The tests in `tests/` run against a live server whose base URL is given in
//! `LEARNER_BASE_URL`, a test build (with `learner-test-routes`). They are written
//! once and run unchanged against every host (`just test` starts each in turn), so
//! every host is held to the same contract. The port contract ([`contract`]) also runs
//! in-process against the harness's storage driver.

// The suites' helpers take JSON values by value, so a call reads as the request it makes
// (`ok(json!({…}))`).
#![allow(clippy::needless_pass_by_value)]

pub mod authorize_pages;
pub mod contract;
pub mod mcp;
pub mod oauth_endpoints;
mod raw;
pub mod sign_in;
pub mod streamable;

use std::time::Duration;

pub use raw::{RawResponse, get_from, request_from};
use serde_json::Value;
/// The HTTP client the suites use, for code built on them (the over-HTTP benchmark).
pub use ureq;

/// The server under test, from `LEARNER_BASE_URL`.
pub fn base_url() -> String {
    std::env::var("LEARNER_BASE_URL")
        .map(|url| url.trim_end_matches('/').to_owned())
        .expect("LEARNER_BASE_URL must name the server under test (run through `just test`)")
}

/// The second instance of the host under test, from `LEARNER_STRICT_URL`: access
/// tokens live 3 s, MCP sessions idle out after 1 s, per-address limits are tight (30
/// OAuth requests a minute, 3 registrations an hour) and `public.url` is set to this
/// URL.
pub fn strict_url() -> String {
    std::env::var("LEARNER_STRICT_URL")
        .map(|url| url.trim_end_matches('/').to_owned())
        .expect("LEARNER_STRICT_URL must name the strict instance (run through `just test`)")
}

/// An HTTP agent that returns error statuses as responses rather than errors.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        // A bound on one exchange, generous for a busy machine (a cold workerd).
        .timeout_global(Some(Duration::from_mins(2)))
        .build()
        .into()
}

/// An agent as a browser is one for the OAuth pages: error statuses are responses, and
/// redirects are not followed (the suites inspect them).
pub fn browser() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

/// `GET` of `path` on the server under test, by [`agent`].
pub fn get(path: &str) -> ureq::http::Response<ureq::Body> {
    agent()
        .get(format!("{}{path}", base_url()))
        .call()
        .expect("reachable")
}

/// The value of header `name` in `headers`, if it is text.
pub fn header<'a>(headers: &'a ureq::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Makes one port call through the installed [`contract::PortCaller`], by default
/// `POST /__test/ports`, and returns the JSON answer (`{"ok": …}` or `{"err": …}`);
/// panics on any other status.
pub fn port_call(call: Value) -> Value {
    if let Some(caller) = contract::installed() {
        return caller.call(&call);
    }
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

/// The PKCE verifier of the suites' clients (RFC 7636 Appendix B's example).
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
/// The S256 challenge of [`VERIFIER`].
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// The query of an authorization request for a code with the [`CHALLENGE`]:
/// `client`, `redirect`, `state`, `scope` and `resource` as given (`client` and `state`
/// as they are, the others percent-encoded).
pub fn authorization_query(
    client: &str,
    redirect: &str,
    state: &str,
    scope: &str,
    resource: &str,
) -> String {
    format!(
        "response_type=code&client_id={client}&redirect_uri={}&code_challenge={CHALLENGE}\
         &code_challenge_method=S256&state={state}&scope={}&resource={}",
        encode(redirect),
        encode(scope),
        encode(resource)
    )
}

/// The token request's form that exchanges `code`, issued to `client` for `redirect`,
/// with the [`VERIFIER`] (`client` as it is, `redirect` percent-encoded).
pub fn exchange_form(code: &str, redirect: &str, client: &str) -> String {
    format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}&client_id={client}&code_verifier={VERIFIER}",
        encode(redirect)
    )
}

/// An access token for `scope`, issued to a fresh public client for `subject` through
/// the real authorization-request validation and code exchange (`/__test/oauth/code`
/// stands in for the sign-in and consent pages). Each call is a new grant.
pub fn access_token(subject: &str, scope: &str) -> String {
    access_grant(subject, scope).0
}

/// Like [`access_token`]: the access token and the client it was issued to.
pub fn access_grant(subject: &str, scope: &str) -> (String, String) {
    access_grant_with(subject, scope, serde_json::json!({}))
}

/// Like [`access_grant`], with grant properties as the sign-in page records them
/// (`tenant`, `role`).
pub fn access_grant_with(subject: &str, scope: &str, props: Value) -> (String, String) {
    const REDIRECT: &str = "http://127.0.0.1:43210/callback";
    let base = base_url();
    let registered: Value = agent()
        .post(format!("{base}/oauth/register"))
        .header("content-type", "application/json")
        .send(
            serde_json::json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"})
                .to_string(),
        )
        .expect("reachable")
        .body_mut()
        .read_json()
        .expect("registration JSON");
    let client = registered["client_id"]
        .as_str()
        .expect("client_id")
        .to_owned();
    let query = authorization_query(&client, REDIRECT, "s", scope, &format!("{base}/mcp"));
    let issued: Value = agent()
        .post(format!("{base}/__test/oauth/code"))
        .send_json(serde_json::json!({"query": query, "subject": subject, "props": props}))
        .expect("reachable")
        .body_mut()
        .read_json()
        .expect("code JSON");
    let code = issued["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no code: {issued}"));
    let tokens: Value = agent()
        .post(format!("{base}/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .send(exchange_form(code, REDIRECT, &client))
        .expect("reachable")
        .body_mut()
        .read_json()
        .expect("token JSON");
    let token = tokens["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token: {tokens}"))
        .to_owned();
    (token, client)
}
