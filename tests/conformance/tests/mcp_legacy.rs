//! The legacy HTTP+SSE transport (2024-11-05) over real HTTP: the stream names its
//! endpoint, messages POSTed there are answered on the stream, and the session is
//! bound to the token that opened it.

use std::io::{BufRead, BufReader};

use learner_conformance::{access_token, agent, base_url};
use serde_json::{Value, json};

/// A legacy stream: its events as (event type, data).
struct Stream {
    lines: std::io::Lines<BufReader<ureq::BodyReader<'static>>>,
}

impl Stream {
    fn open(token: &str) -> (u16, Option<Self>) {
        Self::open_at("/sse", token)
    }

    fn open_at(path: &str, token: &str) -> (u16, Option<Self>) {
        let response = agent()
            .get(format!("{}{path}", base_url()))
            .header("authorization", &format!("Bearer {token}"))
            .header("accept", "text/event-stream")
            .call()
            .expect("reachable");
        let status = response.status().as_u16();
        if status != 200 {
            return (status, None);
        }
        let lines = BufReader::new(response.into_body().into_reader()).lines();
        (status, Some(Self { lines }))
    }

    fn next(&mut self) -> (String, String) {
        let (mut kind, mut data) = (String::from("message"), None);
        loop {
            let line = self
                .lines
                .next()
                .expect("the stream continues")
                .expect("readable");
            if line.is_empty() {
                if let Some(data) = data {
                    return (kind, data);
                }
                continue;
            }
            if let Some(value) = line.strip_prefix("event: ") {
                value.clone_into(&mut kind);
            } else if let Some(value) = line.strip_prefix("data: ") {
                data = Some(value.to_owned());
            }
        }
    }

    fn message(&mut self) -> Value {
        let (kind, data) = self.next();
        assert_eq!(kind, "message");
        serde_json::from_str(&data).expect("JSON")
    }
}

fn send(token: &str, endpoint: &str, message: &Value) -> u16 {
    let mut response = agent()
        .post(format!("{}{endpoint}", base_url()))
        .header("authorization", &format!("Bearer {token}"))
        .header("content-type", "application/json")
        .send(message.to_string())
        .expect("reachable");
    let status = response.status().as_u16();
    let _ = response.body_mut().read_to_string();
    status
}

#[test]
fn the_legacy_transport_carries_a_whole_session() {
    assert_eq!(Stream::open("ldna_at_bogus").0, 401);
    let token = access_token("demo:teacher", "learner.profile");
    let (status, stream) = Stream::open(&token);
    assert_eq!(status, 200);
    let mut stream = stream.expect("a stream");
    let (kind, endpoint) = stream.next();
    assert_eq!(kind, "endpoint");
    assert!(endpoint.starts_with("/messages?sessionId="), "{endpoint}");

    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2024-11-05", "capabilities": {"sampling": {}},
        "clientInfo": {"name": "legacy-test", "version": "1"}}});
    assert_eq!(send(&token, &endpoint, &initialize), 202);
    let result = stream.message();
    assert_eq!(result["id"], 1);
    assert_eq!(result["result"]["protocolVersion"], "2024-11-05");
    assert_eq!(
        send(
            &token,
            &endpoint,
            &json!({"jsonrpc": "2.0", "method": "notifications/initialized"})
        ),
        202
    );
    assert_eq!(
        send(
            &token,
            &endpoint,
            &json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
        ),
        202
    );
    let tools = stream.message();
    assert_eq!(tools["id"], 2);
    assert!(
        tools["result"]["tools"]
            .as_array()
            .is_some_and(|t| !t.is_empty())
    );
    // 2024-11-05 definitions carry neither titles nor output schemas.
    assert!(
        tools["result"]["tools"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|t| t.get("outputSchema").is_none())
    );

    // Sampling mid-call: the request arrives on the stream, the answer by POST. The
    // tool call's POST returns once its answer is on the stream, so it runs aside.
    let call_token = token.clone();
    let call_endpoint = endpoint.clone();
    let call = std::thread::spawn(move || {
        send(
            &call_token,
            &call_endpoint,
            &json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                    "params": {"name": "test_sampling", "arguments": {"prompt": "hi"}}}),
        )
    });
    let request = stream.message();
    assert_eq!(request["method"], "sampling/createMessage");
    let answer = json!({"jsonrpc": "2.0", "id": request["id"], "result": {
        "role": "assistant", "model": "m", "content": {"type": "text", "text": "legacy hello"}}});
    assert_eq!(send(&token, &endpoint, &answer), 202);
    let result = stream.message();
    assert_eq!(result["id"], 3);
    assert_eq!(
        result["result"]["content"][0]["text"],
        "LLM response: legacy hello"
    );
    assert_eq!(call.join().expect("the call returns"), 202);

    // initialize again is refused (on the stream); another token may not post here.
    assert_eq!(send(&token, &endpoint, &initialize), 202);
    assert_eq!(stream.message()["error"]["code"], -32600);
    let stranger = access_token("demo:guardian", "learner.profile");
    assert_eq!(
        send(
            &stranger,
            &endpoint,
            &json!({"jsonrpc": "2.0", "id": 4, "method": "ping"})
        ),
        403
    );
    assert_eq!(
        send(
            &token,
            &format!("/messages?sessionId={}", "ab".repeat(32)),
            &json!({"jsonrpc": "2.0", "id": 5, "method": "ping"})
        ),
        404
    );
    assert_eq!(
        send(
            &token,
            "/messages",
            &json!({"jsonrpc": "2.0", "id": 6, "method": "ping"})
        ),
        400
    );
}

/// SDK clients accept only a URL under the protected resource (`/mcp`): the same
/// transport at `/mcp/sse` names `/mcp/messages` beside it.
#[test]
fn the_transport_is_also_served_under_the_protected_resource() {
    assert_eq!(Stream::open_at("/mcp/sse", "ldna_at_bogus").0, 401);
    let token = access_token("demo:teacher", "learner.profile");
    let (status, stream) = Stream::open_at("/mcp/sse", &token);
    assert_eq!(status, 200);
    let mut stream = stream.expect("a stream");
    let (kind, endpoint) = stream.next();
    assert_eq!(kind, "endpoint");
    assert!(
        endpoint.starts_with("/mcp/messages?sessionId="),
        "{endpoint}"
    );
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2024-11-05", "capabilities": {},
        "clientInfo": {"name": "legacy-test", "version": "1"}}});
    assert_eq!(send(&token, &endpoint, &initialize), 202);
    assert_eq!(stream.message()["result"]["protocolVersion"], "2024-11-05");
    // Wrong methods on either path.
    let status = agent()
        .post(format!("{}/mcp/sse", base_url()))
        .header("authorization", &format!("Bearer {token}"))
        .send("{}")
        .expect("reachable")
        .status()
        .as_u16();
    assert_eq!(status, 405);
}
