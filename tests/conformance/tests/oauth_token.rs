//! The token endpoint over HTTP, with codes issued through the real
//! authorization-request validation (`/__test/oauth/code` stands in for the person
//! signing in and approving). One test per attack the issue names; every error is
//! checked for its exact status and code. Revocation and introspection are in
//! `oauth_revocation.rs`, the bearer-token guard in `oauth_bearer.rs`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use learner_conformance::oauth_endpoints::{
    Answer, REDIRECT, assert_error, authorize, code_for, exchange, exchange_fields, post_form,
    public_client, query, refresh, register, token,
};
use learner_conformance::{CHALLENGE, VERIFIER, agent, base_url, encode, ok};
use serde_json::{Value, json};

fn audit_kinds(actor: &str) -> Vec<String> {
    ok(json!({"port": "audit", "op": "read", "after": 0, "limit": 100_000}))
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["actor"] == json!(actor))
        .map(|e| e["kind"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// A code exchange for a new code of `client` that differs from a well-behaved one in
/// the field `name`: set to `value` (added when the exchange has no such field), or left
/// out when `value` is `None`.
fn exchange_changing(client: &str, name: &str, value: Option<&str>) -> Answer {
    let code = code_for(client);
    let mut fields = exchange_fields(client, &code);
    let at = fields.iter().position(|(n, _)| *n == name);
    match (at, value) {
        (Some(i), Some(value)) => fields[i].1 = value,
        (Some(i), None) => {
            fields.remove(i);
        }
        (None, Some(value)) => fields.push((name, value)),
        (None, None) => {}
    }
    token(&query(&fields))
}

#[test]
fn the_flow_code_token_refresh_then_reuse_revokes_the_grant() {
    let client = public_client();
    let issued = exchange(&client, &code_for(&client));
    assert_eq!(issued.status, 200, "{}", issued.body);
    assert_eq!(
        issued
            .headers
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    assert_eq!(
        issued.headers.get("pragma").and_then(|v| v.to_str().ok()),
        Some("no-cache")
    );
    assert_eq!(issued.body["token_type"], "Bearer");
    assert_eq!(issued.body["expires_in"], 3600);
    assert_eq!(issued.body["scope"], "learner.profile learner.struggles");
    assert!(
        issued.body["access_token"]
            .as_str()
            .is_some_and(|t| t.starts_with("ldna_at_"))
    );
    let first = issued.body["refresh_token"]
        .as_str()
        .expect("refresh token")
        .to_owned();

    let rotated = refresh(&client, &first);
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let second = rotated.body["refresh_token"]
        .as_str()
        .expect("rotated")
        .to_owned();
    assert_ne!(first, second);

    assert_error(&refresh(&client, &first), 400, "invalid_grant");
    // The reuse revoked the grant: the newest refresh token is dead too.
    assert_error(&refresh(&client, &second), 400, "invalid_grant");
    let kinds = audit_kinds(&client);
    assert!(
        kinds.contains(&"oauth.refresh.reused".to_owned()),
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| *k == "oauth.token.issued").count(),
        2,
        "{kinds:?}"
    );
}

#[test]
fn pkce_is_required_and_checked() {
    let client = public_client();
    let base = [
        ("client_id", client.as_str()),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("state", "st"),
    ];
    let plain = authorize(
        &[
            &base[..],
            &[
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "plain"),
            ],
        ]
        .concat(),
    );
    assert_eq!(
        (plain["rejected"].as_str(), plain["error"].as_str()),
        (Some("redirect"), Some("invalid_request"))
    );
    let missing = authorize(&base);
    assert_eq!(
        (missing["rejected"].as_str(), missing["error"].as_str()),
        (Some("redirect"), Some("invalid_request"))
    );
    assert!(
        missing["redirect"]
            .as_str()
            .is_some_and(|r| r.starts_with(REDIRECT)
                && r.contains("state=st")
                && r.contains("iss="))
    );

    let wrong = exchange_changing(&client, "code_verifier", Some(&"x".repeat(43)));
    assert_error(&wrong, 400, "invalid_grant");
    let absent = exchange_changing(&client, "code_verifier", None);
    assert_error(&absent, 400, "invalid_grant");
}

#[test]
fn a_replayed_code_is_refused_and_revokes_its_tokens() {
    let client = public_client();
    let code = code_for(&client);
    let first = exchange(&client, &code);
    assert_eq!(first.status, 200);
    assert_error(&exchange(&client, &code), 400, "invalid_grant");
    let refresh_token = first.body["refresh_token"].as_str().expect("refresh");
    assert_error(&refresh(&client, refresh_token), 400, "invalid_grant");
    assert!(audit_kinds(&client).contains(&"oauth.code.replayed".to_owned()));
}

#[test]
fn a_code_works_only_for_its_client_redirect_uri_and_resource() {
    let client = public_client();
    let other = public_client();
    assert_error(&exchange(&other, &code_for(&client)), 400, "invalid_grant");
    let wrong_redirect = exchange_changing(
        &client,
        "redirect_uri",
        Some("http://127.0.0.1:43123/other"),
    );
    assert_error(&wrong_redirect, 400, "invalid_grant");
    let wrong_resource = exchange_changing(&client, "resource", Some("https://other.example/mcp"));
    assert_error(&wrong_resource, 400, "invalid_target");
}

#[test]
fn redirect_uri_tampering_is_never_redirected() {
    let client = public_client();
    for tampered in [
        "http://127.0.0.1:43123/callback/../evil",
        "http://127.0.0.1:43123/callbackx",
        "http://127.0.0.1.evil.example:43123/callback",
        "http://evil.127.0.0.1:43123/callback",
        "http://127.0.0.1:43123/callback#frag",
        "https://127.0.0.1:43123/callback",
    ] {
        let answer = authorize(&[
            ("client_id", &client),
            ("redirect_uri", tampered),
            ("response_type", "code"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ]);
        assert_eq!(answer["rejected"], "page", "{tampered}: {answer}");
        assert_eq!(answer["error"], "invalid_request", "{tampered}");
        assert!(answer.get("redirect").is_none());
    }
}

#[test]
fn malformed_token_requests_get_precise_errors() {
    let client = public_client();
    let code = code_for(&client);
    let duplicate = token(&format!(
        "grant_type=authorization_code&code={code}&code={code}&redirect_uri={}&client_id={client}&code_verifier={VERIFIER}",
        encode(REDIRECT)
    ));
    assert_error(&duplicate, 400, "invalid_request");
    let json_body = post_form(
        "/oauth/token",
        "{\"grant_type\":\"refresh_token\"}",
        None,
        "application/json",
    );
    assert_error(&json_body, 400, "invalid_request");
    assert_error(
        &token(&query(&[
            ("grant_type", "password"),
            ("client_id", &client),
        ])),
        400,
        "unsupported_grant_type",
    );
    assert_error(
        &token(&query(&[("client_id", &client)])),
        400,
        "invalid_request",
    );
    assert_error(
        &token(&query(&[
            ("grant_type", "authorization_code"),
            ("client_id", &client),
        ])),
        400,
        "invalid_request",
    );
    assert_error(
        &token(&query(&[
            ("grant_type", "authorization_code"),
            ("code", "ldna_ac_x"),
            ("client_id", &client),
        ])),
        400,
        "invalid_grant",
    );
}

#[test]
fn confidential_clients_must_prove_their_secret() {
    let registered = register(json!({"redirect_uris": [REDIRECT]}));
    let client = registered["client_id"].as_str().expect("id");
    let secret = registered["client_secret"].as_str().expect("secret");
    let form = query(&[("grant_type", "authorization_code"), ("code", "ldna_ac_x")]);
    let wrong = format!("Basic {}", B64.encode(format!("{client}:{secret}x")));
    let refused = post_form(
        "/oauth/token",
        &form,
        Some(&wrong),
        "application/x-www-form-urlencoded",
    );
    assert_error(&refused, 401, "invalid_client");
    assert!(
        refused
            .headers
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("Basic ")),
        "{:?}",
        refused.headers
    );
    let no_credentials = post_form(
        "/oauth/token",
        &form,
        None,
        "application/x-www-form-urlencoded",
    );
    assert_error(&no_credentials, 401, "invalid_client");
    assert!(no_credentials.headers.get("www-authenticate").is_none());
    let right = format!("Basic {}", B64.encode(format!("{client}:{secret}")));
    // Authenticated: the (fake) code is then the problem.
    assert_error(
        &post_form(
            "/oauth/token",
            &form,
            Some(&right),
            "application/x-www-form-urlencoded",
        ),
        400,
        "invalid_grant",
    );
}

#[test]
fn an_expired_code_is_refused() {
    // Hosts under test issue codes that live 4 s.
    let client = public_client();
    let code = code_for(&client);
    std::thread::sleep(std::time::Duration::from_secs(5));
    assert_error(&exchange(&client, &code), 400, "invalid_grant");
}

#[test]
fn token_requests_are_rate_limited_per_client() {
    // The default limit: 120 token requests per client per minute (fixed windows). If
    // the run straddles a window boundary the count restarts once, so the first 429
    // comes after 120 to 240 ordinary answers — never before 120.
    let client = public_client();
    let form = query(&[
        ("grant_type", "authorization_code"),
        ("code", "ldna_ac_x"),
        ("client_id", &client),
    ]);
    let mut allowed = 0;
    let limited = loop {
        let answer = token(&form);
        if answer.status == 429 {
            break answer;
        }
        assert_eq!(answer.status, 400, "attempt {allowed}: {}", answer.body);
        allowed += 1;
        assert!(allowed <= 240, "no limit after {allowed} requests");
    };
    assert!(allowed >= 120, "limited after only {allowed} requests");
    assert_error(&limited, 429, "temporarily_unavailable");
    let retry_after: u64 = limited.headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    // Another client is not affected.
    assert_eq!(
        token(&query(&[
            ("grant_type", "authorization_code"),
            ("code", "ldna_ac_x"),
            ("client_id", &public_client())
        ]))
        .status,
        400
    );
}

#[test]
fn oversize_and_malformed_bodies_are_refused_on_every_oauth_endpoint() {
    let oversize = vec![b'a'; 1024 * 1024 + 1];
    for path in [
        "/oauth/register",
        "/oauth/token",
        "/oauth/revoke",
        "/oauth/introspect",
        "/oauth/authorize",
    ] {
        let mut response = agent()
            .post(format!("{}{path}", base_url()))
            .header("content-type", "application/x-www-form-urlencoded")
            .send(&oversize[..])
            .expect("reachable");
        assert_eq!(response.status(), 413, "{path}");
        let body: Value = response.body_mut().read_json().expect("JSON");
        assert_eq!(body["error"], "payload_too_large", "{path}");
    }
    // Bad percent-encoding and bytes that are not UTF-8 are invalid_request.
    for form in ["grant_type=%ZZ", "grant_type=%FF%FE"] {
        assert_error(&token(form), 400, "invalid_request");
    }
    let client = public_client();
    let not_json = post_form(
        "/oauth/register",
        "{\"redirect_uris\": [",
        None,
        "application/json",
    );
    assert_error(&not_json, 400, "invalid_client_metadata");
    let revoke_json = post_form(
        "/oauth/revoke",
        &json!({"token": "x", "client_id": client}).to_string(),
        None,
        "application/json",
    );
    assert_error(&revoke_json, 400, "invalid_request");
}
