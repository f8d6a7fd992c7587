//! The OAuth endpoints that need only storage: discovery (RFC 8414, RFC 9728) and
//! dynamic client registration (RFC 7591), plus the one mapping of OAuth errors to
//! HTTP responses.

use http::{HeaderValue, StatusCode, header};
use learner_core::ports::{Audit, AuditRecord, Clock, Config, Host};
use learner_core::{ApiError, ClientAddr, Request, Response, json_response};
use learner_oauth::catalogue;
use learner_oauth::clients::Clients;
use learner_oauth::error::{ErrorCode, OAuthError};
use learner_oauth::grants::{Grants, Lifetimes};
use learner_oauth::metadata::Issuer;
use learner_oauth::rate_limit::{self, Decision, RateLimit};
use learner_oauth::registration::ClientMetadata;
use serde_json::json;
use subtle::ConstantTimeEq;

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
pub fn issuer<H: Host>(host: &H, request: &Request) -> Result<Issuer, ApiError> {
    let configured = host.config().get("public.url");
    let base = match configured {
        Some(url) => url,
        None => {
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
            format!("{}://{authority}", uri.scheme_str().unwrap_or("http"))
        }
    };
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

/// `GET /.well-known/oauth-authorization-server`.
pub fn authorization_server_metadata<H: Host>(host: &H, issuer: &Issuer) -> Response {
    let documents = !crate::client_lookup::document_hosts(host.config()).is_empty();
    cacheable(json_response(
        StatusCode::OK,
        &issuer.authorization_server_metadata(&catalogue::names(), documents),
    ))
}

/// `GET /.well-known/oauth-protected-resource[/mcp]`.
pub fn protected_resource_metadata(issuer: &Issuer) -> Response {
    cacheable(json_response(
        StatusCode::OK,
        &issuer.protected_resource_metadata(&catalogue::names()),
    ))
}

/// Discovery documents change only with configuration: let clients cache them.
fn cacheable(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}

/// The grant store over `host`'s ports, with the configured lifetimes, for this request.
pub fn grant_store<H: Host>(host: &H) -> Grants<'_, H::KeyValue, H::Random> {
    Grants::new(
        host.key_value(),
        host.random(),
        lifetimes(host),
        host.clock().now_ms(),
    )
}

/// Credential lifetimes from configuration (`oauth.code_lifetime_s`,
/// `oauth.access_lifetime_s`, `oauth.refresh_lifetime_s`), else the defaults.
pub fn lifetimes<H: Host>(host: &H) -> Lifetimes {
    let defaults = Lifetimes::default();
    let seconds = |name: &str, default_ms: u64| {
        host.config()
            .get(name)
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|s| *s > 0)
            .map_or(default_ms, |s| s.saturating_mul(1_000))
    };
    Lifetimes {
        code_ms: seconds("oauth.code_lifetime_s", defaults.code_ms),
        access_ms: seconds("oauth.access_lifetime_s", defaults.access_ms),
        refresh_ms: seconds("oauth.refresh_lifetime_s", defaults.refresh_ms),
    }
}

/// One minute, the window of most limits.
pub const MINUTE_MS: u64 = 60_000;

/// Counts one request against the limit `setting` (requests per `window_ms`, default
/// `default`) for `key`; `Some(retry_after_s)` when over it. A failing store does not
/// block requests.
pub async fn over_limit<H: Host>(
    host: &H,
    setting: &str,
    default: u32,
    window_ms: u64,
    key: &str,
) -> Option<u64> {
    let limit = host
        .config()
        .get(setting)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    let rate = RateLimit { limit, window_ms };
    match rate_limit::check(host.key_value(), key, rate, host.clock().now_ms()).await {
        Ok(Decision::Limited { retry_after_s }) => Some(retry_after_s),
        _ => None,
    }
}

/// Takes back one count that [`over_limit`] made under `setting` for `key`.
pub async fn refund_limit<H: Host>(
    host: &H,
    setting: &str,
    default: u32,
    window_ms: u64,
    key: &str,
) {
    let limit = host
        .config()
        .get(setting)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    let rate = RateLimit { limit, window_ms };
    // A failed refund leaves the count one higher: the limit errs on the safe side.
    let _ = rate_limit::refund(host.key_value(), key, rate, host.clock().now_ms()).await;
}

/// Counts one request from the request's client address against `setting` (requests
/// per `window_ms` from one address, default `default`), under the limit's own
/// `bucket`; `Some(retry_after_s)` when over it, after auditing the refusal. A request
/// whose host supplied no address counts under one shared "unknown" key: a host that
/// forgot to pass addresses gets a tight global limit, never none.
pub async fn over_address_limit<H: Host>(
    host: &H,
    request: &Request,
    bucket: &str,
    (setting, default, window_ms): (&str, u32, u64),
) -> Option<u64> {
    let address = ClientAddr::of(request).map_or_else(|| "unknown".to_owned(), |a| a.limit_key());
    let key = format!("{bucket}:ip:{address}");
    let retry_after_s = over_limit(host, setting, default, window_ms, &key).await?;
    audit(
        host,
        "oauth.rate_limited",
        &address,
        "denied",
        json!({ "limit": bucket, "path": request.uri().path() }),
    )
    .await;
    Some(retry_after_s)
}

/// Requests per minute one address may make to the OAuth endpoints.
pub const REQUESTS_PER_ADDRESS: (&str, u32, u64) =
    ("oauth.requests_per_minute_per_ip", 300, MINUTE_MS);
/// Client registrations per hour from one address.
pub const REGISTRATIONS_PER_ADDRESS: (&str, u32, u64) =
    ("oauth.registrations_per_hour_per_ip", 60, 60 * MINUTE_MS);

/// 429 with `Retry-After` and an OAuth error body.
pub fn too_many_requests(retry_after_s: u64) -> Response {
    let error = OAuthError::new(
        ErrorCode::TemporarilyUnavailable,
        "too many requests; retry later",
    );
    let mut response = error_response(&error);
    *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    if let Ok(value) = HeaderValue::from_str(&retry_after_s.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// How registration is offered (`oauth.registration`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RegistrationMode {
    /// Anyone may register (the default: MCP clients register themselves).
    Open,
    /// Only with the initial access token in the secret `oauth-registration-token`.
    Token,
    /// Not offered.
    Closed,
}

fn registration_mode<C: Config>(config: &C) -> RegistrationMode {
    match config.get("oauth.registration").as_deref() {
        Some("closed") => RegistrationMode::Closed,
        Some("token") => RegistrationMode::Token,
        _ => RegistrationMode::Open,
    }
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

/// `POST /oauth/register` (RFC 7591 §3).
pub async fn register<H: Host>(host: &H, request: &Request) -> Response {
    let refuse = |error: OAuthError| async move {
        audit(
            host,
            "oauth.client.register",
            "anonymous",
            "denied",
            json!({ "error": error.code.as_str(), "reason": error.description }),
        )
        .await;
        error_response(&error)
    };
    if let Some(retry_after_s) =
        over_address_limit(host, request, "register", REGISTRATIONS_PER_ADDRESS).await
    {
        return too_many_requests(retry_after_s);
    }
    match registration_mode(host.config()) {
        RegistrationMode::Open => {}
        RegistrationMode::Closed => {
            return refuse(OAuthError::new(
                ErrorCode::AccessDenied,
                "client registration is closed",
            ))
            .await;
        }
        RegistrationMode::Token => {
            let expected = host
                .config()
                .secret("oauth-registration-token")
                .unwrap_or_default();
            let presented = request
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or_default();
            if expected.is_empty() || !bool::from(presented.as_bytes().ct_eq(expected.as_bytes())) {
                return refuse(OAuthError::new(
                    ErrorCode::InvalidToken,
                    "registration requires a valid initial access token",
                ))
                .await;
            }
        }
    }
    if !has_media_type(request, "application/json") {
        return refuse(OAuthError::new(
            ErrorCode::InvalidClientMetadata,
            "the registration request must be application/json",
        ))
        .await;
    }
    let metadata = match ClientMetadata::from_request(request.body()) {
        Ok(metadata) => metadata,
        Err(error) => return refuse(error).await,
    };
    let clients = Clients::new(host.key_value(), host.random());
    match clients
        .register(metadata, host.clock().now_ms() / 1_000)
        .await
    {
        Ok((client, body)) => {
            audit(
                host,
                "oauth.client.registered",
                &client.client_id,
                "allowed",
                json!({
                    "redirect_uris": body["redirect_uris"],
                    "token_endpoint_auth_method": body["token_endpoint_auth_method"],
                    "client_name": body.get("client_name"),
                }),
            )
            .await;
            json_response(StatusCode::CREATED, &body)
        }
        Err(_) => error_response(&OAuthError::new(
            ErrorCode::TemporarilyUnavailable,
            "the client store is unavailable",
        )),
    }
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
