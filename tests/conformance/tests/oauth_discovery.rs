//! OAuth discovery (RFC 8414, RFC 9728): the documents, and one issuer everywhere.

use learner_conformance::{agent, base_url};
use serde_json::{Value, json};

fn get_json(path: &str) -> (u16, Value) {
    let mut response = agent()
        .get(format!("{}{path}", base_url()))
        .call()
        .expect("reachable");
    let status = response.status().as_u16();
    (status, response.body_mut().read_json().expect("JSON"))
}

#[test]
fn authorization_server_metadata_names_every_endpoint() {
    let base = base_url();
    let (status, metadata) = get_json("/.well-known/oauth-authorization-server");
    assert_eq!(status, 200);
    // Byte-identical to the URL clients derive it from: no trailing slash.
    assert_eq!(metadata["issuer"], json!(base));
    for (field, path) in [
        ("authorization_endpoint", "/oauth/authorize"),
        ("token_endpoint", "/oauth/token"),
        ("registration_endpoint", "/oauth/register"),
        ("revocation_endpoint", "/oauth/revoke"),
        ("introspection_endpoint", "/oauth/introspect"),
    ] {
        assert_eq!(metadata[field], json!(format!("{base}{path}")), "{field}");
    }
    assert_eq!(
        metadata["code_challenge_methods_supported"],
        json!(["S256"])
    );
    assert_eq!(metadata["response_types_supported"], json!(["code"]));
    assert_eq!(
        metadata["grant_types_supported"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(
        metadata["authorization_response_iss_parameter_supported"],
        json!(true)
    );
    assert!(
        metadata["scopes_supported"]
            .as_array()
            .is_some_and(|s| s.contains(&json!("learner.profile")))
    );
}

#[test]
fn protected_resource_metadata_points_at_this_server() {
    let base = base_url();
    for path in [
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource",
    ] {
        let (status, metadata) = get_json(path);
        assert_eq!(status, 200, "{path}");
        assert_eq!(metadata["resource"], json!(format!("{base}/mcp")), "{path}");
        assert_eq!(metadata["authorization_servers"], json!([base]), "{path}");
        assert_eq!(
            metadata["bearer_methods_supported"],
            json!(["header"]),
            "{path}"
        );
    }
}

#[test]
fn discovery_is_read_only() {
    let response = agent()
        .post(format!(
            "{}/.well-known/oauth-authorization-server",
            base_url()
        ))
        .send("")
        .expect("reachable");
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "GET");
}

#[test]
fn without_public_url_only_loopback_hosts_are_served() {
    // A forged Host must not become the issuer that clients are told to trust.
    let forged = learner_conformance::request_from(
        std::net::Ipv4Addr::LOCALHOST,
        &base_url(),
        "GET",
        "/.well-known/oauth-authorization-server",
        &[("Host", "evil.example")],
        b"",
    );
    assert_eq!(forged.status, 421, "{forged:?}");
    assert_eq!(forged.json()["error"], "misdirected_request");
    assert!(!String::from_utf8_lossy(&forged.body).contains("\"issuer\""));
    let port = base_url()
        .rsplit_once(':')
        .map(|(_, p)| p.to_owned())
        .expect("port");
    let local = learner_conformance::request_from(
        std::net::Ipv4Addr::LOCALHOST,
        &base_url(),
        "GET",
        "/.well-known/oauth-authorization-server",
        &[("Host", &format!("localhost:{port}"))],
        b"",
    );
    assert_eq!(local.status, 200, "{local:?}");
    assert_eq!(local.json()["issuer"], format!("http://localhost:{port}"));
}
