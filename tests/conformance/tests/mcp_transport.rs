//! The MCP endpoint's transport rules over real HTTP (Streamable HTTP, session era):
//! authorization, headers, sessions and their binding to the token, batches, JSON-RPC
//! errors, origins and CORS. Streamed answers and the standalone stream are in
//! `mcp_streams.rs`.

use learner_conformance::streamable::{ACCEPT, call, get, initialize_body, post, session};
use learner_conformance::{access_grant, access_token, agent, base_url, request_from};
use serde_json::{Value, json};

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
    // `tools/list` in the session with `headers`.
    let listed = |headers: &[(&str, &str)]| post(Some(&token), Some(&id), headers, list);
    // Accept must allow JSON or SSE; Content-Type must be JSON.
    assert_eq!(listed(&[("accept", "text/html")]).status, 406);
    assert_eq!(listed(&[("content-type", "text/plain")]).status, 415);
    // No session, an unknown one, a malformed one.
    assert_eq!(post(Some(&token), None, &[], list).status, 400);
    assert_eq!(
        post(Some(&token), Some(&"ab".repeat(32)), &[], list).status,
        404
    );
    assert_eq!(post(Some(&token), Some("../../etc"), &[], list).status, 404);
    // An unsupported revision header.
    let version = listed(&[("mcp-protocol-version", "1999-01-01")]);
    assert_eq!(version.status, 400);
    assert_eq!(version.json()["error"]["code"], -32600);
    // Any supported revision is accepted on the session (clients send what they know).
    let other = listed(&[("mcp-protocol-version", "2025-03-26")]);
    assert_eq!(other.status, 200, "{}", other.text);
    // GET opens the session's stream; other methods are not allowed.
    let stream = get(&token, &id, "text/event-stream", &[]);
    assert_eq!(stream.status(), 200);
    assert_eq!(
        stream
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    drop(stream);
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
