//! The test double for ending access (the host itself is
//! `learner_testkit::memory_host`).

use std::cell::RefCell;

use learner_dna::gdpr::{AccessRevocation, Revoked};

/// One revocation asked for: the accounts, and the scopes (all when `None`).
pub type Revocation = (Vec<String>, Option<Vec<String>>);

/// Records what it was asked to revoke.
#[derive(Default)]
pub struct Revocations(pub RefCell<Vec<Revocation>>);

impl AccessRevocation for Revocations {
    async fn revoke(
        &self,
        subjects: &[String],
        scopes: Option<&[&str]>,
    ) -> Result<Revoked, String> {
        self.0.borrow_mut().push((
            subjects.to_vec(),
            scopes.map(|s| s.iter().map(|x| (*x).to_owned()).collect()),
        ));
        Ok(Revoked {
            grants: subjects.len(),
            sessions: 0,
        })
    }
}
