//! The Learner DNA service for one requester: every operation the catalogue offers,
//! each passing the privacy decision (`privacy.rs`) and leaving its decision and reason
//! in the audit trail. Learners appear under the reading client's pseudonyms; an
//! administrator names a learner by the school's record id.
//!
//! This module holds what every operation shares (admission, the audit trail, the
//! decisions over a set); the operations are grouped by what they serve: reads of
//! learners (`learners`), of classes (`classes`), and the data subject's rights
//! (`rights`).

mod classes;
mod learners;
mod rights;

use learner_core::ports::{Audit, AuditRecord, Clock, Host, KvError, SqlError, shared_secret};
use serde_json::{Value, json};

use crate::dates;
use crate::gdpr::AccessRevocation;
use crate::privacy::{self, Access, Category, Facts, Purpose, Requester, Role};
use crate::records::{Class, LearnerSet, Records};

/// Why an operation gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// The privacy rules refuse it (the reason is in the audit trail too).
    #[error("access denied: {0}")]
    Refused(String),
    /// No such learner or class for this requester (indistinguishable from one that
    /// exists elsewhere).
    #[error("not found: {0}")]
    NotFound(String),
    /// The request itself is wrong (a bad date, an unknown field).
    #[error("{0}")]
    Invalid(String),
    /// Storage failed.
    #[error("storage failed")]
    Storage,
}

impl From<SqlError> for Failure {
    fn from(_: SqlError) -> Self {
        Self::Storage
    }
}

impl From<crate::store::StoreError> for Failure {
    fn from(_: crate::store::StoreError) -> Self {
        Self::Storage
    }
}

impl From<KvError> for Failure {
    fn from(_: KvError) -> Self {
        Self::Storage
    }
}

/// A piece of a learner's DNA a caller may ask for, and the category it belongs to.
pub const FIELDS: [(&str, Category); 8] = [
    ("learning_velocity", Category::Profile),
    ("retention_curve", Category::Profile),
    ("comprehension_style", Category::Profile),
    ("interaction_timing", Category::Behavioral),
    ("engagement", Category::Behavioral),
    ("mastery", Category::Assessment),
    ("struggles", Category::Struggles),
    ("identity", Category::Identity),
];

/// The trait fields (stored per learner in `dna_traits`): what a profile shows.
pub const TRAITS: [&str; 5] = [
    "learning_velocity",
    "retention_curve",
    "comprehension_style",
    "interaction_timing",
    "engagement",
];

fn category_of(field: &str) -> Option<Category> {
    FIELDS.iter().find(|(f, _)| *f == field).map(|(_, c)| *c)
}

/// Learning events from `since` (inclusive) to `until` (exclusive), ISO dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    since: String,
    until: String,
    since_ms: u64,
    until_ms: u64,
}

impl Window {
    /// A window from optional ISO dates (`until` defaults to tomorrow, `since` to the
    /// epoch); refused when a date is malformed or the window is empty.
    pub fn parse(since: Option<&str>, until: Option<&str>, today_ms: u64) -> Result<Self, Failure> {
        let parse = |name: &str, date: &str| {
            dates::start_of(date).ok_or_else(|| {
                Failure::Invalid(format!(
                    "{name} must be a date like 2026-09-01, not {date:?}"
                ))
            })
        };
        let since_ms = since.map(|d| parse("since", d)).transpose()?.unwrap_or(0);
        let until_ms = match until {
            Some(d) => parse("until", d)?,
            None => (today_ms / 86_400_000 + 1) * 86_400_000,
        };
        if until_ms <= since_ms {
            return Err(Failure::Invalid(
                "the window is empty: until must be after since".into(),
            ));
        }
        Ok(Self {
            since: dates::iso_date(since_ms),
            until: dates::iso_date(until_ms),
            since_ms,
            until_ms,
        })
    }
}

/// A learner the requester may read, and what of them.
struct Admitted {
    id: String,
    pseudonym: String,
    categories: Vec<Category>,
}

/// The service for one requester.
pub struct Service<'a, H, R> {
    host: &'a H,
    revocation: &'a R,
    requester: Requester,
    key: [u8; 32],
    today: String,
    now_ms: u64,
}

impl<'a, H: Host, R: AccessRevocation> Service<'a, H, R> {
    /// The service for `requester` (its tenant's pseudonym key is made on first use).
    pub async fn open(
        host: &'a H,
        revocation: &'a R,
        requester: Requester,
    ) -> Result<Self, Failure> {
        crate::store::ready(host).await?;
        let name = format!("dna:pseudonym-key:{}", requester.tenant());
        let key = shared_secret(host.key_value(), host.random(), &name).await?;
        let now_ms = host.clock().now_ms();
        Ok(Self {
            host,
            revocation,
            requester,
            key,
            today: dates::iso_date(now_ms),
            now_ms,
        })
    }

    /// Who asks.
    pub fn requester(&self) -> &Requester {
        &self.requester
    }

    fn records(&self) -> Records<'_, H::Sql> {
        Records::new(self.host.sql(), self.requester.tenant())
    }

    fn pseudonym(&self, learner: &str) -> String {
        privacy::pseudonym(&self.key, self.requester.client_id(), learner)
    }

    /// Appends a decision to the audit trail. A failing sink is the host's to log; it
    /// must not change the answer.
    async fn audit(&self, kind: &str, outcome: &str, mut detail: Value) {
        if let Value::Object(map) = &mut detail {
            map.insert("tenant".into(), json!(self.requester.tenant()));
            map.insert("client".into(), json!(self.requester.client_id()));
            map.insert("role".into(), json!(self.requester.role().as_str()));
        }
        let record = AuditRecord {
            at_ms: self.now_ms,
            kind: kind.into(),
            actor: self.requester.subject().to_owned(),
            outcome: outcome.into(),
            detail_json: detail.to_string(),
        };
        let _ = self.host.audit().append(&record).await;
    }

    async fn refuse<T>(&self, kind: &str, subject: Value, reason: &str) -> Result<T, Failure> {
        self.audit(kind, "denied", json!({"target": subject, "reason": reason}))
            .await;
        Err(Failure::Refused(reason.to_owned()))
    }

    /// Refuses as the privacy rules decided (audited with the rule's reason).
    async fn deny<T>(
        &self,
        kind: &str,
        subject: Value,
        denial: privacy::Denial,
    ) -> Result<T, Failure> {
        self.refuse(kind, subject, denial.reason()).await
    }

    /// Audits a read of something this requester cannot see, and answers "not found"
    /// (never telling it apart from something that does not exist).
    async fn unseen<T>(
        &self,
        kind: &str,
        target: &str,
        reason: &str,
        message: String,
    ) -> Result<T, Failure> {
        self.audit(kind, "denied", json!({"target": target, "reason": reason}))
            .await;
        Err(Failure::NotFound(message))
    }

    async fn unseen_learner<T>(&self, kind: &str, reference: &str) -> Result<T, Failure> {
        self.unseen(
            kind,
            reference,
            privacy::Denial::NotVisible.reason(),
            format!("no learner {reference:?} is visible to you"),
        )
        .await
    }

    async fn access(&self, learner: &str) -> Result<Access, Failure> {
        Ok(privacy::learner_access(
            self.host.sql(),
            &self.requester,
            learner,
            &self.today,
            self.now_ms,
        )
        .await?)
    }

    /// The learners this requester may read now (related, and admitted by age and
    /// consent rules), with what of each: the same decision as [`privacy::learner_access`]
    /// made for the whole set in a few queries.
    async fn visible(&self) -> Result<Vec<Admitted>, Failure> {
        let set = LearnerSet::related(&self.requester, self.requester.tenant(), &self.today);
        Ok(self
            .decided(&set, Purpose::Read)
            .await?
            .into_iter()
            .map(|(id, categories)| Admitted {
                pseudonym: self.pseudonym(&id),
                id,
                categories,
            })
            .collect())
    }

    /// The learners of `set` the privacy rules admit for `purpose`, with the categories
    /// of each. The set is one the requester relates to as a whole (their related
    /// learners; the learners of a class of theirs).
    async fn decided(
        &self,
        set: &LearnerSet,
        purpose: Purpose,
    ) -> Result<Vec<(String, Vec<Category>)>, Failure> {
        Ok(self
            .decisions(set, purpose)
            .await?
            .into_iter()
            .filter_map(|(id, access)| match access {
                Access::Allowed(categories) => Some((id, categories)),
                Access::Denied(_) => None,
            })
            .collect())
    }

    /// The privacy rules' decision for each learner of `set` (of this tenant) for
    /// `purpose`, in two queries whatever the set's size. The set is one the requester
    /// relates to as a whole, so each learner is in the tenant and related.
    async fn decisions(
        &self,
        set: &LearnerSet,
        purpose: Purpose,
    ) -> Result<Vec<(String, Access)>, Failure> {
        let facts = privacy::consent_facts(
            self.host.sql(),
            self.requester.tenant(),
            self.requester.client_id(),
            set,
            &self.today,
            self.now_ms,
        )
        .await?;
        Ok(facts
            .into_iter()
            .map(|(id, consent)| {
                let facts = Facts {
                    role: self.requester.role(),
                    purpose,
                    in_tenant: true,
                    related: true,
                    consent: &consent,
                    scopes: &self.requester.principal.scopes,
                };
                (id, privacy::decide(&facts))
            })
            .collect())
    }

    /// The learner `reference` names — this client's pseudonym, or for a tenant
    /// administrator the school's record id — if the privacy rules admit the read.
    /// Decided over the requester's related learners as a set, so finding the learner
    /// and deciding costs the same two queries as listing them.
    async fn admit(&self, kind: &str, reference: &str) -> Result<Admitted, Failure> {
        if self.requester.role() == Role::TenantAdmin {
            return self
                .deny(kind, json!(reference), privacy::Denial::AggregatesOnly)
                .await;
        }
        let set = LearnerSet::related(&self.requester, self.requester.tenant(), &self.today);
        let found = self
            .decisions(&set, Purpose::Read)
            .await?
            .into_iter()
            .find(|(id, _)| self.pseudonym(id) == reference);
        match found {
            None => self.unseen_learner(kind, reference).await,
            Some((id, Access::Allowed(categories))) => Ok(Admitted {
                pseudonym: reference.to_owned(),
                id,
                categories,
            }),
            Some((_, Access::Denied(denial))) => self.deny(kind, json!(reference), denial).await,
        }
    }

    /// The learner a GDPR request names: a student themself, a guardian's own child, or
    /// any learner of the tenant for its administrator (by the school's record id).
    /// Relationship only: these requests are the data subject's rights, not an AI read.
    async fn subject_of_request(
        &self,
        kind: &str,
        reference: &str,
    ) -> Result<(String, String), Failure> {
        let records = self.records();
        let id = match self.requester.role() {
            Role::TenantAdmin => records
                .learner_exists(reference)
                .await?
                .then(|| reference.to_owned()),
            Role::Student | Role::Guardian => records
                .related_learners(&self.requester, &self.today)
                .await?
                .into_iter()
                .find(|id| self.pseudonym(id) == reference),
            Role::Teacher => {
                return self
                    .refuse(kind, json!(reference), "only the learner, their guardian or the tenant administrator may make this request")
                    .await;
            }
        };
        match id {
            Some(id) => Ok((self.pseudonym(&id), id)),
            None => self.unseen_learner(kind, reference).await,
        }
    }

    /// The classes this requester may see aggregates of.
    pub async fn classes(&self) -> Result<Vec<Class>, Failure> {
        Ok(self.records().classes(&self.requester).await?)
    }

    /// The class `class`, if this requester may see it (and its aggregates, when
    /// `aggregates`).
    async fn class(&self, kind: &str, class: &str, aggregates: bool) -> Result<Class, Failure> {
        if aggregates && !self.requester.has_scope("class.aggregates") {
            return self
                .refuse(kind, json!(class), "needs the class.aggregates scope")
                .await;
        }
        match self.classes().await?.into_iter().find(|c| c.id == class) {
            Some(found) => Ok(found),
            None => {
                self.unseen(
                    kind,
                    class,
                    "not a class of yours in this tenant",
                    format!("no class {class:?} is visible to you"),
                )
                .await
            }
        }
    }
}
