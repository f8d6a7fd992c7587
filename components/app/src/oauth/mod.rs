//! The OAuth 2.1 authorization server's endpoints, and what they share: the issuer,
//! the grant store for this request, the one mapping of OAuth errors to responses,
//! and the audit helper.
//!
//! | module | serves |
//! |---|---|
//! | [`discovery`] | `/.well-known/oauth-authorization-server`, `…/oauth-protected-resource[/mcp]` (RFC 8414, RFC 9728) |
//! | [`register`] | `POST /oauth/register` (RFC 7591) |
//! | [`authorize`] | `/oauth/authorize`: sign-in and consent (RFC 6749 §4.1) |
//! | [`token`] | `/oauth/token`, `/oauth/revoke`, `/oauth/introspect` |
//! | [`limits`] | the request limits per client, username and address |
//! | [`clients`] | finding a client: registered, or by its metadata document |
//! | [`pages`] | the sign-in, consent and error pages |

pub mod authorize;
pub mod clients;
pub mod discovery;
pub mod limits;
pub mod pages;
pub mod register;
mod sign_in;
pub mod token;

use http::{StatusCode, header};
use learner_core::ports::{Audit, AuditRecord, Clock, Host};
use learner_core::{ApiError, Request, Response, json_response};
use learner_oauth::error::OAuthError;
use learner_oauth::grants::Grants;
use learner_oauth::metadata::Issuer;

use crate::settings::Settings;

/// An OAuth error as JSON with its status (RFC 6749 §5.2, RFC 7591 §3.2.2);
/// `Cache-Control: no-store` like every OAuth response.
pub fn error_response(error: &OAuthError) -> Response {
    let status = StatusCode::from_u16(error.code.status()).unwrap_or(StatusCode::BAD_REQUEST);
    json_response(status, &error.to_json())
}

/// The form media type OAuth requests use.
pub const FORM: &str = "application/x-www-form-urlencoded";

/// Whether the request's `Content-Type` is `media_type` (parameters ignored).
pub fn has_media_type(request: &Request, media_type: &str) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case(media_type))
}

/// This server's issuer: the configured public URL (`public.url`), else — for local
/// use only — the loopback origin the request was sent to. A request addressed to any
/// other host without `public.url` is refused (421): the issuer and every endpoint in
/// the metadata would otherwise follow a `Host` header anyone can forge.
pub fn issuer(settings: &Settings, request: &Request) -> Result<Issuer, ApiError> {
    if let Some(configured) = &settings.public_url {
        return Ok(configured.clone());
    }
    let uri = request.uri();
    let authority = uri
        .authority()
        .ok_or_else(|| ApiError::BadRequest("the request has no host".into()))?;
    if !is_loopback(authority.host()) {
        return Err(ApiError::MisdirectedRequest(format!(
            "this server does not answer for {:?}: set public.url to its public base URL",
            authority.host()
        )));
    }
    let base = format!("{}://{authority}", uri.scheme_str().unwrap_or("http"));
    Issuer::new(&base).map_err(|e| ApiError::BadRequest(format!("issuer {base:?}: {e}")))
}

/// Whether `host` (from a URI authority) is this machine: `localhost` or a loopback
/// address.
fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The grant store over `host`'s ports, with the configured lifetimes, for this request.
pub fn grant_store<'h, H: Host>(
    host: &'h H,
    settings: &Settings,
) -> Grants<'h, H::KeyValue, H::Random> {
    Grants::new(
        host.key_value(),
        host.random(),
        settings.lifetimes,
        host.clock().now_ms(),
    )
}

/// Appends one decision to the audit trail.
pub async fn audit<H: Host>(
    host: &H,
    kind: &str,
    actor: &str,
    outcome: &str,
    detail: serde_json::Value,
) {
    let record = AuditRecord {
        at_ms: host.clock().now_ms(),
        kind: kind.to_owned(),
        actor: actor.to_owned(),
        outcome: outcome.to_owned(),
        detail_json: detail.to_string(),
    };
    // A failing audit sink must not turn a refusal into an acceptance or vice versa;
    // the host logs its own failures.
    let _ = host.audit().append(&record).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_hosts_count_as_local() {
        for local in ["localhost", "LOCALHOST", "127.0.0.1", "127.8.9.10", "[::1]"] {
            assert!(is_loopback(local), "{local}");
        }
        for remote in [
            "evil.example",
            "localhost.evil.example",
            "10.0.0.1",
            "[::2]",
            "127.0.0.1.nip.io",
        ] {
            assert!(!is_loopback(remote), "{remote}");
        }
    }
}
