//! The whole OAuth flow as an MCP client and the person at the browser go through it,
//! by plain HTTP: discovery from the protected resource's challenge, registration,
//! sign-in and consent by form POST, the code exchange, refresh rotation and reuse, and
//! revocation.

use learner_conformance::authorize_pages::{
    Page, REDIRECT, allow, authorize_url, get, get_json, hidden, post, post_form_to, query_param,
    session_cookie, sign_in,
};
use learner_conformance::{agent, base_url, exchange_form};
use serde_json::{Value, json};

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
    query_param(&approved.location(), "code").expect("code")
}

/// The access and refresh tokens of a token response, which must be a success.
fn issued((status, tokens): (u16, Value)) -> (String, String) {
    assert_eq!(status, 200, "{tokens}");
    let token = |name: &str| tokens[name].as_str().expect(name).to_owned();
    (token("access_token"), token("refresh_token"))
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
    let mut registered = agent()
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
            &exchange_form(code, REDIRECT, &client),
        )
    };
    let (access, first_refresh) = issued(exchange(&code));

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
    let (second_access, second_refresh) = issued(refresh(&first_refresh));
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
    let (access, refresh_token) = issued(exchange(&approve(&again, &cookie)));
    assert_eq!(get_json(&whoami, Some(&access)).0, 200);
    let (status, revoked) = post_form_to(
        &endpoint("revocation_endpoint"),
        &format!("token={refresh_token}&token_type_hint=refresh_token&client_id={client}"),
    );
    assert_eq!(status, 200, "{revoked}");
    assert_eq!(get_json(&whoami, Some(&access)).0, 401);
    assert_eq!(refresh(&refresh_token).1["error"], "invalid_grant");
}
