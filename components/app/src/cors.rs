//! CORS for the endpoints browser-based clients call (discovery, registration, token,
//! revocation): allowed only for the origins configured in `cors.allowed_origins`
//! (comma-separated), never by reflecting whatever `Origin` arrives.

use http::{HeaderValue, Method, StatusCode, header};
use learner_core::{Request, Response};

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
    let headers = response.headers_mut();
    headers.insert(header::ALLOW, HeaderValue::from_static(methods));
    if allowed_origin(settings, request).is_some() {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(methods),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(ALLOW_HEADERS),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
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

    #[test]
    fn only_listed_origins_are_granted_and_never_reflected() {
        let config = allowing(Some("http://localhost:6274, https://inspector.example"));
        let granted = decorate(
            &config,
            &request(Some("http://localhost:6274"), Method::POST),
            http::Response::new(Vec::new()),
        );
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
            let refused = decorate(
                &config,
                &request(origin, Method::POST),
                http::Response::new(Vec::new()),
            );
            assert!(
                refused
                    .headers()
                    .get("access-control-allow-origin")
                    .is_none(),
                "{origin:?}"
            );
        }
        let unconfigured = decorate(
            &allowing(None),
            &request(Some("http://localhost:6274"), Method::POST),
            http::Response::new(Vec::new()),
        );
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
        let allowed = preflight(
            &config,
            &request(Some("http://localhost:6274"), Method::OPTIONS),
            "POST",
        );
        assert_eq!(allowed.status(), 204);
        assert_eq!(allowed.headers()["access-control-allow-methods"], "POST");
        assert!(
            allowed.headers()["access-control-allow-headers"]
                .to_str()
                .unwrap()
                .contains("authorization")
        );
        let refused = preflight(
            &config,
            &request(Some("https://evil.example"), Method::OPTIONS),
            "POST",
        );
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
