//! The Learner DNA catalogue on the MCP server's registry: every read passes the
//! privacy decision (`privacy.rs`), which goes to the audit trail with its reason;
//! learners appear only under the reading client's pseudonyms.

use learner_core::ports::{
    Audit, AuditRecord, Clock, Host, KvError, Sql, SqlValue, Statement, shared_secret,
};
use learner_mcp_server::catalogue::{Caller, Catalogue, ResourceDef, TemplateDef, content};
use learner_mcp_server::engine::match_template;
use learner_mcp_server::jsonrpc::RpcError;
use serde_json::{Map, Value, json};

use crate::privacy::{self, Access, Category, Requester, Role};
use crate::text;

/// The list of visible learners.
pub const LEARNERS: &str = "learner-dna://learners";
/// One learner's profile.
pub const PROFILE: &str = "learner-dna://learners/{id}/profile";
/// One learner's struggle patterns (misconceptions per concept).
pub const STRUGGLES: &str = "learner-dna://learners/{id}/struggles";
/// One learner's concept mastery.
pub const MASTERY: &str = "learner-dna://learners/{id}/mastery";
/// The implementation-defined JSON-RPC error for a read the privacy rules refuse.
pub const ACCESS_DENIED: i64 = -32003;

/// The catalogue over a host's ports.
pub struct LearnerCatalogue<'a, H> {
    host: &'a H,
}

impl<'a, H: Host> LearnerCatalogue<'a, H> {
    /// The catalogue of `host`.
    pub fn new(host: &'a H) -> Self {
        Self { host }
    }

    fn requester(&self, caller: &Caller) -> Option<Requester> {
        let role = match caller.props.get("role").and_then(Value::as_str)? {
            "teacher" => Role::Teacher,
            "guardian" => Role::Guardian,
            "student" => Role::Student,
            "tenant_admin" => Role::TenantAdmin,
            _ => return None,
        };
        Some(Requester {
            tenant: caller
                .props
                .get("tenant")
                .and_then(Value::as_str)?
                .to_owned(),
            subject: caller.subject.clone(),
            role,
            client_id: caller.client_id.clone(),
            scopes: caller.scopes.clone(),
        })
    }

    /// The tenant's pseudonym key, made once.
    async fn tenant_key(&self, tenant: &str) -> Result<[u8; 32], KvError> {
        let key = format!("dna:pseudonym-key:{tenant}");
        shared_secret(self.host.key_value(), self.host.random(), &key).await
    }

    async fn audit(&self, requester: &Requester, kind: &str, outcome: &str, detail: Value) {
        let record = AuditRecord {
            at_ms: self.host.clock().now_ms(),
            kind: kind.into(),
            actor: requester.subject.clone(),
            outcome: outcome.into(),
            detail_json: detail.to_string(),
        };
        // A failing sink is the host's to log; it must not change the answer.
        let _ = self.host.audit().append(&record).await;
    }

    /// The learners `requester` has a relationship to (before consent is looked at).
    async fn related_learners(
        &self,
        requester: &Requester,
        today: &str,
    ) -> Result<Vec<String>, RpcError> {
        let (query, params) = match requester.role {
            Role::Teacher => (
                "SELECT DISTINCT e.learner_id FROM class_teachers ct JOIN staff s ON s.id = ct.staff_id \
                 JOIN enrollments e ON e.class_id = ct.class_id WHERE s.subject = ? AND s.tenant_id = ? \
                 AND e.starts_on <= ? AND (e.ends_on IS NULL OR e.ends_on > ?) ORDER BY e.learner_id",
                vec![
                    text(&requester.subject),
                    text(&requester.tenant),
                    text(today),
                    text(today),
                ],
            ),
            Role::Guardian => (
                "SELECT g.learner_id FROM guardianships g JOIN guardians p ON p.id = g.guardian_id \
                 WHERE p.subject = ? AND p.tenant_id = ? ORDER BY g.learner_id",
                vec![text(&requester.subject), text(&requester.tenant)],
            ),
            Role::Student => (
                "SELECT id FROM learners WHERE subject = ? AND tenant_id = ?",
                vec![text(&requester.subject), text(&requester.tenant)],
            ),
            Role::TenantAdmin => return Ok(Vec::new()),
        };
        let result = self
            .host
            .sql()
            .execute(&Statement::new(query, params))
            .await
            .map_err(|_| RpcError::internal())?;
        Ok(result
            .rows
            .into_iter()
            .filter_map(|row| match row.into_iter().next() {
                Some(SqlValue::Text(id)) => Some(id),
                _ => None,
            })
            .collect())
    }

    /// Struggles (`learner.struggles`) or mastery (`learner.assessment`) of a learner
    /// the privacy decision admitted, if that category is among the allowed ones.
    #[allow(clippy::too_many_arguments)]
    async fn read_detail(
        &self,
        requester: &Requester,
        kind: &str,
        audit_kind: &str,
        uri: &str,
        learner: &str,
        pseudonym: &str,
        categories: &[Category],
    ) -> Result<Option<Vec<Value>>, RpcError> {
        let (category, query, fields): (Category, &str, &[&str]) = if kind == "struggles" {
            (
                Category::Struggles,
                "SELECT concept, misconception, frequency, confidence, sample_count, computed_at_ms \
                 FROM struggles WHERE learner_id = ? AND tenant_id = ? ORDER BY concept, misconception",
                &[
                    "concept",
                    "misconception",
                    "frequency",
                    "confidence",
                    "sample_count",
                    "computed_at_ms",
                ],
            )
        } else {
            (
                Category::Assessment,
                "SELECT concept, mastery, confidence, sample_count, computed_at_ms \
                 FROM concept_mastery WHERE learner_id = ? AND tenant_id = ? ORDER BY concept",
                &[
                    "concept",
                    "mastery",
                    "confidence",
                    "sample_count",
                    "computed_at_ms",
                ],
            )
        };
        if !categories.contains(&category) {
            let reason = format!(
                "the {} category is not in the token's scope or not consented",
                category.consent_name()
            );
            self.audit(
                requester,
                audit_kind,
                "denied",
                json!({"learner": pseudonym, "reason": reason}),
            )
            .await;
            return Err(
                RpcError::new(ACCESS_DENIED, format!("access denied: {reason}"))
                    .with_data(json!({"reason": reason})),
            );
        }
        let result = self
            .host
            .sql()
            .execute(&Statement::new(
                query,
                vec![text(learner), text(&requester.tenant)],
            ))
            .await
            .map_err(|_| RpcError::internal())?;
        let items: Vec<Value> = result
            .rows
            .iter()
            .map(|row| {
                let mut item = Map::new();
                for (field, value) in fields.iter().zip(row) {
                    item.insert(
                        (*field).to_owned(),
                        match value {
                            SqlValue::Text(t) => json!(t),
                            SqlValue::Real(r) => json!(r),
                            SqlValue::Integer(i) => json!(i),
                            _ => Value::Null,
                        },
                    );
                }
                Value::Object(item)
            })
            .collect();
        self.audit(
            requester,
            audit_kind,
            "allowed",
            json!({"learner": pseudonym, "items": items.len()}),
        )
        .await;
        let body = json!({"learner": pseudonym, kind: items});
        Ok(Some(vec![content::text_contents(
            uri,
            "application/json",
            &body.to_string(),
        )]))
    }

    fn today(&self) -> String {
        crate::seed::iso_date(self.host.clock().now_ms())
    }
}

/// The traits each category shows.
fn traits_of(category: Category) -> &'static [&'static str] {
    match category {
        Category::Profile => &[
            "learning_velocity",
            "retention_curve",
            "comprehension_style",
        ],
        Category::Behavioral => &["interaction_timing", "engagement"],
        _ => &[],
    }
}

impl<H: Host> Catalogue for LearnerCatalogue<'_, H> {
    fn resources(&self) -> Vec<ResourceDef> {
        vec![ResourceDef {
            uri: LEARNERS.into(),
            name: "learners".into(),
            title: Some("Your learners".into()),
            description: Some("The learners you may see, under this client's pseudonyms".into()),
            mime_type: Some("application/json".into()),
            scope: None,
        }]
    }

    fn templates(&self) -> Vec<TemplateDef> {
        let template = |uri: &str, name: &str, title: &str, description: &str| TemplateDef {
            uri_template: uri.into(),
            name: name.into(),
            title: Some(title.into()),
            description: Some(description.into()),
            mime_type: Some("application/json".into()),
            scope: None,
        };
        vec![
            template(
                PROFILE,
                "learner-profile",
                "A learner's DNA profile",
                "Learning velocity, retention, comprehension style, timing and engagement, as far as scope and consent allow",
            ),
            template(
                STRUGGLES,
                "learner-struggles",
                "A learner's struggles",
                "Concepts the learner struggles with and the misconceptions behind them (learner.struggles)",
            ),
            template(
                MASTERY,
                "learner-mastery",
                "A learner's concept mastery",
                "Mastery per concept, with confidence (learner.assessment)",
            ),
        ]
    }

    async fn read_resource(
        &self,
        uri: &str,
        caller: &Caller,
    ) -> Result<Option<Vec<Value>>, RpcError> {
        let Some(requester) = self.requester(caller) else {
            return Err(RpcError::new(
                ACCESS_DENIED,
                "access denied: the token names no tenant role",
            ));
        };
        let today = self.today();
        let key = self
            .tenant_key(&requester.tenant)
            .await
            .map_err(|_| RpcError::internal())?;
        let related = self.related_learners(&requester, &today).await?;
        if uri == LEARNERS {
            let pseudonyms: Vec<Value> = related
                .iter()
                .map(|id| {
                    let p = privacy::pseudonym(&key, &requester.client_id, id);
                    json!({"id": p, "uri": format!("learner-dna://learners/{p}/profile")})
                })
                .collect();
            self.audit(
                &requester,
                "dna.learners.list",
                "allowed",
                json!({"client": requester.client_id, "count": pseudonyms.len()}),
            )
            .await;
            let body = json!({"learners": pseudonyms});
            return Ok(Some(vec![content::text_contents(
                uri,
                "application/json",
                &body.to_string(),
            )]));
        }
        let Some((kind, values)) = [
            ("profile", PROFILE),
            ("struggles", STRUGGLES),
            ("mastery", MASTERY),
        ]
        .into_iter()
        .find_map(|(kind, template)| match_template(template, uri).map(|v| (kind, v))) else {
            return Ok(None);
        };
        let audit_kind = format!("dna.{kind}.read");
        let wanted = values.get("id").and_then(Value::as_str).unwrap_or_default();
        // Pseudonyms are per client: resolve among the learners this person relates to.
        let Some(learner) = related
            .iter()
            .find(|id| privacy::pseudonym(&key, &requester.client_id, id) == wanted)
        else {
            self.audit(&requester, &audit_kind, "denied", json!({"learner": wanted, "reason": "no relationship to this learner in the tenant"}))
                .await;
            return Ok(None);
        };
        let now = self.host.clock().now_ms();
        let access = privacy::learner_access(self.host.sql(), &requester, learner, &today, now)
            .await
            .map_err(|_| RpcError::internal())?;
        let categories = match access {
            Access::Allowed(categories) => categories,
            Access::Denied(denial) => {
                self.audit(
                    &requester,
                    &audit_kind,
                    "denied",
                    json!({"learner": wanted, "reason": denial.reason()}),
                )
                .await;
                return Err(RpcError::new(
                    ACCESS_DENIED,
                    format!("access denied: {}", denial.reason()),
                )
                .with_data(json!({"reason": denial.reason()})));
            }
        };
        if kind != "profile" {
            return self
                .read_detail(
                    &requester,
                    kind,
                    &audit_kind,
                    uri,
                    learner,
                    wanted,
                    &categories,
                )
                .await;
        }
        let shown: Vec<&str> = categories
            .iter()
            .flat_map(|c| traits_of(*c).iter().copied())
            .collect();
        let rows = self
            .host
            .sql()
            .execute(&Statement::new(
                "SELECT trait, value_json, confidence, sample_count, computed_at_ms FROM dna_traits \
                 WHERE learner_id = ? AND tenant_id = ? ORDER BY trait",
                vec![text(learner), text(&requester.tenant)],
            ))
            .await
            .map_err(|_| RpcError::internal())?;
        let mut traits = Map::new();
        for row in rows.rows {
            let [
                SqlValue::Text(name),
                SqlValue::Text(value),
                confidence,
                samples,
                computed,
            ] = row.as_slice()
            else {
                continue;
            };
            if !shown.contains(&name.as_str()) {
                continue;
            }
            let number = |v: &SqlValue| match v {
                SqlValue::Real(r) => json!(r),
                SqlValue::Integer(i) => json!(i),
                _ => Value::Null,
            };
            traits.insert(
                name.clone(),
                json!({
                    "value": serde_json::from_str::<Value>(value.as_str()).unwrap_or(Value::Null),
                    "confidence": number(confidence),
                    "sample_count": number(samples),
                    "computed_at_ms": number(computed),
                }),
            );
        }
        let categories: Vec<&str> = categories.iter().map(|c| c.consent_name()).collect();
        self.audit(
            &requester,
            &audit_kind,
            "allowed",
            json!({"learner": wanted, "categories": categories}),
        )
        .await;
        let body = json!({"learner": wanted, "categories": categories, "traits": traits});
        Ok(Some(vec![content::text_contents(
            uri,
            "application/json",
            &body.to_string(),
        )]))
    }
}
