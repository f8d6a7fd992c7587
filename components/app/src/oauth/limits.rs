//! The request limits: per client, per username and per client address, counted in
//! the key-value store (`learner_oauth::rate_limit`), with the 429 that answers them.

use http::{HeaderValue, StatusCode, header};
use learner_core::ports::{Clock, Host};
use learner_core::{ClientAddr, Request, Response};
use learner_oauth::error::{ErrorCode, OAuthError};
use learner_oauth::rate_limit::{self, Decision, RateLimit};
use serde_json::json;

use super::{audit, error_response};

/// Counts one request against `rate` for `key`; `Some(retry_after_s)` when over it. A
/// failing store does not block requests.
pub async fn over_limit<H: Host>(host: &H, rate: RateLimit, key: &str) -> Option<u64> {
    let now_ms = host.clock().now_ms();
    match rate_limit::check(host.key_value(), key, rate, now_ms).await {
        Ok(Decision::Limited { retry_after_s }) => Some(retry_after_s),
        _ => None,
    }
}

/// Takes back one count that [`over_limit`] made under `rate` for `key`.
pub async fn refund_limit<H: Host>(host: &H, rate: RateLimit, key: &str) {
    // A failed refund leaves the count one higher: the limit errs on the safe side.
    let now_ms = host.clock().now_ms();
    let _ = rate_limit::refund(host.key_value(), key, rate, now_ms).await;
}

/// Counts one request from the request's client address against `rate`, under the
/// limit's own `bucket`; `Some(retry_after_s)` when over it, after auditing the
/// refusal. A request whose host supplied no address counts under one shared
/// "unknown" key: a host that forgot to pass addresses gets a tight global limit,
/// never none.
pub async fn over_address_limit<H: Host>(
    host: &H,
    request: &Request,
    bucket: &str,
    rate: RateLimit,
) -> Option<u64> {
    let address = ClientAddr::of(request).map_or_else(|| "unknown".to_owned(), |a| a.limit_key());
    let key = format!("{bucket}:ip:{address}");
    let retry_after_s = over_limit(host, rate, &key).await?;
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

/// 429 with `Retry-After` and an OAuth error body.
pub fn too_many_requests(retry_after_s: u64) -> Response {
    let error = OAuthError::new(
        ErrorCode::TemporarilyUnavailable,
        "too many requests; retry later",
    );
    rate_limited(error_response(&error), retry_after_s)
}

/// `response` as a refusal over a limit: 429, with `Retry-After`.
pub fn rate_limited(mut response: Response, retry_after_s: u64) -> Response {
    *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    if let Ok(value) = HeaderValue::from_str(&retry_after_s.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}
