//! CORS on the OAuth endpoints: granted to the configured origin only (hosts under
//! test allow `http://localhost:6274`), never reflected to others.

use learner_conformance::{agent, base_url};

const ALLOWED: &str = "http://localhost:6274";

fn origin_header(path: &str, method: &str, origin: &str) -> (u16, Option<String>, Option<String>) {
    let url = format!("{}{path}", base_url());
    let request = ureq::http::Request::builder()
        .method(method)
        .uri(&url)
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("content-type", "application/json")
        .body(String::new())
        .expect("request");
    let response = agent().run(request).expect("reachable");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    (
        response.status().as_u16(),
        header("access-control-allow-origin"),
        header("access-control-allow-methods"),
    )
}

#[test]
fn the_allowed_origin_gets_cors_on_discovery_register_and_token() {
    let (status, origin, _) =
        origin_header("/.well-known/oauth-authorization-server", "GET", ALLOWED);
    assert_eq!((status, origin.as_deref()), (200, Some(ALLOWED)));
    // Error responses carry it too, so the client can read them.
    let (status, origin, _) = origin_header("/oauth/register", "POST", ALLOWED);
    assert_eq!((status, origin.as_deref()), (400, Some(ALLOWED)));
    for path in ["/oauth/register", "/oauth/token", "/oauth/revoke"] {
        let (status, origin, methods) = origin_header(path, "OPTIONS", ALLOWED);
        assert_eq!(
            (status, origin.as_deref(), methods.as_deref()),
            (204, Some(ALLOWED), Some("POST")),
            "{path}"
        );
    }
}

#[test]
fn other_origins_get_no_cors() {
    for origin in [
        "https://evil.example",
        "http://localhost:6274.evil.example",
        "null",
    ] {
        let (status, granted, _) =
            origin_header("/.well-known/oauth-authorization-server", "GET", origin);
        assert_eq!((status, granted), (200, None), "{origin}");
        let (status, granted, methods) = origin_header("/oauth/token", "OPTIONS", origin);
        assert_eq!((status, granted, methods), (204, None, None), "{origin}");
    }
}
