//! The Learner DNA service for one requester: every operation the catalogue offers,
//! each passing the privacy decision (`privacy.rs`) and leaving its decision and reason
//! in the audit trail. Learners appear under the reading client's pseudonyms; an
//! administrator names a learner by the school's record id.

use std::collections::BTreeMap;

use learner_core::ports::{Audit, AuditRecord, Clock, Host, KvError, SqlError, shared_secret};
use serde_json::{Map, Value, json};

use crate::dates;
use crate::derive;
use crate::gdpr::{self, AccessRevocation};
use crate::privacy::{self, Access, Category, Requester, Role};
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

/// The trait fields (stored per learner in `dna_traits`).
const TRAITS: [&str; 5] = [
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
        let name = format!("dna:pseudonym-key:{}", requester.tenant);
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
        Records::new(self.host.sql(), &self.requester.tenant)
    }

    fn pseudonym(&self, learner: &str) -> String {
        privacy::pseudonym(&self.key, &self.requester.client_id, learner)
    }

    /// Appends a decision to the audit trail. A failing sink is the host's to log; it
    /// must not change the answer.
    async fn audit(&self, kind: &str, outcome: &str, mut detail: Value) {
        if let Value::Object(map) = &mut detail {
            map.insert("tenant".into(), json!(self.requester.tenant));
            map.insert("client".into(), json!(self.requester.client_id));
            map.insert("role".into(), json!(self.requester.role.as_str()));
        }
        let record = AuditRecord {
            at_ms: self.now_ms,
            kind: kind.into(),
            actor: self.requester.subject.clone(),
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
        let set = LearnerSet::related(&self.requester, &self.requester.tenant, &self.today);
        Ok(self
            .consented(&set)
            .await?
            .into_iter()
            .filter_map(|(id, categories)| {
                let allowed = self.requester.in_scope(categories);
                (!allowed.is_empty()).then(|| Admitted {
                    pseudonym: self.pseudonym(&id),
                    id,
                    categories: allowed,
                })
            })
            .collect())
    }

    /// The consented categories of each learner of `set` for this client (empty when
    /// COPPA refuses them).
    async fn consented(&self, set: &LearnerSet) -> Result<Vec<(String, Vec<Category>)>, Failure> {
        Ok(privacy::consented_set(
            self.host.sql(),
            &self.requester.tenant,
            &self.requester.client_id,
            set,
            &self.today,
            self.now_ms,
        )
        .await?
        .into_iter()
        .map(|(id, categories)| (id, categories.unwrap_or_default()))
        .collect())
    }

    /// The learner `reference` names — this client's pseudonym, or for a tenant
    /// administrator the school's record id — if the privacy rules admit the read.
    async fn admit(&self, kind: &str, reference: &str) -> Result<Admitted, Failure> {
        if self.requester.role == Role::TenantAdmin {
            return self
                .refuse(
                    kind,
                    json!(reference),
                    privacy::Denial::AggregatesOnly.reason(),
                )
                .await;
        }
        let related = self
            .records()
            .related_learners(&self.requester, &self.today)
            .await?;
        let Some(id) = related
            .into_iter()
            .find(|id| self.pseudonym(id) == reference)
        else {
            return self.unseen_learner(kind, reference).await;
        };
        match self.access(&id).await? {
            Access::Allowed(categories) => Ok(Admitted {
                pseudonym: reference.to_owned(),
                id,
                categories,
            }),
            Access::Denied(denial) => self.refuse(kind, json!(reference), denial.reason()).await,
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
        let id = match self.requester.role {
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

    /// `learner-dna://learners`: the learners this requester may read.
    pub async fn learners(&self) -> Result<Value, Failure> {
        let visible = self.visible().await?;
        let mut learners = Vec::new();
        for learner in &visible {
            let mut entry = json!({
                "id": learner.pseudonym,
                "uri": format!("learner-dna://learners/{}/profile", learner.pseudonym),
                "categories": learner.categories.iter().map(|c| c.consent_name()).collect::<Vec<_>>(),
            });
            if learner.categories.contains(&Category::Identity)
                && let Some(identity) = self.records().identity(&learner.id).await?
            {
                entry["name"] = json!(format!(
                    "{} {}",
                    identity["given_name"].as_str().unwrap_or_default(),
                    identity["family_name"].as_str().unwrap_or_default()
                ));
            }
            learners.push(entry);
        }
        self.audit(
            "dna.learners.list",
            "allowed",
            json!({"count": learners.len()}),
        )
        .await;
        Ok(json!({"learners": learners}))
    }

    /// The pseudonyms of visible learners starting with `prefix` (completion).
    pub async fn complete_learners(&self, prefix: &str) -> Result<Vec<String>, Failure> {
        Ok(self
            .visible()
            .await?
            .into_iter()
            .map(|l| l.pseudonym)
            .filter(|p| p.starts_with(prefix))
            .collect())
    }

    /// The classes this requester may see aggregates of.
    pub async fn classes(&self) -> Result<Vec<Class>, Failure> {
        Ok(self.records().classes(&self.requester).await?)
    }

    /// A learner's DNA: the `fields` asked for (all when `None`) that scope and consent
    /// allow, from stored DNA, or derived afresh from the events in `window`. Fields
    /// asked for but not allowed are listed under `withheld`, with the reason.
    pub async fn dna(
        &self,
        kind: &str,
        reference: &str,
        fields: Option<&[String]>,
        window: Option<&Window>,
    ) -> Result<Value, Failure> {
        let wanted: Vec<&str> = match fields {
            Some(fields) => {
                for field in fields {
                    if category_of(field).is_none() {
                        return Err(Failure::Invalid(format!("unknown field {field:?}")));
                    }
                }
                FIELDS
                    .iter()
                    .map(|(f, _)| *f)
                    .filter(|f| fields.iter().any(|x| x == f))
                    .collect()
            }
            None => FIELDS.iter().map(|(f, _)| *f).collect(),
        };
        let learner = self.admit(kind, reference).await?;
        let allowed =
            |field: &str| category_of(field).is_some_and(|c| learner.categories.contains(&c));
        let shown: Vec<&str> = wanted.iter().copied().filter(|f| allowed(f)).collect();
        // Fields not named explicitly are left out silently; named ones are explained.
        let withheld: Vec<Value> = match fields {
            Some(_) => wanted
                .iter()
                .filter(|f| !allowed(f))
                .map(|f| {
                    let scope = category_of(f).map(Category::scope).unwrap_or_default();
                    json!({"field": f, "reason": format!("needs the {scope} scope and consent on file for this client")})
                })
                .collect(),
            None => Vec::new(),
        };
        if shown.is_empty() {
            // Fields of one category (a struggles or mastery read) are refused naming it.
            let mut categories: Vec<Category> =
                wanted.iter().filter_map(|f| category_of(f)).collect();
            categories.dedup();
            let reason = match categories.as_slice() {
                [category] => format!(
                    "the {} category is not in the token's scope or not consented",
                    category.consent_name()
                ),
                _ => "none of the requested fields is both in scope and consented".to_owned(),
            };
            return self.refuse(kind, json!(learner.pseudonym), &reason).await;
        }
        let records = self.records();
        let mut body = Map::new();
        body.insert("learner".into(), json!(learner.pseudonym));
        let (traits, mastery, struggles) = match window {
            None => (
                records.traits(&learner.id).await?,
                records.mastery(&learner.id).await?,
                records.struggles(&learner.id).await?,
            ),
            Some(window) => {
                let events = records
                    .events(&learner.id, window.since_ms, window.until_ms)
                    .await?;
                body.insert(
                    "window".into(),
                    json!({"since": window.since, "until": window.until, "events": events.len()}),
                );
                derived(&derive::derive(&events), self.now_ms)
            }
        };
        if shown.iter().any(|f| TRAITS.contains(f)) {
            let traits: Map<String, Value> = traits
                .into_iter()
                .filter_map(|mut t| {
                    let name = t.get("trait")?.as_str()?.to_owned();
                    shown.contains(&name.as_str()).then(|| {
                        if let Value::Object(map) = &mut t {
                            map.remove("trait");
                        }
                        (name, t)
                    })
                })
                .collect();
            body.insert("traits".into(), Value::Object(traits));
        }
        if shown.contains(&"mastery") {
            body.insert("mastery".into(), Value::Array(mastery));
        }
        if shown.contains(&"struggles") {
            body.insert("struggles".into(), Value::Array(struggles));
        }
        if shown.contains(&"identity")
            && let Some(identity) = records.identity(&learner.id).await?
        {
            body.insert("identity".into(), identity);
        }
        if fields.is_some() {
            body.insert("withheld".into(), Value::Array(withheld));
        }
        self.audit(
            kind,
            "allowed",
            json!({"target": learner.pseudonym, "fields": shown, "window": window.map(|w| json!([w.since, w.until]))}),
        )
        .await;
        Ok(Value::Object(body))
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

    /// Class insights: per concept, the mean mastery and the share of learners
    /// struggling, with the most common misconceptions — each over learners whose
    /// consent allows it for this client, and only over groups of at least
    /// [`privacy::MIN_GROUP`] learners (smaller groups are suppressed).
    pub async fn class_insights(&self, class: &str) -> Result<Value, Failure> {
        let kind = "dna.class.insights";
        let found = self.class(kind, class, true).await?;
        let records = self.records();
        let set = LearnerSet::class(class, &self.requester.tenant, &self.today);
        // Aggregates count a learner only as their consent for this client allows (the
        // age and consent rules of a single read; the token's `class.aggregates` scope
        // stands for the per-learner scopes).
        let consented: BTreeMap<String, Vec<Category>> = self
            .consented(&set)
            .await?
            .into_iter()
            .filter(|(_, categories)| !categories.is_empty())
            .collect();
        let allows = |learner: &str, category: Category| {
            consented
                .get(learner)
                .is_some_and(|c| c.contains(&category))
        };
        let considered = consented.len();
        let struggles_seen = consented
            .values()
            .filter(|c| c.contains(&Category::Struggles))
            .count();
        // Per concept: mastery values, and per misconception the learners showing it.
        let mut mastery: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for (learner, row) in records
            .of_set(&set, "concept_mastery", &["concept", "mastery"], None)
            .await?
        {
            if let (true, Some(concept), Some(m)) = (
                allows(&learner, Category::Assessment),
                row["concept"].as_str(),
                row["mastery"].as_f64(),
            ) {
                mastery.entry(concept.to_owned()).or_default().push(m);
            }
        }
        let mut struggling: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
        for (learner, row) in records
            .of_set(&set, "struggles", &["concept", "misconception"], None)
            .await?
        {
            if let (true, Some(concept), Some(m)) = (
                allows(&learner, Category::Struggles),
                row["concept"].as_str(),
                row["misconception"].as_str(),
            ) {
                *struggling
                    .entry(concept.to_owned())
                    .or_default()
                    .entry(m.to_owned())
                    .or_default() += 1;
            }
        }
        let mut concepts = Vec::new();
        let mut suppressed = 0usize;
        let names: std::collections::BTreeSet<&String> =
            mastery.keys().chain(struggling.keys()).collect();
        for concept in names {
            let values = mastery.get(concept).map(Vec::as_slice).unwrap_or_default();
            let misconceptions = struggling.get(concept);
            let mut entry = Map::new();
            entry.insert("concept".into(), json!(concept));
            let mut shown = false;
            if privacy::aggregate_allowed(values.len()) {
                let mean = values.iter().sum::<f64>() / values.len() as f64;
                entry.insert("learners".into(), json!(values.len()));
                entry.insert(
                    "mean_mastery".into(),
                    json!((mean * 1000.0).round() / 1000.0),
                );
                shown = true;
            }
            if privacy::aggregate_allowed(struggles_seen)
                && let Some(misconceptions) = misconceptions
            {
                let common: Vec<Value> = misconceptions
                    .iter()
                    .filter(|(_, n)| privacy::aggregate_allowed(**n))
                    .map(|(m, n)| json!({"misconception": m, "learners": n}))
                    .collect();
                if !common.is_empty() {
                    entry.insert("common_misconceptions".into(), Value::Array(common));
                    shown = true;
                }
            }
            if shown {
                concepts.push(Value::Object(entry));
            } else {
                suppressed += 1;
            }
        }
        let body = if privacy::aggregate_allowed(considered) {
            json!({
                "class": found.id, "name": found.name, "subject_area": found.subject_area,
                "learners_included": considered, "concepts": concepts,
                "suppressed_concepts": suppressed, "min_group": privacy::MIN_GROUP,
            })
        } else {
            // Too few learners with consent: even the count would describe them.
            json!({
                "class": found.id, "name": found.name, "subject_area": found.subject_area,
                "concepts": [], "suppressed": true, "min_group": privacy::MIN_GROUP,
            })
        };
        self.audit(
            kind,
            "allowed",
            json!({"target": class, "learners": considered, "suppressed_concepts": suppressed}),
        )
        .await;
        Ok(body)
    }

    /// The learners of `class` (taught by this teacher) who struggle with `concept`:
    /// each under this client's pseudonym, with the misconceptions seen, as far as the
    /// learner's consent allows struggles to be read.
    pub async fn struggling(&self, class: &str, concept: &str) -> Result<Value, Failure> {
        let kind = "dna.class.struggling";
        if self.requester.role != Role::Teacher {
            return self
                .refuse(
                    kind,
                    json!(class),
                    "only a class's teacher may look at its learners one by one",
                )
                .await;
        }
        let found = self.class(kind, class, false).await?;
        let records = self.records();
        let set = LearnerSet::class(class, &self.requester.tenant, &self.today);
        // Individual reads: the learners' consent ∩ the token's scopes, as for one read.
        let allowed: BTreeMap<String, Vec<Category>> = self
            .consented(&set)
            .await?
            .into_iter()
            .map(|(id, categories)| (id, self.requester.in_scope(categories)))
            .filter(|(_, categories)| categories.contains(&Category::Struggles))
            .collect();
        let mut misconceptions: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for (learner, row) in records
            .of_set(
                &set,
                "struggles",
                &["concept", "misconception", "frequency", "confidence"],
                Some(concept),
            )
            .await?
        {
            if allowed.contains_key(&learner) {
                misconceptions.entry(learner).or_default().push(json!({
                    "misconception": row["misconception"], "frequency": row["frequency"],
                    "confidence": row["confidence"]}));
            }
        }
        let mastery: BTreeMap<String, Value> = records
            .of_set(
                &set,
                "concept_mastery",
                &["concept", "mastery"],
                Some(concept),
            )
            .await?
            .into_iter()
            .map(|(learner, row)| (learner, row["mastery"].clone()))
            .collect();
        let mut learners = Vec::new();
        for (id, misconceptions) in misconceptions {
            let categories = allowed.get(&id).map(Vec::as_slice).unwrap_or_default();
            let mut entry =
                json!({"learner": self.pseudonym(&id), "misconceptions": misconceptions});
            if categories.contains(&Category::Assessment)
                && let Some(m) = mastery.get(&id)
            {
                entry["mastery"] = m.clone();
            }
            if categories.contains(&Category::Identity)
                && let Some(identity) = records.identity(&id).await?
            {
                entry["name"] = json!(format!(
                    "{} {}",
                    identity["given_name"].as_str().unwrap_or_default(),
                    identity["family_name"].as_str().unwrap_or_default()
                ));
            }
            learners.push(entry);
        }
        let readable = allowed.len();
        self.audit(
            kind,
            "allowed",
            json!({"target": class, "concept": concept, "learners": learners.len()}),
        )
        .await;
        Ok(json!({
            "class": found.id, "concept": concept, "learners": learners,
            "learners_considered": readable,
        }))
    }

    /// Next steps for a learner, derived from their DNA: the weakest concepts first,
    /// each with the misconception to address and a review interval from the
    /// retention curve, phrased for the learner's comprehension style.
    pub async fn next_steps(&self, reference: &str) -> Result<Value, Failure> {
        let kind = "dna.next_steps";
        let learner = self.admit(kind, reference).await?;
        let has = |c: Category| learner.categories.contains(&c);
        if !has(Category::Assessment) && !has(Category::Struggles) {
            return self
                .refuse(kind, json!(learner.pseudonym), "next steps need the learner.assessment or learner.struggles scope, and consent")
                .await;
        }
        let records = self.records();
        let mastery = if has(Category::Assessment) {
            records.mastery(&learner.id).await?
        } else {
            Vec::new()
        };
        let struggles = if has(Category::Struggles) {
            records.struggles(&learner.id).await?
        } else {
            Vec::new()
        };
        let traits = if has(Category::Profile) {
            records.traits(&learner.id).await?
        } else {
            Vec::new()
        };
        let trait_value = |name: &str| {
            traits
                .iter()
                .find(|t| t["trait"] == name)
                .map(|t| t["value"].clone())
        };
        let style = trait_value("comprehension_style")
            .and_then(|v| v.get("style").and_then(Value::as_str).map(str::to_owned));
        let review_days = trait_value("retention_curve")
            .and_then(|v| v.get("half_life_days").and_then(Value::as_f64))
            .map(|h| (h * 0.7).clamp(1.0, 14.0).round() as u64);
        let steps = recommend(&mastery, &struggles, style.as_deref(), review_days);
        let based_on: Vec<&str> = learner
            .categories
            .iter()
            .map(|c| c.consent_name())
            .collect();
        self.audit(
            kind,
            "allowed",
            json!({"target": learner.pseudonym, "steps": steps.len()}),
        )
        .await;
        Ok(json!({"learner": learner.pseudonym, "steps": steps, "based_on": based_on}))
    }

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
        if self.requester.role == Role::Student
            && let Access::Denied(privacy::Denial::NoParentalConsent) = self.access(&id).await?
        {
            return self
                .refuse(
                    kind,
                    json!(pseudonym),
                    privacy::Denial::NoParentalConsent.reason(),
                )
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
        if self.requester.role != Role::TenantAdmin || !self.requester.has_scope("privacy.admin") {
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
        let deleted = gdpr::erase(self.host.sql(), &self.requester.tenant, &id).await?;
        let revoked = self
            .revocation
            .revoke(&accounts, None)
            .await
            .map_err(|_| Failure::Storage)?;
        // The tombstone names the record only by a one-way hash of tenant and id.
        let tombstone = learner_core::hex(&{
            use sha2::Digest as _;
            sha2::Sha256::digest(format!("{}\0{}", self.requester.tenant, id).as_bytes())
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
        if self.requester.role == Role::TenantAdmin && !self.requester.has_scope("privacy.admin") {
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
            &self.requester.tenant,
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

/// Derived DNA in the shape stored DNA is read in, computed at `now_ms`.
fn derived(dna: &derive::Dna, now_ms: u64) -> (Vec<Value>, Vec<Value>, Vec<Value>) {
    let traits = dna
        .traits
        .iter()
        .map(|t| {
            json!({"trait": t.name, "value": serde_json::from_str::<Value>(&t.value_json).unwrap_or(Value::Null),
                   "confidence": t.confidence, "sample_count": t.sample_count, "computed_at_ms": now_ms})
        })
        .collect();
    let mastery = dna
        .mastery
        .iter()
        .map(|m| {
            json!({"concept": m.concept, "mastery": m.mastery, "confidence": m.confidence,
                        "sample_count": m.sample_count, "computed_at_ms": now_ms})
        })
        .collect();
    let struggles = dna
        .struggles
        .iter()
        .map(|s| json!({"concept": s.concept, "misconception": s.misconception, "frequency": s.frequency,
                        "confidence": s.confidence, "sample_count": s.sample_count, "computed_at_ms": now_ms}))
        .collect();
    (traits, mastery, struggles)
}

/// Mastery below which a concept needs work.
const NEEDS_WORK: f64 = 0.7;
/// Most steps recommended at once.
const MAX_STEPS: usize = 3;

/// Recommendations from mastery and struggles: concepts below [`NEEDS_WORK`] or with
/// a recurring misconception, weakest first.
fn recommend(
    mastery: &[Value],
    struggles: &[Value],
    style: Option<&str>,
    review_days: Option<u64>,
) -> Vec<Value> {
    let mut concepts: BTreeMap<String, (Option<f64>, Option<String>)> = BTreeMap::new();
    for row in mastery {
        if let (Some(c), Some(m)) = (row["concept"].as_str(), row["mastery"].as_f64())
            && m < NEEDS_WORK
        {
            concepts.entry(c.to_owned()).or_default().0 = Some(m);
        }
    }
    for row in struggles {
        if let (Some(c), Some(m)) = (row["concept"].as_str(), row["misconception"].as_str()) {
            let entry = concepts.entry(c.to_owned()).or_default();
            entry.1.get_or_insert_with(|| m.to_owned());
            if entry.0.is_none() {
                entry.0 = mastery
                    .iter()
                    .find(|r| r["concept"] == c)
                    .and_then(|r| r["mastery"].as_f64());
            }
        }
    }
    let mut ranked: Vec<(String, Option<f64>, Option<String>)> =
        concepts.into_iter().map(|(c, (m, s))| (c, m, s)).collect();
    ranked.sort_by(|a, b| {
        a.1.unwrap_or(0.5)
            .total_cmp(&b.1.unwrap_or(0.5))
            .then_with(|| a.0.cmp(&b.0))
    });
    // The comprehension styles `derive` finds.
    let practice = match style {
        Some("guided") => "step-by-step worked examples, fading the hints",
        Some("reflective") => "reviewing worked solutions and explaining each error",
        Some("exploratory") => "open problems followed by a short check of the rule",
        _ => "short guided practice",
    };
    ranked
        .into_iter()
        .take(MAX_STEPS)
        .map(|(concept, m, misconception)| {
            let mut action = format!("Revisit {concept} through {practice}");
            if let Some(misconception) = &misconception {
                action.push_str(&format!(", addressing the misconception \"{misconception}\""));
            }
            if let Some(days) = review_days {
                action.push_str(&format!("; review again in {days} days"));
            }
            json!({"concept": concept, "mastery": m, "misconception": misconception, "action": action})
        })
        .collect()
}
