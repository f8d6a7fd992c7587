//! Learner DNA derived from learning events: pure functions, so the same events give
//! the same DNA on every host and in every test. Each trait carries its confidence
//! (how much the evidence supports it, growing with the sample) and sample count.

// Statistics over counts, times and ratios: every float cast here is of a value clamped
// or known to be non-negative and far below the target's range.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

use std::collections::BTreeMap;

/// One learning event, as derivation reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The concept practised.
    pub concept: String,
    /// `attempt`, `hint`, `review` or `assessment`.
    pub kind: &'static str,
    /// Whether an answer was right (answers only).
    pub correct: Option<bool>,
    /// The misconception a wrong answer showed, if known.
    pub misconception: Option<String>,
    /// How long the learner took, in milliseconds.
    pub response_ms: Option<u64>,
    /// When it happened.
    pub occurred_at_ms: u64,
    /// The learning session it belonged to.
    pub session_id: String,
}

/// A derived trait: its value (JSON), confidence and sample count.
#[derive(Debug, Clone, PartialEq)]
pub struct Trait {
    /// `learning_velocity`, `retention_curve`, `interaction_timing`,
    /// `comprehension_style` or `engagement`.
    pub name: &'static str,
    /// The value, as JSON text.
    pub value_json: String,
    /// 0..=1.
    pub confidence: f64,
    /// Events it rests on.
    pub sample_count: u64,
}

/// Mastery of one concept.
#[derive(Debug, Clone, PartialEq)]
pub struct Mastery {
    /// The concept.
    pub concept: String,
    /// 0..=1: the smoothed share of right answers, recent answers weighing more.
    pub mastery: f64,
    /// 0..=1.
    pub confidence: f64,
    /// Answers it rests on.
    pub sample_count: u64,
}

/// A recurring misconception on a concept.
#[derive(Debug, Clone, PartialEq)]
pub struct Struggle {
    /// The concept.
    pub concept: String,
    /// The misconception.
    pub misconception: String,
    /// Its share of the concept's wrong answers.
    pub frequency: f64,
    /// 0..=1.
    pub confidence: f64,
    /// Wrong answers it rests on.
    pub sample_count: u64,
}

/// Everything derived for one learner.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dna {
    /// The five traits (absent when there are no events).
    pub traits: Vec<Trait>,
    /// Per concept.
    pub mastery: Vec<Mastery>,
    /// Misconceptions seen at least twice.
    pub struggles: Vec<Struggle>,
}

const DAY_MS: f64 = 86_400_000.0;
const WEEK_MS: f64 = 7.0 * DAY_MS;

/// Confidence from a sample size: half at `half` samples, approaching 1.
fn confidence(samples: u64, half: f64) -> f64 {
    let n = samples as f64;
    round(n / (n + half))
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn median(values: &mut [u64]) -> Option<u64> {
    values.sort_unstable();
    values.get(values.len() / 2).copied()
}

/// Derives a learner's DNA from their events (any order).
pub fn derive(events: &[Event]) -> Dna {
    if events.is_empty() {
        return Dna::default();
    }
    let mut events: Vec<&Event> = events.iter().collect();
    events.sort_by_key(|e| e.occurred_at_ms);
    let first = events.first().map_or(0, |e| e.occurred_at_ms);
    let last = events.last().map_or(0, |e| e.occurred_at_ms);
    let weeks = ((last - first) as f64 / WEEK_MS).max(1.0);

    // Mastery: a Beta(1, 1) prior updated with exponentially recency-weighted answers.
    let mut by_concept: BTreeMap<&str, Vec<&Event>> = BTreeMap::new();
    for event in &events {
        if event.correct.is_some() {
            by_concept.entry(&event.concept).or_default().push(event);
        }
    }
    let mut mastery = Vec::new();
    for (concept, answers) in &by_concept {
        let (mut right, mut total) = (1.0, 2.0);
        let count = answers.len();
        for (i, answer) in answers.iter().enumerate() {
            let weight = 0.9f64.powi((count - 1 - i) as i32);
            total += weight;
            if answer.correct == Some(true) {
                right += weight;
            }
        }
        mastery.push(Mastery {
            concept: (*concept).to_owned(),
            mastery: round(right / total),
            confidence: confidence(count as u64, 8.0),
            sample_count: count as u64,
        });
    }

    // Struggles: misconceptions behind at least two wrong answers on a concept.
    let mut struggles = Vec::new();
    for (concept, answers) in &by_concept {
        let wrong: Vec<&&Event> = answers
            .iter()
            .filter(|e| e.correct == Some(false))
            .collect();
        let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
        for event in &wrong {
            if let Some(m) = &event.misconception {
                *counts.entry(m).or_default() += 1;
            }
        }
        for (misconception, n) in counts.into_iter().filter(|(_, n)| *n >= 2) {
            struggles.push(Struggle {
                concept: (*concept).to_owned(),
                misconception: misconception.to_owned(),
                frequency: round(n as f64 / wrong.len() as f64),
                confidence: confidence(n, 4.0),
                sample_count: n,
            });
        }
    }

    // Learning velocity: concepts reaching mastery 0.8 per week of activity.
    let mastered = mastery.iter().filter(|m| m.mastery >= 0.8).count();
    let answers: u64 = by_concept.values().map(|a| a.len() as u64).sum();
    let velocity = Trait {
        name: "learning_velocity",
        value_json: format!(
            r#"{{"concepts_mastered":{mastered},"concepts_per_week":{},"weeks":{}}}"#,
            round(mastered as f64 / weeks),
            round(weeks)
        ),
        confidence: confidence(answers, 20.0),
        sample_count: answers,
    };

    // Retention: success of reviews by days since the concept was last practised,
    // fitted to an exponential curve: the half-life in days.
    let mut last_seen: BTreeMap<&str, u64> = BTreeMap::new();
    let (mut review_n, mut decay_sum) = (0u64, 0.0f64);
    for event in &events {
        if event.kind == "review"
            && let (Some(correct), Some(seen)) =
                (event.correct, last_seen.get(event.concept.as_str()))
        {
            let days = ((event.occurred_at_ms - seen) as f64 / DAY_MS).max(0.1);
            // A failed review after d days suggests a half-life near d; a success, beyond it.
            decay_sum += if correct { days * 2.0 } else { days };
            review_n += 1;
        }
        last_seen.insert(&event.concept, event.occurred_at_ms);
    }
    let half_life = if review_n > 0 {
        decay_sum / review_n as f64
    } else {
        0.0
    };
    let retention = Trait {
        name: "retention_curve",
        value_json: format!(
            r#"{{"half_life_days":{},"reviews":{review_n}}}"#,
            round(half_life)
        ),
        confidence: confidence(review_n, 6.0),
        sample_count: review_n,
    };

    // Interaction timing: median response time and the hour most sessions start.
    let mut responses: Vec<u64> = events.iter().filter_map(|e| e.response_ms).collect();
    let response_n = responses.len() as u64;
    let median_ms = median(&mut responses).unwrap_or(0);
    let mut session_starts: BTreeMap<&str, u64> = BTreeMap::new();
    for event in &events {
        session_starts
            .entry(&event.session_id)
            .or_insert(event.occurred_at_ms);
    }
    let mut hours = [0u64; 24];
    for start in session_starts.values() {
        hours[((start / 3_600_000) % 24) as usize] += 1;
    }
    let peak_hour = (0..24).max_by_key(|h| (hours[*h], 24 - h)).unwrap_or(0);
    let timing = Trait {
        name: "interaction_timing",
        value_json: format!(r#"{{"median_response_ms":{median_ms},"peak_hour_utc":{peak_hour}}}"#),
        confidence: confidence(response_n, 20.0),
        sample_count: response_n,
    };

    // Comprehension style: how the learner gets to right answers — by asking for hints
    // (guided), by reviewing (reflective), or by trying (exploratory).
    let count = |kind: &str| events.iter().filter(|e| e.kind == kind).count() as f64;
    let (hints, reviews, attempts) = (count("hint"), count("review"), count("attempt"));
    let total = (hints + reviews + attempts).max(1.0);
    let style = if hints / total >= 0.25 {
        "guided"
    } else if reviews / total >= 0.3 {
        "reflective"
    } else {
        "exploratory"
    };
    let comprehension = Trait {
        name: "comprehension_style",
        value_json: format!(
            r#"{{"style":"{style}","hint_share":{},"review_share":{}}}"#,
            round(hints / total),
            round(reviews / total)
        ),
        confidence: confidence(total as u64, 30.0),
        sample_count: total as u64,
    };

    // Engagement: sessions per week and their length.
    let mut session_bounds: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for event in &events {
        let bounds = session_bounds
            .entry(&event.session_id)
            .or_insert((event.occurred_at_ms, event.occurred_at_ms));
        bounds.1 = bounds.1.max(event.occurred_at_ms);
    }
    let sessions = session_bounds.len() as u64;
    let minutes: f64 = session_bounds
        .values()
        .map(|(start, end)| (end - start) as f64 / 60_000.0)
        .sum::<f64>()
        / sessions.max(1) as f64;
    let engagement = Trait {
        name: "engagement",
        value_json: format!(
            r#"{{"sessions_per_week":{},"average_session_minutes":{}}}"#,
            round(sessions as f64 / weeks),
            round(minutes)
        ),
        confidence: confidence(sessions, 5.0),
        sample_count: sessions,
    };

    Dna {
        traits: vec![velocity, retention, timing, comprehension, engagement],
        mastery,
        struggles,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(
        concept: &str,
        kind: &'static str,
        correct: Option<bool>,
        at_days: f64,
        session: &str,
    ) -> Event {
        Event {
            concept: concept.into(),
            kind,
            correct,
            misconception: (correct == Some(false)).then(|| "sign-error".to_owned()),
            response_ms: Some(4_000),
            occurred_at_ms: (at_days * DAY_MS) as u64,
            session_id: session.into(),
        }
    }

    #[test]
    fn no_events_no_dna() {
        assert_eq!(derive(&[]), Dna::default());
    }

    #[test]
    fn mastery_struggles_and_traits_follow_the_evidence() {
        let mut events = Vec::new();
        for day in 0..14 {
            let d = f64::from(day);
            events.push(event(
                "fractions",
                "attempt",
                Some(day > 3),
                d,
                &format!("s{day}"),
            ));
            events.push(event(
                "negatives",
                "attempt",
                Some(false),
                d + 0.01,
                &format!("s{day}"),
            ));
        }
        events.push(event("fractions", "review", Some(true), 20.0, "s20"));
        let dna = derive(&events);
        let fractions = dna
            .mastery
            .iter()
            .find(|m| m.concept == "fractions")
            .expect("fractions");
        let negatives = dna
            .mastery
            .iter()
            .find(|m| m.concept == "negatives")
            .expect("negatives");
        assert!(fractions.mastery > 0.75, "{fractions:?}");
        assert!(negatives.mastery < 0.2, "{negatives:?}");
        assert_eq!(negatives.sample_count, 14);
        assert!(negatives.confidence > 0.5 && negatives.confidence < 1.0);
        let struggle = dna
            .struggles
            .iter()
            .find(|s| s.concept == "negatives")
            .expect("a struggle");
        assert_eq!(
            (struggle.misconception.as_str(), struggle.frequency),
            ("sign-error", 1.0)
        );
        let names: Vec<&str> = dna.traits.iter().map(|t| t.name).collect();
        assert_eq!(
            names,
            [
                "learning_velocity",
                "retention_curve",
                "interaction_timing",
                "comprehension_style",
                "engagement"
            ]
        );
        for t in &dna.traits {
            assert!((0.0..=1.0).contains(&t.confidence), "{t:?}");
            assert!(
                t.value_json.starts_with('{') && t.value_json.ends_with('}'),
                "{t:?}"
            );
        }
        // Order does not matter.
        let mut reversed = events.clone();
        reversed.reverse();
        assert_eq!(derive(&reversed), dna);
    }
}
