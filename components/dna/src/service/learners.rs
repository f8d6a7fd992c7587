//! Reads of learners: the list, one learner's DNA, and next steps.

use std::collections::BTreeMap;

use learner_core::ports::Host;
use serde_json::{Map, Value, json};

use super::{FIELDS, Failure, Service, TRAITS, Window, category_of};
use crate::derive;
use crate::gdpr::AccessRevocation;
use crate::privacy::Category;
use crate::records::{Part, Stored};

impl<H: Host, R: AccessRevocation> Service<'_, H, R> {
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
                && let Some(name) = self.records().display_name(&learner.id).await?
            {
                entry["name"] = json!(name);
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
        // Stored DNA unless derived over a window; only what will be shown.
        let from_store = window.is_none();
        let parts: Vec<Part> = [
            (
                Part::Traits,
                from_store && shown.iter().any(|f| TRAITS.contains(f)),
            ),
            (Part::Mastery, from_store && shown.contains(&"mastery")),
            (Part::Struggles, from_store && shown.contains(&"struggles")),
            (Part::Identity, shown.contains(&"identity")),
        ]
        .into_iter()
        .filter_map(|(part, wanted)| wanted.then_some(part))
        .collect();
        let stored = records.stored(&learner.id, &parts).await?;
        let (traits, mastery, struggles) = match window {
            None => (stored.traits, stored.mastery, stored.struggles),
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
        if let Some(identity) = stored.identity {
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
        let parts: Vec<Part> = [
            (Part::Traits, has(Category::Profile)),
            (Part::Mastery, has(Category::Assessment)),
            (Part::Struggles, has(Category::Struggles)),
        ]
        .into_iter()
        .filter_map(|(part, wanted)| wanted.then_some(part))
        .collect();
        let Stored {
            traits,
            mastery,
            struggles,
            ..
        } = self.records().stored(&learner.id, &parts).await?;
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
            // Clamped to 1..=14: the cast cannot truncate or lose a sign.
            .map(|h| {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let days = (h * 0.7).clamp(1.0, 14.0).round() as u64;
                days
            });
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
