//! The gate in front of every protected resource (the MCP endpoint): a valid access
//! token for this server's resource, carried as `Authorization: Bearer` (RFC 6750
//! §2.1, the only way MCP allows), with the required scope. What passes becomes a
//! typed [`Principal`], once, here. Refusals are RFC 6750 §3 with RFC 9728's
//! `resource_metadata`, so a client can discover how to authorize.

use http::{HeaderValue, StatusCode, header};
use learner_core::identity::{Member, Principal};
use learner_core::ports::Host;
use learner_core::{Request, Response, json_response};
use learner_oauth::error::{ErrorCode, OAuthError, bearer_challenge};
use learner_oauth::grants::{AccessGrant, GrantFailure};
use learner_oauth::metadata::Issuer;

use crate::oauth::grant_store;
use crate::settings::Settings;

/// What a request presented in its `Authorization` header.
#[derive(Debug, PartialEq, Eq)]
enum Presented<'a> {
    /// No bearer credentials at all (RFC 6750 §3.1: the challenge carries no error).
    Nothing,
    /// A bearer token.
    Token(&'a str),
    /// A malformed `Authorization` header or more than one.
    Malformed,
}

fn presented(request: &Request) -> Presented<'_> {
    let mut values = request.headers().get_all(header::AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return if request.headers().contains_key(header::AUTHORIZATION) {
            Presented::Malformed
        } else {
            Presented::Nothing
        };
    };
    let Ok(value) = value.to_str() else {
        return Presented::Malformed;
    };
    let Some((scheme, token)) = value.split_once(' ') else {
        // A bare scheme, e.g. `Bearer` alone, or another scheme's credentials.
        return if value.eq_ignore_ascii_case("bearer") {
            Presented::Malformed
        } else {
            Presented::Nothing
        };
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Presented::Nothing;
    }
    let token = token.trim();
    // RFC 6750 §2.1 b64token: one run of token68 characters.
    let valid = !token.is_empty()
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b));
    if valid {
        Presented::Token(token)
    } else {
        Presented::Malformed
    }
}

/// A refusal with its challenge: 401 for missing or bad tokens, 400 for malformed
/// requests, 403 for too little scope.
fn refusal(issuer: &Issuer, error: Option<&OAuthError>, required_scope: Option<&str>) -> Response {
    let metadata = Issuer::well_known(&issuer.mcp_resource(), "oauth-protected-resource");
    let (status, body) = match error {
        Some(error) => (
            StatusCode::from_u16(error.code.status()).unwrap_or(StatusCode::UNAUTHORIZED),
            error.to_json(),
        ),
        None => (
            StatusCode::UNAUTHORIZED,
            serde_json::json!({
                "error": "unauthorized",
                "error_description": "an access token is required (Authorization: Bearer)",
            }),
        ),
    };
    // A 401 suggests the scope to authorize for (MCP's scope selection reads it).
    let scope = match (status, required_scope) {
        (StatusCode::UNAUTHORIZED, None) => Some(learner_oauth::catalogue::CHALLENGE_SCOPE),
        (_, scope) => scope,
    };
    let mut response = json_response(status, &body);
    if let Ok(value) = HeaderValue::from_str(&bearer_challenge(&metadata, error, scope)) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// The principal a grant stands for: who authorized it, for which client, with which
/// scopes, and — as the sign-in recorded it in the grant — their tenant and role.
pub fn principal(grant: AccessGrant) -> Principal {
    let member = serde_json::from_value::<Member>(grant.props).ok();
    Principal {
        subject: grant.subject,
        client_id: grant.client_id,
        grant_id: grant.grant_id,
        scopes: grant.scope.iter().map(str::to_owned).collect(),
        member,
    }
}

/// Admits a request to this server's MCP resource: the principal behind its token,
/// or the response refusing it. `required_scope`, when given, must be in the token's
/// scope.
pub async fn admit<H: Host>(
    host: &H,
    settings: &Settings,
    issuer: &Issuer,
    request: &Request,
    required_scope: Option<&str>,
) -> Result<Principal, Response> {
    let token = match presented(request) {
        Presented::Token(token) => token,
        Presented::Nothing => return Err(refusal(issuer, None, required_scope)),
        Presented::Malformed => {
            let error = OAuthError::new(
                ErrorCode::InvalidRequest,
                "the Authorization header must be one `Bearer <token>`",
            );
            return Err(refusal(issuer, Some(&error), None));
        }
    };
    let grants = grant_store(host, settings);
    let access = match grants.validate_access(token, &issuer.mcp_resource()).await {
        Ok(access) => access,
        Err(GrantFailure::Storage(_)) => {
            return Err(json_response(
                StatusCode::SERVICE_UNAVAILABLE,
                &OAuthError::new(
                    ErrorCode::TemporarilyUnavailable,
                    "the token store is unavailable",
                )
                .to_json(),
            ));
        }
        Err(failure) => {
            let mut error = failure.to_oauth();
            // Whatever the cause, a protected resource answers `invalid_token`.
            error.code = ErrorCode::InvalidToken;
            return Err(refusal(issuer, Some(&error), required_scope));
        }
    };
    if let Some(scope) = required_scope
        && !access.scope.contains(scope)
    {
        return Err(insufficient_scope(issuer, scope));
    }
    Ok(principal(access))
}

/// 403 `insufficient_scope`, its challenge naming `scope` (RFC 6750 §3.1): for the
/// guard's own check, and for the MCP tools and resources a scope gates.
pub fn insufficient_scope(issuer: &Issuer, scope: &str) -> Response {
    let error = OAuthError::new(
        ErrorCode::InsufficientScope,
        format!("this request needs the {scope} scope"),
    );
    refusal(issuer, Some(&error), Some(scope))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_authorization(values: &[&str]) -> Request {
        let mut builder = http::Request::builder().uri("http://localhost/mcp");
        for value in values {
            builder = builder.header(header::AUTHORIZATION, *value);
        }
        builder.body(Vec::new()).expect("valid request")
    }

    #[test]
    fn reads_exactly_one_bearer_token() {
        assert_eq!(presented(&with_authorization(&[])), Presented::Nothing);
        assert_eq!(
            presented(&with_authorization(&["Bearer ldna_at_abc-_.~+/="])),
            Presented::Token("ldna_at_abc-_.~+/=")
        );
        assert_eq!(
            presented(&with_authorization(&["bearer abc"])),
            Presented::Token("abc")
        );
        assert_eq!(
            presented(&with_authorization(&["Basic dXNlcjpwYXNz"])),
            Presented::Nothing
        );
        for malformed in [
            &["Bearer"][..],
            &["Bearer "],
            &["Bearer a b"],
            &["Bearer a\"b"],
            &["Bearer a", "Bearer b"],
        ] {
            assert_eq!(
                presented(&with_authorization(malformed)),
                Presented::Malformed,
                "{malformed:?}"
            );
        }
    }
}
