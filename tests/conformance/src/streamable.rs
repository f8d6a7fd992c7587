//! MCP over Streamable HTTP (the session era) with every header in the test's hands,
//! for the transport suites: requests with or without a token or session, answers read
//! whole (JSON or SSE) or as a stream.

use serde_json::{Value, json};

use crate::{agent, base_url};

/// What a client accepts from `POST /mcp`: JSON or an SSE stream.
pub const ACCEPT: &str = "application/json, text/event-stream";

/// An answer of `POST /mcp`, read whole.
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// The response headers.
    pub headers: ureq::http::HeaderMap,
    /// The body as text.
    pub text: String,
}

impl Answer {
    /// The JSON body, or the last message of an SSE body (the response).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .ok()
            .or_else(|| self.events().pop())
            .unwrap_or(Value::Null)
    }

    /// The value of header `name`, if it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        crate::header(&self.headers, name)
    }

    /// The JSON-RPC messages of an SSE body, in order.
    pub fn events(&self) -> Vec<Value> {
        self.text
            .lines()
            .filter_map(|line| line.strip_prefix("data:"))
            // The priming frame carries no message.
            .filter(|data| !data.trim().is_empty())
            .map(|data| serde_json::from_str(data.trim()).expect("one JSON message per data line"))
            .collect()
    }
}

/// `POST /mcp` with `body`, by `token` in `session`: JSON in, JSON or SSE accepted
/// unless `headers` say otherwise; the response as it comes (a stream to read as it goes).
pub fn send(
    token: Option<&str>,
    session: Option<&str>,
    headers: &[(&str, &str)],
    body: &str,
) -> ureq::http::Response<ureq::Body> {
    let mut request = agent().post(format!("{}/mcp", base_url()));
    for (name, default) in [("content-type", "application/json"), ("accept", ACCEPT)] {
        if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
            request = request.header(name, default);
        }
    }
    if let Some(token) = token {
        request = request.header("authorization", &format!("Bearer {token}"));
    }
    if let Some(session) = session {
        request = request.header("mcp-session-id", session);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send(body).expect("reachable")
}

/// [`send`], the answer read whole.
pub fn post(
    token: Option<&str>,
    session: Option<&str>,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let mut response = send(token, session, headers, body);
    Answer {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        text: response.body_mut().read_to_string().unwrap_or_default(),
    }
}

/// `GET /mcp` by `token` in `session`, accepting `accept`, with `headers` besides.
pub fn get(
    token: &str,
    session: &str,
    accept: &str,
    headers: &[(&str, &str)],
) -> ureq::http::Response<ureq::Body> {
    let mut request = agent()
        .get(format!("{}/mcp", base_url()))
        .header("authorization", &format!("Bearer {token}"))
        .header("accept", accept)
        .header("mcp-session-id", session);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.call().expect("reachable")
}

/// An `initialize` request at `version`, declaring sampling and elicitation.
pub fn initialize_body(version: &str) -> String {
    json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": version,
        "capabilities": {"sampling": {}, "elicitation": {}},
        "clientInfo": {"name": "transport-tests", "version": "1"}}})
    .to_string()
}

/// A new session at `version` for `token`; its id.
pub fn session(token: &str, version: &str) -> String {
    let answer = post(Some(token), None, &[], &initialize_body(version));
    assert_eq!(answer.status, 200, "{}", answer.text);
    let id = answer
        .header("mcp-session-id")
        .expect("session id")
        .to_owned();
    let initialized = post(
        Some(token),
        Some(&id),
        &[("mcp-protocol-version", version)],
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    );
    assert_eq!(initialized.status, 202, "{}", initialized.text);
    assert!(initialized.text.is_empty());
    id
}

/// Request `id` of `method` with `params`, by `token` in `session` at 2025-11-25.
pub fn call(token: &str, session: &str, id: u64, method: &str, params: Value) -> Answer {
    post(
        Some(token),
        Some(session),
        &[("mcp-protocol-version", "2025-11-25")],
        &json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string(),
    )
}
