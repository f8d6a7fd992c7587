//! An access token by the server's real OAuth flow, as a person at the browser would
//! get one: discovery, registration, the sign-in and consent pages by form POST, and the
//! PKCE code exchange (no redirect is followed).

use serde_json::{Value, json};

use crate::{VERIFIER, authorization_query, browser, encode};

const REDIRECT: &str = "http://127.0.0.1:9/callback";

/// The value of the hidden input `name` in the page `html`.
pub fn hidden(html: &str, name: &str) -> Result<String, String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .ok_or_else(|| format!("no {name} field in the page"))?
        + marker.len();
    Ok(html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned())
}

/// The consent page's checkboxes that are ticked, as `(name, value)` — what a
/// browser sends for them when the person clicks "Allow" without touching them.
pub fn ticked_boxes(html: &str) -> Vec<(String, String)> {
    html.split("<input type=\"checkbox\" ")
        .skip(1)
        .filter_map(|rest| {
            let tag = rest.split('>').next()?;
            let attribute = |name: &str| {
                let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
                tag[start..].split('"').next().map(str::to_owned)
            };
            tag.ends_with(" checked")
                .then(|| Some((attribute("name")?, attribute("value")?)))
                .flatten()
        })
        .collect()
}

/// The consent form's fields for a person who ticks exactly `scope` (space-separated).
pub fn ticking(scope: &str) -> Vec<(String, String)> {
    scope
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(|s| (format!("grant:{s}"), "yes".to_owned()))
        .collect()
}

/// `POST` of `form` (URL-encoded) to `url` as the browser sends it, with `cookie` when
/// given.
pub(crate) fn post_form<K: AsRef<str>, V: AsRef<str>>(
    url: &str,
    form: &[(K, V)],
    cookie: Option<&str>,
) -> Result<ureq::http::Response<ureq::Body>, String> {
    let body: Vec<String> = form
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k.as_ref()), encode(v.as_ref())))
        .collect();
    let mut request = browser()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send(body.join("&")).map_err(|e| e.to_string())
}

/// The real flow: discovery, registration, sign-in, consent (the person ticking
/// every scope asked for), token.
pub fn obtain_token(
    upstream: &str,
    username: &str,
    password: &str,
    scope: &str,
) -> Result<String, String> {
    let metadata: Value = browser()
        .get(format!("{upstream}/.well-known/oauth-authorization-server"))
        .call()
        .map_err(|e| e.to_string())?
        .body_mut()
        .read_json()
        .map_err(|e| e.to_string())?;
    let endpoint = |name: &str| {
        metadata[name]
            .as_str()
            .map(str::to_owned)
            .ok_or(format!("no {name}"))
    };
    let resource = format!("{}/mcp", metadata["issuer"].as_str().unwrap_or(upstream));
    let registered: Value = browser()
        .post(endpoint("registration_endpoint")?)
        .header("content-type", "application/json")
        .send(
            json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none",
                   "client_name": "Learner DNA test client"})
            .to_string(),
        )
        .map_err(|e| e.to_string())?
        .body_mut()
        .read_json()
        .map_err(|e| e.to_string())?;
    let client = registered["client_id"]
        .as_str()
        .ok_or("registration failed")?
        .to_owned();
    let authorize = endpoint("authorization_endpoint")?;
    let url = format!(
        "{authorize}?{}",
        authorization_query(&client, REDIRECT, "proxy", scope, &resource)
    );
    let page = browser()
        .get(&url)
        .call()
        .map_err(|e| e.to_string())?
        .body_mut()
        .read_to_string()
        .map_err(|e| e.to_string())?;
    let signed_in = post_form(
        &authorize,
        &[
            ("request_id", hidden(&page, "request_id")?.as_str()),
            ("csrf", hidden(&page, "csrf")?.as_str()),
            ("action", "sign_in"),
            ("username", username),
            ("password", password),
        ],
        None,
    )?;
    let cookie = signed_in
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .ok_or("sign-in failed (no session cookie)")?
        .to_owned();
    let consent = signed_in
        .into_body()
        .read_to_string()
        .map_err(|e| e.to_string())?;
    let mut answer = vec![
        ("request_id".to_owned(), hidden(&consent, "request_id")?),
        ("csrf".to_owned(), hidden(&consent, "csrf")?),
        ("action".to_owned(), "approve".to_owned()),
    ];
    answer.extend(ticking(scope));
    let approved = post_form(&authorize, &answer, Some(&cookie))?;
    let location = approved
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .ok_or("consent did not redirect")?;
    let code = location
        .split(['?', '&'])
        .find_map(|pair| pair.strip_prefix("code="))
        .ok_or("no code in the redirect")?
        .to_owned();
    let tokens: Value = post_form(
        &endpoint("token_endpoint")?,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", &client),
            ("code_verifier", VERIFIER),
        ],
        None,
    )?
    .body_mut()
    .read_json()
    .map_err(|e| e.to_string())?;
    tokens["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("token exchange failed: {tokens}"))
}
