//! `POST /__test/oauth/code` (compiled only with `test-routes`): runs an authorization
//! request through the real validation and grant store as if the person had signed in
//! and approved, so the token endpoint's suite can run before the sign-in and consent
//! pages exist. Body: `{"query": "<authorization request query>", "subject": "..."}`.

use http::StatusCode;
use learner_core::ports::Host;
use learner_core::{Request, Response, json_response};
use learner_oauth::authorize::{self, Rejection};
use learner_oauth::grants::Grants;
use learner_oauth::params::Params;
use serde_json::{Value, json};

use crate::authorize_endpoint::validate_request;
use crate::oauth_http::{error_response, issuer, lifetimes};

/// Issues a code for an approved request, or reports how the request was rejected.
pub async fn issue_code<H: Host>(host: &H, request: &Request) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(request.body()) else {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({"error": "invalid_request"}),
        );
    };
    let query = body["query"].as_str().unwrap_or_default();
    let subject = body["subject"].as_str().unwrap_or("test-subject");
    let params = match Params::parse(query.as_bytes()) {
        Ok(params) => params,
        Err(error) => return error_response(&error),
    };
    let Ok(issuer) = issuer(host, request) else {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({"error": "invalid_request"}),
        );
    };
    let Ok((_, validated)) = validate_request(host, &issuer, &params).await else {
        return json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({"error": "temporarily_unavailable"}),
        );
    };
    match validated {
        Ok(approved) => {
            let grants = Grants::new(host.key_value(), host.random(), lifetimes(host));
            match grants
                .issue_code(&approved, subject, &json!({ "subject": subject }))
                .await
            {
                Ok(code) => json_response(
                    StatusCode::OK,
                    &json!({
                        "code": code.as_str(),
                        "redirect": authorize::code_redirect(&approved, code.as_str(), &issuer),
                    }),
                ),
                Err(failure) => error_response(&failure.to_oauth()),
            }
        }
        Err(Rejection::Page(error)) => json_response(
            StatusCode::OK,
            &json!({
                "rejected": "page", "error": error.code.as_str(),
            }),
        ),
        Err(Rejection::Redirect {
            redirect_uri,
            error,
            state,
        }) => json_response(
            StatusCode::OK,
            &json!({
                "rejected": "redirect", "error": error.code.as_str(),
                "redirect": authorize::error_redirect(&redirect_uri, &error, state.as_deref(), &issuer),
            }),
        ),
    }
}
