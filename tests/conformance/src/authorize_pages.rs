//! The authorization endpoint's pages as a browser uses them, driven by plain HTTP, for
//! the suites of the sign-in and consent forms: the pages and their hidden fields, the
//! forms as a browser submits them, the session cookie, and the code's exchange.

use serde_json::{Value, json};

use crate::sign_in::{post_form, ticked_boxes};
use crate::{agent, authorization_query, base_url, browser, exchange_form};

/// The redirect URI of the clients these suites register.
pub const REDIRECT: &str = "http://127.0.0.1:43999/callback";
/// The demo accounts' password on hosts under test.
pub const PASSWORD: &str = "demo-password-for-tests";

/// A page as the browser got it.
pub struct Page {
    /// Status code.
    pub status: u16,
    /// The response headers.
    pub headers: ureq::http::HeaderMap,
    /// The body.
    pub html: String,
}

impl From<ureq::http::Response<ureq::Body>> for Page {
    fn from(mut response: ureq::http::Response<ureq::Body>) -> Self {
        Page {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            html: response.body_mut().read_to_string().unwrap_or_default(),
        }
    }
}

impl Page {
    /// Asserts that the page shows `text` (the page is the failure message).
    pub fn assert_shows(&self, text: &str) {
        assert!(self.html.contains(text), "{}", self.html);
    }

    /// Asserts that an answer to `case` is refused on the page itself (400, no
    /// redirect), saying `why`.
    pub fn assert_refused(&self, case: &str, why: &str) {
        assert_eq!(self.status, 400, "{case}: {}", self.html);
        assert!(self.headers.get("location").is_none(), "{case}");
        self.assert_shows(why);
    }

    /// Where the page redirects to.
    pub fn location(&self) -> String {
        self.headers["location"]
            .to_str()
            .expect("location")
            .to_owned()
    }
}

/// `GET` of `url` by the browser, with `cookie` when given.
pub fn get(url: &str, cookie: Option<&str>) -> Page {
    let mut request = browser().get(url);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.call().expect("reachable").into()
}

/// `POST /oauth/authorize` of `form` by the browser, with `cookie` when given.
pub fn post<K: AsRef<str>, V: AsRef<str>>(form: &[(K, V)], cookie: Option<&str>) -> Page {
    post_form(&format!("{}/oauth/authorize", base_url()), form, cookie)
        .expect("reachable")
        .into()
}

/// The sign-in form as a browser submits it.
pub fn sign_in_form<'a>(
    request_id: &'a str,
    csrf: &'a str,
    username: &'a str,
    password: &'a str,
) -> [(&'a str, &'a str); 5] {
    [
        ("request_id", request_id),
        ("csrf", csrf),
        ("action", "sign_in"),
        ("username", username),
        ("password", password),
    ]
}

/// The value of a hidden input in a page.
pub fn hidden(html: &str, name: &str) -> String {
    crate::sign_in::hidden(html, name).unwrap_or_else(|error| panic!("{error}: {html}"))
}

/// The sign-in page for `client` (state `s`) and its hidden fields: the request id and
/// the CSRF token.
pub fn sign_in_page(client: &str) -> (Page, String, String) {
    let start = get(&authorize_url(client, "s"), None);
    let request_id = hidden(&start.html, "request_id");
    let csrf = hidden(&start.html, "csrf");
    (start, request_id, csrf)
}

/// A new public client for [`REDIRECT`], named with markup (which the pages must
/// escape); its id.
pub fn register_client() -> String {
    let mut response = agent()
        .post(format!("{}/oauth/register", base_url()))
        .header("content-type", "application/json")
        .send(
            json!({
                "redirect_uris": [REDIRECT],
                "token_endpoint_auth_method": "none",
                "client_name": "Consent <Test> Client",
            })
            .to_string(),
        )
        .expect("reachable");
    let body: Value = response.body_mut().read_json().expect("JSON");
    body["client_id"].as_str().expect("client_id").to_owned()
}

/// The authorization request of `client_id` with `state`, for the usual scopes.
pub fn authorize_url(client_id: &str, state: &str) -> String {
    authorize_url_asking(client_id, state, "learner.profile learner.struggles")
}

/// The authorization request of `client_id` with `state`, for `scope`.
pub fn authorize_url_asking(client_id: &str, state: &str, scope: &str) -> String {
    let resource = format!("{}/mcp", base_url());
    format!(
        "{}/oauth/authorize?{}",
        base_url(),
        authorization_query(client_id, REDIRECT, state, scope, &resource)
    )
}

/// The consent form as a browser submits it on "Allow": the hidden fields and the boxes
/// `consent` shows ticked.
pub fn allow(consent: &Page, request_id: &str, csrf: &str) -> Vec<(String, String)> {
    let mut form = vec![
        ("request_id".to_owned(), request_id.to_owned()),
        ("csrf".to_owned(), csrf.to_owned()),
        ("action".to_owned(), "approve".to_owned()),
    ];
    form.extend(ticked_boxes(&consent.html));
    form
}

/// The query parameter `name` of the redirect `location` (`:` and `/` decoded).
pub fn query_param(location: &str, name: &str) -> Option<String> {
    let query = location.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| v.replace("%3A", ":").replace("%2F", "/"))
    })
}

/// Signs in as `username` to the authorization request of `client_id` with `state`:
/// the consent page, and the request id and CSRF token of the sign-in page.
pub fn sign_in(client_id: &str, state: &str, username: &str) -> (Page, String, String) {
    sign_in_to(&authorize_url(client_id, state), username)
}

/// Like [`sign_in`], to the authorization request `authorize_url`; asserts the sign-in
/// page's security headers and that it escapes the client's name.
pub fn sign_in_to(authorize_url: &str, username: &str) -> (Page, String, String) {
    let start = get(authorize_url, None);
    assert_eq!(start.status, 200, "{}", start.html);
    let csp = start.headers["content-security-policy"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.starts_with("default-src 'none'"),
        "{csp}"
    );
    assert_eq!(start.headers["x-content-type-options"], "nosniff");
    assert_eq!(start.headers["referrer-policy"], "no-referrer");
    assert!(
        start.html.contains("Consent &lt;Test&gt; Client"),
        "client name not escaped: {}",
        start.html
    );
    let request_id = hidden(&start.html, "request_id");
    let csrf = hidden(&start.html, "csrf");
    let consent = post(&sign_in_form(&request_id, &csrf, username, PASSWORD), None);
    (consent, request_id, csrf)
}

/// The session cookie the sign-in set on `page` (`name=value`); asserts its attributes.
pub fn session_cookie(page: &Page) -> String {
    let cookie = page.headers["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    cookie.split(';').next().expect("pair").to_owned()
}

/// `GET` of `url` with the bearer token when given: status, headers and JSON body
/// (`Null` when not JSON).
pub fn get_json(url: &str, bearer: Option<&str>) -> (u16, ureq::http::HeaderMap, Value) {
    let mut request = agent().get(url);
    if let Some(token) = bearer {
        request = request.header("authorization", &format!("Bearer {token}"));
    }
    let mut response = request.call().expect("reachable");
    let headers = response.headers().clone();
    let body = response.body_mut().read_json().unwrap_or(Value::Null);
    (response.status().as_u16(), headers, body)
}

/// `POST` of the URL-encoded `form` to `url`: status and JSON body (`Null` when not
/// JSON).
pub fn post_form_to(url: &str, form: &str) -> (u16, Value) {
    let mut response = agent()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .send(form)
        .expect("reachable");
    let body = response.body_mut().read_json().unwrap_or(Value::Null);
    (response.status().as_u16(), body)
}

/// `code`, issued to `client`, exchanged for tokens: (status, body).
pub fn exchange(client: &str, code: &str) -> (u16, Value) {
    post_form_to(
        &format!("{}/oauth/token", base_url()),
        &exchange_form(code, REDIRECT, client),
    )
}
