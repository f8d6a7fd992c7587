//! One learner: their row, guardian, enrollments and consent, then their activity. In
//! tenant `demo` the first two learners are the demo student (14) and a younger
//! sibling (10) without consent, both children of the demo guardian.

use learner_core::ports::SqlValue;

use super::generate::Tenant;
use super::names::{FAMILY, GIVEN, Rng};
use super::rows::Rows;
use super::{DAY_MS, Report, activity, date_before, int};
use crate::text;

/// The data categories consent is asked for.
const CATEGORIES: [&str; 5] = [
    "profile",
    "behavioral",
    "assessment",
    "struggles",
    "identity",
];
/// The privacy policy version every consent is given under.
const POLICY: &str = "2026-01";

/// A learner as written: what their guardian, enrollments and consent depend on.
struct Learner {
    /// Their place in the tenant (0 and 1 are the demo learners in tenant `demo`).
    n: u64,
    /// Their id.
    id: String,
    /// Their age in whole years.
    age: u64,
    /// Their family name, which their guardian shares.
    family: &'static str,
}

/// Writes the `l`th learner of tenant `t`, with everything that belongs to them.
pub(super) fn generate_learner(
    rng: &mut Rng,
    rows: &mut Rows,
    report: &mut Report,
    t: &Tenant<'_>,
    l: u64,
) {
    let learner = write_learner(rng, rows, t, l);
    report.learners += 1;
    let guardian = write_guardian(rng, rows, t, &learner);
    let enrolled = write_enrollments(rng, rows, t, &learner);
    write_consents(rng, rows, report, t, &learner, &guardian);
    activity::generate_activity(rng, rows, report, t, &learner.id, &enrolled);
}

/// The learner's row.
fn write_learner(rng: &mut Rng, rows: &mut Rows, t: &Tenant<'_>, l: u64) -> Learner {
    let (tenant, demo, now) = (t.id, t.demo, t.now);
    let id = format!("{tenant}-lrn{l:05}");
    // Demo: the student (14) and a younger sibling (10) of the demo guardian.
    let age = match (demo, l) {
        (true, 0) => 14,
        (true, 1) => 10,
        _ => 6 + rng.below(12),
    };
    let given = *rng.pick(&GIVEN);
    let family = if demo && l < 2 {
        "Okafor"
    } else {
        *rng.pick(&FAMILY)
    };
    let (given, subject) = match (demo, l) {
        (true, 0) => ("Alex", text("demo:student")),
        (true, 1) => ("Jordan", SqlValue::Null),
        _ => (given, SqlValue::Null),
    };
    rows.insert(
        "learners",
        &[
            "id",
            "tenant_id",
            "school_id",
            "given_name",
            "family_name",
            "email",
            "birth_date",
            "subject",
        ],
        vec![
            text(id.clone()),
            text(tenant),
            text(t.school(l)),
            text(given),
            text(family),
            text(format!(
                "{}.{}{l}@{tenant}.school.example",
                given.to_lowercase(),
                family.to_lowercase()
            )),
            // 30..330 days past the birthday: never on the boundary.
            text(date_before(now, age, 30 + rng.below(300))),
            subject,
        ],
    );
    Learner {
        n: l,
        id,
        age,
        family,
    }
}

/// The learner's guardian and the guardianship; returns the guardian's id.
fn write_guardian(rng: &mut Rng, rows: &mut Rows, t: &Tenant<'_>, learner: &Learner) -> String {
    let (tenant, demo, l, family) = (t.id, t.demo, learner.n, learner.family);
    // A guardian per learner, except that the demo siblings share the demo one.
    let guardian = if demo && l == 1 {
        format!("{tenant}-grd00000")
    } else {
        format!("{tenant}-grd{l:05}")
    };
    if !(demo && l == 1) {
        rows.insert(
            "guardians",
            &["id", "tenant_id", "display_name", "email", "subject"],
            vec![
                text(guardian.clone()),
                text(tenant),
                text(if demo && l == 0 {
                    "Sam Okafor".to_owned()
                } else {
                    format!("{} {family}", rng.pick(&GIVEN))
                }),
                text(format!("{guardian}@{tenant}.family.example")),
                if demo && l == 0 {
                    text("demo:guardian")
                } else {
                    SqlValue::Null
                },
            ],
        );
    }
    rows.insert(
        "guardianships",
        &["tenant_id", "guardian_id", "learner_id", "relationship"],
        vec![
            text(tenant),
            text(guardian.clone()),
            text(learner.id.clone()),
            text("parent"),
        ],
    );
    guardian
}

/// The learner's enrollments; returns the indices of their classes in `t.classes`.
fn write_enrollments(
    rng: &mut Rng,
    rows: &mut Rows,
    t: &Tenant<'_>,
    learner: &Learner,
) -> Vec<usize> {
    let (tenant, demo, now, l, id) = (t.id, t.demo, t.now, learner.n, &learner.id);
    // Two or three classes; the demo learners and the first eight sit in class 0,
    // so the demo teacher's class is big enough for aggregates.
    let mut enrolled: Vec<usize> = Vec::new();
    if l < 8 {
        enrolled.push(0);
    }
    while enrolled.len() < 2 + rng.below(2) as usize {
        let c = rng.below(t.classes.len() as u64) as usize;
        if !enrolled.contains(&c) {
            enrolled.push(c);
        }
    }
    for (e, c) in enrolled.iter().enumerate() {
        // About one enrollment in ten has ended (the learner changed class).
        let ended = !(demo && l < 8 && *c == 0) && rng.below(10) == 0;
        rows.insert(
            "enrollments",
            &[
                "id",
                "tenant_id",
                "class_id",
                "learner_id",
                "starts_on",
                "ends_on",
            ],
            vec![
                text(format!("{id}-enr{e}")),
                text(tenant),
                text(t.classes[*c].0.clone()),
                text(id.clone()),
                text(date_before(now, 0, 200)),
                if ended {
                    text(date_before(now, 0, 20))
                } else {
                    SqlValue::Null
                },
            ],
        );
    }
    enrolled
}

/// The learner's consent records, granted by `guardian` under 13, counted in `report`.
fn write_consents(
    rng: &mut Rng,
    rows: &mut Rows,
    report: &mut Report,
    t: &Tenant<'_>,
    learner: &Learner,
    guardian: &str,
) {
    let (tenant, demo, now, l, id) = (t.id, t.demo, t.now, learner.n, &learner.id);
    // Consent: under 13, verified parental consent for about two in three (the demo
    // sibling has none); 13 and over, consent of the learner and the school record.
    let under_13 = learner.age < 13;
    let consented = if demo && l < 2 {
        l == 0
    } else {
        !under_13 || rng.below(3) > 0
    };
    if under_13 {
        report.under_13 += 1;
        if consented {
            report.under_13_with_consent += 1;
        }
    }
    if consented {
        for (k, category) in CATEGORIES.iter().enumerate() {
            // Identity data (names, emails) only sometimes.
            if *category == "identity" && rng.below(2) == 0 {
                continue;
            }
            let (granted_by, method) = if under_13 {
                (
                    guardian.to_owned(),
                    *rng.pick(&["signed-form", "video-call", "payment-card-check"]),
                )
            } else {
                (id.clone(), "school-record")
            };
            let withdrawn = !(demo && l < 2) && rng.below(40) == 0;
            rows.insert(
                "consents",
                &[
                    "id",
                    "tenant_id",
                    "learner_id",
                    "data_category",
                    "recipient_client_id",
                    "granted_by",
                    "verification_method",
                    "granted_at_ms",
                    "withdrawn_at_ms",
                    "policy_version",
                ],
                vec![
                    text(format!("{id}-cns{k}")),
                    text(tenant),
                    text(id.clone()),
                    text(*category),
                    SqlValue::Null,
                    text(granted_by),
                    text(method),
                    int(now.saturating_sub(120 * DAY_MS)),
                    if withdrawn {
                        int(now.saturating_sub(5 * DAY_MS))
                    } else {
                        SqlValue::Null
                    },
                    text(POLICY),
                ],
            );
        }
    }
}
