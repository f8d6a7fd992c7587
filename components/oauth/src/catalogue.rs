//! The scopes this server grants, with the plain-language text the consent page shows.
//! Each scope is one data category of a learner's record (ARCHITECTURE.md, "Granular
//! scopes"); what a token finally sees is these ∩ the consent on file ∩ the
//! relationship.

/// `(scope, what it lets the client read, in plain language)`.
pub const SCOPES: &[(&str, &str)] = &[
    (
        "learner.profile",
        "the learning profile: pace, retention and preferred ways of learning",
    ),
    (
        "learner.behavioral",
        "how learning sessions go: timing, engagement and interaction patterns",
    ),
    (
        "learner.assessment",
        "assessment results and concept mastery",
    ),
    (
        "learner.struggles",
        "the concepts a learner struggles with and the misconceptions behind them",
    ),
    (
        "class.aggregates",
        "class-level summaries, never about fewer than five learners",
    ),
    ("learner.export", "a full export of a learner's record"),
    (
        "privacy.admin",
        "carry out the school's privacy requests: erase a learner's record, record a consent withdrawal",
    ),
    (
        "identity",
        "learners' names and email addresses (otherwise learners are pseudonymous)",
    ),
];

/// Scope used when a request names none.
pub const DEFAULT_SCOPE: &str = "learner.profile";

/// The scope a 401 challenge suggests to a client starting authorization: the learning
/// data an assistant works with. MCP clients otherwise ask for every scope the resource
/// lists (the MCP scope-selection strategy), names, exports and privacy administration
/// included; those a client asks for explicitly (or after a 403 naming them).
pub const CHALLENGE_SCOPE: &str =
    "learner.profile learner.behavioral learner.assessment learner.struggles class.aggregates";

/// Scopes the consent page leaves unticked until the person ticks them: names, full
/// exports and privacy administration go beyond what an assistant needs to help with
/// learning, so granting them is always a deliberate act (data minimisation by
/// default, GDPR Art. 25) even when a client asks for them.
/// Each with the few words the consent page names it by.
pub const OPT_IN: &[(&str, &str)] = &[
    ("identity", "names"),
    ("learner.export", "full exports"),
    ("privacy.admin", "privacy requests"),
];

/// The consent page's short name for `scope` if it is opt-in (offered unticked).
pub fn opt_in(scope: &str) -> Option<&'static str> {
    OPT_IN
        .iter()
        .find(|(name, _)| *name == scope)
        .map(|(_, label)| *label)
}

/// Every scope name.
pub fn names() -> Vec<&'static str> {
    SCOPES.iter().map(|(name, _)| *name).collect()
}

/// The plain-language description of a scope.
pub fn describe(scope: &str) -> Option<&'static str> {
    SCOPES
        .iter()
        .find(|(name, _)| *name == scope)
        .map(|(_, text)| *text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::Scopes;

    #[test]
    fn every_scope_is_valid_syntax_and_described_once() {
        let all = names().join(" ");
        assert_eq!(Scopes::parse(&all).unwrap().iter().count(), SCOPES.len());
        assert!(describe(DEFAULT_SCOPE).is_some());
        assert_eq!(describe("admin"), None);
    }

    #[test]
    fn the_challenge_suggests_exactly_the_scopes_granted_without_opting_in() {
        let usual: Vec<&str> = names()
            .into_iter()
            .filter(|s| opt_in(s).is_none())
            .collect();
        assert_eq!(CHALLENGE_SCOPE, usual.join(" "));
        assert!(OPT_IN.iter().all(|(s, _)| describe(s).is_some()));
        assert_eq!(opt_in(DEFAULT_SCOPE), None);
        assert_eq!(opt_in("identity"), Some("names"));
    }
}
