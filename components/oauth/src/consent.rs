//! The person's answer on the consent page: which of the scopes a client asked for they
//! grant. Each requested scope is a checkbox named `grant:<scope>`; the usual ones start
//! ticked and the opt-in ones (`catalogue::OPT_IN`) unticked, so what a client receives
//! is what the person left ticked — never more than it asked for (RFC 6749 §3.3 lets the
//! server issue a narrower scope; the token response then names it).

use thiserror::Error;

use crate::params::Params;
use crate::scope::Scopes;

/// Prefix of a checkbox's name; the rest is the scope.
pub const FIELD_PREFIX: &str = "grant:";
/// The value a ticked checkbox sends.
pub const TICKED: &str = "yes";

/// The checkbox's name for `scope`.
pub fn field_name(scope: &str) -> String {
    format!("{FIELD_PREFIX}{scope}")
}

/// Why an "Allow" answer cannot be taken as it stands.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ChoiceError {
    /// Every box was unticked: there is nothing to allow.
    #[error("Tick at least one kind of data to allow, or choose Deny.")]
    NothingChosen,
    /// A field names a scope the client did not ask for, or carries another value —
    /// never sent by the page itself.
    #[error("The form names a permission the application did not ask for.")]
    NotOffered,
}

/// The scopes granted by the consent form `params` for a request that asked for
/// `requested`, in the request's order.
pub fn granted(requested: &Scopes, params: &Params) -> Result<Scopes, ChoiceError> {
    let mut ticked = Vec::new();
    for (name, value) in params.iter() {
        let Some(scope) = name.strip_prefix(FIELD_PREFIX) else {
            continue;
        };
        if value != TICKED || !requested.contains(scope) {
            return Err(ChoiceError::NotOffered);
        }
        ticked.push(scope);
    }
    let granted = requested.filter(|scope| ticked.contains(&scope));
    if granted.is_empty() {
        return Err(ChoiceError::NothingChosen);
    }
    Ok(granted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(fields: &[(&str, &str)]) -> Params {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        Params::parse(body.as_bytes()).expect("a well-formed form")
    }

    fn asked() -> Scopes {
        Scopes::parse("learner.profile identity learner.struggles").unwrap()
    }

    #[test]
    fn the_ticked_scopes_are_granted_in_the_order_asked() {
        let params = form(&[
            ("action", "approve"),
            ("grant:learner.struggles", "yes"),
            ("grant:learner.profile", "yes"),
        ]);
        assert_eq!(
            granted(&asked(), &params).unwrap().to_string(),
            "learner.profile learner.struggles"
        );
        let all = form(&[
            ("grant:identity", "yes"),
            ("grant:learner.struggles", "yes"),
            ("grant:learner.profile", "yes"),
        ]);
        assert_eq!(granted(&asked(), &all).unwrap(), asked());
    }

    #[test]
    fn nothing_ticked_is_not_an_approval() {
        assert_eq!(
            granted(&asked(), &form(&[("action", "approve")])),
            Err(ChoiceError::NothingChosen)
        );
    }

    #[test]
    fn a_scope_not_asked_for_or_a_strange_value_is_refused() {
        for fields in [
            [
                ("grant:learner.profile", "yes"),
                ("grant:privacy.admin", "yes"),
            ],
            [("grant:learner.profile", "yes"), ("grant:", "yes")],
            [("grant:learner.profile", "yes"), ("grant:identity", "no")],
            [("grant:learner.profile", "yes"), ("grant:identity", "")],
            [
                ("grant:learner.profile", "yes"),
                ("grant:learner.profile identity", "yes"),
            ],
        ] {
            assert_eq!(
                granted(&asked(), &form(&fields)),
                Err(ChoiceError::NotOffered),
                "{fields:?}"
            );
        }
    }

    #[test]
    fn each_scope_has_its_own_field() {
        assert_eq!(field_name("identity"), "grant:identity");
        assert_eq!(field_name("learner.profile"), "grant:learner.profile");
    }
}
