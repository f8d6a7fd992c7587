//! Signing in at the authorization endpoint: the sign-in form's post, checked against
//! the accounts and limited per username; a signed-in session is an HttpOnly,
//! SameSite=Lax cookie naming the account for an hour.

use http::{HeaderValue, header};
use learner_core::ports::{Config, Host, KeyValue};
use learner_core::{Request, Response};
use learner_oauth::accounts::{Account, Accounts, demo_account};
use learner_oauth::metadata::Issuer;
use learner_oauth::params::Params;
use serde_json::json;

use super::authorize::{
    PENDING_TTL_MS, Pending, consent_page, pending_key, random_hex, unavailable,
};
use super::limits::{over_limit, rate_limited, refund_limit};
use super::{audit, pages};
use crate::headers;
use crate::settings::Settings;

/// How long a sign-in lasts.
const SESSION_TTL_MS: u64 = 60 * 60 * 1_000;
/// The session cookie.
const SESSION_COOKIE: &str = "ldna_session";

fn session_key(id: &str) -> String {
    format!("oauth:session:{id}")
}

fn session_id(request: &Request) -> Option<String> {
    headers::list_items(request, header::COOKIE, ';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The account signed in on this browser, if any.
pub async fn signed_in<H: Host>(host: &H, request: &Request) -> Option<Account> {
    let id = session_id(request)?;
    let entry = host.key_value().get(&session_key(&id)).await.ok()??;
    serde_json::from_slice(&entry.value).ok()
}

/// Creates the demo account `username` (if it names one) where the `demo-password`
/// secret is set and the account does not exist yet: when someone signs in as it, so
/// that no other request pays for the check.
async fn seed_demo_account<H: Host>(
    host: &H,
    accounts: &Accounts<'_, H::KeyValue, H::Random>,
    username: &str,
) {
    let Some(account) = demo_account(username) else {
        return;
    };
    if let Some(password) = host
        .config()
        .secret("demo-password")
        .filter(|p| !p.is_empty())
    {
        // Best effort: a failure shows up as a failed sign-in.
        let _ = accounts.create(account, &password).await;
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

/// The sign-in form for parked request `request_id`: on the right password, a session
/// and the consent page; otherwise the form again, saying why.
pub(super) async fn sign_in<H: Host>(
    host: &H,
    settings: &Settings,
    params: &Params,
    request_id: &str,
    mut pending: Pending,
    version: u64,
    issuer: &Issuer,
) -> Response {
    let kv = host.key_value();
    let accounts = Accounts::new(kv, host.random());
    let username = params.get("username").unwrap_or_default();
    let password = params.get("password").unwrap_or_default();
    // Guessing is limited per username (existing or not): every attempt counts
    // before the password is checked (so parallel guesses cannot slip through),
    // and a successful one is taken back.
    let key = format!("sign-in:{}", username.to_ascii_lowercase());
    let rate = settings.limits.sign_in_attempts;
    if let Some(retry_after_s) = over_limit(host, rate, &key).await {
        audit(
            host,
            "oauth.sign_in.rate_limited",
            username,
            "denied",
            json!({}),
        )
        .await;
        let page = pages::sign_in(
            request_id,
            &pending.csrf,
            &pending.client_name,
            Some("Too many attempts. Wait a minute and try again."),
        );
        return rate_limited(page, retry_after_s);
    }
    seed_demo_account(host, &accounts, username).await;
    let account = match accounts.verify(username, password).await {
        Ok(Some(account)) => {
            // The limit is on guessing: a sign-in that succeeded does not count.
            refund_limit(host, rate, &key).await;
            account
        }
        Ok(None) => {
            pending
                .audit(host, "oauth.sign_in", username, "denied")
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
                Some(version),
                &pending_bytes,
                Some(PENDING_TTL_MS),
            )
            .await
            .is_ok();
    if !stored {
        return unavailable();
    }
    pending
        .audit(host, "oauth.sign_in", &account.subject, "allowed")
        .await;
    let mut response = consent_page(request_id, &pending, &account, None);
    response.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie(&session, issuer.as_str().starts_with("https://")),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

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
