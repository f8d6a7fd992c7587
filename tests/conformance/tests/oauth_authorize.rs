//! The authorization endpoint as a browser uses it, driven by plain HTTP: the sign-in
//! form, the consent form, the redirect back with `code`, `state` and `iss`, and the
//! attacks on the forms (no CSRF token, a wrong password, another person's session).
//! The whole flow from discovery is in `oauth_flow.rs`, the consent page's choices in
//! `oauth_consent.rs`.

use learner_conformance::authorize_pages::{
    PASSWORD, REDIRECT, allow, authorize_url, exchange, get, post, query_param, register_client,
    session_cookie, sign_in, sign_in_form, sign_in_page,
};
use learner_conformance::sign_in::{ticked_boxes, ticking};
use learner_conformance::{CHALLENGE, base_url, encode};

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
    let location = approved.location();
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

    let (status, body) = exchange(&client, &code);
    assert_eq!(status, 200);
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
    next.assert_shows("Allow access to learner data?");
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
    let location = denied.location();
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
    let (start, request_id, csrf) = sign_in_page(&client);
    // No CSRF token, or a wrong one.
    for token in ["", "0000"] {
        let forged = post(&sign_in_form(&request_id, token, "teacher", PASSWORD), None);
        assert_eq!(forged.status, 403, "{token:?}: {}", forged.html);
        assert!(forged.headers.get("set-cookie").is_none());
    }
    // A decision without a signed-in session (ticking what was asked).
    let mut decision = allow(&start, &request_id, &csrf);
    decision.extend(ticking("learner.profile learner.struggles"));
    let anonymous = post(&decision, None);
    assert_eq!(anonymous.status, 403);
    // Wrong password: the sign-in page again, 401, no session.
    let wrong = post(&sign_in_form(&request_id, &csrf, "teacher", "nope"), None);
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
    let location = no_pkce.location();
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
    let (_, request_id, csrf) = sign_in_page(&client);
    let guess = |password: &str| {
        post(
            &sign_in_form(&request_id, &csrf, "rate-limit-probe", password),
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
        let (_, request_id, csrf) = sign_in_page(&client);
        let signed_in = post(&sign_in_form(&request_id, &csrf, "admin", PASSWORD), None);
        assert_eq!(signed_in.status, 200, "sign-in {attempt}");
        assert!(
            signed_in.html.contains("Allow access to learner data?"),
            "sign-in {attempt}"
        );
    }
}
