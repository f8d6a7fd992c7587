//! The MCP endpoint's transport rules over real HTTP (Streamable HTTP, session era):
//! authorization, headers, sessions and their binding to the token, batches, JSON-RPC
//! errors, and streamed tool calls that talk to the client before they answer.

// Test helpers take JSON values by value, so a call reads as the request it makes.
#![allow(clippy::needless_pass_by_value)]

use std::io::{BufRead, BufReader};

use learner_conformance::{access_grant, access_token, agent, base_url, request_from};
use serde_json::{Value, json};

const ACCEPT: &str = "application/json, text/event-stream";

struct Answer {
    status: u16,
    headers: ureq::http::HeaderMap,
    text: String,
}

impl Answer {
    /// The JSON body, or the last message of an SSE body (the response).
    fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .ok()
            .or_else(|| self.events().pop())
            .unwrap_or(Value::Null)
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// The JSON-RPC messages of an SSE body, in order.
    fn events(&self) -> Vec<Value> {
        self.text
            .lines()
            .filter_map(|line| line.strip_prefix("data:"))
            // The priming frame carries no message.
            .filter(|data| !data.trim().is_empty())
            .map(|data| serde_json::from_str(data.trim()).expect("one JSON message per data line"))
            .collect()
    }
}

fn post(
    token: Option<&str>,
    session: Option<&str>,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
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
    let mut response = request.send(body).expect("reachable");
    Answer {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        text: response.body_mut().read_to_string().unwrap_or_default(),
    }
}

fn initialize_body(version: &str) -> String {
    json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": version,
        "capabilities": {"sampling": {}, "elicitation": {}},
        "clientInfo": {"name": "transport-tests", "version": "1"}}})
    .to_string()
}

/// A new session at `version` for `token`; its id.
fn session(token: &str, version: &str) -> String {
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

fn call(token: &str, session: &str, id: u64, method: &str, params: Value) -> Answer {
    post(
        Some(token),
        Some(session),
        &[("mcp-protocol-version", "2025-11-25")],
        &json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string(),
    )
}

#[test]
fn every_request_needs_a_token_for_this_resource() {
    let anonymous = post(None, None, &[], &initialize_body("2025-11-25"));
    assert_eq!(anonymous.status, 401);
    assert_eq!(
        anonymous.header("www-authenticate"),
        Some(format!(
            "Bearer resource_metadata=\"{}/.well-known/oauth-protected-resource/mcp\", \
             scope=\"learner.profile learner.behavioral learner.assessment learner.struggles class.aggregates\"",
            base_url()
        ))
        .as_deref(),
        "the challenge suggests the learning-data scopes, not names, exports or administration"
    );
    let bogus = post(
        Some("ldna_at_bogus"),
        None,
        &[],
        &initialize_body("2025-11-25"),
    );
    assert_eq!(bogus.status, 401);
    assert!(
        bogus
            .header("www-authenticate")
            .is_some_and(|c| c.contains("error=\"invalid_token\""))
    );
}

#[test]
fn initialize_negotiates_the_revision_and_opens_a_session() {
    let token = access_token("demo:teacher", "learner.profile");
    for (asked, agreed) in [
        ("2024-11-05", "2024-11-05"),
        ("2025-03-26", "2025-03-26"),
        ("2025-06-18", "2025-06-18"),
        ("2025-11-25", "2025-11-25"),
        ("2099-01-01", "2025-11-25"),
    ] {
        let answer = post(Some(&token), None, &[], &initialize_body(asked));
        assert_eq!(answer.status, 200, "{}", answer.text);
        let result = &answer.json()["result"];
        assert_eq!(result["protocolVersion"], agreed, "{asked}");
        assert_eq!(result["serverInfo"]["name"], "learner-dna-mcp");
        assert_eq!(result["capabilities"]["resources"]["subscribe"], true);
        assert_eq!(result["capabilities"]["tools"]["listChanged"], false);
        assert_eq!(
            result["capabilities"].get("completions").is_some(),
            agreed != "2024-11-05",
            "{asked}"
        );
        let id = answer.header("mcp-session-id").expect("session id");
        assert!(
            id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()),
            "{id}"
        );
    }
    // initialize inside a session is refused.
    let id = session(&token, "2025-11-25");
    let again = post(Some(&token), Some(&id), &[], &initialize_body("2025-11-25"));
    assert_eq!(again.status, 400);
    assert_eq!(again.json()["error"]["code"], -32600);
}

#[test]
fn header_rules_are_enforced_with_the_right_status() {
    let token = access_token("demo:teacher", "learner.profile");
    let id = session(&token, "2025-11-25");
    let list = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
    // Accept must allow JSON or SSE; Content-Type must be JSON.
    let mut html = agent()
        .post(format!("{}/mcp", base_url()))
        .header("authorization", &format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header("accept", "text/html")
        .header("mcp-session-id", &id)
        .send(list)
        .expect("reachable");
    assert_eq!(html.status(), 406);
    let _ = html.body_mut().read_to_string();
    let text = post(
        Some(&token),
        Some(&id),
        &[("content-type", "text/plain")],
        list,
    );
    assert_eq!(text.status, 415);
    // No session, an unknown one, a malformed one.
    assert_eq!(post(Some(&token), None, &[], list).status, 400);
    assert_eq!(
        post(Some(&token), Some(&"ab".repeat(32)), &[], list).status,
        404
    );
    assert_eq!(post(Some(&token), Some("../../etc"), &[], list).status, 404);
    // An unsupported revision header.
    let version = post(
        Some(&token),
        Some(&id),
        &[("mcp-protocol-version", "1999-01-01")],
        list,
    );
    assert_eq!(version.status, 400);
    assert_eq!(version.json()["error"]["code"], -32600);
    // Any supported revision is accepted on the session (clients send what they know).
    let other = post(
        Some(&token),
        Some(&id),
        &[("mcp-protocol-version", "2025-03-26")],
        list,
    );
    assert_eq!(other.status, 200, "{}", other.text);
    // GET opens the session's stream; other methods are not allowed.
    let get = agent()
        .get(format!("{}/mcp", base_url()))
        .header("authorization", &format!("Bearer {token}"))
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &id)
        .call()
        .expect("reachable");
    assert_eq!(get.status(), 200);
    assert_eq!(
        get.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    drop(get);
    let put = agent()
        .put(format!("{}/mcp", base_url()))
        .header("authorization", &format!("Bearer {token}"))
        .header("mcp-session-id", &id)
        .send("")
        .expect("reachable");
    assert_eq!(put.status(), 405);
    assert_eq!(
        put.headers().get("allow").and_then(|v| v.to_str().ok()),
        Some("GET, POST, DELETE")
    );
}

#[test]
fn a_session_serves_only_the_grant_that_opened_it_and_delete_ends_it() {
    let token = access_token("demo:teacher", "learner.profile");
    let id = session(&token, "2025-11-25");
    assert_eq!(
        call(&token, &id, 1, "ping", json!({})).json()["result"],
        json!({})
    );
    // Another valid token — another grant, even of the same person — is refused.
    let other = access_token("demo:teacher", "learner.profile");
    let refused = call(&other, &id, 2, "ping", json!({}));
    assert_eq!(refused.status, 403, "{}", refused.text);
    let stranger = access_token("demo:guardian", "learner.profile");
    assert_eq!(call(&stranger, &id, 3, "ping", json!({})).status, 403);
    // DELETE by a stranger is refused too; by the owner it ends the session.
    let delete = |token: &str| {
        agent()
            .delete(format!("{}/mcp", base_url()))
            .header("authorization", &format!("Bearer {token}"))
            .header("mcp-session-id", &id)
            .call()
            .expect("reachable")
            .status()
            .as_u16()
    };
    assert_eq!(delete(&stranger), 403);
    assert_eq!(delete(&token), 204);
    assert_eq!(call(&token, &id, 4, "ping", json!({})).status, 404);
    assert_eq!(delete(&token), 404);
}

#[test]
fn json_rpc_errors_and_batches_follow_the_revision() {
    let token = access_token("demo:teacher", "learner.profile");
    let id = session(&token, "2025-11-25");
    let parse = post(Some(&token), Some(&id), &[], "{\"jsonrpc\":");
    assert_eq!(parse.status, 400);
    assert_eq!(parse.json()["error"]["code"], -32700);
    assert_eq!(parse.json()["id"], Value::Null);
    let unknown = call(&token, &id, 7, "no/such/method", json!({}));
    assert_eq!(unknown.status, 200);
    assert_eq!(unknown.json()["error"]["code"], -32601);
    assert_eq!(unknown.json()["id"], 7);
    let bad_params = call(&token, &id, 8, "tools/call", json!({"name": 5}));
    assert_eq!(bad_params.json()["error"]["code"], -32602);
    let missing = call(
        &token,
        &id,
        9,
        "resources/read",
        json!({"uri": "test://nope"}),
    );
    assert_eq!(missing.json()["error"]["code"], -32002);
    let batch = r#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"tools/list"}]"#;
    let refused = post(Some(&token), Some(&id), &[], batch);
    assert_eq!(refused.status, 400);
    assert_eq!(refused.json()["error"]["code"], -32600);
    // 2025-03-26 allowed batches.
    let old = session(&token, "2025-03-26");
    let answered = post(
        Some(&token),
        Some(&old),
        &[("mcp-protocol-version", "2025-03-26")],
        batch,
    );
    assert_eq!(answered.status, 200, "{}", answered.text);
    let answers = answered.json();
    assert_eq!(answers.as_array().map(Vec::len), Some(2), "{answers}");
    assert_eq!(answers[0], json!({"jsonrpc": "2.0", "id": 1, "result": {}}));
    assert_eq!(answers[1]["id"], 2);
    // Notifications alone are accepted without a body.
    let note = post(
        Some(&token),
        Some(&old),
        &[],
        r#"[{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}]"#,
    );
    assert_eq!((note.status, note.text.as_str()), (202, ""));
}

#[test]
fn foreign_origins_and_hosts_are_refused() {
    let token = access_token("demo:teacher", "learner.profile");
    let evil = post(
        Some(&token),
        None,
        &[("origin", "http://evil.example")],
        &initialize_body("2025-11-25"),
    );
    assert_eq!(evil.status, 403);
    let own = post(
        Some(&token),
        None,
        &[("origin", &base_url())],
        &initialize_body("2025-11-25"),
    );
    assert_eq!(own.status, 200, "{}", own.text);
    let bearer = format!("Bearer {token}");
    let rebound = request_from(
        std::net::Ipv4Addr::LOCALHOST,
        &base_url(),
        "POST",
        "/mcp",
        &[
            ("Host", "evil.example"),
            ("Authorization", &bearer),
            ("Content-Type", "application/json"),
            ("Accept", ACCEPT),
        ],
        initialize_body("2025-11-25").as_bytes(),
    );
    assert_eq!(rebound.status, 421, "{rebound:?}");
}

#[test]
fn a_tool_call_streams_progress_and_logs_before_its_result() {
    let token = access_token("demo:teacher", "learner.profile");
    let id = session(&token, "2025-11-25");
    assert_eq!(
        call(&token, &id, 1, "logging/setLevel", json!({"level": "info"})).json()["result"],
        json!({})
    );
    let answer = call(
        &token,
        &id,
        2,
        "tools/call",
        json!({"name": "test_tool_with_progress", "arguments": {}, "_meta": {"progressToken": "p-1"}}),
    );
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("content-type"), Some("text/event-stream"));
    let events = answer.events();
    let progress: Vec<f64> = events
        .iter()
        .filter(|e| e["method"] == "notifications/progress")
        .map(|e| {
            assert_eq!(e["params"]["progressToken"], "p-1");
            e["params"]["progress"].as_f64().expect("progress")
        })
        .collect();
    assert_eq!(progress, vec![0.0, 50.0, 100.0]);
    assert_eq!(events.last().expect("result")["id"], 2);
    let logs = call(
        &token,
        &id,
        3,
        "tools/call",
        json!({"name": "test_tool_with_logging", "arguments": {}}),
    )
    .events();
    assert_eq!(
        logs.iter()
            .filter(|e| e["method"] == "notifications/message")
            .count(),
        3
    );
    // Above the level the client chose, nothing is logged.
    call(
        &token,
        &id,
        4,
        "logging/setLevel",
        json!({"level": "error"}),
    );
    let quiet = call(
        &token,
        &id,
        5,
        "tools/call",
        json!({"name": "test_tool_with_logging", "arguments": {}}),
    )
    .events();
    assert_eq!(
        quiet
            .iter()
            .filter(|e| e["method"] == "notifications/message")
            .count(),
        0
    );
}

#[test]
fn sampling_goes_to_the_client_mid_call_and_its_answer_comes_back() {
    let token = access_token("demo:teacher", "learner.profile");
    let id = session(&token, "2025-11-25");
    let response = agent()
        .post(format!("{}/mcp", base_url()))
        .header("authorization", &format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header("accept", ACCEPT)
        .header("mcp-session-id", &id)
        .header("mcp-protocol-version", "2025-11-25")
        .send(
            json!({"jsonrpc": "2.0", "id": 11, "method": "tools/call",
                   "params": {"name": "test_sampling", "arguments": {"prompt": "Say hi"}}})
            .to_string(),
        )
        .expect("reachable");
    assert_eq!(response.status(), 200);
    let mut lines = BufReader::new(response.into_body().into_reader()).lines();
    let mut next_message = || -> Value {
        loop {
            let line = lines
                .next()
                .expect("the stream continues")
                .expect("readable");
            if let Some(data) = line.strip_prefix("data:").filter(|d| !d.trim().is_empty()) {
                return serde_json::from_str(data.trim()).expect("JSON");
            }
        }
    };
    let request = next_message();
    assert_eq!(request["method"], "sampling/createMessage");
    assert_eq!(request["params"]["maxTokens"], 100);
    assert_eq!(
        request["params"]["messages"][0]["content"]["text"],
        "Say hi"
    );
    // Someone else's answer is not taken: only the session's owner can answer.
    let stranger = access_token("demo:teacher", "learner.profile");
    let forged = json!({"jsonrpc": "2.0", "id": request["id"], "result": {
        "role": "assistant", "model": "m", "content": {"type": "text", "text": "forged"}}});
    assert_eq!(
        post(Some(&stranger), Some(&id), &[], &forged.to_string()).status,
        403
    );
    let answer = json!({"jsonrpc": "2.0", "id": request["id"], "result": {
        "role": "assistant", "model": "test-model", "stopReason": "endTurn",
        "content": {"type": "text", "text": "hello there"}}});
    let delivered = post(
        Some(&token),
        Some(&id),
        &[("mcp-protocol-version", "2025-11-25")],
        &answer.to_string(),
    );
    assert_eq!(delivered.status, 202, "{}", delivered.text);
    let result = next_message();
    assert_eq!(result["id"], 11);
    assert_eq!(
        result["result"]["content"][0]["text"],
        "LLM response: hello there"
    );
}

/// Reads SSE frames: (event id, message) pairs, the priming frame's message `Null`.
struct Frames {
    lines: std::io::Lines<BufReader<ureq::BodyReader<'static>>>,
}

impl Frames {
    fn next(&mut self) -> Option<(Option<String>, Value)> {
        let (mut id, mut data) = (None, None);
        loop {
            let line = self.lines.next()?.ok()?;
            if line.is_empty() {
                if id.is_some() || data.is_some() {
                    let message = data
                        .filter(|d: &String| !d.trim().is_empty())
                        .map_or(Value::Null, |d| {
                            serde_json::from_str(&d).expect("JSON data")
                        });
                    return Some((id, message));
                }
                continue;
            }
            if let Some(value) = line.strip_prefix("id: ") {
                id = Some(value.to_owned());
            } else if let Some(value) = line.strip_prefix("data: ").or(line.strip_prefix("data:")) {
                data = Some(value.to_owned());
            }
        }
    }
}

fn get_stream(token: &str, session: &str, last_event_id: Option<&str>) -> (u16, Option<Frames>) {
    let mut request = agent()
        .get(format!("{}/mcp", base_url()))
        .header("authorization", &format!("Bearer {token}"))
        .header("accept", "text/event-stream")
        .header("mcp-session-id", session)
        .header("mcp-protocol-version", "2025-11-25");
    if let Some(id) = last_event_id {
        request = request.header("last-event-id", id);
    }
    let response = request.call().expect("reachable");
    let status = response.status().as_u16();
    if status != 200 {
        return (status, None);
    }
    let reader = response.into_body().into_reader();
    (
        status,
        Some(Frames {
            lines: BufReader::new(reader).lines(),
        }),
    )
}

#[test]
fn subscribers_hear_of_updates_on_the_standalone_stream() {
    let token = access_token("demo:teacher", "learner.profile");
    let id = session(&token, "2025-11-25");
    let (status, frames) = get_stream(&token, &id, None);
    assert_eq!(status, 200);
    let mut frames = frames.expect("a stream");
    // The priming frame: an id to resume from, no message.
    let (priming_id, priming) = frames.next().expect("priming frame");
    assert!(priming_id.is_some_and(|i| i.starts_with("0.")));
    assert_eq!(priming, Value::Null);
    let subscribed = call(
        &token,
        &id,
        1,
        "resources/subscribe",
        json!({"uri": "test://watched-resource"}),
    );
    assert_eq!(subscribed.json()["result"], json!({}));
    // A second session that did not subscribe hears nothing (checked below by order).
    let other = session(&token, "2025-11-25");
    let trigger = call(
        &token,
        &other,
        2,
        "tools/call",
        json!({"name": "test_trigger_resource_update", "arguments": {}}),
    );
    assert_eq!(
        trigger.json()["result"]["content"][0]["text"],
        "test://watched-resource was updated"
    );
    let (event_id, message) = frames.next().expect("the update");
    assert_eq!(
        message,
        json!({"jsonrpc": "2.0", "method": "notifications/resources/updated",
               "params": {"uri": "test://watched-resource"}})
    );
    assert!(event_id.as_deref().is_some_and(|i| i.starts_with("0.")));
    // After unsubscribing, updates are no longer sent: the next event is a later one.
    call(
        &token,
        &id,
        3,
        "resources/unsubscribe",
        json!({"uri": "test://watched-resource"}),
    );
    call(
        &token,
        &other,
        4,
        "tools/call",
        json!({"name": "test_trigger_resource_update", "arguments": {}}),
    );
    call(
        &token,
        &id,
        5,
        "resources/subscribe",
        json!({"uri": "test://watched-resource"}),
    );
    call(
        &token,
        &other,
        6,
        "tools/call",
        json!({"name": "test_trigger_resource_update", "arguments": {}}),
    );
    let (second_id, _) = frames.next().expect("the update after resubscribing");
    let number = |id: &Option<String>| -> u64 {
        id.as_deref()
            .and_then(|i| i.rsplit('.').next())
            .and_then(|n| n.parse().ok())
            .expect("numbered id")
    };
    assert_eq!(number(&second_id), number(&event_id) + 1);
}

#[test]
fn a_lost_stream_resumes_from_last_event_id() {
    let token = access_token("demo:teacher", "learner.profile");
    let id = session(&token, "2025-11-25");
    let answer = call(
        &token,
        &id,
        9,
        "tools/call",
        json!({"name": "test_tool_with_progress", "arguments": {}, "_meta": {"progressToken": 9}}),
    );
    // Every frame carries an id; the first is the priming frame.
    let ids: Vec<&str> = answer
        .text
        .lines()
        .filter_map(|l| l.strip_prefix("id: "))
        .collect();
    assert_eq!(ids.len(), 5, "{}", answer.text);
    assert!(answer.text.starts_with("id: ") && answer.text.contains("\nretry: 1000\n"));
    // Resume after the first progress notification: the rest is replayed, then the
    // stream ends with the response.
    let (status, frames) = get_stream(&token, &id, Some(ids[1]));
    assert_eq!(status, 200);
    let mut frames = frames.expect("a stream");
    let mut replayed = Vec::new();
    while let Some((event_id, message)) = frames.next() {
        replayed.push((event_id.expect("id"), message));
    }
    assert_eq!(replayed.len(), 3, "{replayed:?}");
    assert_eq!(replayed[0].0, ids[2]);
    assert_eq!(replayed[0].1["params"]["progress"], 50.0);
    assert_eq!(replayed[2].1["id"], 9);
    // Ids in other forms, or of another session's streams, are refused.
    assert_eq!(get_stream(&token, &id, Some("nonsense")).0, 400);
    let other = session(&token, "2025-11-25");
    assert_eq!(get_stream(&token, &other, Some(ids[1])).0, 400);
}

#[test]
fn the_get_stream_needs_sse_and_older_revisions_get_no_priming() {
    let token = access_token("demo:teacher", "learner.profile");
    let id = session(&token, "2025-06-18");
    let mut json_only = agent()
        .get(format!("{}/mcp", base_url()))
        .header("authorization", &format!("Bearer {token}"))
        .header("accept", "application/json")
        .header("mcp-session-id", &id)
        .call()
        .expect("reachable");
    assert_eq!(json_only.status(), 406);
    let _ = json_only.body_mut().read_to_string();
    let answer = post(
        Some(&token),
        Some(&id),
        &[("mcp-protocol-version", "2025-06-18")],
        &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                "params": {"name": "test_tool_with_logging", "arguments": {}}})
        .to_string(),
    );
    assert!(!answer.text.contains("retry:"), "{}", answer.text);
    assert!(answer.text.starts_with("id: "), "{}", answer.text);
}

#[test]
fn a_revoked_token_loses_its_session_and_no_other_grant_takes_it() {
    let (token, client) = access_grant("demo:teacher", "learner.profile");
    let id = session(&token, "2025-11-25");
    assert_eq!(call(&token, &id, 1, "ping", json!({})).status, 200);
    let mut revoked = agent()
        .post(format!("{}/oauth/revoke", base_url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .send(format!("token={token}&client_id={client}"))
        .expect("reachable");
    assert_eq!(revoked.status(), 200);
    let _ = revoked.body_mut().read_to_string();
    let refused = call(&token, &id, 2, "ping", json!({}));
    assert_eq!(refused.status, 401);
    assert!(
        refused
            .header("www-authenticate")
            .is_some_and(|c| c.contains("invalid_token"))
    );
    // A new grant for the same person and client cannot take the session over.
    let fresh = access_token("demo:teacher", "learner.profile");
    assert_eq!(call(&fresh, &id, 3, "ping", json!({})).status, 403);
}

#[test]
fn browsers_from_allowed_origins_get_cors_on_mcp() {
    let origin = "http://localhost:6274";
    let request = ureq::http::Request::builder()
        .method("OPTIONS")
        .uri(format!("{}/mcp", base_url()))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, mcp-session-id",
        )
        .body(String::new())
        .expect("request");
    let preflight = agent().run(request).expect("reachable");
    assert_eq!(preflight.status(), 204);
    let header = |name: &str| {
        preflight
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header("access-control-allow-origin"), origin);
    assert!(header("access-control-allow-headers").contains("mcp-session-id"));
    assert!(header("access-control-allow-methods").contains("DELETE"));
    // A refusal is readable too: the challenge and the session header are exposed.
    let anonymous = post(
        None,
        None,
        &[("origin", origin)],
        &initialize_body("2025-11-25"),
    );
    assert_eq!(anonymous.status, 401);
    assert_eq!(
        anonymous.header("access-control-allow-origin"),
        Some(origin)
    );
    let exposed = anonymous
        .header("access-control-expose-headers")
        .unwrap_or_default();
    assert!(
        exposed.contains("mcp-session-id") && exposed.contains("www-authenticate"),
        "{exposed}"
    );
    // An origin not configured gets nothing.
    let stranger = post(
        None,
        None,
        &[("origin", "http://evil.example")],
        &initialize_body("2025-11-25"),
    );
    assert_eq!(stranger.header("access-control-allow-origin"), None);
}
