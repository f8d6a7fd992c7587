//! `GET /oauth/authorize` and the sign-in / consent form posts (RFC 6749 §4.1.1,
//! §4.1.2). A validated request is parked server-side under an unguessable id with
//! its own CSRF token; the forms carry only those two. Decisions need a signed-in
//! session (an HttpOnly, SameSite=Lax cookie) whose subject is the one that signed in
//! for this request.

use http::{HeaderValue, StatusCode, header};
use learner_core::identity::{Member, Role};
use learner_core::ports::{Host, KeyValue, KvError, Random};
use learner_core::{Request, Response};
use learner_oauth::accounts::Account;
use learner_oauth::authorize::{self, AuthorizationRequest, Policy, Rejection};
use learner_oauth::catalogue;
use learner_oauth::clients::Client;
use learner_oauth::consent::{self, ChoiceError};
use learner_oauth::error::{ErrorCode, OAuthError};

use learner_oauth::metadata::Issuer;
use learner_oauth::params::Params;
use learner_oauth::pkce::CodeChallenge;
use learner_oauth::scope::Scopes;
use serde::{Deserialize, Serialize};
use serde_json::json;
use subtle::ConstantTimeEq;

use super::clients::{self, Lookup};
use super::pages::{self, ConsentView, ScopeChoice};
use super::sign_in::{self, signed_in};
use super::{FORM, audit, grant_store, has_media_type, issuer};
use crate::settings::Settings;

/// How long a parked request waits for sign-in and consent.
pub(super) const PENDING_TTL_MS: u64 = 10 * 60 * 1_000;
/// An authorization request parked while the person signs in and consents.
#[derive(Serialize, Deserialize)]
pub(super) struct Pending {
    pub(super) client_id: String,
    pub(super) client_name: String,
    pub(super) redirect_uri: String,
    pub(super) state: Option<String>,
    pub(super) scope: String,
    pub(super) resource: String,
    pub(super) code_challenge: String,
    pub(super) csrf: String,
    /// Who signed in for this request (set at sign-in; decisions must match it).
    pub(super) subject: Option<String>,
}

impl Pending {
    fn request(&self) -> Option<AuthorizationRequest> {
        Some(AuthorizationRequest {
            client_id: self.client_id.clone(),
            redirect_uri: self.redirect_uri.clone(),
            state: self.state.clone(),
            scope: Scopes::parse(&self.scope).ok()?,
            resource: self.resource.clone(),
            code_challenge: CodeChallenge::from_request(Some(&self.code_challenge), Some("S256"))
                .ok()?,
        })
    }

    /// Audits a decision on this request by `actor`, naming its client.
    pub(super) async fn audit<H: Host>(&self, host: &H, kind: &str, actor: &str, outcome: &str) {
        let detail = json!({ "client_id": self.client_id });
        audit(host, kind, actor, outcome, detail).await;
    }
}

pub(super) fn pending_key(id: &str) -> String {
    format!("oauth:pending:{id}")
}

pub(super) fn random_hex<R: Random>(random: &R) -> String {
    let mut bytes = [0u8; 32];
    random.fill(&mut bytes);
    learner_core::hex(&bytes)
}

fn redirect(status: StatusCode, location: &str) -> Response {
    let mut response = http::Response::new(Vec::new());
    *response.status_mut() = status;
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub(super) fn unavailable() -> Response {
    pages::error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "The service is temporarily unavailable.",
    )
}

/// The origin a redirect URI's answer lands on, as a CSP source.
fn redirect_origin(uri: &str) -> String {
    match uri.split_once("://") {
        Some((scheme, rest)) => {
            let authority = rest.split(['/', '?']).next().unwrap_or_default();
            format!("{scheme}://{authority}")
        }
        None => uri
            .split(':')
            .next()
            .map_or_else(String::new, |s| format!("{s}:")),
    }
}

/// The learners an account's access would cover, in words (the relationship rules of
/// ARCHITECTURE.md; consent on file narrows it further).
fn learners_covered(role: Role) -> &'static str {
    match role {
        Role::Teacher => "the learners in the classes you teach, while they are enrolled",
        Role::Guardian => "your own children",
        Role::Student => "yourself only",
        Role::TenantAdmin => "your district, as aggregates of at least five learners",
    }
}

/// The consent page for `pending`, its boxes ticked as the page starts — or, after an
/// "Allow" with every box unticked, all unticked and `error` saying why.
pub(super) fn consent_page(
    request_id: &str,
    pending: &Pending,
    account: &Account,
    error: Option<&ChoiceError>,
) -> Response {
    let scopes: Vec<ScopeChoice<'_>> = pending
        .scope
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(|scope| ScopeChoice {
            scope,
            text: catalogue::describe(scope).unwrap_or(""),
            field: consent::field_name(scope),
            ticked: error.is_none() && catalogue::opt_in(scope).is_none(),
        })
        .collect();
    let opt_in: Vec<&str> = scopes
        .iter()
        .filter_map(|c| catalogue::opt_in(c.scope))
        .collect();
    let origin = redirect_origin(&pending.redirect_uri);
    let error = error.map(ToString::to_string);
    pages::consent(&ConsentView {
        request_id,
        csrf: &pending.csrf,
        client_name: &pending.client_name,
        redirect_uri: &pending.redirect_uri,
        person: &account.display_name,
        role: account.role.label(),
        learners: learners_covered(account.role),
        opt_in: &opt_in,
        scopes: &scopes,
        error: error.as_deref(),
        redirect_origin: &origin,
    })
}

/// Looks up the request's client and validates the authorization request against it
/// and this server's scopes. `Err` when the client store is unavailable.
pub async fn validate_request<H: Host>(
    host: &H,
    settings: &Settings,
    issuer: &Issuer,
    params: &Params,
) -> Result<(Option<Client>, Result<AuthorizationRequest, Rejection>), KvError> {
    let client = match params.get("client_id") {
        Some(id) => match clients::find(host, settings, id).await? {
            Lookup::Found(client) => Some(client),
            Lookup::Unknown => None,
            // A document that cannot be accepted: say why, on a page.
            Lookup::Refused(error) => return Ok((None, Err(Rejection::Page(error)))),
        },
        None => None,
    };
    let scopes = catalogue::names();
    let policy = Policy {
        issuer,
        scopes_supported: &scopes,
        default_scope: catalogue::DEFAULT_SCOPE,
    };
    let validated = authorize::validate(params, client.as_ref().map(|c| &c.metadata), &policy);
    Ok((client, validated))
}

/// `GET /oauth/authorize`.
pub async fn start<H: Host>(host: &H, settings: &Settings, request: &Request) -> Response {
    let params = match Params::parse(request.uri().query().unwrap_or("").as_bytes()) {
        Ok(params) => params,
        Err(error) => return pages::error_page(StatusCode::BAD_REQUEST, &error.description),
    };
    let Ok(issuer) = issuer(settings, request) else {
        return pages::error_page(StatusCode::BAD_REQUEST, "Unknown server address.");
    };
    let Ok((client, validated)) = validate_request(host, settings, &issuer, &params).await else {
        return unavailable();
    };
    let approved = match validated {
        Ok(approved) => approved,
        Err(rejection) => {
            let (error, shown) = match &rejection {
                Rejection::Page(error) => (error, "page"),
                Rejection::Redirect { error, .. } => (error, "redirect"),
            };
            audit(
                host,
                "oauth.authorize.refused",
                params.get("client_id").unwrap_or("unknown"),
                "denied",
                json!({ "error": error.code.as_str(), "shown": shown }),
            )
            .await;
            return match rejection {
                Rejection::Page(error) => {
                    pages::error_page(StatusCode::BAD_REQUEST, &error.description)
                }
                Rejection::Redirect {
                    redirect_uri,
                    error,
                    state,
                } => redirect(
                    StatusCode::FOUND,
                    &authorize::error_redirect(&redirect_uri, &error, state.as_deref(), &issuer),
                ),
            };
        }
    };
    let client_name = client
        .as_ref()
        .map_or_else(|| approved.client_id.clone(), clients::display_name);
    let account = signed_in(host, request).await;
    let request_id = random_hex(host.random());
    let pending = Pending {
        client_id: approved.client_id.clone(),
        client_name,
        redirect_uri: approved.redirect_uri.clone(),
        state: approved.state.clone(),
        scope: approved.scope.to_string(),
        resource: approved.resource.clone(),
        code_challenge: approved.code_challenge.as_str().to_owned(),
        csrf: random_hex(host.random()),
        subject: account.as_ref().map(|a| a.subject.clone()),
    };
    // Pending records hold strings only: serialization cannot fail.
    let bytes = serde_json::to_vec(&pending).unwrap_or_default();
    if host
        .key_value()
        .put(&pending_key(&request_id), &bytes, Some(PENDING_TTL_MS))
        .await
        .is_err()
    {
        return unavailable();
    }
    match account {
        Some(account) => consent_page(&request_id, &pending, &account, None),
        None => pages::sign_in(&request_id, &pending.csrf, &pending.client_name, None),
    }
}

/// `POST /oauth/authorize`: the sign-in and consent forms.
pub async fn submit<H: Host>(host: &H, settings: &Settings, request: &Request) -> Response {
    if !has_media_type(request, FORM) {
        return pages::error_page(StatusCode::BAD_REQUEST, "The form was not sent as a form.");
    }
    let params = match Params::parse(request.body()) {
        Ok(params) => params,
        Err(error) => return pages::error_page(StatusCode::BAD_REQUEST, &error.description),
    };
    let Some(request_id) = params.get("request_id").filter(|id| id.len() == 64) else {
        return pages::error_page(StatusCode::BAD_REQUEST, "The sign-in request is missing.");
    };
    let kv = host.key_value();
    let entry = match kv.get(&pending_key(request_id)).await {
        Ok(Some(entry)) => entry,
        Ok(None) => {
            return pages::error_page(
                StatusCode::BAD_REQUEST,
                "This sign-in request expired or was already answered.",
            );
        }
        Err(_) => return unavailable(),
    };
    let Ok(pending) = serde_json::from_slice::<Pending>(&entry.value) else {
        return unavailable();
    };
    let csrf = params.get("csrf").unwrap_or_default();
    if !bool::from(csrf.as_bytes().ct_eq(pending.csrf.as_bytes())) {
        audit(
            host,
            "oauth.authorize.csrf",
            &pending.client_id,
            "denied",
            json!({}),
        )
        .await;
        return pages::error_page(
            StatusCode::FORBIDDEN,
            "The form could not be verified. Start again from the application.",
        );
    }
    let Ok(issuer) = issuer(settings, request) else {
        return pages::error_page(StatusCode::BAD_REQUEST, "Unknown server address.");
    };
    match params.get("action") {
        Some("sign_in") => {
            sign_in::sign_in(
                host,
                settings,
                &params,
                request_id,
                pending,
                entry.version,
                &issuer,
            )
            .await
        }
        Some(decision @ ("approve" | "deny")) => {
            let answer = if decision == "approve" {
                Answer::Allow(&params)
            } else {
                Answer::Deny
            };
            decide(
                host, settings, request, request_id, &pending, answer, &issuer,
            )
            .await
        }
        _ => pages::error_page(StatusCode::BAD_REQUEST, "Unknown action."),
    }
}

/// The person's answer on the consent page.
enum Answer<'a> {
    /// "Allow", with the form that says which boxes were ticked.
    Allow(&'a Params),
    /// "Deny".
    Deny,
}

/// What a grant keeps of the person who authorized it: who they are in their tenant
/// (the principal every request under the grant is made from).
fn grant_props(account: &Account) -> serde_json::Value {
    let member = Member {
        tenant: account.tenant.clone(),
        role: account.role,
        display_name: Some(account.display_name.clone()),
    };
    let mut props = serde_json::to_value(&member).unwrap_or_default();
    if let Some(map) = props.as_object_mut() {
        map.insert("subject".into(), json!(account.subject));
    }
    props
}

async fn decide<H: Host>(
    host: &H,
    settings: &Settings,
    request: &Request,
    request_id: &str,
    pending: &Pending,
    answer: Answer<'_>,
    issuer: &Issuer,
) -> Response {
    let Some(account) = signed_in(host, request).await else {
        return pages::error_page(StatusCode::FORBIDDEN, "Sign in first.");
    };
    if pending.subject.as_deref() != Some(account.subject.as_str()) {
        pending
            .audit(
                host,
                "oauth.authorize.subject_mismatch",
                &account.subject,
                "denied",
            )
            .await;
        return pages::error_page(
            StatusCode::FORBIDDEN,
            "This request was started by someone else.",
        );
    }
    let Some(mut approved) = pending.request() else {
        return unavailable();
    };
    // What the ticked boxes grant, decided before the request is taken: an answer that
    // cannot be taken leaves the request open.
    let granted = match answer {
        Answer::Deny => None,
        Answer::Allow(form) => match consent::granted(&approved.scope, form) {
            Ok(granted) => Some(granted),
            Err(error @ ChoiceError::NothingChosen) => {
                return consent_page(request_id, pending, &account, Some(&error));
            }
            Err(error @ ChoiceError::NotOffered) => {
                pending
                    .audit(host, "oauth.authorize.tampered", &account.subject, "denied")
                    .await;
                return pages::error_page(StatusCode::BAD_REQUEST, &error.to_string());
            }
        },
    };
    // One answer per request: take the parked request.
    match host.key_value().take(&pending_key(request_id)).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            return pages::error_page(
                StatusCode::BAD_REQUEST,
                "This sign-in request was already answered.",
            );
        }
        Err(_) => return unavailable(),
    }
    let Some(granted) = granted else {
        pending
            .audit(host, "oauth.authorize.denied", &account.subject, "denied")
            .await;
        let error = OAuthError::new(ErrorCode::AccessDenied, "the user denied access");
        return redirect(
            StatusCode::SEE_OTHER,
            &authorize::error_redirect(
                &approved.redirect_uri,
                &error,
                approved.state.as_deref(),
                issuer,
            ),
        );
    };
    let asked = std::mem::replace(&mut approved.scope, granted);
    let props = grant_props(&account);
    let grants = grant_store(host, settings);
    match grants.issue_code(&approved, &account.subject, &props).await {
        Ok(code) => {
            audit(
                host,
                "oauth.authorize.approved",
                &account.subject,
                "allowed",
                json!({
                    "client_id": approved.client_id,
                    "scope": approved.scope.to_string(),
                    "asked": asked.to_string(),
                }),
            )
            .await;
            redirect(
                StatusCode::SEE_OTHER,
                &authorize::code_redirect(&approved, code.as_str(), issuer),
            )
        }
        Err(_) => unavailable(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_origins_for_csp() {
        assert_eq!(
            redirect_origin("https://app.example:8443/cb?x=1"),
            "https://app.example:8443"
        );
        assert_eq!(
            redirect_origin("http://127.0.0.1:5000/callback"),
            "http://127.0.0.1:5000"
        );
        assert_eq!(redirect_origin("com.example.app:/cb"), "com.example.app:");
    }
}
