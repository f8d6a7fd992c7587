//! Against the strict instance (`LEARNER_STRICT_URL`): per-address rate limits,
//! access-token expiry over HTTP, an issuer pinned by `public.url` whatever the
//! `Host` header says, and a store no test seeds, which the application prepares
//! itself. Each test sends from its own loopback address, so the limits
//! one test uses up never touch another's.

use std::net::Ipv4Addr;
use std::time::Duration;

use learner_conformance::{
    RawResponse, authorization_query, exchange_form, get_from, request_from, strict_url,
};
use serde_json::{Value, json};

const REDIRECT: &str = "http://127.0.0.1:43999/callback";

/// `POST` of `body` as JSON to `path` on the strict instance from `from`, with `extra`
/// headers besides.
fn post_json(from: Ipv4Addr, path: &str, body: &Value, extra: &[(&str, &str)]) -> RawResponse {
    let mut headers = vec![("Content-Type", "application/json")];
    headers.extend_from_slice(extra);
    request_from(
        from,
        &strict_url(),
        "POST",
        path,
        &headers,
        body.to_string().as_bytes(),
    )
}

/// `POST` of the form `form` to `path` on the strict instance from `from`.
fn post_form(from: Ipv4Addr, path: &str, form: &str) -> RawResponse {
    request_from(
        from,
        &strict_url(),
        "POST",
        path,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        form.as_bytes(),
    )
}

fn register_from(from: Ipv4Addr, extra: &[(&str, &str)]) -> RawResponse {
    let body = json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"});
    post_json(from, "/oauth/register", &body, extra)
}

fn assert_limited(response: &RawResponse) {
    assert_eq!(response.status, 429, "{response:?}");
    let retry_after: u64 = response
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=3600).contains(&retry_after), "{retry_after}");
}

fn audit_actors_and_kinds(from: Ipv4Addr) -> Vec<(String, String)> {
    let call = json!({"port": "audit", "op": "read", "after": 0, "limit": 100_000});
    let answer = post_json(from, "/__test/ports", &call, &[]);
    answer.json()["ok"]
        .as_array()
        .expect("audit entries")
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap_or_default().to_owned(),
                e["kind"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn strict_registrations_are_limited_per_address() {
    let attacker = Ipv4Addr::new(127, 0, 0, 21);
    for n in 1..=3 {
        let response = register_from(attacker, &[]);
        assert_eq!(response.status, 201, "registration {n}: {response:?}");
    }
    let refused = register_from(attacker, &[]);
    assert_limited(&refused);
    assert_eq!(refused.json()["error"], "temporarily_unavailable");
    // Headers a client can set do not change the address it is counted under.
    let forged = register_from(
        attacker,
        &[
            ("spin-client-addr", "127.0.0.99:4000"),
            ("X-Forwarded-For", "127.0.0.99"),
            ("X-Real-IP", "127.0.0.99"),
        ],
    );
    assert_limited(&forged);
    // Another address is not affected.
    let other = register_from(Ipv4Addr::new(127, 0, 0, 22), &[]);
    assert_eq!(other.status, 201, "{other:?}");
    let entries = audit_actors_and_kinds(Ipv4Addr::new(127, 0, 0, 29));
    assert!(
        entries.contains(&("127.0.0.21".into(), "oauth.rate_limited".into())),
        "{entries:?}"
    );
}

#[test]
fn strict_oauth_requests_are_limited_per_address() {
    let client = Ipv4Addr::new(127, 0, 0, 23);
    let nobody = "grant_type=authorization_code&client_id=nobody";
    for n in 1..=30 {
        let response = post_form(client, "/oauth/token", nobody);
        assert_eq!(response.status, 401, "request {n}: {response:?}");
        assert_eq!(response.json()["error"], "invalid_client");
    }
    for path in ["/oauth/token", "/oauth/revoke", "/oauth/introspect"] {
        let refused = post_form(client, path, "token=x");
        assert_limited(&refused);
        assert_eq!(refused.json()["error"], "temporarily_unavailable", "{path}");
        assert_eq!(refused.header("cache-control"), Some("no-store"));
    }
    // The authorization endpoint is a page: 429 as HTML.
    let page = get_from(client, &strict_url(), "/oauth/authorize", &[]);
    assert_limited(&page);
    assert!(
        page.header("content-type")
            .is_some_and(|t| t.starts_with("text/html")),
        "{page:?}"
    );
    // Discovery and health are not OAuth requests: never limited here.
    let metadata = get_from(
        client,
        &strict_url(),
        "/.well-known/oauth-authorization-server",
        &[],
    );
    assert_eq!(metadata.status, 200);
    // Another address still gets through.
    let other = post_form(Ipv4Addr::new(127, 0, 0, 24), "/oauth/token", nobody);
    assert_eq!(other.status, 401, "{other:?}");
}

#[test]
fn strict_the_issuer_is_public_url_whatever_the_host_header_says() {
    // A document from the strict instance, by a request naming another host.
    let forged_get = |path: &str| {
        get_from(
            Ipv4Addr::new(127, 0, 0, 25),
            &strict_url(),
            path,
            &[("Host", "evil.example")],
        )
    };
    let forged = forged_get("/.well-known/oauth-authorization-server");
    assert_eq!(forged.status, 200, "{forged:?}");
    let metadata = forged.json();
    assert_eq!(metadata["issuer"], json!(strict_url()));
    assert_eq!(
        metadata["token_endpoint"],
        json!(format!("{}/oauth/token", strict_url()))
    );
    let resource = forged_get("/.well-known/oauth-protected-resource/mcp");
    assert_eq!(
        resource.json()["resource"],
        json!(format!("{}/mcp", strict_url()))
    );
}

fn whoami(from: Ipv4Addr, token: &str) -> RawResponse {
    let bearer = format!("Bearer {token}");
    get_from(
        from,
        &strict_url(),
        "/__test/whoami",
        &[("Authorization", &bearer)],
    )
}

/// A public client registered from `me` (with the refresh grant) and the token
/// response for a code issued to it: the client id and that response.
fn tokens_from(me: Ipv4Addr) -> (String, RawResponse) {
    tokens_for(me, "test-subject", "learner.profile", &json!({}))
}

/// Like [`tokens_from`], for `subject` with `scope` and the grant properties the
/// sign-in page would record (`tenant`, `role`).
fn tokens_for(me: Ipv4Addr, subject: &str, scope: &str, props: &Value) -> (String, RawResponse) {
    let registered = post_json(
        me,
        "/oauth/register",
        &json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code", "refresh_token"]}),
        &[],
    );
    let client = registered.json()["client_id"]
        .as_str()
        .expect("client_id")
        .to_owned();
    let resource = format!("{}/mcp", strict_url());
    let query = authorization_query(&client, REDIRECT, "s", scope, &resource);
    let code = post_json(
        me,
        "/__test/oauth/code",
        &json!({"query": query, "subject": subject, "props": props}),
        &[],
    );
    let code = code.json()["code"].as_str().expect("code").to_owned();
    let tokens = post_form(me, "/oauth/token", &exchange_form(&code, REDIRECT, &client));
    (client, tokens)
}

#[test]
fn strict_an_expired_access_token_is_refused_and_refresh_gets_a_new_one() {
    let me = Ipv4Addr::new(127, 0, 0, 26);
    let (client, tokens) = tokens_from(me);
    assert_eq!(tokens.status, 200, "{tokens:?}");
    let tokens = tokens.json();
    assert_eq!(tokens["expires_in"], 3);
    let access = tokens["access_token"].as_str().expect("access").to_owned();
    let refresh = tokens["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    assert_eq!(whoami(me, &access).status, 200);

    std::thread::sleep(Duration::from_millis(3_500));
    let expired = whoami(me, &access);
    assert_eq!(expired.status, 401, "{expired:?}");
    assert_eq!(expired.json()["error"], "invalid_token");
    let challenge = expired.header("www-authenticate").expect("challenge");
    assert!(
        challenge.starts_with(&format!(
            "Bearer resource_metadata=\"{}/.well-known/oauth-protected-resource/mcp\"",
            strict_url()
        )) && challenge.contains("error=\"invalid_token\""),
        "{challenge}"
    );

    let refreshed = post_form(
        me,
        "/oauth/token",
        &format!("grant_type=refresh_token&refresh_token={refresh}&client_id={client}"),
    );
    assert_eq!(refreshed.status, 200, "{refreshed:?}");
    let fresh = refreshed.json()["access_token"]
        .as_str()
        .expect("access")
        .to_owned();
    let me_again = whoami(me, &fresh);
    assert_eq!(me_again.status, 200, "{me_again:?}");
    assert_eq!(me_again.json()["client_id"], json!(client));
}

#[test]
fn strict_an_idle_mcp_session_expires() {
    let me = Ipv4Addr::new(127, 0, 0, 27);
    let (_, tokens) = tokens_from(me);
    let bearer = format!(
        "Bearer {}",
        tokens.json()["access_token"].as_str().expect("access")
    );
    let mcp = |session: Option<&str>, body: Value| {
        let mut headers = vec![
            ("Authorization", bearer.as_str()),
            ("Content-Type", "application/json"),
            ("Accept", "application/json, text/event-stream"),
        ];
        if let Some(session) = session {
            headers.push(("Mcp-Session-Id", session));
        }
        request_from(
            me,
            &strict_url(),
            "POST",
            "/mcp",
            &headers,
            body.to_string().as_bytes(),
        )
    };
    let opened = mcp(
        None,
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}),
    );
    assert_eq!(opened.status, 200, "{opened:?}");
    let session = opened.header("mcp-session-id").expect("session").to_owned();
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    assert_eq!(mcp(Some(&session), ping.clone()).status, 200);
    // Idle for longer than the session may be (1 s here), within the token's life.
    std::thread::sleep(Duration::from_millis(1_600));
    assert_eq!(mcp(Some(&session), ping).status, 404);
}

#[test]
fn strict_an_untouched_store_is_prepared_by_the_application_itself() {
    // Nothing seeds the strict instance's database or runs its migrations: the first
    // reads of learner data — several at once, as when a deployment meets its first
    // users — find the schema and, with the demo accounts on (the instance has a demo
    // password), the whole demo tenant, as a deployed worker would.
    let me = Ipv4Addr::new(127, 0, 0, 28);
    let (_, tokens) = tokens_for(
        me,
        "demo:teacher",
        "learner.profile",
        &json!({"tenant": "demo", "role": "teacher"}),
    );
    assert_eq!(tokens.status, 200, "{tokens:?}");
    let bearer = format!(
        "Bearer {}",
        tokens.json()["access_token"].as_str().expect("access")
    );
    let read = json!({"jsonrpc": "2.0", "id": 1, "method": "resources/read", "params": {
        "uri": "learner-dna://learners",
        "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                  "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
                  "io.modelcontextprotocol/clientCapabilities": {}}}})
    .to_string();
    let learners_listed = || {
        let headers = [
            ("Authorization", bearer.as_str()),
            ("Content-Type", "application/json"),
            ("Accept", "application/json, text/event-stream"),
            ("MCP-Protocol-Version", "2026-07-28"),
            ("Mcp-Method", "resources/read"),
            ("Mcp-Name", "learner-dna://learners"),
        ];
        let answer = request_from(me, &strict_url(), "POST", "/mcp", &headers, read.as_bytes());
        assert_eq!(answer.status, 200, "{answer:?}");
        let body = answer.json();
        let text = body["result"]["contents"][0]["text"]
            .as_str()
            .unwrap_or_else(|| panic!("no contents: {body}"))
            .to_owned();
        let listed: Value = serde_json::from_str(&text).expect("JSON");
        listed["learners"].as_array().expect("learners").len()
    };
    let counts: Vec<usize> = std::thread::scope(|scope| {
        let readers: Vec<_> = (0..6).map(|_| scope.spawn(learners_listed)).collect();
        readers
            .into_iter()
            .map(|r| r.join().expect("a reader"))
            .collect()
    });
    // Every reader sees the same, whole class list.
    assert!(counts[0] >= 5, "{counts:?}");
    assert!(counts.iter().all(|n| *n == counts[0]), "{counts:?}");
}
