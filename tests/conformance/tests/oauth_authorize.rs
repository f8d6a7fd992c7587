//! The authorization endpoint as a browser uses it, driven by plain HTTP: the sign-in
//! form, the consent form, the redirect back with `code`, `state` and `iss`, and the
//! attacks on the forms (no CSRF token, a wrong password, another person's session).

use learner_conformance::sign_in::{ticked_boxes, ticking};
use learner_conformance::{base_url, encode};
use serde_json::{Value, json};

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const REDIRECT: &str = "http://127.0.0.1:43999/callback";
const PASSWORD: &str = "demo-password-for-tests";

/// An agent that does not follow redirects (we inspect them).
fn browser() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

struct Page {
    status: u16,
    headers: ureq::http::HeaderMap,
    html: String,
}

fn get(url: &str, cookie: Option<&str>) -> Page {
    let mut request = browser().get(url);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let mut response = request.call().expect("reachable");
    Page {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        html: response.body_mut().read_to_string().unwrap_or_default(),
    }
}

fn post<K: AsRef<str>, V: AsRef<str>>(form: &[(K, V)], cookie: Option<&str>) -> Page {
    let body: Vec<String> = form
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k.as_ref()), encode(v.as_ref())))
        .collect();
    let mut request = browser()
        .post(format!("{}/oauth/authorize", base_url()))
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let mut response = request.send(body.join("&")).expect("reachable");
    Page {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        html: response.body_mut().read_to_string().unwrap_or_default(),
    }
}

/// The value of a hidden input in a page.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn register_client() -> String {
    let mut response = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent()
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

fn authorize_url(client_id: &str, state: &str) -> String {
    authorize_url_asking(client_id, state, "learner.profile learner.struggles")
}

fn authorize_url_asking(client_id: &str, state: &str, scope: &str) -> String {
    format!(
        "{}/oauth/authorize?response_type=code&client_id={client_id}&redirect_uri={}&code_challenge={CHALLENGE}\
         &code_challenge_method=S256&state={state}&scope={}&resource={}",
        base_url(),
        encode(REDIRECT),
        encode(scope),
        encode(&format!("{}/mcp", base_url()))
    )
}

/// The consent form as a browser submits it on "Allow": the hidden fields and the boxes
/// `consent` shows ticked.
fn allow(consent: &Page, request_id: &str, csrf: &str) -> Vec<(String, String)> {
    let mut form = vec![
        ("request_id".to_owned(), request_id.to_owned()),
        ("csrf".to_owned(), csrf.to_owned()),
        ("action".to_owned(), "approve".to_owned()),
    ];
    form.extend(ticked_boxes(&consent.html));
    form
}

fn query_param(location: &str, name: &str) -> Option<String> {
    let query = location.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| v.replace("%3A", ":").replace("%2F", "/"))
    })
}

fn sign_in(client_id: &str, state: &str, username: &str) -> (Page, String, String) {
    sign_in_to(&authorize_url(client_id, state), username)
}

fn sign_in_to(authorize_url: &str, username: &str) -> (Page, String, String) {
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
    let consent = post(
        &[
            ("request_id", request_id.as_str()),
            ("csrf", csrf.as_str()),
            ("action", "sign_in"),
            ("username", username),
            ("password", PASSWORD),
        ],
        None,
    );
    (consent, request_id, csrf)
}

fn session_cookie(page: &Page) -> String {
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

#[test]
fn sign_in_consent_and_redirect_with_code_state_and_iss() {
    let client = register_client();
    let (consent, request_id, csrf) = sign_in(&client, "state-123", "teacher");
    assert_eq!(consent.status, 200, "{}", consent.html);
    assert!(
        consent.html.contains("Ms. Rivera") && consent.html.contains("classes you teach"),
        "{}",
        consent.html
    );
    assert!(
        consent.html.contains("misconceptions"),
        "scope text missing: {}",
        consent.html
    );
    let cookie = session_cookie(&consent);
    assert_eq!(
        ticked_boxes(&consent.html),
        ticking("learner.profile learner.struggles"),
        "{}",
        consent.html
    );
    let approved = post(&allow(&consent, &request_id, &csrf), Some(&cookie));
    assert_eq!(approved.status, 303, "{}", approved.html);
    let location = approved.headers["location"]
        .to_str()
        .expect("location")
        .to_owned();
    assert!(
        location.starts_with(&format!("{REDIRECT}?code=ldna_ac_")),
        "{location}"
    );
    assert_eq!(
        query_param(&location, "state").as_deref(),
        Some("state-123")
    );
    assert_eq!(query_param(&location, "iss"), Some(base_url()));
    let code = query_param(&location, "code").expect("code");

    let mut token = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent()
        .post(format!("{}/oauth/token", base_url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .send(format!(
            "grant_type=authorization_code&code={code}&redirect_uri={}&client_id={client}&code_verifier={VERIFIER}",
            encode(REDIRECT)
        ))
        .expect("reachable");
    assert_eq!(token.status(), 200);
    let body: Value = token.body_mut().read_json().expect("JSON");
    assert!(
        body["access_token"]
            .as_str()
            .is_some_and(|t| t.starts_with("ldna_at_"))
    );

    // The answered request cannot be answered again.
    let again = post(&allow(&consent, &request_id, &csrf), Some(&cookie));
    assert_eq!(again.status, 400);
    // With the session, the next authorization goes straight to consent.
    let next = get(&authorize_url(&client, "s2"), Some(&cookie));
    assert!(
        next.html.contains("Allow access to learner data?"),
        "{}",
        next.html
    );
}

#[test]
fn denying_sends_access_denied_back() {
    let client = register_client();
    let (consent, request_id, csrf) = sign_in(&client, "st", "guardian");
    let cookie = session_cookie(&consent);
    let denied = post(
        &[
            ("request_id", request_id.as_str()),
            ("csrf", csrf.as_str()),
            ("action", "deny"),
        ],
        Some(&cookie),
    );
    assert_eq!(denied.status, 303);
    let location = denied.headers["location"]
        .to_str()
        .expect("location")
        .to_owned();
    assert!(
        location.starts_with(&format!("{REDIRECT}?error=access_denied")),
        "{location}"
    );
    assert_eq!(query_param(&location, "state").as_deref(), Some("st"));
    assert_eq!(query_param(&location, "iss"), Some(base_url()));
}

#[test]
fn forms_without_the_csrf_token_or_session_are_refused() {
    let client = register_client();
    let start = get(&authorize_url(&client, "s"), None);
    let request_id = hidden(&start.html, "request_id");
    let csrf = hidden(&start.html, "csrf");
    // No CSRF token, or a wrong one.
    for token in ["", "0000"] {
        let forged = post(
            &[
                ("request_id", request_id.as_str()),
                ("csrf", token),
                ("action", "sign_in"),
                ("username", "teacher"),
                ("password", PASSWORD),
            ],
            None,
        );
        assert_eq!(forged.status, 403, "{token:?}: {}", forged.html);
        assert!(forged.headers.get("set-cookie").is_none());
    }
    // A decision without a signed-in session (ticking what was asked).
    let mut decision = allow(&start, &request_id, &csrf);
    decision.extend(ticking("learner.profile learner.struggles"));
    let anonymous = post(&decision, None);
    assert_eq!(anonymous.status, 403);
    // Wrong password: the sign-in page again, 401, no session.
    let wrong = post(
        &[
            ("request_id", request_id.as_str()),
            ("csrf", csrf.as_str()),
            ("action", "sign_in"),
            ("username", "teacher"),
            ("password", "nope"),
        ],
        None,
    );
    assert_eq!(wrong.status, 401);
    assert!(wrong.html.contains("Wrong username or password"));
    assert!(wrong.headers.get("set-cookie").is_none());
    // Another person's session cannot answer this person's request.
    let (consent, other_id, other_csrf) = sign_in(&client, "s", "student");
    let student_cookie = session_cookie(&consent);
    let (teacher_consent, _, _) = sign_in(&client, "s", "teacher");
    let teacher_cookie = session_cookie(&teacher_consent);
    let hijack = post(
        &allow(&consent, &other_id, &other_csrf),
        Some(&teacher_cookie),
    );
    assert_eq!(hijack.status, 403);
    let own = post(
        &allow(&consent, &other_id, &other_csrf),
        Some(&student_cookie),
    );
    assert_eq!(own.status, 303);
}

#[test]
fn bad_requests_are_pages_and_unsafe_ones_never_redirect() {
    let client = register_client();
    let evil = format!(
        "{}/oauth/authorize?response_type=code&client_id={client}&redirect_uri={}&code_challenge={CHALLENGE}&code_challenge_method=S256",
        base_url(),
        encode("https://evil.example/cb")
    );
    let page = get(&evil, None);
    assert_eq!(page.status, 400);
    assert!(page.headers.get("location").is_none());
    assert!(
        page.headers["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/html")
    );
    let unknown = get(
        &format!(
            "{}/oauth/authorize?client_id=nope&response_type=code",
            base_url()
        ),
        None,
    );
    assert_eq!(unknown.status, 400);
    // A safe redirect URI but no PKCE: back to the client with invalid_request.
    let no_pkce = get(
        &format!(
            "{}/oauth/authorize?response_type=code&client_id={client}&redirect_uri={}&state=z",
            base_url(),
            encode(REDIRECT)
        ),
        None,
    );
    assert_eq!(no_pkce.status, 302);
    let location = no_pkce.headers["location"].to_str().expect("location");
    assert!(
        location.starts_with(&format!("{REDIRECT}?error=invalid_request")),
        "{location}"
    );
    let duplicated = get(
        &format!("{}&state=again", authorize_url(&client, "s")),
        None,
    );
    assert_eq!(duplicated.status, 400);
}

#[test]
fn password_guessing_is_rate_limited_per_username() {
    let client = register_client();
    let start = get(&authorize_url(&client, "s"), None);
    let request_id = hidden(&start.html, "request_id");
    let csrf = hidden(&start.html, "csrf");
    let guess = |password: &str| {
        post(
            &[
                ("request_id", request_id.as_str()),
                ("csrf", csrf.as_str()),
                ("action", "sign_in"),
                ("username", "rate-limit-probe"),
                ("password", password),
            ],
            None,
        )
    };
    // The default limit: 10 attempts per username per minute (fixed windows: across a
    // window boundary the count restarts once, so 10 to 20 attempts get through).
    let mut attempts = 0;
    let limited = loop {
        let answer = guess(&format!("guess-{attempts}"));
        if answer.status == 429 {
            break answer;
        }
        assert_eq!(answer.status, 401, "attempt {attempts}");
        attempts += 1;
        assert!(attempts <= 20, "no limit after {attempts} attempts");
    };
    assert!(attempts >= 10, "limited after only {attempts} attempts");
    assert_eq!(limited.status, 429);
    assert!(limited.headers.contains_key("retry-after"));
    assert!(limited.html.contains("Too many attempts"));
}

/// The limit is on guessing: a person who signs in successfully again and again (one
/// consent per client they connect) is never locked out, while wrong passwords for the
/// same username still count (the test above).
#[test]
fn successful_sign_ins_do_not_count_against_the_guessing_limit() {
    let client = register_client();
    for attempt in 0..15 {
        let start = get(&authorize_url(&client, "s"), None);
        let signed_in = post(
            &[
                ("request_id", hidden(&start.html, "request_id").as_str()),
                ("csrf", hidden(&start.html, "csrf").as_str()),
                ("action", "sign_in"),
                ("username", "admin"),
                ("password", PASSWORD),
            ],
            None,
        );
        assert_eq!(signed_in.status, 200, "sign-in {attempt}");
        assert!(
            signed_in.html.contains("Allow access to learner data?"),
            "sign-in {attempt}"
        );
    }
}

fn json_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

fn get_json(url: &str, bearer: Option<&str>) -> (u16, ureq::http::HeaderMap, Value) {
    let mut request = json_agent().get(url);
    if let Some(token) = bearer {
        request = request.header("authorization", &format!("Bearer {token}"));
    }
    let mut response = request.call().expect("reachable");
    let headers = response.headers().clone();
    let body = response.body_mut().read_json().unwrap_or(Value::Null);
    (response.status().as_u16(), headers, body)
}

fn post_form_to(url: &str, form: &str) -> (u16, Value) {
    let mut response = json_agent()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .send(form)
        .expect("reachable");
    let body = response.body_mut().read_json().unwrap_or(Value::Null);
    (response.status().as_u16(), body)
}

/// Approves the consent page `consent` (signed in with `cookie`): the code from the
/// redirect.
fn approve(consent: &Page, cookie: &str) -> String {
    let approved = post(
        &allow(
            consent,
            &hidden(&consent.html, "request_id"),
            &hidden(&consent.html, "csrf"),
        ),
        Some(cookie),
    );
    assert_eq!(approved.status, 303, "{}", approved.html);
    let location = approved.headers["location"].to_str().expect("location");
    query_param(location, "code").expect("code")
}

#[test]
fn the_whole_flow_from_discovery_to_revocation() {
    // Discovery, as an MCP client does it: the protected resource's 401 names its
    // metadata, which names the authorization server, whose metadata names the rest.
    let (status, headers, _) = get_json(&format!("{}/__test/whoami", base_url()), None);
    assert_eq!(status, 401);
    let challenge = headers["www-authenticate"].to_str().expect("challenge");
    let resource_metadata = challenge
        .split("resource_metadata=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("resource_metadata in the challenge")
        .to_owned();
    let (status, _, resource) = get_json(&resource_metadata, None);
    assert_eq!(status, 200);
    assert_eq!(resource["resource"], json!(format!("{}/mcp", base_url())));
    let issuer = resource["authorization_servers"][0]
        .as_str()
        .expect("authorization server")
        .to_owned();
    let (status, _, server) = get_json(
        &format!("{issuer}/.well-known/oauth-authorization-server"),
        None,
    );
    assert_eq!(status, 200);
    let endpoint = |name: &str| server[name].as_str().expect(name).to_owned();

    // Registration.
    let mut registered = json_agent()
        .post(endpoint("registration_endpoint"))
        .header("content-type", "application/json")
        .send(
            json!({
                "redirect_uris": [REDIRECT],
                "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code", "refresh_token"],
                "client_name": "Consent <Test> Client",
            })
            .to_string(),
        )
        .expect("reachable");
    assert_eq!(registered.status(), 201);
    let client: Value = registered.body_mut().read_json().expect("JSON");
    let client = client["client_id"].as_str().expect("client_id").to_owned();

    // Sign in and consent by form POST, then the code for tokens.
    let (consent, _, _) = sign_in(&client, "e2e", "teacher");
    let cookie = session_cookie(&consent);
    let code = approve(&consent, &cookie);
    let exchange = |code: &str| {
        post_form_to(
            &endpoint("token_endpoint"),
            &format!(
                "grant_type=authorization_code&code={code}&redirect_uri={}&client_id={client}&code_verifier={VERIFIER}",
                encode(REDIRECT)
            ),
        )
    };
    let (status, tokens) = exchange(&code);
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().expect("access").to_owned();
    let first_refresh = tokens["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();

    // The protected endpoint admits the token and sees who granted it.
    let whoami = format!("{}/__test/whoami", base_url());
    let (status, _, me) = get_json(&whoami, Some(&access));
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["client_id"], json!(client));
    assert_eq!(me["subject"], "demo:teacher");
    assert_eq!(me["scope"], "learner.profile learner.struggles");

    // Refresh rotates.
    let refresh = |token: &str| {
        post_form_to(
            &endpoint("token_endpoint"),
            &format!("grant_type=refresh_token&refresh_token={token}&client_id={client}"),
        )
    };
    let (status, rotated) = refresh(&first_refresh);
    assert_eq!(status, 200, "{rotated}");
    let second_access = rotated["access_token"].as_str().expect("access").to_owned();
    let second_refresh = rotated["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    assert_eq!(get_json(&whoami, Some(&second_access)).0, 200);

    // The old refresh token is refused, and its reuse revokes the whole grant.
    let (status, reused) = refresh(&first_refresh);
    assert_eq!(
        (status, reused["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _, refused) = get_json(&whoami, Some(&second_access));
    assert_eq!(
        (status, refused["error"].as_str()),
        (401, Some("invalid_token"))
    );
    assert_eq!(refresh(&second_refresh).1["error"], "invalid_grant");

    // A new authorization (the session skips the sign-in), then revocation.
    let again = get(&authorize_url(&client, "e2e-2"), Some(&cookie));
    assert_eq!(again.status, 200, "{}", again.html);
    let (status, tokens) = exchange(&approve(&again, &cookie));
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().expect("access").to_owned();
    let refresh_token = tokens["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    assert_eq!(get_json(&whoami, Some(&access)).0, 200);
    let (status, revoked) = post_form_to(
        &endpoint("revocation_endpoint"),
        &format!("token={refresh_token}&token_type_hint=refresh_token&client_id={client}"),
    );
    assert_eq!(status, 200, "{revoked}");
    assert_eq!(get_json(&whoami, Some(&access)).0, 401);
    assert_eq!(refresh(&refresh_token).1["error"], "invalid_grant");
}

/// The code in a consent answer's redirect, exchanged for tokens: (status, body).
fn exchange_code(client: &str, answer: &Page) -> (u16, Value) {
    assert_eq!(answer.status, 303, "{}", answer.html);
    let location = answer.headers["location"].to_str().expect("location");
    let code = query_param(location, "code").expect("code");
    post_form_to(
        &format!("{}/oauth/token", base_url()),
        &format!(
            "grant_type=authorization_code&code={code}&redirect_uri={}&client_id={client}&code_verifier={VERIFIER}",
            encode(REDIRECT)
        ),
    )
}

#[test]
fn the_person_chooses_which_of_the_asked_scopes_to_grant() {
    let client = register_client();
    let asked = "learner.profile identity learner.struggles privacy.admin";
    let (consent, request_id, csrf) =
        sign_in_to(&authorize_url_asking(&client, "pick", asked), "teacher");
    assert_eq!(consent.status, 200, "{}", consent.html);
    // Every asked scope is a box; names and privacy administration start unticked.
    for scope in asked.split(' ') {
        assert!(
            consent.html.contains(&format!("name=\"grant:{scope}\"")),
            "{scope}: {}",
            consent.html
        );
    }
    assert_eq!(
        ticked_boxes(&consent.html),
        ticking("learner.profile learner.struggles")
    );
    assert!(
        consent
            .html
            .contains("Names and privacy requests are allowed only if you tick them."),
        "{}",
        consent.html
    );

    // The person unticks the profile and ticks names: exactly that is granted.
    let cookie = session_cookie(&consent);
    let mut form = allow(&consent, &request_id, &csrf);
    form.retain(|(name, _)| !name.starts_with("grant:"));
    form.extend(ticking("learner.struggles identity"));
    let (status, tokens) = exchange_code(&client, &post(&form, Some(&cookie)));
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["scope"], "identity learner.struggles");
    let access = tokens["access_token"].as_str().expect("access");
    let (status, _, me) = get_json(&format!("{}/__test/whoami", base_url()), Some(access));
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["scope"], "identity learner.struggles");

    // A page asking only for the usual scopes says nothing about opting in.
    let (usual, _, _) = sign_in(&client, "usual", "teacher");
    assert!(!usual.html.contains("allowed only if you tick them"));
}

#[test]
fn an_allow_with_no_box_or_a_forged_box_changes_nothing() {
    let client = register_client();
    let (consent, request_id, csrf) = sign_in(&client, "forged", "teacher");
    let cookie = session_cookie(&consent);
    let hidden_fields = [
        ("request_id", request_id.as_str()),
        ("csrf", csrf.as_str()),
        ("action", "approve"),
    ];

    // Every box unticked: the page again, saying why, with nothing ticked.
    let nothing = post(&hidden_fields, Some(&cookie));
    assert_eq!(nothing.status, 400, "{}", nothing.html);
    assert!(nothing.headers.get("location").is_none());
    assert!(
        nothing
            .html
            .contains("role=\"alert\">Tick at least one kind of data"),
        "{}",
        nothing.html
    );
    assert!(nothing.html.contains("name=\"grant:learner.profile\""));
    assert_eq!(ticked_boxes(&nothing.html), Vec::new());

    // A box for a scope the client did not ask for, or a box with another value:
    // refused on a page, no redirect, no code.
    for forged in [
        ("grant:privacy.admin", "yes"),
        ("grant:learner.export", "yes"),
        ("grant:learner.profile", "no"),
    ] {
        let mut form: Vec<(&str, &str)> = hidden_fields.to_vec();
        form.push(("grant:learner.struggles", "yes"));
        form.push(forged);
        let refused = post(&form, Some(&cookie));
        assert_eq!(refused.status, 400, "{forged:?}: {}", refused.html);
        assert!(refused.headers.get("location").is_none());
        assert!(
            refused
                .html
                .contains("names a permission the application did not ask for"),
            "{}",
            refused.html
        );
    }

    // The request is still open: a proper answer gets exactly the ticked scope.
    let mut form: Vec<(&str, &str)> = hidden_fields.to_vec();
    form.push(("grant:learner.struggles", "yes"));
    let (status, tokens) = exchange_code(&client, &post(&form, Some(&cookie)));
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["scope"], "learner.struggles");
}
