//! PKCE (RFC 7636) with the S256 method only, as OAuth 2.1 requires of this server:
//! `plain` and a missing challenge are refused at the authorization endpoint.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use thiserror::Error;

/// Why a PKCE parameter was refused. Each maps to `invalid_request` at the
/// authorization endpoint or `invalid_grant` at the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PkceError {
    /// No `code_challenge`: PKCE is mandatory.
    #[error("code_challenge is required")]
    MissingChallenge,
    /// `code_challenge_method` other than S256 (including `plain` and absent).
    #[error("code_challenge_method must be S256")]
    UnsupportedMethod,
    /// The challenge is not 43 characters of base64url (a SHA-256 digest).
    #[error("code_challenge must be the base64url SHA-256 of the verifier (43 characters)")]
    MalformedChallenge,
    /// The verifier is not 43–128 characters of `[A-Za-z0-9-._~]` (RFC 7636 §4.1).
    #[error("code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~]")]
    MalformedVerifier,
    /// The verifier does not hash to the challenge.
    #[error("code_verifier does not match the code_challenge")]
    Mismatch,
}

/// A validated S256 code challenge, as stored with the authorization code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeChallenge(String);

impl CodeChallenge {
    /// Validates the authorization request's `code_challenge` and
    /// `code_challenge_method`. The method is required to be present and `S256`:
    /// RFC 7636 would default a missing method to `plain`, which is not allowed here.
    pub fn from_request(challenge: Option<&str>, method: Option<&str>) -> Result<Self, PkceError> {
        let challenge = challenge.ok_or(PkceError::MissingChallenge)?;
        if method != Some("S256") {
            return Err(PkceError::UnsupportedMethod);
        }
        let decoded = B64URL
            .decode(challenge)
            .map_err(|_| PkceError::MalformedChallenge)?;
        if challenge.len() != 43 || decoded.len() != 32 {
            return Err(PkceError::MalformedChallenge);
        }
        Ok(Self(challenge.to_owned()))
    }

    /// The challenge as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Checks the token request's `code_verifier` against this challenge, in
    /// constant time.
    pub fn verify(&self, verifier: Option<&str>) -> Result<(), PkceError> {
        let verifier = verifier.ok_or(PkceError::MalformedVerifier)?;
        let well_formed = (43..=128).contains(&verifier.len())
            && verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
        if !well_formed {
            return Err(PkceError::MalformedVerifier);
        }
        let computed = B64URL.encode(Sha256::digest(verifier.as_bytes()));
        if bool::from(computed.as_bytes().ct_eq(self.0.as_bytes())) {
            Ok(())
        } else {
            Err(PkceError::Mismatch)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn the_rfc_example_verifies() {
        let challenge = CodeChallenge::from_request(Some(CHALLENGE), Some("S256")).unwrap();
        assert_eq!(challenge.verify(Some(VERIFIER)), Ok(()));
    }

    #[test]
    fn missing_plain_and_absent_methods_are_refused() {
        assert_eq!(
            CodeChallenge::from_request(None, Some("S256")),
            Err(PkceError::MissingChallenge)
        );
        assert_eq!(
            CodeChallenge::from_request(Some(CHALLENGE), Some("plain")),
            Err(PkceError::UnsupportedMethod)
        );
        assert_eq!(
            CodeChallenge::from_request(Some(CHALLENGE), None),
            Err(PkceError::UnsupportedMethod)
        );
        assert_eq!(
            CodeChallenge::from_request(Some(CHALLENGE), Some("s256")),
            Err(PkceError::UnsupportedMethod)
        );
    }

    #[test]
    fn malformed_challenges_are_refused() {
        for bad in [
            "",
            "short",
            &CHALLENGE[..42],
            &format!("{CHALLENGE}A"),
            &CHALLENGE.replace('-', "+"),
        ] {
            assert_eq!(
                CodeChallenge::from_request(Some(bad), Some("S256")),
                Err(PkceError::MalformedChallenge),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn wrong_missing_and_malformed_verifiers_are_refused() {
        let challenge = CodeChallenge::from_request(Some(CHALLENGE), Some("S256")).unwrap();
        let other = "x".repeat(43);
        assert_eq!(challenge.verify(Some(&other)), Err(PkceError::Mismatch));
        assert_eq!(challenge.verify(None), Err(PkceError::MalformedVerifier));
        assert_eq!(
            challenge.verify(Some(&"a".repeat(42))),
            Err(PkceError::MalformedVerifier)
        );
        assert_eq!(
            challenge.verify(Some(&"a".repeat(129))),
            Err(PkceError::MalformedVerifier)
        );
        let with_space = format!("{} ", &VERIFIER[..43]);
        assert_eq!(
            challenge.verify(Some(&with_space)),
            Err(PkceError::MalformedVerifier)
        );
        // The challenge itself is not a valid verifier for itself.
        assert_eq!(challenge.verify(Some(CHALLENGE)), Err(PkceError::Mismatch));
    }
}
