//! Typed errors of the HTTP surface, mapped to wire responses in one place.

use http::StatusCode;
use thiserror::Error;

use crate::http_util::{Response, json_response};

/// Why a request could not be served. `into_response` is the only place these become
/// HTTP responses.
#[derive(Debug, Error)]
pub enum ApiError {
    /// No route matches the path.
    #[error("no route for {method} {path}")]
    NotFound {
        /// Request method.
        method: String,
        /// Request path.
        path: String,
    },
    /// The route exists but not for this method.
    #[error("method {method} is not allowed here")]
    MethodNotAllowed {
        /// Request method.
        method: String,
        /// Value for the `Allow` header.
        allow: &'static str,
    },
    /// The body is longer than the limit.
    #[error("request body exceeds {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The header section is longer than the limit.
    #[error("request header fields exceed {limit} bytes")]
    HeadersTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The request is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// A dependency (port) failed; the detail is logged by the host, not sent.
    #[error("service unavailable")]
    Unavailable(String),
    /// The request names a host this server does not answer for (RFC 9110 §15.5.20).
    #[error("{0}")]
    MisdirectedRequest(String),
    /// The operator's settings are invalid: nothing is served until they are fixed
    /// (the message names the setting; settings are not secrets).
    #[error("the server is misconfigured: {0}")]
    Misconfigured(String),
}

impl ApiError {
    /// The HTTP status for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::HeadersTooLarge { .. } => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unavailable(_) | Self::Misconfigured(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::MisdirectedRequest(_) => StatusCode::MISDIRECTED_REQUEST,
        }
    }

    /// The machine-readable error code sent as `error`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::HeadersTooLarge { .. } => "headers_too_large",
            Self::BadRequest(_) => "invalid_request",
            Self::Unavailable(_) => "temporarily_unavailable",
            Self::MisdirectedRequest(_) => "misdirected_request",
            Self::Misconfigured(_) => "server_misconfigured",
        }
    }

    /// The JSON response: `{"error": code, "error_description": message}`, the shape
    /// OAuth error responses use too.
    pub fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error": self.code(),
            "error_description": self.to_string(),
        });
        let mut response = json_response(self.status(), &body);
        if let Self::MethodNotAllowed { allow, .. } = self {
            response
                .headers_mut()
                .insert(http::header::ALLOW, http::HeaderValue::from_static(allow));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_json(response: &Response) -> serde_json::Value {
        serde_json::from_slice(response.body()).expect("error bodies are JSON")
    }

    #[test]
    fn not_found_is_404_json_with_code_and_description() {
        let response = ApiError::NotFound {
            method: "GET".into(),
            path: "/nope".into(),
        }
        .into_response();
        assert_eq!(response.status(), 404);
        assert_eq!(response.headers()["content-type"], "application/json");
        let body = body_json(&response);
        assert_eq!(body["error"], "not_found");
        assert_eq!(body["error_description"], "no route for GET /nope");
    }

    #[test]
    fn method_not_allowed_carries_allow_header() {
        let response = ApiError::MethodNotAllowed {
            method: "POST".into(),
            allow: "GET",
        }
        .into_response();
        assert_eq!(response.status(), 405);
        assert_eq!(response.headers()["allow"], "GET");
        assert_eq!(body_json(&response)["error"], "method_not_allowed");
    }

    #[test]
    fn unavailable_does_not_leak_the_detail() {
        let response = ApiError::Unavailable("disk /secret/path failed".into()).into_response();
        assert_eq!(response.status(), 503);
        let text = String::from_utf8_lossy(response.body()).into_owned();
        assert!(!text.contains("/secret/path"), "{text}");
    }
}
