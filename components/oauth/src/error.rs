//! OAuth errors (RFC 6749 §4.1.2.1, §5.2; RFC 7591 §3.2.2; RFC 6750 §3.1) and their
//! wire forms, in one place.

use serde_json::json;

/// An OAuth error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// Missing, repeated or malformed parameter.
    InvalidRequest,
    /// Client authentication failed.
    InvalidClient,
    /// Code, refresh token or PKCE verifier invalid, expired, revoked or mismatched.
    InvalidGrant,
    /// The client may not use this grant type.
    UnauthorizedClient,
    /// The grant type is not supported.
    UnsupportedGrantType,
    /// The scope is invalid, unknown or exceeds what was granted.
    InvalidScope,
    /// The resource owner or the server denied the request.
    AccessDenied,
    /// The response type is not supported.
    UnsupportedResponseType,
    /// The server failed.
    ServerError,
    /// The server is overloaded or rate-limited the caller.
    TemporarilyUnavailable,
    /// RFC 7591: a redirect URI is not acceptable.
    InvalidRedirectUri,
    /// RFC 7591: other client metadata is not acceptable.
    InvalidClientMetadata,
    /// RFC 8707: the resource indicator is invalid or not served here.
    InvalidTarget,
    /// RFC 6750: the access token is missing, expired, revoked or for another resource.
    InvalidToken,
    /// RFC 6750: the token lacks a required scope.
    InsufficientScope,
}

impl ErrorCode {
    /// The code as sent in `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::InvalidRedirectUri => "invalid_redirect_uri",
            Self::InvalidClientMetadata => "invalid_client_metadata",
            Self::InvalidTarget => "invalid_target",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
        }
    }

    /// The HTTP status of a JSON error response with this code (token, registration,
    /// revocation endpoints and protected resources).
    pub fn status(self) -> u16 {
        match self {
            Self::InvalidClient | Self::InvalidToken => 401,
            Self::InsufficientScope | Self::AccessDenied => 403,
            Self::ServerError => 500,
            Self::TemporarilyUnavailable => 503,
            _ => 400,
        }
    }
}

/// An OAuth error with a human-readable description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    /// The code.
    pub code: ErrorCode,
    /// `error_description`: printable ASCII without `"` or `\` (RFC 6749 §5.2).
    pub description: String,
}

impl OAuthError {
    /// An error with a description (characters outside RFC 6749's allowed set are
    /// replaced, so user input echoed into a description cannot break the syntax).
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        let description = description
            .into()
            .chars()
            .map(|c| match c {
                '\x20'..='\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e' => c,
                _ => '\'',
            })
            .collect();
        Self { code, description }
    }

    /// The JSON body: `{"error": …, "error_description": …}`.
    pub fn to_json(&self) -> serde_json::Value {
        json!({ "error": self.code.as_str(), "error_description": self.description })
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.description)
    }
}

impl std::error::Error for OAuthError {}

/// A quoted-string for an auth-param (RFC 9110 §5.6.4), escaping `"` and `\`.
fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The `WWW-Authenticate` value of a protected resource's 401 or 403 (RFC 6750 §3,
/// RFC 9728 §5.1): always `resource_metadata`, and the error, its description and the
/// required scope where they apply.
pub fn bearer_challenge(
    resource_metadata_url: &str,
    error: Option<&OAuthError>,
    required_scope: Option<&str>,
) -> String {
    let mut params = vec![format!(
        "resource_metadata={}",
        quoted(resource_metadata_url)
    )];
    if let Some(error) = error {
        params.push(format!("error={}", quoted(error.code.as_str())));
        params.push(format!("error_description={}", quoted(&error.description)));
    }
    if let Some(scope) = required_scope {
        params.push(format!("scope={}", quoted(scope)));
    }
    format!("Bearer {}", params.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_their_rfc_names_and_statuses() {
        assert_eq!(ErrorCode::InvalidGrant.as_str(), "invalid_grant");
        assert_eq!(ErrorCode::InvalidGrant.status(), 400);
        assert_eq!(ErrorCode::InvalidClient.status(), 401);
        assert_eq!(ErrorCode::InvalidToken.status(), 401);
        assert_eq!(ErrorCode::InsufficientScope.status(), 403);
        assert_eq!(
            ErrorCode::InvalidRedirectUri.as_str(),
            "invalid_redirect_uri"
        );
    }

    #[test]
    fn descriptions_cannot_break_out_of_their_syntax() {
        let error = OAuthError::new(ErrorCode::InvalidRequest, "bad \"x\\\" é\n");
        assert_eq!(error.description, "bad 'x'' ''");
        assert_eq!(
            error.to_json(),
            json!({"error": "invalid_request", "error_description": "bad 'x'' ''"})
        );
    }

    #[test]
    fn bearer_challenges_carry_metadata_error_and_scope() {
        assert_eq!(
            bearer_challenge(
                "https://as.example/.well-known/oauth-protected-resource/mcp",
                None,
                None
            ),
            "Bearer resource_metadata=\"https://as.example/.well-known/oauth-protected-resource/mcp\""
        );
        let expired = OAuthError::new(ErrorCode::InvalidToken, "the access token expired");
        assert_eq!(
            bearer_challenge("https://r/m", Some(&expired), None),
            "Bearer resource_metadata=\"https://r/m\", error=\"invalid_token\", error_description=\"the access token expired\""
        );
        let scope = OAuthError::new(ErrorCode::InsufficientScope, "needs more");
        assert_eq!(
            bearer_challenge(
                "https://r/m",
                Some(&scope),
                Some("learner.profile learner.struggles")
            ),
            "Bearer resource_metadata=\"https://r/m\", error=\"insufficient_scope\", error_description=\"needs more\", scope=\"learner.profile learner.struggles\""
        );
        assert_eq!(
            bearer_challenge("https://r/\"x", None, None),
            "Bearer resource_metadata=\"https://r/\\\"x\""
        );
    }
}
