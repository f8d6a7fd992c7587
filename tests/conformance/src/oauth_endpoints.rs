//! The OAuth endpoints as a client calls them directly, for the suites of the token,
//! revocation and introspection endpoints and of the bearer-token guard: registration,
//! codes issued through the real authorization-request validation (`/__test/oauth/code`
//! stands in for the person signing in and approving, as subject `teacher-1`), form
//! posts and the check of an OAuth error answer.

use serde_json::{Value, json};

use crate::{CHALLENGE, VERIFIER, agent, base_url, encode};

/// The redirect URI of the clients these suites register.
pub const REDIRECT: &str = "http://127.0.0.1:43123/callback";

/// A form's content type.
const FORM: &str = "application/x-www-form-urlencoded";

/// Registers a client with the metadata `body`; the registration answer (which must be
/// 201 Created).
pub fn register(body: Value) -> Value {
    let mut response = agent()
        .post(format!("{}/oauth/register", base_url()))
        .header("content-type", "application/json")
        .send(body.to_string())
        .expect("reachable");
    assert_eq!(response.status(), 201);
    response.body_mut().read_json().expect("JSON")
}

/// A new public client (no secret) for [`REDIRECT`] that may refresh; its id.
pub fn public_client() -> String {
    register(json!({
        "redirect_uris": [REDIRECT],
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"],
    }))["client_id"]
        .as_str()
        .expect("client_id")
        .to_owned()
}

/// `pairs` as a query string or form body, the values percent-encoded.
pub fn query(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The authorization request `pairs`, validated and (when valid) approved for
/// `teacher-1` by the test route: its answer (`code`, or where it was `rejected`).
pub fn authorize(pairs: &[(&str, &str)]) -> Value {
    let mut response = agent()
        .post(format!("{}/__test/oauth/code", base_url()))
        .send_json(json!({"query": query(pairs), "subject": "teacher-1"}))
        .expect("reachable");
    assert_eq!(response.status(), 200);
    response.body_mut().read_json().expect("JSON")
}

/// A code issued to `client_id` for [`REDIRECT`] with the [`CHALLENGE`], for
/// `learner.profile learner.struggles` at this server's `/mcp`.
pub fn code_for(client_id: &str) -> String {
    let answer = authorize(&[
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
        ("state", "st"),
        ("scope", "learner.profile learner.struggles"),
        ("resource", &format!("{}/mcp", base_url())),
    ]);
    answer["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no code: {answer}"))
        .to_owned()
}

/// An endpoint's answer.
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// The JSON body (`Null` when empty).
    pub body: Value,
    /// The response headers.
    pub headers: ureq::http::HeaderMap,
}

/// `POST` of `form` to `path` as `content_type`, with the `Authorization` header value
/// `authorization` when given.
pub fn post_form(
    path: &str,
    form: &str,
    authorization: Option<&str>,
    content_type: &str,
) -> Answer {
    let mut request = agent()
        .post(format!("{}{path}", base_url()))
        .header("content-type", content_type);
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let mut response = request.send(form).expect("reachable");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.body_mut().read_to_string().expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).expect("JSON")
    };
    Answer {
        status,
        body,
        headers,
    }
}

/// A token request with the form body `form`.
pub fn token(form: &str) -> Answer {
    post_form("/oauth/token", form, None, FORM)
}

/// The form fields of a code exchange as a well-behaved client sends them: `code`,
/// issued to `client_id` for [`REDIRECT`], with the [`VERIFIER`].
pub fn exchange_fields<'a>(client_id: &'a str, code: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("client_id", client_id),
        ("code_verifier", VERIFIER),
    ]
}

/// `code`, issued to `client_id`, exchanged for tokens.
pub fn exchange(client_id: &str, code: &str) -> Answer {
    token(&query(&exchange_fields(client_id, code)))
}

/// `refresh_token` of `client_id` exchanged for new tokens.
pub fn refresh(client_id: &str, refresh_token: &str) -> Answer {
    token(&query(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
        ("client_id", client_id),
    ]))
}

/// Asserts that `answer` is the OAuth error `code` with `status`, and not to be cached.
pub fn assert_error(answer: &Answer, status: u16, code: &str) {
    assert_eq!(
        (answer.status, answer.body["error"].as_str()),
        (status, Some(code)),
        "{}",
        answer.body
    );
    assert_eq!(
        answer
            .headers
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
}
