//! Grant store behaviour over an in-memory key-value store with a manual clock.

use learner_core::ports::{Clock, KeyValue};
use serde_json::json;

use super::*;
use crate::authorize::AuthorizationRequest;
use crate::pkce::CodeChallenge;
use learner_testkit::{Counter, MemoryKv, TestClock, run};

// RFC 7636 Appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const RESOURCE: &str = "https://as.example/mcp";
const REDIRECT: &str = "https://app.example/cb";

fn request(client_id: &str) -> AuthorizationRequest {
    AuthorizationRequest {
        client_id: client_id.into(),
        redirect_uri: REDIRECT.into(),
        state: Some("s".into()),
        scope: Scopes::parse("learner.profile learner.struggles").unwrap(),
        resource: RESOURCE.into(),
        code_challenge: CodeChallenge::from_request(Some(CHALLENGE), Some("S256")).unwrap(),
    }
}

struct World {
    clock: TestClock,
    random: Counter,
}

impl World {
    fn new() -> Self {
        let clock = TestClock::default();
        clock.0.set(1_800_000_000_000);
        Self {
            clock,
            random: Counter::default(),
        }
    }
}

/// Runs `test` with a world, an empty key-value store on its clock and a grant store
/// over them with the default lifetimes, issuing at the world's "now".
fn with_grants(
    test: impl for<'a> FnOnce(&'a World, &'a MemoryKv<'a>, &'a Grants<'a, MemoryKv<'a>, Counter>),
) {
    let world = World::new();
    let kv = MemoryKv::new(&world.clock);
    let grants = Grants::new(
        &kv,
        &world.random,
        Lifetimes::default(),
        world.clock.now_ms(),
    );
    test(&world, &kv, &grants);
}

/// A code for `request("c1")`, approved by subject `u` with no props.
fn issue<K: KeyValue>(grants: &Grants<'_, K, Counter>) -> Token {
    run(grants.issue_code(&request("c1"), "u", &json!({}))).unwrap()
}

/// Exchanges `code` as client `c1` would, with refresh allowed.
fn exchange<K: KeyValue>(
    grants: &Grants<'_, K, Counter>,
    code: &Token,
) -> Result<IssuedTokens, GrantFailure> {
    exchange_for(grants, code, Some(RESOURCE), true)
}

/// Exchanges `code` as client `c1`, naming `resource`, with or without refresh.
fn exchange_for<K: KeyValue>(
    grants: &Grants<'_, K, Counter>,
    code: &Token,
    resource: Option<&str>,
    refresh_allowed: bool,
) -> Result<IssuedTokens, GrantFailure> {
    run(grants.exchange_code(
        code.as_str(),
        "c1",
        Some(REDIRECT),
        resource,
        Some(VERIFIER),
        refresh_allowed,
    ))
}

/// The tokens of a fresh grant (see [`issue`] and [`exchange`]).
fn issue_and_exchange<K: KeyValue>(grants: &Grants<'_, K, Counter>) -> IssuedTokens {
    exchange(grants, &issue(grants)).unwrap()
}

fn code_of(failure: Result<IssuedTokens, GrantFailure>) -> ErrorCode {
    match failure {
        Err(GrantFailure::Invalid(error)) => error.code,
        other => panic!("expected an invalid grant, got {other:?}"),
    }
}

#[test]
fn the_whole_life_of_a_grant() {
    with_grants(|_, _, grants| {
        let props = json!({"tenant": "t1", "role": "teacher"});
        let code = run(grants.issue_code(&request("c1"), "teacher-7", &props)).unwrap();
        let issued = exchange(grants, &code).unwrap();
        assert_eq!(issued.expires_in, 3600);
        let body = issued.to_json();
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["scope"], "learner.profile learner.struggles");
        assert!(
            body["refresh_token"]
                .as_str()
                .is_some_and(|t| t.starts_with("ldna_rt_"))
        );

        let access = run(grants.validate_access(issued.access_token.as_str(), RESOURCE)).unwrap();
        assert_eq!(access.subject, "teacher-7");
        assert_eq!(access.client_id, "c1");
        assert_eq!(access.props, props);

        // Rotation: the new refresh token works, the old one is now reuse.
        let first_refresh = issued.refresh_token.unwrap();
        let second = run(grants.refresh(first_refresh.as_str(), "c1", None)).unwrap();
        assert_ne!(second.refresh_token.as_ref().unwrap(), &first_refresh);
        let reuse = run(grants.refresh(first_refresh.as_str(), "c1", None));
        assert!(
            matches!(reuse, Err(GrantFailure::RefreshReused { .. })),
            "{reuse:?}"
        );
        // Reuse revoked the whole grant: every token from it is dead.
        for access_token in [&issued.access_token, &second.access_token] {
            let error = run(grants.validate_access(access_token.as_str(), RESOURCE)).unwrap_err();
            assert_eq!(error.to_oauth().code, ErrorCode::InvalidToken);
        }
        let after = run(grants.refresh(second.refresh_token.unwrap().as_str(), "c1", None));
        assert_eq!(code_of(after), ErrorCode::InvalidGrant);
    });
}

#[test]
fn a_replayed_code_revokes_what_it_issued() {
    with_grants(|_, _, grants| {
        let code = issue(grants);
        let issued = exchange(grants, &code).unwrap();
        let replay = exchange(grants, &code);
        assert!(
            matches!(replay, Err(GrantFailure::CodeReplayed { .. })),
            "{replay:?}"
        );
        assert_eq!(replay.unwrap_err().to_oauth().code, ErrorCode::InvalidGrant);
        assert!(run(grants.validate_access(issued.access_token.as_str(), RESOURCE)).is_err());
        assert_eq!(
            code_of(run(grants.refresh(
                issued.refresh_token.unwrap().as_str(),
                "c1",
                None
            ))),
            ErrorCode::InvalidGrant
        );
    });
}

#[test]
fn a_code_is_bound_to_client_redirect_resource_and_verifier() {
    with_grants(|_, _, grants| {
        // (client, redirect_uri, resource, code_verifier, expected error)
        type Attempt = (
            &'static str,
            Option<&'static str>,
            Option<&'static str>,
            Option<&'static str>,
            ErrorCode,
        );
        let wrong: [Attempt; 6] = [
            (
                "c2",
                Some(REDIRECT),
                Some(RESOURCE),
                Some(VERIFIER),
                ErrorCode::InvalidGrant,
            ),
            (
                "c1",
                Some("https://app.example/cb2"),
                Some(RESOURCE),
                Some(VERIFIER),
                ErrorCode::InvalidGrant,
            ),
            (
                "c1",
                None,
                Some(RESOURCE),
                Some(VERIFIER),
                ErrorCode::InvalidGrant,
            ),
            (
                "c1",
                Some(REDIRECT),
                Some(RESOURCE),
                Some(&CHALLENGE[..43]),
                ErrorCode::InvalidGrant,
            ),
            (
                "c1",
                Some(REDIRECT),
                Some(RESOURCE),
                None,
                ErrorCode::InvalidGrant,
            ),
            (
                "c1",
                Some(REDIRECT),
                Some("https://other.example/mcp"),
                Some(VERIFIER),
                ErrorCode::InvalidTarget,
            ),
        ];
        for (client, redirect, resource, verifier, expected) in wrong {
            let code = issue(grants);
            let result = run(grants.exchange_code(
                code.as_str(),
                client,
                redirect,
                resource,
                verifier,
                true,
            ));
            assert_eq!(
                code_of(result),
                expected,
                "{client} {redirect:?} {resource:?} {verifier:?}"
            );
            // The failed attempt used the code up: presenting it again is a replay.
            assert!(matches!(
                exchange(grants, &code),
                Err(GrantFailure::CodeReplayed { .. })
            ));
        }
    });
}

#[test]
fn codes_and_access_tokens_expire() {
    with_grants(|world, _, grants| {
        let code = issue(grants);
        world.clock.0.set(world.clock.0.get() + 60_001);
        assert_eq!(code_of(exchange(grants, &code)), ErrorCode::InvalidGrant);

        let issued = issue_and_exchange(grants);
        world.clock.0.set(world.clock.0.get() + 3_600_001);
        let error =
            run(grants.validate_access(issued.access_token.as_str(), RESOURCE)).unwrap_err();
        assert_eq!(error.to_oauth().code, ErrorCode::InvalidToken);
        // The refresh token outlives the access token.
        assert!(run(grants.refresh(issued.refresh_token.unwrap().as_str(), "c1", None)).is_ok());
    });
}

#[test]
fn access_tokens_work_only_for_their_resource() {
    with_grants(|_, _, grants| {
        let issued = issue_and_exchange(grants);
        let error =
            run(grants.validate_access(issued.access_token.as_str(), "https://other.example/mcp"))
                .unwrap_err();
        assert_eq!(error.to_oauth().code, ErrorCode::InvalidToken);
        for garbage in [
            "",
            "Bearer x",
            "ldna_at_",
            issued.refresh_token.as_ref().unwrap().as_str(),
        ] {
            assert!(
                run(grants.validate_access(garbage, RESOURCE)).is_err(),
                "{garbage}"
            );
        }
    });
}

#[test]
fn refresh_may_narrow_but_not_widen_scope() {
    with_grants(|_, _, grants| {
        let issued = issue_and_exchange(grants);
        let wider = Scopes::parse("learner.profile learner.export").unwrap();
        let result = run(grants.refresh(
            issued.refresh_token.as_ref().unwrap().as_str(),
            "c1",
            Some(&wider),
        ));
        assert_eq!(code_of(result), ErrorCode::InvalidScope);
        let narrower = Scopes::parse("learner.profile").unwrap();
        let narrowed = run(grants.refresh(
            issued.refresh_token.unwrap().as_str(),
            "c1",
            Some(&narrower),
        ))
        .unwrap();
        assert_eq!(narrowed.scope.to_string(), "learner.profile");
        let access = run(grants.validate_access(narrowed.access_token.as_str(), RESOURCE)).unwrap();
        assert_eq!(access.scope.to_string(), "learner.profile");
    });
}

#[test]
fn revocation_follows_rfc_7009() {
    with_grants(|_, _, grants| {
        let issued = issue_and_exchange(grants);
        let refresh = issued.refresh_token.clone().unwrap();
        // Another client's revocation changes nothing.
        assert_eq!(run(grants.revoke(refresh.as_str(), "c2")).unwrap(), None);
        assert!(run(grants.validate_access(issued.access_token.as_str(), RESOURCE)).is_ok());
        // Revoking an access token ends only that token.
        let second = run(grants.refresh(refresh.as_str(), "c1", None)).unwrap();
        assert_eq!(
            run(grants.revoke(issued.access_token.as_str(), "c1")).unwrap(),
            None
        );
        assert!(run(grants.validate_access(issued.access_token.as_str(), RESOURCE)).is_err());
        assert!(run(grants.validate_access(second.access_token.as_str(), RESOURCE)).is_ok());
        // Revoking the refresh token ends the grant.
        let revoked =
            run(grants.revoke(second.refresh_token.as_ref().unwrap().as_str(), "c1")).unwrap();
        assert_eq!(revoked.as_deref(), Some(issued.grant_id.as_str()));
        assert!(run(grants.validate_access(second.access_token.as_str(), RESOURCE)).is_err());
        // Unknown tokens are accepted and change nothing.
        assert_eq!(run(grants.revoke("nonsense", "c1")).unwrap(), None);
    });
}

#[test]
fn public_clients_without_the_refresh_grant_get_no_refresh_token() {
    with_grants(|_, _, grants| {
        let code = issue(grants);
        let issued = exchange_for(grants, &code, None, false).unwrap();
        assert!(issued.refresh_token.is_none());
        assert!(issued.to_json().get("refresh_token").is_none());
    });
}

#[test]
fn storage_holds_neither_tokens_nor_readable_props() {
    with_grants(|_, kv, grants| {
        let props = json!({"learner_names": "Ada Lovelace"});
        let code = run(grants.issue_code(&request("c1"), "u", &props)).unwrap();
        let code_dump = kv.dump();
        assert!(
            !code_dump.contains(&code.as_str()[8..]),
            "code stored in the clear"
        );
        let issued = exchange(grants, &code).unwrap();
        let dump = kv.dump();
        assert!(!dump.contains("Ada Lovelace"), "props stored in the clear");
        assert!(!dump.contains(&issued.access_token.as_str()[8..]));
        assert!(!dump.contains(&issued.refresh_token.unwrap().as_str()[8..]));
        assert!(dump.contains(&issued.access_token.hash().to_hex()));
    });
}

#[test]
fn an_access_token_knows_when_it_was_issued_and_expires() {
    with_grants(|world, _, grants| {
        let now = world.clock.now_ms();
        let lifetimes = Lifetimes::default();
        let code = run(grants.issue_code(&request("c1"), "teacher-7", &json!({}))).unwrap();
        let issued = exchange(grants, &code).unwrap();
        let access = run(grants.validate_access(issued.access_token.as_str(), RESOURCE)).unwrap();
        assert_eq!(access.issued_at_ms, now);
        assert_eq!(access.expires_at_ms, now + lifetimes.access_ms);
    });
}
