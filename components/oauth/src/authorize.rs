//! The authorization endpoint's request validation (RFC 6749 §4.1.1, §4.1.2.1 with
//! OAuth 2.1's changes; RFC 7636; RFC 8707; RFC 9207), before sign-in and consent.
//!
//! The rule that matters most: until the client and its redirect URI are validated,
//! errors are shown to the person as a page and never redirected — so an attacker
//! cannot use this server as an open redirector.

use crate::error::{ErrorCode, OAuthError};
use crate::metadata::Issuer;
use crate::params::Params;
use crate::pkce::CodeChallenge;
use crate::registration::ClientMetadata;
use crate::scope::Scopes;

/// Longest `state` echoed back, in bytes.
pub const MAX_STATE_BYTES: usize = 1024;

/// A valid authorization request, ready for sign-in and consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest {
    /// The client.
    pub client_id: String,
    /// Where the response goes: a registered URI (or, for loopback, the presented
    /// one, whose port may differ).
    pub redirect_uri: String,
    /// Echoed back untouched.
    pub state: Option<String>,
    /// The scopes asked for (all supported by the server).
    pub scope: Scopes,
    /// The RFC 8707 resource, i.e. the audience of the tokens.
    pub resource: String,
    /// The PKCE challenge to check at the token endpoint.
    pub code_challenge: CodeChallenge,
}

/// Why an authorization request was refused, and how the refusal is delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// Shown to the person: the client or redirect URI could not be validated.
    Page(OAuthError),
    /// Sent to the client's validated redirect URI (see [`error_redirect`]).
    Redirect {
        /// The validated redirect URI.
        redirect_uri: String,
        /// The error.
        error: OAuthError,
        /// The request's `state`, echoed.
        state: Option<String>,
    },
}

/// What the server supports, for validating a request.
pub struct Policy<'a> {
    /// This server's issuer.
    pub issuer: &'a Issuer,
    /// Every scope the server knows.
    pub scopes_supported: &'a [&'a str],
    /// Used when the request names no scope.
    pub default_scope: &'a str,
}

/// Validates an authorization request from its query parameters. `client` is the
/// registration found for the request's `client_id` (`None`: unknown client).
pub fn validate(
    params: &Params,
    client: Option<&ClientMetadata>,
    policy: &Policy<'_>,
) -> Result<AuthorizationRequest, Rejection> {
    let page = |code, message: &str| Rejection::Page(OAuthError::new(code, message));
    let client_id = params
        .get("client_id")
        .ok_or_else(|| page(ErrorCode::InvalidRequest, "client_id is required"))?;
    let client = client.ok_or_else(|| page(ErrorCode::InvalidClient, "unknown client_id"))?;
    let redirect_uri = match params.get("redirect_uri") {
        Some(presented) if client.redirect_uris.iter().any(|r| r.matches(presented)) => {
            presented.to_owned()
        }
        Some(_) => {
            return Err(page(
                ErrorCode::InvalidRequest,
                "redirect_uri does not match a registered redirect URI",
            ));
        }
        // OAuth 2.1 §4.1.1: optional only when exactly one is registered.
        None => match client.redirect_uris.as_slice() {
            [only] => only.as_str().to_owned(),
            _ => return Err(page(ErrorCode::InvalidRequest, "redirect_uri is required")),
        },
    };

    // From here on the redirect URI is trusted: errors go back to the client.
    let state = params.get("state").map(str::to_owned);
    let redirect = |error: OAuthError, state: Option<String>| Rejection::Redirect {
        redirect_uri: redirect_uri.clone(),
        error,
        state,
    };
    if state.as_ref().is_some_and(|s| s.len() > MAX_STATE_BYTES) {
        return Err(redirect(
            OAuthError::new(ErrorCode::InvalidRequest, "state is too long"),
            None,
        ));
    }
    let fail = |code, message: &str| redirect(OAuthError::new(code, message), state.clone());

    match params.get("response_type") {
        Some("code") => {}
        Some(_) => {
            return Err(fail(
                ErrorCode::UnsupportedResponseType,
                "response_type must be code",
            ));
        }
        None => return Err(fail(ErrorCode::InvalidRequest, "response_type is required")),
    }
    let code_challenge = CodeChallenge::from_request(
        params.get("code_challenge"),
        params.get("code_challenge_method"),
    )
    .map_err(|e| fail(ErrorCode::InvalidRequest, &e.to_string()))?;

    let scope_text = params.get("scope").unwrap_or(policy.default_scope);
    let scope =
        Scopes::parse(scope_text).map_err(|e| fail(ErrorCode::InvalidScope, &e.to_string()))?;
    if let Some(unknown) = scope.iter().find(|s| !policy.scopes_supported.contains(s)) {
        return Err(fail(
            ErrorCode::InvalidScope,
            &format!("unknown scope {unknown:?}"),
        ));
    }
    if !client.scope.is_empty() && !scope.is_subset_of(&client.scope) {
        return Err(fail(
            ErrorCode::InvalidScope,
            "scope exceeds what the client registered",
        ));
    }

    // RFC 8707: the one resource this server issues tokens for. Clients that send
    // none get it too (older MCP clients), bound into the token the same way.
    let resource = policy.issuer.mcp_resource();
    if let Some(asked) = params.get("resource")
        && asked != resource
    {
        return Err(fail(
            ErrorCode::InvalidTarget,
            "resource must be this server's MCP endpoint",
        ));
    }

    Ok(AuthorizationRequest {
        client_id: client_id.to_owned(),
        redirect_uri,
        state,
        scope,
        resource,
        code_challenge,
    })
}

/// `redirect_uri` with `params` added to its query.
fn with_query(redirect_uri: &str, params: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in params {
        query.append_pair(name, value);
    }
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    format!("{redirect_uri}{separator}{}", query.finish())
}

/// The success redirect: `code`, `state` if any, and `iss` (RFC 9207).
pub fn code_redirect(request: &AuthorizationRequest, code: &str, issuer: &Issuer) -> String {
    let mut params = vec![("code", code)];
    if let Some(state) = &request.state {
        params.push(("state", state));
    }
    params.push(("iss", issuer.as_str()));
    with_query(&request.redirect_uri, &params)
}

/// An error redirect: `error`, `error_description`, `state` if any, and `iss`.
pub fn error_redirect(
    redirect_uri: &str,
    error: &OAuthError,
    state: Option<&str>,
    issuer: &Issuer,
) -> String {
    let mut params = vec![
        ("error", error.code.as_str()),
        ("error_description", error.description.as_str()),
    ];
    if let Some(state) = state {
        params.push(("state", state));
    }
    params.push(("iss", issuer.as_str()));
    with_query(redirect_uri, &params)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn issuer() -> Issuer {
        Issuer::new("https://as.example").unwrap()
    }

    fn client(uris: &[&str]) -> ClientMetadata {
        let body = serde_json::json!({"redirect_uris": uris, "token_endpoint_auth_method": "none"});
        ClientMetadata::from_request(body.to_string().as_bytes()).unwrap()
    }

    fn query(extra: &[(&str, &str)], without: &[&str]) -> Params {
        let base = [
            ("client_id", "c1"),
            ("redirect_uri", "https://app.example/cb"),
            ("response_type", "code"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("state", "xyz"),
            ("scope", "learner.profile"),
            ("resource", "https://as.example/mcp"),
        ];
        let mut serializer = form_urlencoded::Serializer::new(String::new());
        for (k, v) in base
            .iter()
            .filter(|(k, _)| !without.contains(k) && !extra.iter().any(|(e, _)| e == k))
        {
            serializer.append_pair(k, v);
        }
        for (k, v) in extra {
            serializer.append_pair(k, v);
        }
        Params::parse(serializer.finish().as_bytes()).unwrap()
    }

    fn check(
        params: &Params,
        client: Option<&ClientMetadata>,
    ) -> Result<AuthorizationRequest, Rejection> {
        let issuer = issuer();
        let policy = Policy {
            issuer: &issuer,
            scopes_supported: &["learner.profile", "learner.struggles"],
            default_scope: "learner.profile",
        };
        validate(params, client, &policy)
    }

    fn page_code(result: Result<AuthorizationRequest, Rejection>) -> ErrorCode {
        match result {
            Err(Rejection::Page(error)) => error.code,
            other => panic!("expected a page, got {other:?}"),
        }
    }

    fn redirect_code(
        result: Result<AuthorizationRequest, Rejection>,
    ) -> (ErrorCode, Option<String>) {
        match result {
            Err(Rejection::Redirect {
                redirect_uri,
                error,
                state,
            }) => {
                assert_eq!(redirect_uri, "https://app.example/cb");
                (error.code, state)
            }
            other => panic!("expected a redirect, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_request_passes() {
        let c = client(&["https://app.example/cb"]);
        let request = check(&query(&[], &[]), Some(&c)).unwrap();
        assert_eq!(request.redirect_uri, "https://app.example/cb");
        assert_eq!(request.state.as_deref(), Some("xyz"));
        assert_eq!(request.resource, "https://as.example/mcp");
        assert_eq!(request.scope.to_string(), "learner.profile");
    }

    #[test]
    fn client_and_redirect_problems_are_pages_never_redirects() {
        let c = client(&["https://app.example/cb", "https://app.example/cb2"]);
        assert_eq!(
            page_code(check(&query(&[], &["client_id"]), Some(&c))),
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            page_code(check(&query(&[], &[]), None)),
            ErrorCode::InvalidClient
        );
        for tampered in [
            "https://app.example/cb/../x",
            "https://app.example/cb?x=1",
            "https://evil.example/cb",
            "https://app.example.evil.example/cb",
            "https://app.example/c",
        ] {
            let params = query(&[("redirect_uri", tampered)], &[]);
            assert_eq!(
                page_code(check(&params, Some(&c))),
                ErrorCode::InvalidRequest,
                "{tampered}"
            );
        }
        // Two registered: the parameter is required.
        assert_eq!(
            page_code(check(&query(&[], &["redirect_uri"]), Some(&c))),
            ErrorCode::InvalidRequest
        );
        // One registered: it is used.
        let single = client(&["https://app.example/cb"]);
        assert_eq!(
            check(&query(&[], &["redirect_uri"]), Some(&single))
                .unwrap()
                .redirect_uri,
            "https://app.example/cb"
        );
    }

    #[test]
    fn other_problems_redirect_with_state() {
        let c = client(&["https://app.example/cb"]);
        // (parameters replaced or added, parameters removed, expected error)
        type Case = (
            &'static [(&'static str, &'static str)],
            &'static [&'static str],
            ErrorCode,
        );
        let cases: [Case; 9] = [
            (
                &[("response_type", "token")],
                &[],
                ErrorCode::UnsupportedResponseType,
            ),
            (&[], &["response_type"], ErrorCode::InvalidRequest),
            (&[], &["code_challenge"], ErrorCode::InvalidRequest),
            (
                &[("code_challenge_method", "plain")],
                &[],
                ErrorCode::InvalidRequest,
            ),
            (&[], &["code_challenge_method"], ErrorCode::InvalidRequest),
            (
                &[("code_challenge", "short")],
                &[],
                ErrorCode::InvalidRequest,
            ),
            (&[("scope", "admin")], &[], ErrorCode::InvalidScope),
            (&[("scope", "a  b")], &[], ErrorCode::InvalidScope),
            (
                &[("resource", "https://other.example/mcp")],
                &[],
                ErrorCode::InvalidTarget,
            ),
        ];
        for (extra, without, expected) in cases {
            let (code, state) = redirect_code(check(&query(extra, without), Some(&c)));
            assert_eq!(code, expected, "{extra:?} {without:?}");
            assert_eq!(state.as_deref(), Some("xyz"));
        }
    }

    #[test]
    fn loopback_redirects_keep_the_presented_port() {
        let c = client(&["http://127.0.0.1/callback"]);
        let params = query(&[("redirect_uri", "http://127.0.0.1:49152/callback")], &[]);
        assert_eq!(
            check(&params, Some(&c)).unwrap().redirect_uri,
            "http://127.0.0.1:49152/callback"
        );
    }

    #[test]
    fn responses_carry_state_and_iss() {
        let c = client(&["https://app.example/cb?tenant=a"]);
        let params = query(
            &[
                ("redirect_uri", "https://app.example/cb?tenant=a"),
                ("state", "s&t=1"),
            ],
            &[],
        );
        let request = check(&params, Some(&c)).unwrap();
        assert_eq!(
            code_redirect(&request, "ldna_ac_x", &issuer()),
            "https://app.example/cb?tenant=a&code=ldna_ac_x&state=s%26t%3D1&iss=https%3A%2F%2Fas.example"
        );
        let error = OAuthError::new(ErrorCode::AccessDenied, "the user denied access");
        assert_eq!(
            error_redirect("https://app.example/cb", &error, None, &issuer()),
            "https://app.example/cb?error=access_denied&error_description=the+user+denied+access&iss=https%3A%2F%2Fas.example"
        );
    }
}
