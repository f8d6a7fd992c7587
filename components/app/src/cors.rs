//! CORS for the endpoints browser-based clients call (discovery, registration, token,
//! revocation): allowed only for the origins configured in `cors.allowed_origins`
//! (comma-separated), never by reflecting whatever `Origin` arrives.

use http::{HeaderValue, Method, StatusCode, header};
use learner_core::{Request, Response};

use crate::headers::set_static;
use crate::settings::Settings;

/// Headers a browser client may send.
const ALLOW_HEADERS: &str = "authorization, content-type, mcp-protocol-version, mcp-session-id, last-event-id, mcp-method, mcp-name";
/// Headers a browser client may read.
const EXPOSE_HEADERS: &str = "www-authenticate, mcp-session-id, retry-after";

/// The request's `Origin`, if it is on the allow-list.
fn allowed_origin(settings: &Settings, request: &Request) -> Option<HeaderValue> {
    let origin = request.headers().get(header::ORIGIN)?.to_str().ok()?;
    allowed(settings, origin)
        .then(|| HeaderValue::from_str(origin).ok())
        .flatten()
}

/// Whether `origin` is one of `cors.allowed_origins`.
pub fn allowed(settings: &Settings, origin: &str) -> bool {
    settings.cors_allowed_origins.iter().any(|o| o == origin)
}

/// Adds the CORS response headers when the request's origin is allowed.
pub fn decorate(settings: &Settings, request: &Request, mut response: Response) -> Response {
    let headers = response.headers_mut();
    // Responses differ by Origin: caches must keep them apart.
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = allowed_origin(settings, request) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE_HEADERS),
        );
    }
    response
}

/// The answer to a preflight (`OPTIONS`) for a path that allows `methods`: 204, with
/// the CORS grant only for an allowed origin.
pub fn preflight(settings: &Settings, request: &Request, methods: &'static str) -> Response {
    let mut response = http::Response::new(Vec::new());
    *response.status_mut() = StatusCode::NO_CONTENT;
    set_static(&mut response, [(header::ALLOW, methods)]);
    if allowed_origin(settings, request).is_some() {
        set_static(
            &mut response,
            [
                (header::ACCESS_CONTROL_ALLOW_METHODS, methods),
                (header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOW_HEADERS),
                (header::ACCESS_CONTROL_MAX_AGE, "600"),
            ],
        );
    }
    decorate(settings, request, response)
}

/// Whether a request is a CORS preflight.
pub fn is_preflight(request: &Request) -> bool {
    request.method() == Method::OPTIONS
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Settings allowing `origins` (comma-separated).
    fn allowing(origins: Option<&'static str>) -> Settings {
        Settings {
            cors_allowed_origins: origins
                .map(|list| list.split(',').map(|o| o.trim().to_owned()).collect())
                .unwrap_or_default(),
            ..Settings::default()
        }
    }

    fn request(origin: Option<&str>, method: Method) -> Request {
        let mut builder = http::Request::builder()
            .method(method)
            .uri("http://h/oauth/token");
        if let Some(origin) = origin {
            builder = builder.header("origin", origin);
        }
        builder.body(Vec::new()).expect("valid request")
    }

    /// An empty response to a POST from `origin`, decorated.
    fn decorated(config: &Settings, origin: Option<&str>) -> Response {
        decorate(
            config,
            &request(origin, Method::POST),
            http::Response::new(Vec::new()),
        )
    }

    /// The answer to a preflight from `origin` for a POST-only path.
    fn preflighted(config: &Settings, origin: &str) -> Response {
        preflight(config, &request(Some(origin), Method::OPTIONS), "POST")
    }

    #[test]
    fn only_listed_origins_are_granted_and_never_reflected() {
        let config = allowing(Some("http://localhost:6274, https://inspector.example"));
        let granted = decorated(&config, Some("http://localhost:6274"));
        assert_eq!(
            granted.headers()["access-control-allow-origin"],
            "http://localhost:6274"
        );
        assert_eq!(granted.headers()["vary"], "Origin");
        for origin in [
            Some("https://evil.example"),
            Some("http://localhost:6274.evil.example"),
            Some("null"),
            None,
        ] {
            let refused = decorated(&config, origin);
            assert!(
                refused
                    .headers()
                    .get("access-control-allow-origin")
                    .is_none(),
                "{origin:?}"
            );
        }
        let unconfigured = decorated(&allowing(None), Some("http://localhost:6274"));
        assert!(
            unconfigured
                .headers()
                .get("access-control-allow-origin")
                .is_none()
        );
    }

    #[test]
    fn preflights_grant_methods_and_headers_to_allowed_origins() {
        let config = allowing(Some("http://localhost:6274"));
        let allowed = preflighted(&config, "http://localhost:6274");
        assert_eq!(allowed.status(), 204);
        assert_eq!(allowed.headers()["access-control-allow-methods"], "POST");
        assert!(
            allowed.headers()["access-control-allow-headers"]
                .to_str()
                .unwrap()
                .contains("authorization")
        );
        let refused = preflighted(&config, "https://evil.example");
        assert_eq!(refused.status(), 204);
        assert!(
            refused
                .headers()
                .get("access-control-allow-methods")
                .is_none()
        );
        assert!(
            refused
                .headers()
                .get("access-control-allow-origin")
                .is_none()
        );
    }
}
