//! The privacy rules every read of a learner's record passes (ARCHITECTURE.md, "Privacy
//! rules"): the relationship between the requester and the learner (FERPA legitimate
//! educational interest), COPPA for learners under 13, and the token's scopes ∩ the
//! consent on file. The rules are one pure function, [`decide`], from the facts of one
//! learner to a decision with its reason (for the audit trail); the queries here only
//! gather those facts, for one learner or a whole set at once. Learners are shown to
//! each client under a pairwise pseudonym.

use hmac::{Hmac, KeyInit, Mac};
pub use learner_core::identity::Role;
use learner_core::identity::{Member, Principal};
use learner_core::ports::{Sql, SqlError, SqlValue, Statement};
use sha2::Sha256;

use crate::text;

/// Who asks, as the domain serves them: a principal (from the access token, never
/// from the request) who is a member of a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requester {
    /// The principal.
    pub principal: Principal,
    /// Their tenant and role (the principal's, which every Learner DNA operation needs).
    pub member: Member,
}

impl Requester {
    /// `principal` as a requester; `None` when its grant names no member of a tenant.
    pub fn new(principal: Principal) -> Option<Self> {
        let member = principal.member.clone()?;
        Some(Self { principal, member })
    }

    /// The tenant of the person's account.
    pub fn tenant(&self) -> &str {
        &self.member.tenant
    }

    /// Their role.
    pub fn role(&self) -> Role {
        self.member.role
    }

    /// The person (`demo:teacher`, …).
    pub fn subject(&self) -> &str {
        &self.principal.subject
    }

    /// The client acting for them.
    pub fn client_id(&self) -> &str {
        &self.principal.client_id
    }

    /// Whether the token carries `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.principal.has_scope(scope)
    }
}

fn in_scope(categories: Vec<Category>, scopes: &[String]) -> Vec<Category> {
    categories
        .into_iter()
        .filter(|category| scopes.iter().any(|s| s == category.scope()))
        .collect()
}

/// A category of a learner's data: each is one scope and one kind of consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Category {
    /// Pace, retention, ways of learning.
    Profile,
    /// Timing and engagement.
    Behavioral,
    /// Mastery and assessment results.
    Assessment,
    /// Struggles and misconceptions.
    Struggles,
    /// Names and email addresses.
    Identity,
}

impl Category {
    /// Every category.
    pub const ALL: [Self; 5] = [
        Self::Profile,
        Self::Behavioral,
        Self::Assessment,
        Self::Struggles,
        Self::Identity,
    ];

    /// The scope that asks for it.
    pub fn scope(self) -> &'static str {
        match self {
            Self::Profile => "learner.profile",
            Self::Behavioral => "learner.behavioral",
            Self::Assessment => "learner.assessment",
            Self::Struggles => "learner.struggles",
            Self::Identity => "identity",
        }
    }

    /// The category a consent record names (`None`: no such category).
    pub fn from_consent_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.consent_name() == name)
    }

    /// Its name in consent records.
    pub fn consent_name(self) -> &'static str {
        match self {
            Self::Profile => "profile",
            Self::Behavioral => "behavioral",
            Self::Assessment => "assessment",
            Self::Struggles => "struggles",
            Self::Identity => "identity",
        }
    }
}

/// Consent verification methods COPPA accepts for a parent's consent.
pub const VERIFIED_PARENTAL_METHODS: [&str; 3] =
    ["signed-form", "video-call", "payment-card-check"];

/// Why a read was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    /// No such learner in the requester's tenant, or no relationship to them (the two
    /// are indistinguishable to the requester).
    NotVisible,
    /// A tenant administrator asked for one learner: only aggregates are theirs.
    AggregatesOnly,
    /// The learner is under 13 and no verified parental consent is on file for this
    /// client.
    NoParentalConsent,
    /// None of the categories asked for is both in the token's scopes and consented.
    NothingConsented,
}

impl Denial {
    /// The reason, as the audit trail records it.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::NotVisible => "no relationship to this learner in the tenant",
            Self::AggregatesOnly => "tenant administrators see aggregates only",
            Self::NoParentalConsent => "under 13 without verified parental consent (COPPA)",
            Self::NothingConsented => "no requested category is both in scope and consented",
        }
    }
}

/// What a requester may see of one learner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// These categories (scope ∩ consent), nothing else.
    Allowed(Vec<Category>),
    /// Nothing, and why.
    Denied(Denial),
}

/// Whole years between an ISO birth date and an ISO date (`YYYY-MM-DD`).
pub fn age_on(birth_date: &str, today: &str) -> Option<u32> {
    let parse = |d: &str| -> Option<(u32, u32, u32)> {
        let mut parts = d.splitn(3, '-').map(|p| p.parse::<u32>().ok());
        Some((parts.next()??, parts.next()??, parts.next()??))
    };
    let (by, bm, bd) = parse(birth_date)?;
    let (ty, tm, td) = parse(today)?;
    let years = ty.checked_sub(by)?;
    Some(if (tm, td) < (bm, bd) {
        years.checked_sub(1)?
    } else {
        years
    })
}

/// The learner's pseudonym for one client: the same for that client every time,
/// unrelated across clients (HMAC-SHA256 under the tenant's key).
pub fn pseudonym(key: &[u8; 32], client_id: &str, learner_id: &str) -> String {
    // HMAC accepts keys of any length: this cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(client_id.as_bytes());
    mac.update(&[0]);
    mac.update(learner_id.as_bytes());
    let digest = mac.finalize().into_bytes();
    format!("lp_{}", learner_core::hex(&digest[..16]))
}

/// Why a learner's data is wanted: the rules differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// One learner's record, read by someone related to them: the categories both
    /// consented and in the token's scopes.
    Read,
    /// A class aggregate: the learner counts as far as their consent allows (the token's
    /// `class.aggregates` scope stands for the per-learner scopes).
    Aggregate,
}

/// What is on file about one learner for one client.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConsentFacts {
    /// Whole years of age today (`None`: unknown, which counts as under 13).
    pub age: Option<u32>,
    /// Whether a guardian of the learner gave consent for this client by a method
    /// COPPA accepts as verified ([`VERIFIED_PARENTAL_METHODS`]).
    pub parental_consent: bool,
    /// The categories consented for this client now (withdrawn ones excluded).
    pub consented: Vec<Category>,
}

/// Everything one decision about one learner is made from.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// The requester's role.
    pub role: Role,
    /// What the data is for.
    pub purpose: Purpose,
    /// Whether the learner is in the requester's tenant.
    pub in_tenant: bool,
    /// Whether the requester relates to the learner today: teaches an active
    /// enrollment of theirs, is their guardian, or is the learner.
    pub related: bool,
    /// Age and consent.
    pub consent: &'a ConsentFacts,
    /// The token's scopes.
    pub scopes: &'a [String],
}

/// The privacy rules, in the order they apply: a tenant administrator never reads one
/// learner (before anything is looked up, so nothing is revealed); a learner outside
/// the tenant or the requester's relationships is not visible; a learner under 13
/// needs verified parental consent (COPPA); and what may be seen is the consented
/// categories — within the token's scopes, for a read.
pub fn decide(facts: &Facts<'_>) -> Access {
    let read = facts.purpose == Purpose::Read;
    if read && facts.role == Role::TenantAdmin {
        return Access::Denied(Denial::AggregatesOnly);
    }
    if !facts.in_tenant || (read && !facts.related) {
        return Access::Denied(Denial::NotVisible);
    }
    let under_13 = facts.consent.age.is_none_or(|age| age < 13);
    if under_13 && !facts.consent.parental_consent {
        return Access::Denied(Denial::NoParentalConsent);
    }
    let categories = if read {
        in_scope(facts.consent.consented.clone(), facts.scopes)
    } else {
        facts.consent.consented.clone()
    };
    if categories.is_empty() {
        Access::Denied(Denial::NothingConsented)
    } else {
        Access::Allowed(categories)
    }
}

async fn exists<S: Sql>(sql: &S, query: &str, params: Vec<SqlValue>) -> Result<bool, SqlError> {
    let result = sql.execute(&Statement::new(query, params)).await?;
    Ok(!result.rows.is_empty())
}

const TEACHES: &str = "SELECT 1 FROM class_teachers ct \
     JOIN staff s ON s.id = ct.staff_id \
     JOIN enrollments e ON e.class_id = ct.class_id \
     WHERE s.subject = ? AND s.tenant_id = ? AND s.role = 'teacher' AND e.learner_id = ? \
     AND e.starts_on <= ? AND (e.ends_on IS NULL OR e.ends_on > ?) LIMIT 1";
const GUARDS: &str = "SELECT 1 FROM guardianships g JOIN guardians p ON p.id = g.guardian_id \
     WHERE p.subject = ? AND p.tenant_id = ? AND g.learner_id = ? LIMIT 1";
const IS_SELF: &str =
    "SELECT 1 FROM learners WHERE subject = ? AND tenant_id = ? AND id = ? LIMIT 1";
const IN_TENANT: &str = "SELECT 1 FROM learners WHERE id = ? AND tenant_id = ? LIMIT 1";

/// Decides what `requester` may read of `learner_id` on `today` (ISO date) at `now_ms`:
/// gathers the facts of that one learner and applies [`decide`].
pub async fn learner_access<S: Sql>(
    sql: &S,
    requester: &Requester,
    learner_id: &str,
    today: &str,
    now_ms: u64,
) -> Result<Access, SqlError> {
    let tenant = requester.tenant();
    let subject = requester.subject();
    let in_tenant = exists(sql, IN_TENANT, vec![text(learner_id), text(tenant)]).await?;
    let who = vec![text(subject), text(tenant), text(learner_id)];
    let related = in_tenant
        && match requester.role() {
            Role::TenantAdmin => false,
            Role::Teacher => {
                let mut params = who;
                params.extend([text(today), text(today)]);
                exists(sql, TEACHES, params).await?
            }
            Role::Guardian => exists(sql, GUARDS, who).await?,
            Role::Student => exists(sql, IS_SELF, who).await?,
        };
    let one = crate::records::LearnerSet::one(learner_id);
    let consent = consent_facts(sql, tenant, requester.client_id(), &one, today, now_ms)
        .await?
        .pop()
        .map(|(_, facts)| facts)
        .unwrap_or_default();
    Ok(decide(&Facts {
        role: requester.role(),
        purpose: Purpose::Read,
        in_tenant,
        related,
        consent: &consent,
        scopes: &requester.principal.scopes,
    }))
}

/// The age and consent facts of every learner of a set at once (two queries whatever
/// its size): per learner of `tenant` in the set, in id order, for `client_id` at
/// `now_ms`. [`decide`] turns each into a decision.
pub async fn consent_facts<S: Sql>(
    sql: &S,
    tenant: &str,
    client_id: &str,
    set: &crate::records::LearnerSet,
    today: &str,
    now_ms: u64,
) -> Result<Vec<(String, ConsentFacts)>, SqlError> {
    let now = SqlValue::Integer(i64::try_from(now_ms).unwrap_or(i64::MAX));
    let mut params = set.params.clone();
    params.push(text(tenant));
    let learners = sql
        .execute(&Statement::new(
            format!(
                "SELECT l.id, l.birth_date FROM ({}) s CROSS JOIN learners l ON l.id = s.learner_id \
                 WHERE +l.tenant_id = ? ORDER BY l.id",
                set.query
            ),
            params,
        ))
        .await?;
    let mut params = set.params.clone();
    params.extend([text(tenant), text(client_id), now]);
    // Each live consent for this client, and whether a guardian of the learner gave it.
    let consents = sql
        .execute(&Statement::new(
            format!(
                "SELECT c.learner_id, c.data_category, c.verification_method, g.guardian_id IS NOT NULL \
                 FROM ({}) s CROSS JOIN consents c ON c.learner_id = s.learner_id \
                 LEFT JOIN guardianships g ON g.guardian_id = c.granted_by AND g.learner_id = c.learner_id \
                 WHERE +c.tenant_id = ? AND (c.recipient_client_id IS NULL OR c.recipient_client_id = ?) \
                 AND (c.withdrawn_at_ms IS NULL OR c.withdrawn_at_ms > ?)",
                set.query
            ),
            params,
        ))
        .await?;
    let mut gathered = Vec::new();
    for row in learners.rows {
        let [SqlValue::Text(id), SqlValue::Text(birth_date)] = row.as_slice() else {
            continue;
        };
        let mut facts = ConsentFacts {
            age: age_on(birth_date, today),
            ..ConsentFacts::default()
        };
        let own = consents
            .rows
            .iter()
            .filter(|c| matches!(c.first(), Some(SqlValue::Text(l)) if l == id));
        for consent in own {
            if let [
                _,
                SqlValue::Text(category),
                SqlValue::Text(method),
                by_guardian,
            ] = consent.as_slice()
            {
                facts.parental_consent |= matches!(by_guardian, SqlValue::Integer(1))
                    && VERIFIED_PARENTAL_METHODS.contains(&method.as_str());
                if let Some(c) = Category::from_consent_name(category) {
                    facts.consented.push(c);
                }
            }
        }
        facts.consented.sort();
        facts.consented.dedup();
        gathered.push((id.clone(), facts));
    }
    Ok(gathered)
}

/// The smallest group an aggregate may describe (k-anonymity).
pub const MIN_GROUP: usize = 5;

/// Whether an aggregate over `members` may be shown.
pub fn aggregate_allowed(members: usize) -> bool {
    members >= MIN_GROUP
}

#[cfg(test)]
mod tests;
