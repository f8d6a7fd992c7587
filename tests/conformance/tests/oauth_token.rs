//! The token and revocation endpoints over HTTP, with codes issued through the real
//! authorization-request validation (`/__test/oauth/code` stands in for the person
//! signing in and approving). One test per attack the issue names; every error is
//! checked for its exact status and code.

// Test helpers take JSON values by value, so a call reads as the request it makes.
#![allow(clippy::needless_pass_by_value)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use learner_conformance::{agent, base_url, encode, ok};
use serde_json::{Value, json};

// RFC 7636 Appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const REDIRECT: &str = "http://127.0.0.1:43123/callback";

fn register(body: Value) -> Value {
    let mut response = agent()
        .post(format!("{}/oauth/register", base_url()))
        .header("content-type", "application/json")
        .send(body.to_string())
        .expect("reachable");
    assert_eq!(response.status(), 201);
    response.body_mut().read_json().expect("JSON")
}

fn public_client() -> String {
    register(json!({
        "redirect_uris": [REDIRECT],
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"],
    }))["client_id"]
        .as_str()
        .expect("client_id")
        .to_owned()
}

fn query(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn authorize(pairs: &[(&str, &str)]) -> Value {
    let mut response = agent()
        .post(format!("{}/__test/oauth/code", base_url()))
        .send_json(json!({"query": query(pairs), "subject": "teacher-1"}))
        .expect("reachable");
    assert_eq!(response.status(), 200);
    response.body_mut().read_json().expect("JSON")
}

fn code_for(client_id: &str) -> String {
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

struct Answer {
    status: u16,
    body: Value,
    headers: ureq::http::HeaderMap,
}

fn post_form(path: &str, form: &str, authorization: Option<&str>, content_type: &str) -> Answer {
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

fn token(form: &str) -> Answer {
    post_form(
        "/oauth/token",
        form,
        None,
        "application/x-www-form-urlencoded",
    )
}

fn exchange(client_id: &str, code: &str) -> Answer {
    token(&query(&[
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("client_id", client_id),
        ("code_verifier", VERIFIER),
    ]))
}

fn refresh(client_id: &str, refresh_token: &str) -> Answer {
    token(&query(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
        ("client_id", client_id),
    ]))
}

fn assert_error(answer: &Answer, status: u16, code: &str) {
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

fn audit_kinds(actor: &str) -> Vec<String> {
    ok(json!({"port": "audit", "op": "read", "after": 0, "limit": 100_000}))
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["actor"] == json!(actor))
        .map(|e| e["kind"].as_str().unwrap_or_default().to_owned())
        .collect()
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
fn revoking_a_refresh_token_ends_the_grant() {
    let client = public_client();
    let issued = exchange(&client, &code_for(&client));
    let refresh_token = issued.body["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    let form = query(&[("token", &refresh_token), ("client_id", &client)]);
    let revoked = post_form(
        "/oauth/revoke",
        &form,
        None,
        "application/x-www-form-urlencoded",
    );
    assert_eq!((revoked.status, &revoked.body), (200, &Value::Null));
    assert_error(&refresh(&client, &refresh_token), 400, "invalid_grant");
    // Revoking an unknown token is accepted too (RFC 7009 §2.2).
    let unknown = post_form(
        "/oauth/revoke",
        &query(&[("token", "nope"), ("client_id", &client)]),
        None,
        "application/x-www-form-urlencoded",
    );
    assert_eq!(unknown.status, 200);
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

    let wrong = token(&query(&[
        ("grant_type", "authorization_code"),
        ("code", &code_for(&client)),
        ("redirect_uri", REDIRECT),
        ("client_id", &client),
        ("code_verifier", &"x".repeat(43)),
    ]));
    assert_error(&wrong, 400, "invalid_grant");
    let absent = token(&query(&[
        ("grant_type", "authorization_code"),
        ("code", &code_for(&client)),
        ("redirect_uri", REDIRECT),
        ("client_id", &client),
    ]));
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
    let wrong_redirect = token(&query(&[
        ("grant_type", "authorization_code"),
        ("code", &code_for(&client)),
        ("redirect_uri", "http://127.0.0.1:43123/other"),
        ("client_id", &client),
        ("code_verifier", VERIFIER),
    ]));
    assert_error(&wrong_redirect, 400, "invalid_grant");
    let wrong_resource = token(&query(&[
        ("grant_type", "authorization_code"),
        ("code", &code_for(&client)),
        ("redirect_uri", REDIRECT),
        ("client_id", &client),
        ("code_verifier", VERIFIER),
        ("resource", "https://other.example/mcp"),
    ]));
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
fn introspection_reports_live_access_tokens_to_confidential_clients_only() {
    let resource_server = register(json!({"redirect_uris": ["https://rs.example/cb"]}));
    let rs_id = resource_server["client_id"].as_str().expect("id");
    let rs_secret = resource_server["client_secret"].as_str().expect("secret");
    let basic = format!("Basic {}", B64.encode(format!("{rs_id}:{rs_secret}")));
    let client = public_client();
    let issued = exchange(&client, &code_for(&client));
    let access = issued.body["access_token"].as_str().expect("access token");
    let introspect = |token: &str, authorization: Option<&str>| {
        post_form(
            "/oauth/introspect",
            &query(&[("token", token)]),
            authorization,
            "application/x-www-form-urlencoded",
        )
    };
    let live = introspect(access, Some(&basic));
    assert_eq!(live.status, 200, "{}", live.body);
    assert_eq!(live.body["active"], true);
    assert_eq!(live.body["client_id"], json!(client));
    assert_eq!(live.body["sub"], "teacher-1");
    assert_eq!(live.body["scope"], "learner.profile learner.struggles");
    assert_eq!(live.body["aud"], json!(format!("{}/mcp", base_url())));
    assert_eq!(live.body["iss"], json!(base_url()));
    // Issued now, expiring after the access-token lifetime (the token response's
    // `expires_in`), in seconds since the epoch.
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let iat = live.body["iat"].as_u64().expect("iat");
    let exp = live.body["exp"].as_u64().expect("exp");
    assert!(iat.abs_diff(now_s) <= 60, "iat {iat}, now {now_s}");
    assert_eq!(Some(exp - iat), issued.body["expires_in"].as_u64());
    for inactive in [
        "ldna_at_nope",
        "garbage",
        issued.body["refresh_token"].as_str().expect("refresh"),
    ] {
        assert_eq!(
            introspect(inactive, Some(&basic)).body,
            json!({"active": false}),
            "{inactive}"
        );
    }
    // A public client may not introspect; nor may anyone unauthenticated.
    let public = post_form(
        "/oauth/introspect",
        &query(&[("token", access), ("client_id", &client)]),
        None,
        "application/x-www-form-urlencoded",
    );
    assert_error(&public, 401, "invalid_client");
    assert_error(&introspect(access, None), 401, "invalid_client");
    // Revoked: inactive.
    let revoke_form = query(&[("token", access), ("client_id", &client)]);
    assert_eq!(
        post_form(
            "/oauth/revoke",
            &revoke_form,
            None,
            "application/x-www-form-urlencoded"
        )
        .status,
        200
    );
    assert_eq!(
        introspect(access, Some(&basic)).body,
        json!({"active": false})
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

/// `GET /__test/whoami` (the guard every protected resource uses) with `authorization`
/// as the header value, from 127.0.0.1 to `base` with `Host: host`.
fn whoami(
    host: &str,
    authorization: Option<&str>,
    query: &str,
) -> learner_conformance::RawResponse {
    let mut headers = vec![("Host", host)];
    if let Some(value) = authorization {
        headers.push(("Authorization", value));
    }
    learner_conformance::request_from(
        std::net::Ipv4Addr::LOCALHOST,
        &base_url(),
        "GET",
        &format!("/__test/whoami{query}"),
        &headers,
        b"",
    )
}

fn authority() -> String {
    base_url().trim_start_matches("http://").to_owned()
}

fn access_token(client: &str) -> String {
    exchange(client, &code_for(client)).body["access_token"]
        .as_str()
        .expect("access token")
        .to_owned()
}

#[test]
fn the_protected_resource_challenges_per_rfc_6750_and_9728() {
    let host = authority();
    let metadata = format!(
        "Bearer resource_metadata=\"{}/.well-known/oauth-protected-resource/mcp\"",
        base_url()
    );
    // No credentials: 401, a challenge without an error code, suggesting the scope to
    // authorize for.
    let suggested = format!(
        "{metadata}, scope=\"learner.profile learner.behavioral learner.assessment learner.struggles class.aggregates\""
    );
    let anonymous = whoami(&host, None, "");
    assert_eq!(anonymous.status, 401);
    assert_eq!(
        anonymous.header("www-authenticate"),
        Some(suggested.as_str())
    );
    // Another scheme's credentials are no bearer token either.
    let basic = whoami(&host, Some("Basic dXNlcjpwYXNz"), "");
    assert_eq!(basic.status, 401);
    assert_eq!(basic.header("www-authenticate"), Some(suggested.as_str()));
    // A token in the query string is never accepted (MCP: header only).
    let client = public_client();
    let token = access_token(&client);
    let in_query = whoami(&host, None, &format!("?access_token={token}"));
    assert_eq!(in_query.status, 401);

    let unknown = whoami(&host, Some("Bearer ldna_at_notarealtoken"), "");
    assert_eq!(unknown.status, 401);
    assert_eq!(unknown.json()["error"], "invalid_token");
    let challenge = unknown.header("www-authenticate").expect("challenge");
    assert!(
        challenge.starts_with(&metadata)
            && challenge.contains("error=\"invalid_token\"")
            && challenge.ends_with("scope=\"learner.profile learner.behavioral learner.assessment learner.struggles class.aggregates\""),
        "{challenge}"
    );
    let malformed = whoami(&host, Some("Bearer"), "");
    assert_eq!(malformed.status, 400);
    assert_eq!(malformed.json()["error"], "invalid_request");

    let bearer = format!("Bearer {token}");
    let admitted = whoami(&host, Some(&bearer), "");
    assert_eq!(admitted.status, 200, "{admitted:?}");
    assert_eq!(admitted.json()["client_id"], json!(client));
    assert_eq!(admitted.json()["subject"], "teacher-1");
    assert_eq!(
        admitted.json()["scope"],
        "learner.profile learner.struggles"
    );
    // A scope the token lacks: 403 insufficient_scope naming the scope needed.
    let short = whoami(&host, Some(&bearer), "?scope=learner.audit");
    assert_eq!(short.status, 403);
    assert_eq!(short.json()["error"], "insufficient_scope");
    let challenge = short.header("www-authenticate").expect("challenge");
    assert!(
        challenge.starts_with(&metadata)
            && challenge.contains("error=\"insufficient_scope\"")
            && challenge.ends_with("scope=\"learner.audit\""),
        "{challenge}"
    );
}

#[test]
fn a_token_is_refused_at_another_audience() {
    // The same server reached as `localhost` is another origin, so another resource
    // (`http://localhost:PORT/mcp`): a token issued for one is refused at the other.
    let port = authority().rsplit_once(':').expect("port").1.to_owned();
    let other_host = format!("localhost:{port}");
    let client = public_client();
    let bearer = format!("Bearer {}", access_token(&client));
    assert_eq!(whoami(&authority(), Some(&bearer), "").status, 200);
    let elsewhere = whoami(&other_host, Some(&bearer), "");
    assert_eq!(elsewhere.status, 401, "{elsewhere:?}");
    assert_eq!(elsewhere.json()["error"], "invalid_token");
    assert!(
        elsewhere
            .header("www-authenticate")
            .is_some_and(|c| c.contains(&format!(
                "resource_metadata=\"http://localhost:{port}/.well-known/oauth-protected-resource/mcp\""
            ))),
        "{elsewhere:?}"
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
