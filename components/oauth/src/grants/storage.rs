//! The keys of the grant store (the layout is tabled in the parent module) and the
//! encoding of its records.

use learner_core::ports::KvError;
use serde::{Serialize, de::DeserializeOwned};

use super::GrantFailure;
use crate::token::Token;

pub(super) fn grant_key(id: &str) -> String {
    format!("oauth:grant:{id}")
}
/// The ids of a subject's grants (the subject hashed: keys are not for personal data).
pub(super) fn subject_key(subject: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(subject.as_bytes());
    format!("oauth:subject-grants:{}", learner_core::hex(&digest))
}

pub(super) fn code_key(token: &Token) -> String {
    format!("oauth:code:{}", token.hash().to_hex())
}
pub(super) fn code_used_key(token: &Token) -> String {
    format!("oauth:code-used:{}", token.hash().to_hex())
}
pub(super) fn access_key(token: &Token) -> String {
    format!("oauth:access:{}", token.hash().to_hex())
}
pub(super) fn refresh_key(token: &Token) -> String {
    format!("oauth:refresh:{}", token.hash().to_hex())
}

pub(super) fn encode<T: Serialize>(record: &T) -> Vec<u8> {
    // These records hold only strings and options: serialization cannot fail.
    serde_json::to_vec(record).unwrap_or_default()
}

pub(super) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, GrantFailure> {
    serde_json::from_slice(bytes)
        .map_err(|e| GrantFailure::Storage(KvError::Backend(format!("corrupt record: {e}"))))
}
