//! The revocation (RFC 7009) and introspection (RFC 7662) endpoints over HTTP, for
//! tokens issued by the real code exchange.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use learner_conformance::base_url;
use learner_conformance::oauth_endpoints::{
    assert_error, code_for, exchange, post_form, public_client, query, refresh, register,
};
use serde_json::{Value, json};

#[test]
fn revoking_a_refresh_token_ends_the_grant() {
    let client = public_client();
    let issued = exchange(&client, &code_for(&client));
    let refresh_token = issued.body["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    let form = query(&[("token", &refresh_token), ("client_id", &client)]);
    let revoked = post_form(
        "/oauth/revoke",
        &form,
        None,
        "application/x-www-form-urlencoded",
    );
    assert_eq!((revoked.status, &revoked.body), (200, &Value::Null));
    assert_error(&refresh(&client, &refresh_token), 400, "invalid_grant");
    // Revoking an unknown token is accepted too (RFC 7009 §2.2).
    let unknown = post_form(
        "/oauth/revoke",
        &query(&[("token", "nope"), ("client_id", &client)]),
        None,
        "application/x-www-form-urlencoded",
    );
    assert_eq!(unknown.status, 200);
}

#[test]
fn introspection_reports_live_access_tokens_to_confidential_clients_only() {
    let resource_server = register(json!({"redirect_uris": ["https://rs.example/cb"]}));
    let rs_id = resource_server["client_id"].as_str().expect("id");
    let rs_secret = resource_server["client_secret"].as_str().expect("secret");
    let basic = format!("Basic {}", B64.encode(format!("{rs_id}:{rs_secret}")));
    let client = public_client();
    let issued = exchange(&client, &code_for(&client));
    let access = issued.body["access_token"].as_str().expect("access token");
    let introspect = |token: &str, authorization: Option<&str>| {
        post_form(
            "/oauth/introspect",
            &query(&[("token", token)]),
            authorization,
            "application/x-www-form-urlencoded",
        )
    };
    let live = introspect(access, Some(&basic));
    assert_eq!(live.status, 200, "{}", live.body);
    assert_eq!(live.body["active"], true);
    assert_eq!(live.body["client_id"], json!(client));
    assert_eq!(live.body["sub"], "teacher-1");
    assert_eq!(live.body["scope"], "learner.profile learner.struggles");
    assert_eq!(live.body["aud"], json!(format!("{}/mcp", base_url())));
    assert_eq!(live.body["iss"], json!(base_url()));
    // Issued now, expiring after the access-token lifetime (the token response's
    // `expires_in`), in seconds since the epoch.
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let iat = live.body["iat"].as_u64().expect("iat");
    let exp = live.body["exp"].as_u64().expect("exp");
    assert!(iat.abs_diff(now_s) <= 60, "iat {iat}, now {now_s}");
    assert_eq!(Some(exp - iat), issued.body["expires_in"].as_u64());
    for inactive in [
        "ldna_at_nope",
        "garbage",
        issued.body["refresh_token"].as_str().expect("refresh"),
    ] {
        assert_eq!(
            introspect(inactive, Some(&basic)).body,
            json!({"active": false}),
            "{inactive}"
        );
    }
    // A public client may not introspect; nor may anyone unauthenticated.
    let public = post_form(
        "/oauth/introspect",
        &query(&[("token", access), ("client_id", &client)]),
        None,
        "application/x-www-form-urlencoded",
    );
    assert_error(&public, 401, "invalid_client");
    assert_error(&introspect(access, None), 401, "invalid_client");
    // Revoked: inactive.
    let revoke_form = query(&[("token", access), ("client_id", &client)]);
    assert_eq!(
        post_form(
            "/oauth/revoke",
            &revoke_form,
            None,
            "application/x-www-form-urlencoded"
        )
        .status,
        200
    );
    assert_eq!(
        introspect(access, Some(&basic)).body,
        json!({"active": false})
    );
}
