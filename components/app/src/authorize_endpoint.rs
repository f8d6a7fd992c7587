//! `GET /oauth/authorize` and the sign-in / consent form posts (RFC 6749 §4.1.1,
//! §4.1.2). A validated request is parked server-side under an unguessable id with
//! its own CSRF token; the forms carry only those two. Decisions need a signed-in
//! session (an HttpOnly, SameSite=Lax cookie) whose subject is the one that signed in
//! for this request.

use http::{HeaderValue, StatusCode, header};
use learner_core::ports::{Config, Host, KeyValue, KvError, Random};
use learner_core::{Request, Response};
use learner_oauth::accounts::{Account, Accounts, Role, seed_demo};
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

use crate::client_lookup::{self, Lookup};
use crate::oauth_http::{
    FORM, MINUTE_MS, audit, grant_store, has_media_type, issuer, over_limit, refund_limit,
};
use crate::pages::{self, ConsentView, ScopeChoice};

/// How long a parked request waits for sign-in and consent.
const PENDING_TTL_MS: u64 = 10 * 60 * 1_000;
/// How long a sign-in lasts.
const SESSION_TTL_MS: u64 = 60 * 60 * 1_000;
/// The session cookie.
const SESSION_COOKIE: &str = "ldna_session";

#[derive(Serialize, Deserialize)]
struct Pending {
    client_id: String,
    client_name: String,
    redirect_uri: String,
    state: Option<String>,
    scope: String,
    resource: String,
    code_challenge: String,
    csrf: String,
    /// Who signed in for this request (set at sign-in; decisions must match it).
    subject: Option<String>,
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
}

fn pending_key(id: &str) -> String {
    format!("oauth:pending:{id}")
}

fn session_key(id: &str) -> String {
    format!("oauth:session:{id}")
}

fn random_hex<R: Random>(random: &R) -> String {
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

fn unavailable() -> Response {
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

fn session_id(request: &Request) -> Option<String> {
    request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

async fn signed_in<H: Host>(host: &H, request: &Request) -> Option<Account> {
    let id = session_id(request)?;
    let entry = host.key_value().get(&session_key(&id)).await.ok()??;
    serde_json::from_slice(&entry.value).ok()
}

/// The consent page for `pending`, its boxes ticked as the page starts — or, after an
/// "Allow" with every box unticked, all unticked and `error` saying why.
fn consent_page(
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

async fn seed_demo_accounts<H: Host>(host: &H) {
    if let Some(password) = host
        .config()
        .secret("demo-password")
        .filter(|p| !p.is_empty())
    {
        let accounts = Accounts::new(host.key_value(), host.random());
        // Best effort: a failure shows up as a failed sign-in.
        let _ = seed_demo(&accounts, &password).await;
    }
}

/// Looks up the request's client and validates the authorization request against it
/// and this server's scopes. `Err` when the client store is unavailable.
pub async fn validate_request<H: Host>(
    host: &H,
    issuer: &Issuer,
    params: &Params,
) -> Result<(Option<Client>, Result<AuthorizationRequest, Rejection>), KvError> {
    let client = match params.get("client_id") {
        Some(id) => match client_lookup::find(host, id).await? {
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
pub async fn start<H: Host>(host: &H, request: &Request) -> Response {
    let params = match Params::parse(request.uri().query().unwrap_or("").as_bytes()) {
        Ok(params) => params,
        Err(error) => return pages::error_page(StatusCode::BAD_REQUEST, &error.description),
    };
    let Ok(issuer) = issuer(host, request) else {
        return pages::error_page(StatusCode::BAD_REQUEST, "Unknown server address.");
    };
    let Ok((client, validated)) = validate_request(host, &issuer, &params).await else {
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
        .map_or_else(|| approved.client_id.clone(), client_lookup::display_name);
    seed_demo_accounts(host).await;
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

fn session_cookie(id: &str, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let value = format!(
        "{SESSION_COOKIE}={id}; Path=/oauth; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        SESSION_TTL_MS / 1_000
    );
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `POST /oauth/authorize`: the sign-in and consent forms.
pub async fn submit<H: Host>(host: &H, request: &Request) -> Response {
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
    let Ok(mut pending) = serde_json::from_slice::<Pending>(&entry.value) else {
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
    let Ok(issuer) = issuer(host, request) else {
        return pages::error_page(StatusCode::BAD_REQUEST, "Unknown server address.");
    };
    match params.get("action") {
        Some("sign_in") => {
            let accounts = Accounts::new(kv, host.random());
            let username = params.get("username").unwrap_or_default();
            let password = params.get("password").unwrap_or_default();
            // Guessing is limited per username (existing or not): every attempt counts
            // before the password is checked (so parallel guesses cannot slip through),
            // and a successful one is taken back.
            let key = format!("sign-in:{}", username.to_ascii_lowercase());
            if let Some(retry_after_s) = over_limit(
                host,
                "oauth.sign_in_attempts_per_minute",
                10,
                MINUTE_MS,
                &key,
            )
            .await
            {
                audit(
                    host,
                    "oauth.sign_in.rate_limited",
                    username,
                    "denied",
                    json!({}),
                )
                .await;
                let mut page = pages::sign_in(
                    request_id,
                    &pending.csrf,
                    &pending.client_name,
                    Some("Too many attempts. Wait a minute and try again."),
                );
                *page.status_mut() = StatusCode::TOO_MANY_REQUESTS;
                if let Ok(value) = HeaderValue::from_str(&retry_after_s.to_string()) {
                    page.headers_mut().insert(header::RETRY_AFTER, value);
                }
                return page;
            }
            let account = match accounts.verify(username, password).await {
                Ok(Some(account)) => {
                    // The limit is on guessing: a sign-in that succeeded does not count.
                    refund_limit(
                        host,
                        "oauth.sign_in_attempts_per_minute",
                        10,
                        MINUTE_MS,
                        &key,
                    )
                    .await;
                    account
                }
                Ok(None) => {
                    audit(
                        host,
                        "oauth.sign_in",
                        username,
                        "denied",
                        json!({ "client_id": pending.client_id }),
                    )
                    .await;
                    return pages::sign_in(
                        request_id,
                        &pending.csrf,
                        &pending.client_name,
                        Some("Wrong username or password."),
                    );
                }
                Err(_) => return unavailable(),
            };
            let session = random_hex(host.random());
            // Accounts hold strings only: serialization cannot fail.
            let account_bytes = serde_json::to_vec(&account).unwrap_or_default();
            pending.subject = Some(account.subject.clone());
            let pending_bytes = serde_json::to_vec(&pending).unwrap_or_default();
            let stored = kv
                .put(&session_key(&session), &account_bytes, Some(SESSION_TTL_MS))
                .await
                .is_ok()
                && kv
                    .compare_and_swap(
                        &pending_key(request_id),
                        Some(entry.version),
                        &pending_bytes,
                        Some(PENDING_TTL_MS),
                    )
                    .await
                    .is_ok();
            if !stored {
                return unavailable();
            }
            audit(
                host,
                "oauth.sign_in",
                &account.subject,
                "allowed",
                json!({ "client_id": pending.client_id }),
            )
            .await;
            let mut response = consent_page(request_id, &pending, &account, None);
            response.headers_mut().insert(
                header::SET_COOKIE,
                session_cookie(&session, issuer.as_str().starts_with("https://")),
            );
            response
        }
        Some(decision @ ("approve" | "deny")) => {
            let answer = if decision == "approve" {
                Answer::Allow(&params)
            } else {
                Answer::Deny
            };
            decide(host, request, request_id, &pending, answer, &issuer).await
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

async fn decide<H: Host>(
    host: &H,
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
        audit(
            host,
            "oauth.authorize.subject_mismatch",
            &account.subject,
            "denied",
            json!({ "client_id": pending.client_id }),
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
                audit(
                    host,
                    "oauth.authorize.tampered",
                    &account.subject,
                    "denied",
                    json!({ "client_id": pending.client_id }),
                )
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
        audit(
            host,
            "oauth.authorize.denied",
            &account.subject,
            "denied",
            json!({ "client_id": pending.client_id }),
        )
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
    let props = json!({
        "subject": account.subject,
        "role": account.role,
        "tenant": account.tenant,
        "display_name": account.display_name,
    });
    let grants = grant_store(host);
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

    #[test]
    fn session_cookies_are_read_strictly() {
        let id = "a".repeat(64);
        let request = http::Request::builder()
            .header("cookie", format!("other=1; {SESSION_COOKIE}={id}"))
            .body(Vec::new())
            .unwrap();
        assert_eq!(session_id(&request), Some(id));
        let bad = http::Request::builder()
            .header("cookie", format!("{SESSION_COOKIE}=../../x"))
            .body(Vec::new())
            .unwrap();
        assert_eq!(session_id(&bad), None);
    }
}
