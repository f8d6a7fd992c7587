//! The bearer-token guard every protected resource uses (RFC 6750, RFC 9728), over
//! `/__test/whoami`: its challenges, and tokens held to their audience.

use learner_conformance::base_url;
use learner_conformance::oauth_endpoints::{code_for, exchange, public_client};
use serde_json::json;

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
