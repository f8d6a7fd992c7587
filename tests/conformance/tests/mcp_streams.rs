//! Streamed MCP answers over real HTTP (Streamable HTTP, session era): tool calls that
//! talk to the client before they answer (progress, logs, sampling), the standalone
//! stream's updates, and resuming a lost stream from its last event id.

// Test helpers take JSON values by value, so a call reads as the request it makes.
#![allow(clippy::needless_pass_by_value)]

use std::io::{BufRead, BufReader};

use learner_conformance::access_token;
use learner_conformance::streamable::{Answer, call, get, post, send, session};
use serde_json::{Value, json};

/// `tools/call` of the test tool `name` with no arguments (and `meta`, when given).
fn call_tool(token: &str, session: &str, id: u64, name: &str, meta: Option<Value>) -> Answer {
    let mut params = json!({"name": name, "arguments": {}});
    if let Some(meta) = meta {
        params["_meta"] = meta;
    }
    call(token, session, id, "tools/call", params)
}

/// How many of `events` are notifications of `method`.
fn count_of(events: &[Value], method: &str) -> usize {
    events.iter().filter(|e| e["method"] == method).count()
}

#[test]
fn a_tool_call_streams_progress_and_logs_before_its_result() {
    let token = access_token("demo:teacher", "learner.profile");
    let id = session(&token, "2025-11-25");
    assert_eq!(
        call(&token, &id, 1, "logging/setLevel", json!({"level": "info"})).json()["result"],
        json!({})
    );
    let answer = call_tool(
        &token,
        &id,
        2,
        "test_tool_with_progress",
        Some(json!({"progressToken": "p-1"})),
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
    // Every message is recorded under the stream's own consecutive numbers, after
    // the priming event 0.
    let ids: Vec<&str> = answer
        .text
        .lines()
        .filter_map(|line| line.strip_prefix("id: "))
        .collect();
    let stream = ids[0].strip_suffix(".0").expect("priming id");
    let expected: Vec<String> = (0..=events.len())
        .map(|n| format!("{stream}.{n}"))
        .collect();
    assert_eq!(ids, expected);
    // The main instance reports port calls (`diagnostics.server_timing`): for a stream,
    // the whole request's come last, as an SSE comment, one key-value write per
    // recorded message at least.
    let last = answer.text.trim_end().lines().last().expect("a last line");
    let tally = last.strip_prefix(": server-timing kv;desc=").expect(last);
    let kv: usize = tally
        .split(';')
        .next()
        .and_then(|n| n.parse().ok())
        .expect(last);
    assert!(kv >= events.len(), "{last}");
    let logs = call_tool(&token, &id, 3, "test_tool_with_logging", None).events();
    assert_eq!(count_of(&logs, "notifications/message"), 3);
    // Above the level the client chose, nothing is logged.
    call(
        &token,
        &id,
        4,
        "logging/setLevel",
        json!({"level": "error"}),
    );
    let quiet = call_tool(&token, &id, 5, "test_tool_with_logging", None).events();
    assert_eq!(count_of(&quiet, "notifications/message"), 0);
}

#[test]
fn sampling_goes_to_the_client_mid_call_and_its_answer_comes_back() {
    let token = access_token("demo:teacher", "learner.profile");
    let id = session(&token, "2025-11-25");
    let response = send(
        Some(&token),
        Some(&id),
        &[("mcp-protocol-version", "2025-11-25")],
        &json!({"jsonrpc": "2.0", "id": 11, "method": "tools/call",
                "params": {"name": "test_sampling", "arguments": {"prompt": "Say hi"}}})
        .to_string(),
    );
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
    let mut headers = vec![("mcp-protocol-version", "2025-11-25")];
    if let Some(id) = last_event_id {
        headers.push(("last-event-id", id));
    }
    let response = get(token, session, "text/event-stream", &headers);
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
    let watched = json!({"uri": "test://watched-resource"});
    let subscribed = call(&token, &id, 1, "resources/subscribe", watched.clone());
    assert_eq!(subscribed.json()["result"], json!({}));
    // A second session that did not subscribe hears nothing (checked below by order).
    let other = session(&token, "2025-11-25");
    let trigger = call_tool(&token, &other, 2, "test_trigger_resource_update", None);
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
    call(&token, &id, 3, "resources/unsubscribe", watched.clone());
    call_tool(&token, &other, 4, "test_trigger_resource_update", None);
    call(&token, &id, 5, "resources/subscribe", watched);
    call_tool(&token, &other, 6, "test_trigger_resource_update", None);
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
    let answer = call_tool(
        &token,
        &id,
        9,
        "test_tool_with_progress",
        Some(json!({"progressToken": 9})),
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
    let mut json_only = get(&token, &id, "application/json", &[]);
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
