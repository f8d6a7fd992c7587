//! The data subject's rights (GDPR Art. 15–17, 20): export, erasure, withdrawal of
//! consent.

use learner_core::ports::Host;
use serde_json::{Value, json};

use super::{Failure, Service};
use crate::dates;
use crate::gdpr::{self, AccessRevocation};
use crate::privacy::{self, Access, Category, Role};

impl<H: Host, R: AccessRevocation> Service<'_, H, R> {
    /// Everything held about a learner, for the learner, their guardian or the
    /// tenant administrator (GDPR Art. 15/20), with the requester's scope
    /// `learner.export`.
    pub async fn export(&self, reference: &str) -> Result<Value, Failure> {
        let kind = "dna.export";
        if !self.requester.has_scope("learner.export") {
            return self
                .refuse(kind, json!(reference), "needs the learner.export scope")
                .await;
        }
        let (pseudonym, id) = self.subject_of_request(kind, reference).await?;
        // COPPA: a student under 13 exports through an AI client only with verified
        // parental consent on file — the same rule as any read.
        if self.requester.role() == Role::Student
            && let Access::Denied(privacy::Denial::NoParentalConsent) = self.access(&id).await?
        {
            return self
                .deny(kind, json!(pseudonym), privacy::Denial::NoParentalConsent)
                .await;
        }
        let record = self.records().everything(&id).await?;
        self.audit(kind, "allowed", json!({"target": pseudonym}))
            .await;
        Ok(
            json!({"learner": pseudonym, "exported_at": dates::iso_date(self.now_ms), "record": record}),
        )
    }

    /// Erases a learner's record (GDPR Art. 17): the tenant administrator only, with
    /// the `privacy.admin` scope. The data is deleted in one transaction, every grant
    /// of the learner's and their guardians' accounts is revoked and the sessions
    /// opened under them end; a tombstone stays in the audit trail.
    pub async fn erase(&self, reference: &str) -> Result<Value, Failure> {
        let kind = "dna.erase";
        if self.requester.role() != Role::TenantAdmin || !self.requester.has_scope("privacy.admin")
        {
            return self
                .refuse(
                    kind,
                    json!(reference),
                    "erasure is for the tenant administrator with the privacy.admin scope",
                )
                .await;
        }
        let (_, id) = self.subject_of_request(kind, reference).await?;
        let accounts = self.records().accounts_of(&id).await?;
        let deleted = gdpr::erase(self.host.sql(), self.requester.tenant(), &id).await?;
        let revoked = self
            .revocation
            .revoke(&accounts, None)
            .await
            .map_err(|_| Failure::Storage)?;
        // The tombstone names the record only by a one-way hash of tenant and id.
        let tombstone = learner_core::hex(&{
            use sha2::Digest as _;
            sha2::Sha256::digest(format!("{}\0{}", self.requester.tenant(), id).as_bytes())
        });
        self.audit(
            "dna.erased",
            "allowed",
            json!({"tombstone": tombstone, "deleted": deleted, "grants_revoked": revoked.grants, "sessions_ended": revoked.sessions}),
        )
        .await;
        Ok(
            json!({"erased": true, "tombstone": tombstone, "deleted": deleted,
                  "grants_revoked": revoked.grants, "sessions_ended": revoked.sessions}),
        )
    }

    /// Withdraws consent for `categories` (all when empty): by the learner (13 or
    /// over), their guardian, or the tenant administrator. Reads stop at once; grants of
    /// the learner's and guardians' accounts that asked for those categories are
    /// revoked and their sessions end.
    pub async fn withdraw(
        &self,
        reference: &str,
        categories: &[Category],
    ) -> Result<Value, Failure> {
        let kind = "dna.consent.withdraw";
        let categories: Vec<Category> = if categories.is_empty() {
            Category::ALL.to_vec()
        } else {
            categories.to_vec()
        };
        let (pseudonym, id) = self.subject_of_request(kind, reference).await?;
        if self.requester.role() == Role::TenantAdmin && !self.requester.has_scope("privacy.admin")
        {
            return self
                .refuse(
                    kind,
                    json!(reference),
                    "recording a withdrawal for a learner needs the privacy.admin scope",
                )
                .await;
        }
        let withdrawn = gdpr::withdraw(
            self.host.sql(),
            self.requester.tenant(),
            &id,
            &categories,
            self.now_ms,
        )
        .await?;
        let accounts = self.records().accounts_of(&id).await?;
        let scopes: Vec<&str> = categories.iter().map(|c| c.scope()).collect();
        let revoked = self
            .revocation
            .revoke(&accounts, Some(&scopes))
            .await
            .map_err(|_| Failure::Storage)?;
        let names: Vec<&str> = categories.iter().map(|c| c.consent_name()).collect();
        self.audit(
            kind,
            "allowed",
            json!({"target": pseudonym, "categories": names, "consents_withdrawn": withdrawn,
                   "grants_revoked": revoked.grants, "sessions_ended": revoked.sessions}),
        )
        .await;
        Ok(
            json!({"learner": pseudonym, "categories": names, "consents_withdrawn": withdrawn,
                  "grants_revoked": revoked.grants, "sessions_ended": revoked.sessions}),
        )
    }
}
