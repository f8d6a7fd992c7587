//! One learner's activity: eight weeks of learning events in their classes, and the
//! DNA derived from them, written as the derived tables hold it.

use learner_core::ports::SqlValue;

use super::generate::Tenant;
use super::names::{CURRICULUM, Rng};
use super::rows::Rows;
use super::{DAY_MS, Report, int};
use crate::derive::{self, Event};
use crate::text;

/// Writes the learner's events in the classes `enrolled` (indices in `t.classes`) and
/// the DNA derived from them, counting the events in `report`.
pub(super) fn generate_activity(
    rng: &mut Rng,
    rows: &mut Rows,
    report: &mut Report,
    t: &Tenant<'_>,
    id: &str,
    enrolled: &[usize],
) {
    let (tenant, now) = (t.id, t.now);
    let events = generate_events(rng, &t.classes, enrolled, now);
    report.events += events.len() as u64;
    for (n, (class_id, event)) in events.iter().enumerate() {
        rows.insert(
            "learning_events",
            &[
                "tenant_id",
                "learner_id",
                "class_id",
                "session_id",
                "concept",
                "kind",
                "correct",
                "misconception",
                "response_ms",
                "occurred_at_ms",
            ],
            vec![
                text(tenant),
                text(id),
                text(class_id.clone()),
                text(format!("{id}-{}", event.session_id)),
                text(event.concept.clone()),
                text(event.kind),
                event.correct.map_or(SqlValue::Null, |c| int(u64::from(c))),
                event.misconception.clone().map_or(SqlValue::Null, text),
                event.response_ms.map_or(SqlValue::Null, int),
                int(event.occurred_at_ms + n as u64),
            ],
        );
    }
    let plain: Vec<Event> = events.into_iter().map(|(_, e)| e).collect();
    write_dna(rows, tenant, id, &derive::derive(&plain), now);
}

/// Eight weeks of sessions in the learner's classes: attempts, hints, reviews and
/// assessments, right more often as the learner's hidden ability in a concept grows.
fn generate_events(
    rng: &mut Rng,
    classes: &[(String, usize)],
    enrolled: &[usize],
    now: u64,
) -> Vec<(String, Event)> {
    let mut events = Vec::new();
    let sessions = 6 + rng.below(14);
    for s in 0..sessions {
        let c = *rng.pick(enrolled);
        let (class_id, area) = &classes[c];
        let (concept, misconceptions) = rng.pick(&CURRICULUM[*area].1);
        let ability = 0.3 + 0.6 * rng.unit();
        let start =
            now.saturating_sub((56 - (56 * s / sessions)) * DAY_MS) + rng.below(12) * 3_600_000;
        let steps = 3 + rng.below(8);
        for step in 0..steps {
            let roll = rng.below(10);
            let kind = match roll {
                0 | 1 => "hint",
                2 => "review",
                3 => "assessment",
                _ => "attempt",
            };
            let answered = kind != "hint";
            let learned = ability + 0.04 * step as f64;
            let correct = answered.then(|| rng.unit() < learned);
            events.push((
                class_id.clone(),
                Event {
                    concept: (*concept).to_owned(),
                    kind,
                    correct,
                    misconception: (correct == Some(false))
                        .then(|| (*rng.pick(misconceptions)).to_owned()),
                    response_ms: answered.then(|| 2_000 + rng.below(40_000)),
                    occurred_at_ms: start + step * 90_000,
                    session_id: format!("ses{s}"),
                },
            ));
        }
    }
    events
}

/// The learner's derived DNA: traits, mastery of concepts and struggles.
fn write_dna(rows: &mut Rows, tenant: &str, learner: &str, dna: &derive::Dna, now: u64) {
    for t in &dna.traits {
        rows.insert(
            "dna_traits",
            &[
                "tenant_id",
                "learner_id",
                "trait",
                "value_json",
                "confidence",
                "sample_count",
                "computed_at_ms",
            ],
            vec![
                text(tenant),
                text(learner),
                text(t.name),
                text(t.value_json.clone()),
                SqlValue::Real(t.confidence),
                int(t.sample_count),
                int(now),
            ],
        );
    }
    for m in &dna.mastery {
        rows.insert(
            "concept_mastery",
            &[
                "tenant_id",
                "learner_id",
                "concept",
                "mastery",
                "confidence",
                "sample_count",
                "computed_at_ms",
            ],
            vec![
                text(tenant),
                text(learner),
                text(m.concept.clone()),
                SqlValue::Real(m.mastery),
                SqlValue::Real(m.confidence),
                int(m.sample_count),
                int(now),
            ],
        );
    }
    for s in &dna.struggles {
        rows.insert(
            "struggles",
            &[
                "tenant_id",
                "learner_id",
                "concept",
                "misconception",
                "frequency",
                "confidence",
                "sample_count",
                "computed_at_ms",
            ],
            vec![
                text(tenant),
                text(learner),
                text(s.concept.clone()),
                text(s.misconception.clone()),
                SqlValue::Real(s.frequency),
                SqlValue::Real(s.confidence),
                int(s.sample_count),
                int(now),
            ],
        );
    }
}
