//! Dynamic client registration (RFC 7591): open, behind an initial access token, or
//! closed, as `oauth.registration` says; limited per client address.

use http::{StatusCode, header};
use learner_core::ports::{Clock, Config, Host};
use learner_core::{Request, Response, json_response};
use learner_oauth::clients::Clients;
use learner_oauth::error::{ErrorCode, OAuthError};
use learner_oauth::registration::ClientMetadata;
use serde_json::json;
use subtle::ConstantTimeEq;

use super::limits::{over_address_limit, too_many_requests};
use super::{audit, error_response, has_media_type};
use crate::settings::{Registration, Settings};

/// `POST /oauth/register` (RFC 7591 §3).
pub async fn register<H: Host>(host: &H, settings: &Settings, request: &Request) -> Response {
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
    if let Some(retry_after_s) = over_address_limit(
        host,
        request,
        "register",
        settings.limits.registrations_per_address,
    )
    .await
    {
        return too_many_requests(retry_after_s);
    }
    match settings.registration {
        Registration::Open => {}
        Registration::Closed => {
            return refuse(OAuthError::new(
                ErrorCode::AccessDenied,
                "client registration is closed",
            ))
            .await;
        }
        Registration::Token => {
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
