//! MCP over Streamable HTTP (2025-11-25) with a bearer token: enough for the Learner DNA
//! suites to open a session and call methods.

use serde_json::{Value, json};
use ureq::typestate::WithBody;

use crate::{agent, base_url, header};

const ACCEPT: &str = "application/json, text/event-stream";

/// `POST {base}/mcp` by `token`, JSON in, JSON or SSE accepted; in `session` (at
/// 2025-11-25) when given.
fn post(base: &str, token: &str, session: Option<&str>) -> ureq::RequestBuilder<WithBody> {
    let request = agent()
        .post(format!("{base}/mcp"))
        .header("authorization", &format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header("accept", ACCEPT);
    match session {
        Some(session) => request
            .header("mcp-session-id", session)
            .header("mcp-protocol-version", "2025-11-25"),
        None => request,
    }
}

/// `POST /mcp` of one request: the status, the JSON answer (null when none) and the
/// session id the server returned.
pub fn rpc(
    token: &str,
    session: Option<&str>,
    method: &str,
    params: Value,
) -> (u16, Value, Option<String>) {
    rpc_at(&base_url(), token, session, method, &params)
}

/// Like [`rpc`], to the server at `base` (one this process started, say).
pub fn rpc_at(
    base: &str,
    token: &str,
    session: Option<&str>,
    method: &str,
    params: &Value,
) -> (u16, Value, Option<String>) {
    let mut response = post(base, token, session)
        .send(json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string())
        .expect("reachable");
    let status = response.status().as_u16();
    let session = header(response.headers(), "mcp-session-id").map(str::to_owned);
    let streamed = header(response.headers(), "content-type")
        .is_some_and(|t| t.starts_with("text/event-stream"));
    let body = response.body_mut().read_to_string().unwrap_or_default();
    let answer = if streamed {
        // The response is the stream's message that carries the request's id.
        body.lines()
            .filter_map(|line| line.strip_prefix("data: "))
            .filter_map(|data| serde_json::from_str::<Value>(data).ok())
            .find(|message| message.get("id").is_some())
            .unwrap_or(Value::Null)
    } else {
        serde_json::from_str(&body).unwrap_or(Value::Null)
    };
    (status, answer, session)
}

/// Initializes a session (and says it is initialized); its id.
pub fn open(token: &str) -> String {
    let (status, _, session) = rpc(
        token,
        None,
        "initialize",
        json!({"protocolVersion": "2025-11-25", "capabilities": {},
               "clientInfo": {"name": "dna-tests", "version": "1"}}),
    );
    assert_eq!(status, 200);
    let session = session.expect("a session");
    let status = post(&base_url(), token, Some(&session))
        .send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string())
        .expect("reachable")
        .status()
        .as_u16();
    assert_eq!(status, 202);
    session
}

/// Seeds the demo tenant (a no-op when it is there) through the test-only route.
pub fn seed_demo() {
    let mut response = agent()
        .post(format!("{}/__test/dna/seed", base_url()))
        .send_json(json!({"demo": true, "tenants": 0, "learners": 30}))
        .expect("reachable");
    assert_eq!(response.status(), 200);
    let _ = response.body_mut().read_to_string();
}

/// `tools/call`: the result (panics on a JSON-RPC error).
pub fn call_tool(token: &str, session: &str, name: &str, arguments: Value) -> Value {
    let (status, answer, _) = rpc(
        token,
        Some(session),
        "tools/call",
        json!({"name": name, "arguments": arguments}),
    );
    assert_eq!(status, 200, "{answer}");
    answer
        .get("result")
        .cloned()
        .unwrap_or_else(|| panic!("{name}: {answer}"))
}

/// `resources/read` of a JSON resource: its parsed body, or the JSON-RPC error.
pub fn read_json(token: &str, session: &str, uri: &str) -> Result<Value, Value> {
    let (_, answer, _) = rpc(token, Some(session), "resources/read", json!({"uri": uri}));
    match answer["result"]["contents"][0]["text"].as_str() {
        Some(text) => Ok(serde_json::from_str(text).expect("JSON contents")),
        None => Err(answer["error"].clone()),
    }
}
