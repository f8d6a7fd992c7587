//! The routes that reach into the application: OAuth codes, the resource guard, the
//! Learner DNA schema and data.
//!
//! `POST /__test/oauth/code` runs an authorization request through the real
//! validation and grant store as if the person had signed in and approved, so the
//! token endpoint's suite need not drive the sign-in page for every case. Body:
//! `{"query": "<authorization request query>", "subject": "..."}`.
//!
//! `POST /__test/dna/migrate` brings the Learner DNA schema up to date through the SQL
//! port and reports the version and tables, so every host's database is shown to run
//! the same migrations.
//!
//! `POST /__test/dna/seed` (body `{"seed": n, "tenants": n, "learners": n}`) writes the
//! synthetic data generator's rows through the SQL port, after migrating.
//!
//! `GET /__test/whoami[?scope=S]` is a protected resource behind the real
//! resource guard (`learner_app::guard`): it answers with the principal behind the bearer token, or
//! with the guard's refusal, so the suites can test the guard before `/mcp` exists.

use http::StatusCode;
use learner_app::oauth::authorize::validate_request;
use learner_app::oauth::{error_response, grant_store, issuer};
use learner_app::settings::Settings;
use learner_core::ports::Host;
use learner_core::{Request, Response, json_response};
use learner_oauth::authorize::{self, Rejection};
use learner_oauth::params::Params;
use serde_json::{Value, json};

/// Issues a code for an approved request, or reports how the request was rejected.
pub async fn issue_code<H: Host>(host: &H, settings: &Settings, request: &Request) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(request.body()) else {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({"error": "invalid_request"}),
        );
    };
    let query = body["query"].as_str().unwrap_or_default();
    let subject = body["subject"].as_str().unwrap_or("test-subject");
    // What the sign-in page would put in the grant (tenant, role), when given.
    let mut props = body["props"].as_object().cloned().unwrap_or_default();
    props.insert("subject".into(), json!(subject));
    let params = match Params::parse(query.as_bytes()) {
        Ok(params) => params,
        Err(error) => return error_response(&error),
    };
    let Ok(issuer) = issuer(settings, request) else {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({"error": "invalid_request"}),
        );
    };
    let Ok((_, validated)) = validate_request(host, settings, &issuer, &params).await else {
        return json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({"error": "temporarily_unavailable"}),
        );
    };
    match validated {
        Ok(approved) => {
            let grants = grant_store(host, settings);
            match grants
                .issue_code(&approved, subject, &Value::Object(props))
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

/// `GET /__test/whoami`: the grant behind the request's access token.
pub async fn whoami<H: Host>(host: &H, settings: &Settings, request: &Request) -> Response {
    let Ok(issuer) = issuer(settings, request) else {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({"error": "invalid_request"}),
        );
    };
    let params = Params::parse(request.uri().query().unwrap_or("").as_bytes()).ok();
    let scope = params.as_ref().and_then(|p| p.get("scope"));
    match learner_app::guard::admit(host, settings, &issuer, request, scope).await {
        Ok(principal) => {
            // What the grant says of the person, as the sign-in recorded it.
            let mut props = serde_json::to_value(&principal.member).unwrap_or(Value::Null);
            if let Some(map) = props.as_object_mut() {
                map.insert("subject".into(), json!(principal.subject));
            }
            json_response(
                StatusCode::OK,
                &json!({
                    "subject": principal.subject,
                    "client_id": principal.client_id,
                    "scope": principal.scopes.join(" "),
                    "props": props,
                }),
            )
        }
        Err(refusal) => refusal,
    }
}

/// `POST /__test/dna/migrate`: applies the migrations; the versions applied, the
/// version reached and the tables there are.
pub async fn migrate<H: Host>(host: &H) -> Response {
    use learner_core::ports::Clock;
    match learner_dna::migrations::migrate(host.sql(), host.clock().now_ms()).await {
        Ok(applied) => {
            let version = learner_dna::migrations::current_version(host.sql())
                .await
                .unwrap_or_default();
            let tables = learner_dna::migrations::tables(host.sql())
                .await
                .unwrap_or_default();
            json_response(
                StatusCode::OK,
                &json!({"applied": applied, "version": version, "tables": tables}),
            )
        }
        Err(error) => json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!({"error": error.to_string()}),
        ),
    }
}

/// `POST /__test/dna/seed`: migrates, then seeds the plan in the body (`demo`: include
/// the demo tenant, as the application itself adds it; tenants written whole already
/// are left as they are).
pub async fn seed<H: Host>(host: &H, request: &Request) -> Response {
    use learner_core::ports::Clock;
    let body: Value = serde_json::from_slice(request.body()).unwrap_or(Value::Null);
    let number = |name: &str, default: u64| body[name].as_u64().unwrap_or(default);
    let plan = learner_dna::seed::Plan {
        seed: number("seed", 1),
        tenants: u32::try_from(number("tenants", 1)).unwrap_or(1).min(5),
        learners: u32::try_from(number("learners", 20)).unwrap_or(20).min(200),
        demo: body["demo"].as_bool().unwrap_or(false),
        now_ms: host.clock().now_ms(),
    };
    // The demo tenant the way the application adds it itself (tolerating a request that
    // is adding it at the same moment); the schema in any case.
    if let Err(error) = learner_dna::store::prepare(host.sql(), host.clock(), plan.demo).await {
        return json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!({"error": error.to_string()}),
        );
    }
    let others = learner_dna::seed::Plan {
        demo: false,
        ..plan
    };
    match learner_dna::seed::seed(host.sql(), &others).await {
        Ok(report) => json_response(
            StatusCode::OK,
            &json!({
                "tenants": report.tenants, "classes": report.classes, "learners": report.learners,
                "under_13": report.under_13, "under_13_with_consent": report.under_13_with_consent,
                "events": report.events, "busy": report.busy,
            }),
        ),
        Err(error) => json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!({"error": error.to_string()}),
        ),
    }
}
