//! The consent page's choices, by plain HTTP: the person grants exactly the boxes they
//! tick of the scopes asked for, and an answer with no box or a forged one changes
//! nothing.

use learner_conformance::authorize_pages::{
    Page, allow, authorize_url_asking, exchange, get_json, post, query_param, register_client,
    session_cookie, sign_in, sign_in_to,
};
use learner_conformance::base_url;
use learner_conformance::sign_in::{ticked_boxes, ticking};
use serde_json::Value;

/// The code in a consent answer's redirect, exchanged for tokens: (status, body).
fn exchange_code(client: &str, answer: &Page) -> (u16, Value) {
    assert_eq!(answer.status, 303, "{}", answer.html);
    let code = query_param(&answer.location(), "code").expect("code");
    exchange(client, &code)
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
    consent.assert_shows("Names and privacy requests are allowed only if you tick them.");

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
    nothing.assert_refused("no box", "role=\"alert\">Tick at least one kind of data");
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
        post(&form, Some(&cookie)).assert_refused(
            &format!("{forged:?}"),
            "names a permission the application did not ask for",
        );
    }

    // The request is still open: a proper answer gets exactly the ticked scope.
    let mut form: Vec<(&str, &str)> = hidden_fields.to_vec();
    form.push(("grant:learner.struggles", "yes"));
    let (status, tokens) = exchange_code(&client, &post(&form, Some(&cookie)));
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["scope"], "learner.struggles");
}
