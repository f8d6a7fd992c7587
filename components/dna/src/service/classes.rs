//! Reads of classes: aggregate insights, and a teacher's view of who struggles.

use std::collections::BTreeMap;

use learner_core::ports::Host;
use serde_json::{Map, Value, json};

use super::{Class, Failure, Service};
use crate::gdpr::AccessRevocation;
use crate::privacy::{self, Category, Purpose, Role};
use crate::records::LearnerSet;

impl<H: Host, R: AccessRevocation> Service<'_, H, R> {
    /// Class insights: per concept, the mean mastery and the share of learners
    /// struggling, with the most common misconceptions — each over learners whose
    /// consent allows it for this client, and only over groups of at least
    /// [`privacy::MIN_GROUP`] learners (smaller groups are suppressed).
    pub async fn class_insights(&self, class: &str) -> Result<Value, Failure> {
        let kind = "dna.class.insights";
        // Aggregates count a learner only as their consent for this client allows (the
        // age and consent rules of a single read; the token's `class.aggregates` scope
        // stands for the per-learner scopes).
        let (found, set, consented) = self.class_decided(kind, class, Purpose::Aggregate).await?;
        let records = self.records();
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
        if self.requester.role() != Role::Teacher {
            return self
                .refuse(
                    kind,
                    json!(class),
                    "only a class's teacher may look at its learners one by one",
                )
                .await;
        }
        // Individual reads: the learners' consent ∩ the token's scopes, as for one read.
        let (found, set, mut allowed) = self.class_decided(kind, class, Purpose::Read).await?;
        allowed.retain(|_, categories| categories.contains(&Category::Struggles));
        let records = self.records();
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
                && let Some(name) = records.display_name(&id).await?
            {
                entry["name"] = json!(name);
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

    /// The class (if this requester may see it: its aggregates, for an aggregate), its
    /// learners as a set, and what the privacy rules allow of each for `purpose`.
    async fn class_decided(
        &self,
        kind: &str,
        class: &str,
        purpose: Purpose,
    ) -> Result<(Class, LearnerSet, BTreeMap<String, Vec<Category>>), Failure> {
        let found = self
            .class(kind, class, purpose == Purpose::Aggregate)
            .await?;
        let set = LearnerSet::class(class, self.requester.tenant(), &self.today);
        let decided = self.decided(&set, purpose).await?.into_iter().collect();
        Ok((found, set, decided))
    }
}
