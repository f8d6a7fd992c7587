//! Scope strings (RFC 6749 §3.3): space-delimited tokens of `NQCHAR`s.

use std::fmt;

use thiserror::Error;

/// Most scope tokens one request may carry.
pub const MAX_SCOPES: usize = 64;
/// Longest scope string accepted, in bytes.
pub const MAX_SCOPE_BYTES: usize = 1024;

/// Why a scope string was refused (→ `invalid_scope`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ScopeError {
    /// Not `token *( SP token )` with tokens of `%x21 / %x23-5B / %x5D-7E`.
    #[error("scope must be space-separated tokens of printable ASCII without '\"' or '\\\\'")]
    Syntax,
    /// Over [`MAX_SCOPES`] tokens or [`MAX_SCOPE_BYTES`] bytes.
    #[error("scope is too long")]
    TooLong,
}

/// A set of scope tokens, in the order first given, without duplicates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes(Vec<String>);

fn is_nqchar(b: u8) -> bool {
    b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b)
}

impl Scopes {
    /// Parses a `scope` parameter. Exactly one space separates tokens; an empty string
    /// is the empty set.
    pub fn parse(text: &str) -> Result<Self, ScopeError> {
        if text.len() > MAX_SCOPE_BYTES {
            return Err(ScopeError::TooLong);
        }
        if text.is_empty() {
            return Ok(Self::default());
        }
        let mut tokens: Vec<String> = Vec::new();
        for token in text.split(' ') {
            if token.is_empty() || !token.bytes().all(is_nqchar) {
                return Err(ScopeError::Syntax);
            }
            if !tokens.iter().any(|t| t == token) {
                tokens.push(token.to_owned());
            }
        }
        if tokens.len() > MAX_SCOPES {
            return Err(ScopeError::TooLong);
        }
        Ok(Self(tokens))
    }

    /// Whether `scope` is in the set.
    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s == scope)
    }

    /// Whether every scope here is also in `other`.
    pub fn is_subset_of(&self, other: &Scopes) -> bool {
        self.0.iter().all(|s| other.contains(s))
    }

    /// The scopes in both sets, in this set's order.
    pub fn intersection(&self, other: &Scopes) -> Scopes {
        self.filter(|s| other.contains(s))
    }

    /// The scopes `keep` accepts, in this set's order.
    pub fn filter(&self, keep: impl Fn(&str) -> bool) -> Scopes {
        Scopes(self.0.iter().filter(|s| keep(s)).cloned().collect())
    }

    /// The tokens.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_dedupe_and_print() {
        let scopes = Scopes::parse("learner.profile class.insights learner.profile").unwrap();
        assert_eq!(scopes.to_string(), "learner.profile class.insights");
        assert!(scopes.contains("class.insights"));
        assert!(!scopes.contains("learner"));
        assert_eq!(Scopes::parse("").unwrap(), Scopes::default());
        assert_eq!(
            Scopes::parse("a:b/c!#[]~").unwrap().to_string(),
            "a:b/c!#[]~"
        );
    }

    #[test]
    fn malformed_scope_strings_are_refused() {
        for bad in [" a", "a ", "a  b", "a\tb", "a\"b", "a\\b", "é", "a\nb"] {
            assert_eq!(Scopes::parse(bad), Err(ScopeError::Syntax), "{bad:?}");
        }
        let many: Vec<String> = (0..=MAX_SCOPES).map(|i| format!("s{i}")).collect();
        assert_eq!(Scopes::parse(&many.join(" ")), Err(ScopeError::TooLong));
        assert_eq!(
            Scopes::parse(&"a".repeat(MAX_SCOPE_BYTES + 1)),
            Err(ScopeError::TooLong)
        );
    }

    #[test]
    fn subsets_and_intersections() {
        let granted = Scopes::parse("a b c").unwrap();
        let asked = Scopes::parse("c a").unwrap();
        assert!(asked.is_subset_of(&granted));
        assert!(!granted.is_subset_of(&asked));
        assert_eq!(granted.intersection(&asked).to_string(), "a c");
    }
}
