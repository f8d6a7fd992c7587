//! One tenant: its row, schools, staff and classes, then each of its learners. The
//! parts are written in a fixed order, each drawing from the one random sequence, so
//! the same seed gives the same rows.

use learner_core::ports::SqlValue;

use super::names::{CURRICULUM, FAMILY, GIVEN, Rng};
use super::rows::Rows;
use super::{DAY_MS, Plan, Report, int, learners};
use crate::text;

/// What every part of a tenant is written with.
pub(super) struct Tenant<'a> {
    /// The tenant's id.
    pub(super) id: &'a str,
    /// Whether it is tenant `demo`, whose first people are the demo accounts.
    pub(super) demo: bool,
    /// "Now", in milliseconds.
    pub(super) now: u64,
    /// Its schools' ids.
    pub(super) schools: Vec<String>,
    /// Its classes: id and index of the subject area in `CURRICULUM`.
    pub(super) classes: Vec<(String, usize)>,
}

impl Tenant<'_> {
    /// The school the `n`th teacher, class or learner belongs to (round robin).
    pub(super) fn school(&self, n: u64) -> String {
        self.schools[(n % self.schools.len() as u64) as usize].clone()
    }
}

/// Writes tenant `tenant` of `plan` into `rows`, counting what it holds in `report`.
pub(super) fn generate_tenant(
    rng: &mut Rng,
    rows: &mut Rows,
    report: &mut Report,
    tenant: &str,
    plan: &Plan,
) {
    let learners_n = u64::from(plan.learners.max(8));
    let schools_n = learners_n.div_ceil(250).max(1);
    let mut t = Tenant {
        id: tenant,
        demo: tenant == "demo",
        now: plan.now_ms,
        schools: (0..schools_n).map(|s| format!("{tenant}-sch{s}")).collect(),
        classes: Vec::new(),
    };
    write_tenant(rows, &t);
    // Staff: one teacher per two classes, one administrator.
    let classes_n = (learners_n / 20).max(2);
    write_staff(rng, rows, &t, classes_n.div_ceil(2));
    t.classes = write_classes(rng, rows, &t, classes_n);
    // Learners, their guardians, enrollments, consent, events and DNA.
    for l in 0..learners_n {
        learners::generate_learner(rng, rows, report, &t, l);
    }
    report.classes += t.classes.len() as u64;
}

/// The tenant's row and its schools'.
fn write_tenant(rows: &mut Rows, t: &Tenant<'_>) {
    let tenant = t.id;
    rows.insert(
        "tenants",
        &["id", "name", "created_at_ms"],
        vec![
            text(tenant),
            text(if t.demo {
                "Demo District".to_owned()
            } else {
                format!("District {tenant}")
            }),
            int(t.now.saturating_sub(400 * DAY_MS)),
        ],
    );
    for (s, school) in t.schools.iter().enumerate() {
        rows.insert(
            "schools",
            &["id", "tenant_id", "name"],
            vec![
                text(school.clone()),
                text(tenant),
                text(format!("{} School {}", FAMILY[s % FAMILY.len()], s + 1)),
            ],
        );
    }
}

/// `teachers_n` teachers (the demo teacher first in tenant `demo`) and the administrator.
fn write_staff(rng: &mut Rng, rows: &mut Rows, t: &Tenant<'_>, teachers_n: u64) {
    let (tenant, demo) = (t.id, t.demo);
    let staff_columns = [
        "id",
        "tenant_id",
        "school_id",
        "role",
        "display_name",
        "email",
        "subject",
    ];
    for n in 0..teachers_n {
        let id = format!("{tenant}-tch{n}");
        let (name, subject) = if demo && n == 0 {
            ("Ms. Rivera".to_owned(), text("demo:teacher"))
        } else {
            (
                format!("{} {}", rng.pick(&GIVEN), rng.pick(&FAMILY)),
                SqlValue::Null,
            )
        };
        rows.insert(
            "staff",
            &staff_columns,
            vec![
                text(id.clone()),
                text(tenant),
                text(t.school(n)),
                text("teacher"),
                text(name),
                text(format!("{id}@{tenant}.school.example")),
                subject,
            ],
        );
    }
    rows.insert(
        "staff",
        &staff_columns,
        vec![
            text(format!("{tenant}-adm")),
            text(tenant),
            SqlValue::Null,
            text("admin"),
            text(if demo {
                "District Admin"
            } else {
                "Tenant Admin"
            }),
            text(format!("admin@{tenant}.school.example")),
            if demo {
                text("demo:admin")
            } else {
                SqlValue::Null
            },
        ],
    );
}

/// `classes_n` classes, each taught by one teacher (two classes each), over the subject
/// areas in turn; returns each class's id and subject area.
fn write_classes(
    rng: &mut Rng,
    rows: &mut Rows,
    t: &Tenant<'_>,
    classes_n: u64,
) -> Vec<(String, usize)> {
    let tenant = t.id;
    let mut classes: Vec<(String, usize)> = Vec::new();
    for c in 0..classes_n {
        let id = format!("{tenant}-cls{c}");
        let area = (c % CURRICULUM.len() as u64) as usize;
        let grade = 3 + rng.below(9);
        rows.insert(
            "classes",
            &[
                "id",
                "tenant_id",
                "school_id",
                "name",
                "subject_area",
                "grade",
            ],
            vec![
                text(id.clone()),
                text(tenant),
                text(t.school(c)),
                text(format!(
                    "{} {grade}{}",
                    CURRICULUM[area].0,
                    ['A', 'B', 'C'][(c % 3) as usize]
                )),
                text(CURRICULUM[area].0),
                int(grade),
            ],
        );
        rows.insert(
            "class_teachers",
            &["tenant_id", "class_id", "staff_id"],
            vec![
                text(tenant),
                text(id.clone()),
                text(format!("{tenant}-tch{}", c / 2)),
            ],
        );
        classes.push((id, area));
    }
    classes
}
