//! The stateless revision (2026-07-28) over real HTTP: per-request `_meta`, the
//! header rules and their error codes, results that say what they are, input across
//! rounds with a signed `requestState`, and `subscriptions/listen`.

// Test helpers take JSON values by value, so a call reads as the request it makes.
#![allow(clippy::needless_pass_by_value)]

use std::io::{BufRead, BufReader};

use learner_conformance::{access_token, agent, base_url};
use serde_json::{Value, json};

const REVISION: &str = "2026-07-28";

fn meta(capabilities: Value) -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": REVISION,
        "io.modelcontextprotocol/clientCapabilities": capabilities,
        "io.modelcontextprotocol/clientInfo": {"name": "stateless-tests", "version": "1"},
    })
}

/// POSTs one request with the revision's headers (`extra` replaces any of them).
fn send(
    token: &str,
    method: &str,
    name: Option<&str>,
    params: Value,
    extra: &[(&str, Option<&str>)],
) -> (u16, Value) {
    let mut headers: Vec<(String, String)> = vec![
        ("content-type".into(), "application/json".into()),
        (
            "accept".into(),
            "application/json, text/event-stream".into(),
        ),
        ("mcp-protocol-version".into(), REVISION.into()),
        ("mcp-method".into(), method.into()),
        ("authorization".into(), format!("Bearer {token}")),
    ];
    if let Some(name) = name {
        headers.push(("mcp-name".into(), name.into()));
    }
    for (name, value) in extra {
        headers.retain(|(n, _)| n != name);
        if let Some(value) = value {
            headers.push(((*name).into(), (*value).into()));
        }
    }
    let mut request = agent().post(format!("{}/mcp", base_url()));
    for (name, value) in &headers {
        request = request.header(name, value);
    }
    let body = json!({"jsonrpc": "2.0", "id": 42, "method": method, "params": params});
    let mut response = request.send(body.to_string()).expect("reachable");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    // An SSE answer: its last message is the response.
    let message = serde_json::from_str(&text).unwrap_or_else(|_| {
        text.lines()
            .rev()
            .filter_map(|l| l.strip_prefix("data: "))
            .find_map(|d| serde_json::from_str(d).ok())
            .unwrap_or(Value::Null)
    });
    (status, message)
}

fn with_meta(mut params: Value, capabilities: Value) -> Value {
    params["_meta"] = meta(capabilities);
    params
}

/// `method` with no parameters but `_meta` (declaring no capabilities), naming nothing.
fn send_bare(token: &str, method: &str) -> (u16, Value) {
    send(token, method, None, with_meta(json!({}), json!({})), &[])
}

/// `tools/call` of `tool` (named in `Mcp-Name` too), with `params` besides the name and
/// `_meta` declaring `capabilities`.
fn call_tool(token: &str, tool: &str, mut params: Value, capabilities: Value) -> (u16, Value) {
    params["name"] = json!(tool);
    send(
        token,
        "tools/call",
        Some(tool),
        with_meta(params, capabilities),
        &[],
    )
}

#[test]
fn discover_and_results_say_what_they_are() {
    let token = access_token("demo:teacher", "learner.profile");
    let (status, discover) = send_bare(&token, "server/discover");
    assert_eq!(status, 200);
    let result = &discover["result"];
    assert_eq!(result["resultType"], "complete");
    assert_eq!(result["supportedVersions"][0], REVISION);
    assert!(
        result["supportedVersions"]
            .as_array()
            .is_some_and(|v| v.contains(&json!("2025-11-25")))
    );
    assert_eq!(
        result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "learner-dna-mcp"
    );
    assert!(result["capabilities"]["tools"].is_object());
    let (_, tools) = send_bare(&token, "tools/list");
    assert_eq!(tools["result"]["resultType"], "complete");
    assert_eq!(tools["result"]["cacheScope"], "private");
    assert!(tools["result"]["ttlMs"].as_u64().is_some());
    let (_, call) = call_tool(&token, "test_simple_text", json!({}), json!({}));
    assert_eq!(call["result"]["resultType"], "complete");
    assert!(call["result"].get("ttlMs").is_none());
    let (_, missing) = send(
        &token,
        "resources/read",
        Some("test://nope"),
        with_meta(json!({"uri": "test://nope"}), json!({})),
        &[],
    );
    assert_eq!(missing["error"]["code"], -32602);
    assert_eq!(missing["error"]["data"]["uri"], "test://nope");
}

/// A request (method, params, header changes) and the status and code it must get.
type Case<'a> = (&'a str, Value, Vec<(&'a str, Option<&'a str>)>, u16, i64);

#[test]
fn header_and_meta_rules_have_their_codes_and_statuses() {
    let token = access_token("demo:teacher", "learner.profile");
    let good = json!({"_meta": meta(json!({}))});
    let cases: Vec<Case<'_>> = vec![
        (
            "tools/list",
            good.clone(),
            vec![("mcp-protocol-version", None)],
            400,
            -32020,
        ),
        ("tools/list", json!({}), vec![], 400, -32602),
        (
            "tools/list",
            json!({"_meta": {"io.modelcontextprotocol/protocolVersion": REVISION}}),
            vec![],
            400,
            -32602,
        ),
        (
            "tools/list",
            json!({"_meta": {"io.modelcontextprotocol/protocolVersion": "v999", "io.modelcontextprotocol/clientCapabilities": {}}}),
            vec![],
            400,
            -32020,
        ),
        (
            "tools/list",
            good.clone(),
            vec![("mcp-method", None)],
            400,
            -32020,
        ),
        (
            "tools/list",
            good.clone(),
            vec![("mcp-method", Some("prompts/list"))],
            400,
            -32020,
        ),
        (
            "tools/list",
            good.clone(),
            vec![("mcp-method", Some("TOOLS/LIST"))],
            400,
            -32020,
        ),
        ("ping", good.clone(), vec![], 404, -32601),
        ("initialize", good.clone(), vec![], 404, -32601),
        ("logging/setLevel", good.clone(), vec![], 404, -32601),
        ("resources/subscribe", good.clone(), vec![], 404, -32601),
        ("no/such", good.clone(), vec![], 404, -32601),
    ];
    for (method, params, extra, status, code) in cases {
        let (got_status, answer) = send(&token, method, None, params.clone(), &extra);
        assert_eq!(
            (got_status, answer["error"]["code"].as_i64()),
            (status, Some(code)),
            "{method} {params} {extra:?}"
        );
        // Errors echo the request id, even for invalid requests.
        assert_eq!(answer["id"], 42, "{method}");
    }
    let unsupported = send(
        &token,
        "tools/list",
        None,
        json!({"_meta": {"io.modelcontextprotocol/protocolVersion": "v999", "io.modelcontextprotocol/clientCapabilities": {}}}),
        &[("mcp-protocol-version", Some("v999"))],
    );
    assert_eq!(unsupported.0, 400);
    assert_eq!(unsupported.1["error"]["code"], -32022);
    assert_eq!(
        unsupported.1["error"]["data"],
        json!({"supported": [REVISION], "requested": "v999"})
    );
    // Mcp-Name must match; surrounding spaces are not part of it.
    let call = with_meta(json!({"name": "test_simple_text"}), json!({}));
    assert_eq!(
        send(&token, "tools/call", None, call.clone(), &[]).1["error"]["code"],
        -32020
    );
    assert_eq!(
        send(&token, "tools/call", Some("other"), call.clone(), &[]).1["error"]["code"],
        -32020
    );
    assert_eq!(
        send(&token, "tools/call", Some("  test_simple_text "), call, &[]).0,
        200
    );
    // A capability the tool needs but the client did not declare.
    let (status, refused) = call_tool(&token, "test_missing_capability", json!({}), json!({}));
    assert_eq!(status, 400);
    assert_eq!(refused["error"]["code"], -32021);
    assert_eq!(
        refused["error"]["data"]["requiredCapabilities"],
        json!({"sampling": {}})
    );
}

#[test]
fn input_comes_by_rounds_and_a_tampered_state_is_refused() {
    let token = access_token("demo:teacher", "learner.profile");
    let capabilities = json!({"elicitation": {}});
    let name = "test_input_required_result_multi_round";
    let (status, first) = call_tool(&token, name, json!({}), capabilities.clone());
    assert_eq!(status, 200);
    let first = &first["result"];
    assert_eq!(first["resultType"], "input_required");
    assert_eq!(
        first["inputRequests"]["step1"]["method"],
        "elicitation/create"
    );
    let state = first["requestState"].as_str().expect("state").to_owned();
    let answer = |key: &str, field: &str, value: &str| json!({key: {"action": "accept", "content": {field: value}}});
    let (_, second) = call_tool(
        &token,
        name,
        json!({"requestState": state, "inputResponses": answer("step1", "name", "Alice")}),
        capabilities.clone(),
    );
    let second = &second["result"];
    assert_eq!(
        second["inputRequests"]["step2"]["method"],
        "elicitation/create"
    );
    let next_state = second["requestState"].as_str().expect("state").to_owned();
    assert_ne!(next_state, state);
    let (_, done) = call_tool(
        &token,
        name,
        json!({"requestState": next_state, "inputResponses": answer("step2", "color", "blue")}),
        capabilities.clone(),
    );
    assert_eq!(done["result"]["resultType"], "complete");
    assert_eq!(done["result"]["content"][0]["text"], "Alice likes blue");
    // Tampered, or carried over to another tool: a JSON-RPC error.
    for (tool, state) in [
        (name, format!("{next_state}x")),
        ("test_input_required_result_elicitation", next_state.clone()),
    ] {
        let (_, refused) = call_tool(
            &token,
            tool,
            json!({"requestState": state, "inputResponses": answer("step2", "color", "blue")}),
            capabilities.clone(),
        );
        assert_eq!(refused["error"]["code"], -32602, "{tool}");
    }
}

#[test]
fn listeners_are_acknowledged_and_hear_of_updates() {
    let token = access_token("demo:teacher", "learner.profile");
    let response = agent()
        .post(format!("{}/mcp", base_url()))
        .header("authorization", &format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header("accept", "text/event-stream")
        .header("mcp-protocol-version", REVISION)
        .header("mcp-method", "subscriptions/listen")
        .send(
            json!({"jsonrpc": "2.0", "id": "listen-1", "method": "subscriptions/listen", "params": {
                "_meta": meta(json!({})),
                "notifications": {"toolsListChanged": true, "resourceSubscriptions": ["test://watched-resource", "test://unknown"]}}})
            .to_string(),
        )
        .expect("reachable");
    assert_eq!(response.status(), 200);
    let mut messages = BufReader::new(response.into_body().into_reader())
        .lines()
        .map_while(Result::ok)
        .filter_map(|line| {
            line.strip_prefix("data: ")
                .and_then(|d| serde_json::from_str::<Value>(d).ok())
        });
    let ack = messages.next().expect("the acknowledgement");
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
    assert_eq!(
        ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        "listen-1"
    );
    assert_eq!(
        ack["params"]["notifications"],
        json!({"toolsListChanged": true, "resourceSubscriptions": ["test://watched-resource"]})
    );
    let (_, triggered) = call_tool(&token, "test_trigger_resource_update", json!({}), json!({}));
    assert_eq!(triggered["result"]["resultType"], "complete");
    let update = messages.next().expect("the update");
    assert_eq!(update["method"], "notifications/resources/updated");
    assert_eq!(update["params"]["uri"], "test://watched-resource");
    assert_eq!(
        update["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        "listen-1"
    );
}
