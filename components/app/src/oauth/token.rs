//! The client-authenticated OAuth endpoints: `POST /oauth/token` (RFC 6749 §3.2,
//! §4.1.3, §6), `POST /oauth/revoke` (RFC 7009) and `POST /oauth/introspect`
//! (RFC 7662). Each reads form parameters (none repeated), authenticates the client
//! by its registered method, then uses the grant store.

use http::{HeaderValue, StatusCode, header};
use learner_core::ports::Host;
use learner_core::{Request, Response, json_response};
use learner_oauth::clients::{AuthFailure, Client, ClientCredentials};
use learner_oauth::error::{ErrorCode, OAuthError};
use learner_oauth::grants::GrantFailure;
use learner_oauth::params::Params;
use learner_oauth::scope::Scopes;
use serde_json::json;

use super::clients;
use super::limits::{over_limit, too_many_requests};
use super::{FORM, audit, error_response, grant_store, has_media_type, issuer};
use crate::settings::Settings;

/// An `invalid_client` response: 401, with a Basic challenge when the client tried
/// Basic (RFC 6749 §5.2).
fn client_refused(error: &OAuthError, used_basic: bool) -> Response {
    let mut response = error_response(error);
    *response.status_mut() = StatusCode::UNAUTHORIZED;
    if used_basic {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"learner-dna-mcp\", charset=\"UTF-8\""),
        );
    }
    response
}

/// Reads the form and authenticates the client; the error response otherwise.
async fn authenticated_client<H: Host>(
    host: &H,
    settings: &Settings,
    request: &Request,
) -> Result<(Params, Client), Response> {
    if !has_media_type(request, FORM) {
        return Err(error_response(&OAuthError::new(
            ErrorCode::InvalidRequest,
            "the body must be application/x-www-form-urlencoded",
        )));
    }
    let params = Params::parse(request.body()).map_err(|e| error_response(&e))?;
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let used_basic = authorization.is_some();
    let credentials = ClientCredentials::from_request(
        authorization,
        params.get("client_id"),
        params.get("client_secret"),
    )
    .map_err(|e| match e.code {
        ErrorCode::InvalidClient => client_refused(&e, used_basic),
        _ => error_response(&e),
    })?;
    match clients::authenticate(host, settings, &credentials).await {
        Ok(client) => Ok((params, client)),
        Err(AuthFailure::Refused(error)) => {
            audit(
                host,
                "oauth.client.authentication",
                credentials.client_id(),
                "denied",
                json!({}),
            )
            .await;
            Err(client_refused(&error, used_basic))
        }
        Err(AuthFailure::Storage(_)) => Err(unavailable()),
    }
}

fn unavailable() -> Response {
    error_response(&OAuthError::new(
        ErrorCode::TemporarilyUnavailable,
        "the grant store is unavailable",
    ))
}

/// Token responses must not be cached (RFC 6749 §5.1).
fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// `POST /oauth/token`.
pub async fn token<H: Host>(host: &H, settings: &Settings, request: &Request) -> Response {
    let (params, client) = match authenticated_client(host, settings, request).await {
        Ok(ok) => ok,
        Err(response) => return no_store(response),
    };
    let key = format!("token:client:{}", client.client_id);
    if let Some(retry_after_s) = over_limit(host, settings.limits.token_requests, &key).await {
        audit(
            host,
            "oauth.token.rate_limited",
            &client.client_id,
            "denied",
            json!({}),
        )
        .await;
        return no_store(too_many_requests(retry_after_s));
    }
    let grants = grant_store(host, settings);
    let outcome = match params.get("grant_type") {
        Some("authorization_code") => {
            let Some(code) = params.get("code") else {
                return no_store(error_response(&OAuthError::new(
                    ErrorCode::InvalidRequest,
                    "code is required",
                )));
            };
            grants
                .exchange_code(
                    code,
                    &client.client_id,
                    params.get("redirect_uri"),
                    params.get("resource"),
                    params.get("code_verifier"),
                    client.metadata.refresh_token_grant,
                )
                .await
        }
        Some("refresh_token") if client.metadata.refresh_token_grant => {
            let Some(refresh) = params.get("refresh_token") else {
                return no_store(error_response(&OAuthError::new(
                    ErrorCode::InvalidRequest,
                    "refresh_token is required",
                )));
            };
            let scope = match params.get("scope").map(Scopes::parse).transpose() {
                Ok(scope) => scope,
                Err(e) => {
                    return no_store(error_response(&OAuthError::new(
                        ErrorCode::InvalidScope,
                        e.to_string(),
                    )));
                }
            };
            // The grant keeps its audience whatever is asked; a different one is refused.
            if let Some(resource) = params.get("resource")
                && issuer(settings, request).map_or(true, |i| resource != i.mcp_resource())
            {
                return no_store(error_response(&OAuthError::new(
                    ErrorCode::InvalidTarget,
                    "resource must be this server's MCP endpoint",
                )));
            }
            grants
                .refresh(refresh, &client.client_id, scope.as_ref())
                .await
        }
        Some("refresh_token") => Err(GrantFailure::Invalid(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "the client did not register the refresh_token grant",
        ))),
        Some(_) => Err(GrantFailure::Invalid(OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            "grant_type must be authorization_code or refresh_token",
        ))),
        None => Err(GrantFailure::Invalid(OAuthError::new(
            ErrorCode::InvalidRequest,
            "grant_type is required",
        ))),
    };
    let grant_type = params.get("grant_type").unwrap_or("");
    match outcome {
        Ok(issued) => {
            audit(
                host,
                "oauth.token.issued",
                &client.client_id,
                "allowed",
                json!({
                    "grant_type": grant_type,
                    "grant_id": issued.grant_id,
                    "scope": issued.scope.to_string(),
                }),
            )
            .await;
            no_store(json_response(StatusCode::OK, &issued.to_json()))
        }
        Err(failure) => {
            let (kind, grant_id) = match &failure {
                GrantFailure::CodeReplayed { grant_id } => {
                    ("oauth.code.replayed", Some(grant_id.clone()))
                }
                GrantFailure::RefreshReused { grant_id } => {
                    ("oauth.refresh.reused", Some(grant_id.clone()))
                }
                _ => ("oauth.token.refused", None),
            };
            let error = failure.to_oauth();
            let outcome = if matches!(failure, GrantFailure::Storage(_)) {
                "error"
            } else {
                "denied"
            };
            audit(
                host,
                kind,
                &client.client_id,
                outcome,
                json!({
                    "grant_type": grant_type,
                    "error": error.code.as_str(),
                    "revoked_grant": grant_id,
                }),
            )
            .await;
            no_store(error_response(&error))
        }
    }
}

/// `POST /oauth/introspect` (RFC 7662) for confidential clients acting as resource
/// servers: `{"active": false}` for anything that is not a live access token for
/// this server's MCP resource; otherwise its scope, client, subject, audience, and
/// when it was issued and expires.
pub async fn introspect<H: Host>(host: &H, settings: &Settings, request: &Request) -> Response {
    let (params, client) = match authenticated_client(host, settings, request).await {
        Ok(ok) => ok,
        Err(response) => return no_store(response),
    };
    if !client.metadata.auth_method.is_confidential() {
        // RFC 7662 §2.1: the endpoint is for authorized resource servers.
        return no_store(client_refused(
            &OAuthError::new(
                ErrorCode::InvalidClient,
                "introspection requires a confidential client",
            ),
            false,
        ));
    }
    let Some(token) = params.get("token") else {
        return no_store(error_response(&OAuthError::new(
            ErrorCode::InvalidRequest,
            "token is required",
        )));
    };
    let Ok(issuer) = issuer(settings, request) else {
        return no_store(error_response(&OAuthError::new(
            ErrorCode::InvalidRequest,
            "unknown issuer",
        )));
    };
    let grants = grant_store(host, settings);
    let body = match grants.validate_access(token, &issuer.mcp_resource()).await {
        Ok(access) => {
            let mut body = json!({
                "active": true,
                "scope": access.scope.to_string(),
                "client_id": access.client_id,
                "sub": access.subject,
                "aud": issuer.mcp_resource(),
                "iss": issuer.as_str(),
                "token_type": "Bearer",
            });
            // RFC 7662 §2.2: seconds since the epoch.
            if access.issued_at_ms > 0 {
                body["iat"] = json!(access.issued_at_ms / 1_000);
                body["exp"] = json!(access.expires_at_ms / 1_000);
            }
            body
        }
        Err(GrantFailure::Storage(_)) => return no_store(unavailable()),
        Err(_) => json!({ "active": false }),
    };
    audit(
        host,
        "oauth.token.introspected",
        &client.client_id,
        "allowed",
        json!({ "active": body["active"] }),
    )
    .await;
    no_store(json_response(StatusCode::OK, &body))
}

/// `POST /oauth/revoke` (RFC 7009 §2): 200 whether or not the token was valid.
pub async fn revoke<H: Host>(host: &H, settings: &Settings, request: &Request) -> Response {
    let (params, client) = match authenticated_client(host, settings, request).await {
        Ok(ok) => ok,
        Err(response) => return response,
    };
    let Some(token) = params.get("token") else {
        return error_response(&OAuthError::new(
            ErrorCode::InvalidRequest,
            "token is required",
        ));
    };
    let grants = grant_store(host, settings);
    match grants.revoke(token, &client.client_id).await {
        Ok(revoked) => {
            audit(
                host,
                "oauth.token.revoked",
                &client.client_id,
                "allowed",
                json!({ "revoked_grant": revoked }),
            )
            .await;
            let mut response = http::Response::new(Vec::new());
            *response.status_mut() = StatusCode::OK;
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(_) => unavailable(),
    }
}
