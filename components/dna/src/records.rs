//! The SQL reads behind the catalogue, each confined to one tenant. Rows come back as
//! JSON objects named by their columns, ready to be filtered and shown.

use learner_core::ports::{Sql, SqlError, SqlValue, Statement};
use serde_json::{Map, Value, json};

use crate::derive::Event;
use crate::privacy::{Requester, Role};
use crate::text;

/// Reads of one tenant's records.
pub struct Records<'a, S> {
    sql: &'a S,
    tenant: &'a str,
}

/// A set of learners as a subquery of one distinct column, `learner_id`, and its
/// parameters, so a whole set is decided and read in a few queries rather than a few per
/// learner. Queries over a set start from it (`FROM (set) s CROSS JOIN table`) and test
/// the probed table's tenant as `+t.tenant_id = ?`: SQLite then probes each table by
/// learner, rather than scanning the tenant's rows through a tenant index once per
/// learner (the unary `+` keeps that index out of the plan).
#[derive(Debug, Clone)]
pub struct LearnerSet {
    /// `SELECT <learner id> FROM …`.
    pub query: String,
    /// Its parameters.
    pub params: Vec<SqlValue>,
}

impl LearnerSet {
    /// The learners `requester` relates to on `today` (none for an administrator).
    pub fn related(requester: &Requester, tenant: &str, today: &str) -> Self {
        let subject = text(requester.subject());
        let (query, params) = match requester.role() {
            Role::Teacher => (
                "SELECT DISTINCT e.learner_id FROM class_teachers ct JOIN staff s ON s.id = ct.staff_id \
                 JOIN enrollments e ON e.class_id = ct.class_id WHERE s.subject = ? AND s.tenant_id = ? \
                 AND s.role = 'teacher' AND e.starts_on <= ? AND (e.ends_on IS NULL OR e.ends_on > ?)",
                vec![subject, text(tenant), text(today), text(today)],
            ),
            Role::Guardian => (
                "SELECT g.learner_id FROM guardianships g JOIN guardians p ON p.id = g.guardian_id \
                 WHERE p.subject = ? AND p.tenant_id = ?",
                vec![subject, text(tenant)],
            ),
            Role::Student => (
                "SELECT id AS learner_id FROM learners WHERE subject = ? AND tenant_id = ?",
                vec![subject, text(tenant)],
            ),
            Role::TenantAdmin => ("SELECT id AS learner_id FROM learners WHERE 0", Vec::new()),
        };
        Self {
            query: query.to_owned(),
            params,
        }
    }

    /// One learner (who may not exist).
    pub fn one(learner: &str) -> Self {
        Self {
            query: "SELECT ? AS learner_id".to_owned(),
            params: vec![text(learner)],
        }
    }

    /// The learners actively enrolled in `class` on `today`.
    pub fn class(class: &str, tenant: &str, today: &str) -> Self {
        Self {
            query:
                "SELECT DISTINCT learner_id FROM enrollments WHERE class_id = ? AND tenant_id = ? \
                    AND starts_on <= ? AND (ends_on IS NULL OR ends_on > ?)"
                    .to_owned(),
            params: vec![text(class), text(tenant), text(today), text(today)],
        }
    }
}

/// A class as its teacher or administrator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Class {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its subject area.
    pub subject_area: String,
}

/// A part of a learner's stored DNA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Traits (`dna_traits`).
    Traits,
    /// Concept mastery.
    Mastery,
    /// Struggles.
    Struggles,
    /// Name and email.
    Identity,
}

/// A learner's stored DNA, the parts that were asked for (the rest empty).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stored {
    /// `{trait, value, confidence, sample_count, computed_at_ms}`, by trait.
    pub traits: Vec<Value>,
    /// `{concept, mastery, confidence, sample_count, computed_at_ms}`, by concept.
    pub mastery: Vec<Value>,
    /// `{concept, misconception, frequency, confidence, sample_count, computed_at_ms}`,
    /// by concept and misconception.
    pub struggles: Vec<Value>,
    /// `{given_name, family_name, email}`, when the learner exists.
    pub identity: Option<Value>,
}

// The parts of `Records::stored`, each one JSON value over `?1` learner, `?2` tenant.
// A trait's value is stored as JSON text and shown as JSON (null if it is not JSON).
const TRAITS_JSON: &str = "SELECT json_group_array(json_object('trait', trait, \
     'value', CASE WHEN json_valid(value_json) THEN json(value_json) END, \
     'confidence', confidence, 'sample_count', sample_count, 'computed_at_ms', computed_at_ms)) \
     FROM dna_traits WHERE learner_id = ?1 AND tenant_id = ?2";
const MASTERY_JSON: &str = "SELECT json_group_array(json_object('concept', concept, \
     'mastery', mastery, 'confidence', confidence, 'sample_count', sample_count, \
     'computed_at_ms', computed_at_ms)) FROM concept_mastery WHERE learner_id = ?1 AND tenant_id = ?2";
const STRUGGLES_JSON: &str = "SELECT json_group_array(json_object('concept', concept, \
     'misconception', misconception, 'frequency', frequency, 'confidence', confidence, \
     'sample_count', sample_count, 'computed_at_ms', computed_at_ms)) \
     FROM struggles WHERE learner_id = ?1 AND tenant_id = ?2";
const IDENTITY_JSON: &str = "SELECT json_object('given_name', given_name, 'family_name', family_name, \
     'email', email) FROM learners WHERE id = ?1 AND tenant_id = ?2";

fn json_of(value: &SqlValue) -> Value {
    match value {
        SqlValue::Text(t) => json!(t),
        SqlValue::Real(r) => json!(r),
        SqlValue::Integer(i) => json!(i),
        _ => Value::Null,
    }
}

fn ms(value: u64) -> SqlValue {
    SqlValue::Integer(i64::try_from(value).unwrap_or(i64::MAX))
}

impl<'a, S: Sql> Records<'a, S> {
    /// Reads of `tenant`.
    pub fn new(sql: &'a S, tenant: &'a str) -> Self {
        Self { sql, tenant }
    }

    async fn rows(
        &self,
        query: &str,
        params: Vec<SqlValue>,
    ) -> Result<Vec<Vec<SqlValue>>, SqlError> {
        Ok(self.sql.execute(&Statement::new(query, params)).await?.rows)
    }

    /// Rows as objects named by `columns`.
    async fn objects(
        &self,
        query: &str,
        params: Vec<SqlValue>,
        columns: &[&str],
    ) -> Result<Vec<Value>, SqlError> {
        Ok(self
            .rows(query, params)
            .await?
            .iter()
            .map(|row| {
                let object: Map<String, Value> = columns
                    .iter()
                    .zip(row)
                    .map(|(column, value)| ((*column).to_owned(), json_of(value)))
                    .collect();
                Value::Object(object)
            })
            .collect())
    }

    async fn ids(&self, query: &str, params: Vec<SqlValue>) -> Result<Vec<String>, SqlError> {
        Ok(self
            .rows(query, params)
            .await?
            .into_iter()
            .filter_map(|row| match row.into_iter().next() {
                Some(SqlValue::Text(id)) => Some(id),
                _ => None,
            })
            .collect())
    }

    /// The learners `requester` relates to on `today` (before age and consent are
    /// considered): a teacher's actively enrolled learners, a guardian's children, a
    /// student themself; none for an administrator.
    pub async fn related_learners(
        &self,
        requester: &Requester,
        today: &str,
    ) -> Result<Vec<String>, SqlError> {
        let set = LearnerSet::related(requester, self.tenant, today);
        self.ids(
            &format!("SELECT * FROM ({}) ORDER BY 1", set.query),
            set.params,
        )
        .await
    }

    /// Rows of `table` (one with `learner_id` and `concept`) for every learner of
    /// `set` in one query, optionally for one concept: `(learner, {columns…})`.
    pub async fn of_set(
        &self,
        set: &LearnerSet,
        table: &str,
        columns: &[&str],
        concept: Option<&str>,
    ) -> Result<Vec<(String, Value)>, SqlError> {
        let mut params = set.params.clone();
        params.push(text(self.tenant));
        let concept_filter = match concept {
            Some(concept) => {
                params.push(text(concept));
                " AND t.concept = ?"
            }
            None => "",
        };
        let mut named = vec!["learner_id"];
        named.extend_from_slice(columns);
        let selected: Vec<String> = named.iter().map(|c| format!("t.{c}")).collect();
        let rows = self
            .objects(
                &format!(
                    "SELECT {} FROM ({}) s CROSS JOIN {table} t ON t.learner_id = s.learner_id \
                     WHERE +t.tenant_id = ?{concept_filter} ORDER BY t.learner_id, t.concept",
                    selected.join(", "),
                    set.query
                ),
                params,
                &named,
            )
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|mut row| {
                let learner = row.as_object_mut()?.remove("learner_id")?;
                Some((learner.as_str()?.to_owned(), row))
            })
            .collect())
    }

    /// Whether a learner with this id exists in the tenant.
    pub async fn learner_exists(&self, learner: &str) -> Result<bool, SqlError> {
        Ok(!self
            .rows(
                "SELECT 1 FROM learners WHERE id = ? AND tenant_id = ?",
                vec![text(learner), text(self.tenant)],
            )
            .await?
            .is_empty())
    }

    /// The classes `requester` may see aggregates of: a teacher's own, every class of
    /// the tenant for its administrator, none for anyone else.
    pub async fn classes(&self, requester: &Requester) -> Result<Vec<Class>, SqlError> {
        let rows = match requester.role() {
            Role::Teacher => {
                self.rows(
                    "SELECT c.id, c.name, c.subject_area FROM classes c \
                     JOIN class_teachers ct ON ct.class_id = c.id JOIN staff s ON s.id = ct.staff_id \
                     WHERE s.subject = ? AND s.tenant_id = ? AND c.tenant_id = ? ORDER BY c.id",
                    vec![text(requester.subject()), text(self.tenant), text(self.tenant)],
                )
                .await?
            }
            Role::TenantAdmin => {
                self.rows(
                    "SELECT id, name, subject_area FROM classes WHERE tenant_id = ? ORDER BY id",
                    vec![text(self.tenant)],
                )
                .await?
            }
            Role::Guardian | Role::Student => Vec::new(),
        };
        Ok(rows
            .into_iter()
            .filter_map(|row| match row.as_slice() {
                [
                    SqlValue::Text(id),
                    SqlValue::Text(name),
                    SqlValue::Text(area),
                ] => Some(Class {
                    id: id.clone(),
                    name: name.clone(),
                    subject_area: area.clone(),
                }),
                _ => None,
            })
            .collect())
    }

    /// A learner's stored DNA, the `parts` asked for, in one query (each part a JSON
    /// array built by the database), so a read costs one round trip however many
    /// parts it shows. Parts not asked for are not read.
    pub async fn stored(&self, learner: &str, parts: &[Part]) -> Result<Stored, SqlError> {
        let mut stored = Stored::default();
        if parts.is_empty() {
            return Ok(stored);
        }
        let part = |wanted: Part, query: &'static str| {
            if parts.contains(&wanted) {
                query
            } else {
                "NULL"
            }
        };
        let query = format!(
            // Named columns, each once: some SQL backends answer rows as objects keyed
            // by column name (D1 does).
            "SELECT ({}) AS traits, ({}) AS mastery, ({}) AS struggles, ({}) AS identity",
            part(Part::Traits, TRAITS_JSON),
            part(Part::Mastery, MASTERY_JSON),
            part(Part::Struggles, STRUGGLES_JSON),
            part(Part::Identity, IDENTITY_JSON),
        );
        let rows = self
            .rows(&query, vec![text(learner), text(self.tenant)])
            .await?;
        let Some([traits, mastery, struggles, identity]) = rows
            .first()
            .map(Vec::as_slice)
            .and_then(|r| <&[_; 4]>::try_from(r).ok())
        else {
            return Err(SqlError::Statement(
                "the stored DNA query answered no row of four columns".into(),
            ));
        };
        let parsed = |value: &SqlValue| -> Result<Value, SqlError> {
            match value {
                SqlValue::Text(json) => serde_json::from_str(json).map_err(|e| {
                    SqlError::Statement(format!("the database built malformed JSON: {e}"))
                }),
                _ => Ok(Value::Null),
            }
        };
        let array = |value: &SqlValue, order: &[&str]| -> Result<Vec<Value>, SqlError> {
            let mut items = match parsed(value)? {
                Value::Array(items) => items,
                _ => Vec::new(),
            };
            // json_group_array keeps no order of its own: sort as the reads always did.
            // (The keys are text columns, compared bytewise as SQLite's BINARY does.)
            items.sort_by(|a, b| {
                let key = |v: &Value| -> Vec<String> {
                    order
                        .iter()
                        .map(|k| v[*k].as_str().unwrap_or_default().to_owned())
                        .collect()
                };
                key(a).cmp(&key(b))
            });
            Ok(items)
        };
        stored.traits = array(traits, &["trait"])?;
        stored.mastery = array(mastery, &["concept"])?;
        stored.struggles = array(struggles, &["concept", "misconception"])?;
        stored.identity = Some(parsed(identity)?).filter(|v| !v.is_null());
        Ok(stored)
    }

    /// The learner's events in `[since_ms, until_ms)`, for deriving DNA over a window.
    pub async fn events(
        &self,
        learner: &str,
        since_ms: u64,
        until_ms: u64,
    ) -> Result<Vec<Event>, SqlError> {
        let rows = self
            .rows(
                "SELECT concept, kind, correct, misconception, response_ms, occurred_at_ms, session_id \
                 FROM learning_events WHERE learner_id = ? AND tenant_id = ? \
                 AND occurred_at_ms >= ? AND occurred_at_ms < ? ORDER BY occurred_at_ms",
                vec![text(learner), text(self.tenant), ms(since_ms), ms(until_ms)],
            )
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let [
                    SqlValue::Text(concept),
                    SqlValue::Text(kind),
                    correct,
                    misconception,
                    response,
                    SqlValue::Integer(at),
                    SqlValue::Text(session),
                ] = row.as_slice()
                else {
                    return None;
                };
                Some(Event {
                    concept: concept.clone(),
                    kind: match kind.as_str() {
                        "attempt" => "attempt",
                        "hint" => "hint",
                        "review" => "review",
                        "assessment" => "assessment",
                        _ => return None,
                    },
                    correct: match correct {
                        SqlValue::Integer(c) => Some(*c != 0),
                        _ => None,
                    },
                    misconception: match misconception {
                        SqlValue::Text(m) => Some(m.clone()),
                        _ => None,
                    },
                    response_ms: match response {
                        SqlValue::Integer(r) => u64::try_from(*r).ok(),
                        _ => None,
                    },
                    occurred_at_ms: u64::try_from(*at).ok()?,
                    session_id: session.clone(),
                })
            })
            .collect())
    }

    /// The learner's name and email: `{given_name, family_name, email}`.
    pub async fn identity(&self, learner: &str) -> Result<Option<Value>, SqlError> {
        Ok(self
            .objects(
                "SELECT given_name, family_name, email FROM learners WHERE id = ? AND tenant_id = ?",
                vec![text(learner), text(self.tenant)],
                &["given_name", "family_name", "email"],
            )
            .await?
            .into_iter()
            .next())
    }

    /// The learner's full name ("given family"), as lists show it.
    pub async fn display_name(&self, learner: &str) -> Result<Option<String>, SqlError> {
        Ok(self.identity(learner).await?.map(|identity| {
            format!(
                "{} {}",
                identity["given_name"].as_str().unwrap_or_default(),
                identity["family_name"].as_str().unwrap_or_default()
            )
        }))
    }

    /// Everything held about a learner, table by table (a GDPR export).
    pub async fn everything(&self, learner: &str) -> Result<Map<String, Value>, SqlError> {
        let tables: [(&str, &str, &[&str]); 6] = [
            (
                "learner",
                "SELECT id, school_id, given_name, family_name, email, birth_date, subject FROM learners \
                 WHERE id = ? AND tenant_id = ?",
                &[
                    "id",
                    "school_id",
                    "given_name",
                    "family_name",
                    "email",
                    "birth_date",
                    "account",
                ],
            ),
            (
                "enrollments",
                "SELECT e.class_id, c.name, e.starts_on, e.ends_on FROM enrollments e \
                 JOIN classes c ON c.id = e.class_id WHERE e.learner_id = ? AND e.tenant_id = ? ORDER BY e.starts_on",
                &["class_id", "class_name", "starts_on", "ends_on"],
            ),
            (
                "guardians",
                "SELECT p.display_name, p.email, g.relationship FROM guardianships g \
                 JOIN guardians p ON p.id = g.guardian_id WHERE g.learner_id = ? AND g.tenant_id = ? ORDER BY p.display_name",
                &["display_name", "email", "relationship"],
            ),
            (
                "consents",
                "SELECT data_category, recipient_client_id, granted_by, verification_method, granted_at_ms, \
                 withdrawn_at_ms, policy_version FROM consents WHERE learner_id = ? AND tenant_id = ? ORDER BY granted_at_ms, id",
                &[
                    "data_category",
                    "recipient_client_id",
                    "granted_by",
                    "verification_method",
                    "granted_at_ms",
                    "withdrawn_at_ms",
                    "policy_version",
                ],
            ),
            (
                "learning_events",
                "SELECT class_id, session_id, concept, kind, correct, misconception, response_ms, occurred_at_ms \
                 FROM learning_events WHERE learner_id = ? AND tenant_id = ? ORDER BY occurred_at_ms, id",
                &[
                    "class_id",
                    "session_id",
                    "concept",
                    "kind",
                    "correct",
                    "misconception",
                    "response_ms",
                    "occurred_at_ms",
                ],
            ),
            (
                "dna_traits",
                "SELECT trait, value_json, confidence, sample_count, computed_at_ms FROM dna_traits \
                 WHERE learner_id = ? AND tenant_id = ? ORDER BY trait",
                &[
                    "trait",
                    "value_json",
                    "confidence",
                    "sample_count",
                    "computed_at_ms",
                ],
            ),
        ];
        let mut out = Map::new();
        for (name, query, columns) in tables {
            let rows = self
                .objects(query, vec![text(learner), text(self.tenant)], columns)
                .await?;
            let value = if name == "learner" {
                rows.into_iter().next().unwrap_or(Value::Null)
            } else {
                Value::Array(rows)
            };
            out.insert(name.to_owned(), value);
        }
        // Mastery and struggles are exported as they are read.
        let stored = self
            .stored(learner, &[Part::Mastery, Part::Struggles])
            .await?;
        out.insert("concept_mastery".into(), Value::Array(stored.mastery));
        out.insert("struggles".into(), Value::Array(stored.struggles));
        Ok(out)
    }

    /// The sign-in accounts whose access is about this learner in particular: their
    /// own and their guardians'.
    pub async fn accounts_of(&self, learner: &str) -> Result<Vec<String>, SqlError> {
        self.ids(
            "SELECT subject FROM learners WHERE id = ? AND tenant_id = ? AND subject IS NOT NULL \
             UNION SELECT p.subject FROM guardianships g JOIN guardians p ON p.id = g.guardian_id \
             WHERE g.learner_id = ? AND g.tenant_id = ? AND p.subject IS NOT NULL",
            vec![
                text(learner),
                text(self.tenant),
                text(learner),
                text(self.tenant),
            ],
        )
        .await
    }
}
