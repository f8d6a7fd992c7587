//! The deterministic synthetic data generator: the same seed gives the same tenants,
//! schools, classes, people, events, derived DNA and consent records, byte for byte,
//! on every host. Ages range over 6–17, so some learners are under 13 — some with
//! verified parental consent on file and some without — as the privacy rules need.
//!
//! Tenant `demo` (when asked for) is the one the built-in sign-in accounts belong to:
//! `demo:teacher` teaches its first class, `demo:student` is in it, `demo:guardian`
//! is the student's parent (and of a younger sibling), `demo:admin` runs the tenant.

// The generator draws u64s and uses them as indices below the lengths they index, and
// as counts far below 2^31: none of its casts can truncate.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

use learner_core::ports::{Sql, SqlError, SqlValue, Statement};

use crate::derive::{self, Event};
use crate::text;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The generator's seed: the same seed, the same data.
    pub seed: u64,
    /// Tenants besides the demo tenant.
    pub tenants: u32,
    /// Learners per tenant.
    pub learners: u32,
    /// Whether to include tenant `demo`, linked to the demo accounts.
    pub demo: bool,
    /// "Now": events lie in the eight weeks before it.
    pub now_ms: u64,
}

/// What was generated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Tenants.
    pub tenants: u64,
    /// Classes.
    pub classes: u64,
    /// Learners.
    pub learners: u64,
    /// Learners under 13.
    pub under_13: u64,
    /// Learners under 13 with verified parental consent on file.
    pub under_13_with_consent: u64,
    /// Learning events.
    pub events: u64,
    /// Tenants another run is writing at this moment (left to it).
    pub busy: u64,
}

/// SplitMix64: a small, well-mixed deterministic sequence (not for secrets).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in 0..n.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// Uniform in 0..1.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const GIVEN: [&str; 16] = [
    "Ava", "Ben", "Chloe", "Dev", "Ema", "Finn", "Gia", "Hugo", "Ines", "Jon", "Kai", "Lena",
    "Milo", "Nia", "Omar", "Pia",
];
const FAMILY: [&str; 12] = [
    "Adams", "Baker", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Hansen", "Ito", "Jensen",
    "Kowalski", "Novak",
];
/// A concept and two misconceptions learners commonly show on it.
type Concept = (&'static str, [&'static str; 2]);

/// Subject areas, their concepts, and each concept's common misconceptions.
const CURRICULUM: [(&str, [Concept; 3]); 3] = [
    (
        "math",
        [
            (
                "fractions",
                ["adds-denominators", "larger-denominator-is-larger"],
            ),
            ("negative-numbers", ["sign-error", "subtracts-magnitudes"]),
            (
                "linear-equations",
                ["moves-term-without-sign-change", "divides-one-side"],
            ),
        ],
    ),
    (
        "reading",
        [
            ("inference", ["literal-only", "ignores-context"]),
            ("main-idea", ["picks-detail", "picks-first-sentence"]),
            ("vocabulary", ["confuses-homophones", "root-misread"]),
        ],
    ),
    (
        "science",
        [
            ("photosynthesis", ["plants-eat-soil", "light-as-food"]),
            ("forces", ["motion-needs-force", "heavier-falls-faster"]),
            (
                "states-of-matter",
                ["mass-lost-in-melting", "gas-has-no-mass"],
            ),
        ],
    ),
];
const CATEGORIES: [&str; 5] = [
    "profile",
    "behavioral",
    "assessment",
    "struggles",
    "identity",
];
const POLICY: &str = "2026-01";
const DAY_MS: u64 = 86_400_000;

fn int(n: u64) -> SqlValue {
    SqlValue::Integer(i64::try_from(n).unwrap_or(i64::MAX))
}

/// An ISO date `years` years and `days` days before `now_ms` (no leap-year precision
/// needed: ages are whole years apart from the boundary, which the generator avoids).
fn date_before(now_ms: u64, years: u64, days: u64) -> String {
    let day = (now_ms / DAY_MS).saturating_sub(years * 365 + years / 4 + days);
    crate::dates::civil_from_days(day)
}

/// Rows to insert, batched.
struct Rows {
    statements: Vec<Statement>,
    /// `table(columns)` of the last statement, which more rows of the same table join.
    last: String,
}

/// Most parameters one statement carries (Cloudflare D1 allows 100).
const MAX_PARAMS: usize = 100;

impl Rows {
    fn new() -> Self {
        Self {
            statements: Vec::new(),
            last: String::new(),
        }
    }

    /// Adds a row; consecutive rows of one table share a multi-row `INSERT` while its
    /// parameters fit, so a tenant takes about a tenth of the statements.
    fn insert(&mut self, table: &str, columns: &[&str], values: Vec<SqlValue>) {
        let target = format!("{table} ({})", columns.join(", "));
        let tuple = format!("({})", vec!["?"; columns.len()].join(", "));
        if let Some(last) = self.statements.last_mut()
            && self.last == target
            && last.params.len() + values.len() <= MAX_PARAMS
        {
            last.sql.push_str(", ");
            last.sql.push_str(&tuple);
            last.params.extend(values);
            return;
        }
        self.statements.push(Statement::new(
            format!("INSERT INTO {target} VALUES {tuple}"),
            values,
        ));
        self.last = target;
    }

    /// Takes the statements written so far.
    fn take(&mut self) -> Vec<Statement> {
        self.last.clear();
        std::mem::take(&mut self.statements)
    }
}

/// Generates the plan's data and writes it through the SQL port (the schema must be
/// migrated), in transactions of at most `BATCH` statements. Each tenant is claimed in
/// `seed_runs` first: one written whole is left as it is, one another run is writing
/// is left to it (counted in `busy`), one whose run stopped more than `STALE_MS` ago
/// is cleared and written again. Completion is recorded with the last rows.
pub async fn seed<S: Sql>(sql: &S, plan: &Plan) -> Result<Report, SqlError> {
    let mut report = Report::default();
    let mut rows = Rows::new();
    let mut tenant_ids: Vec<String> = Vec::new();
    if plan.demo {
        tenant_ids.push("demo".into());
    }
    tenant_ids.extend((1..=plan.tenants).map(|n| format!("t{n:03}")));
    for (index, tenant) in tenant_ids.iter().enumerate() {
        match claim(sql, tenant, plan.now_ms).await? {
            Claim::Written => continue,
            Claim::Busy => {
                report.busy += 1;
                continue;
            }
            // Whatever a stopped run left goes first.
            Claim::Mine => sql.batch(&clear_tenant(tenant)).await?,
        };
        report.tenants += 1;
        let mut rng = Rng(plan.seed ^ (index as u64).wrapping_mul(0xA24B_AED4_963E_E407));
        generate_tenant(&mut rng, &mut rows, &mut report, tenant, plan);
        let mut statements = rows.take();
        statements.push(Statement::new(
            // Only while the claim is still this run's.
            "UPDATE seed_runs SET completed = 1 WHERE tenant_id = ?2 AND started_at_ms = ?1",
            vec![int(plan.now_ms), text(tenant.clone())],
        ));
        for chunk in statements.chunks(BATCH) {
            sql.batch(chunk).await?;
        }
    }
    Ok(report)
}

/// How long a claimed tenant may stay unfinished before another run takes it over.
pub const STALE_MS: u64 = 5 * 60 * 1_000;

/// Who writes a tenant.
enum Claim {
    /// This run: the tenant was unclaimed, or its run stopped long ago.
    Mine,
    /// Another run, now.
    Busy,
    /// Nobody: it was written whole.
    Written,
}

async fn claim<S: Sql>(sql: &S, tenant: &str, now_ms: u64) -> Result<Claim, SqlError> {
    let claimed = sql
        .execute(&Statement::new(
            "INSERT INTO seed_runs (tenant_id, started_at_ms) VALUES (?1, ?2) \
             ON CONFLICT (tenant_id) DO UPDATE SET started_at_ms = excluded.started_at_ms \
             WHERE seed_runs.completed = 0 AND seed_runs.started_at_ms <= ?3",
            vec![
                text(tenant.to_owned()),
                int(now_ms),
                int(now_ms.saturating_sub(STALE_MS)),
            ],
        ))
        .await?;
    if claimed.rows_affected == 1 {
        return Ok(Claim::Mine);
    }
    let state = sql
        .execute(&Statement::new(
            "SELECT completed FROM seed_runs WHERE tenant_id = ?",
            vec![text(tenant.to_owned())],
        ))
        .await?;
    Ok(match state.rows.first().map(Vec::as_slice) {
        Some([SqlValue::Integer(1)]) => Claim::Written,
        _ => Claim::Busy,
    })
}

/// Every table holding a tenant's rows, children before parents (foreign keys).
const TENANT_TABLES: &[&str] = &[
    "consents",
    "struggles",
    "concept_mastery",
    "dna_traits",
    "learning_events",
    "guardianships",
    "guardians",
    "enrollments",
    "learners",
    "class_teachers",
    "classes",
    "staff",
    "schools",
];

/// Statements deleting every row of `tenant` (one transaction).
fn clear_tenant(tenant: &str) -> Vec<Statement> {
    TENANT_TABLES
        .iter()
        .map(|table| format!("DELETE FROM {table} WHERE tenant_id = ?"))
        .chain(std::iter::once(
            "DELETE FROM tenants WHERE id = ?".to_owned(),
        ))
        .map(|query| Statement::new(query, vec![text(tenant.to_owned())]))
        .collect()
}

/// Statements per transaction.
const BATCH: usize = 100;

fn generate_tenant(rng: &mut Rng, rows: &mut Rows, report: &mut Report, tenant: &str, plan: &Plan) {
    let demo = tenant == "demo";
    let now = plan.now_ms;
    let learners_n = u64::from(plan.learners.max(8));
    rows.insert(
        "tenants",
        &["id", "name", "created_at_ms"],
        vec![
            text(tenant),
            text(if demo {
                "Demo District".to_owned()
            } else {
                format!("District {tenant}")
            }),
            int(now.saturating_sub(400 * DAY_MS)),
        ],
    );
    let schools_n = learners_n.div_ceil(250).max(1);
    let schools: Vec<String> = (0..schools_n).map(|s| format!("{tenant}-sch{s}")).collect();
    for (s, school) in schools.iter().enumerate() {
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
    // Staff: one teacher per two classes, one administrator.
    let classes_n = (learners_n / 20).max(2);
    let teachers_n = classes_n.div_ceil(2);
    let staff_columns = [
        "id",
        "tenant_id",
        "school_id",
        "role",
        "display_name",
        "email",
        "subject",
    ];
    for t in 0..teachers_n {
        let id = format!("{tenant}-tch{t}");
        let (name, subject) = if demo && t == 0 {
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
                text(schools[(t % schools_n) as usize].clone()),
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
    // Classes, each taught by one teacher.
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
                text(schools[(c % schools_n) as usize].clone()),
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
    // Learners, their guardians, enrollments, consent, events and DNA.
    for l in 0..learners_n {
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
                text(schools[(l % schools_n) as usize].clone()),
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
        report.learners += 1;
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
                text(id.clone()),
                text("parent"),
            ],
        );
        // Two or three classes; the demo learners and the first eight sit in class 0,
        // so the demo teacher's class is big enough for aggregates.
        let mut enrolled: Vec<usize> = Vec::new();
        if l < 8 {
            enrolled.push(0);
        }
        while enrolled.len() < 2 + rng.below(2) as usize {
            let c = rng.below(classes.len() as u64) as usize;
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
                    text(classes[*c].0.clone()),
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
        // Consent: under 13, verified parental consent for about two in three (the demo
        // sibling has none); 13 and over, consent of the learner and the school record.
        let under_13 = age < 13;
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
                        guardian.clone(),
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
        let events = generate_events(rng, &classes, &enrolled, now);
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
                    text(id.clone()),
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
        write_dna(rows, tenant, &id, &derive::derive(&plain), now);
    }
    report.classes += classes.len() as u64;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dates::civil_from_days;

    #[test]
    fn a_seeded_database_holds_consistent_rows() {
        use learner_testkit::run;

        let sql = learner_testkit::MemorySql::new();
        run(crate::migrations::migrate(&sql, 0)).expect("migrated");
        let plan = Plan {
            seed: 1,
            tenants: 2,
            learners: 25,
            demo: true,
            now_ms: 1_790_000_000_000,
        };
        // Foreign keys are on: every reference must resolve.
        let report = run(seed(&sql, &plan)).expect("seeded");
        assert_eq!((report.tenants, report.learners), (3, 75));
        // Again: nothing new, nothing duplicated.
        assert_eq!(
            run(seed(&sql, &plan)).expect("seeded again"),
            Report::default()
        );
        let count = |query: &str| sql.count(query);
        assert_eq!(count("SELECT COUNT(*) FROM learners"), 75);
        assert_eq!(
            count("SELECT COUNT(*) FROM learning_events") as u64,
            report.events
        );
        assert_eq!(
            count("SELECT COUNT(*) FROM staff WHERE subject = 'demo:teacher'"),
            1
        );
        // The demo teacher's class has at least five active learners, the demo student
        // among them; the demo guardian has two children, one of them under 13
        // without consent.
        assert!(
            count(
                "SELECT COUNT(*) FROM enrollments WHERE class_id = 'demo-cls0' AND ends_on IS NULL"
            ) >= 5
        );
        assert_eq!(
            count(
                "SELECT COUNT(*) FROM guardianships g JOIN guardians p ON p.id = g.guardian_id WHERE p.subject = 'demo:guardian'"
            ),
            2
        );
        assert_eq!(
            count("SELECT COUNT(*) FROM consents WHERE learner_id = 'demo-lrn00001'"),
            0
        );
        assert_eq!(count("SELECT COUNT(*) FROM dna_traits"), 75 * 5);
    }

    #[test]
    fn a_tenant_cut_short_is_written_again_whole() {
        use learner_testkit::run;

        let sql = learner_testkit::MemorySql::new();
        run(crate::migrations::migrate(&sql, 0)).expect("migrated");
        let plan = Plan {
            seed: 1,
            tenants: 0,
            learners: 12,
            demo: true,
            now_ms: 1_790_000_000_000,
        };
        let whole = run(seed(&sql, &plan)).expect("seeded");
        let count = |query: &str| sql.count(query);
        assert_eq!(
            count("SELECT COUNT(*) FROM seed_runs WHERE tenant_id = 'demo'"),
            1
        );
        // As if the run had stopped after its first transactions: later rows and the
        // record of completion missing.
        for query in [
            "DELETE FROM seed_runs",
            "DELETE FROM consents",
            "DELETE FROM struggles",
            "DELETE FROM learning_events WHERE rowid % 2 = 0",
        ] {
            run(sql.execute(&Statement::new(query, Vec::new()))).expect("cut");
        }
        let again = run(seed(&sql, &plan)).expect("written again");
        assert_eq!(again, whole);
        assert_eq!(
            count("SELECT COUNT(*) FROM learning_events") as u64,
            whole.events
        );
        assert!(count("SELECT COUNT(*) FROM consents") > 0);
        assert_eq!(
            count("SELECT COUNT(*) FROM seed_runs WHERE tenant_id = 'demo'"),
            1
        );
    }

    #[test]
    fn clearing_a_tenant_reaches_every_table_but_the_ledgers() {
        use learner_testkit::run;

        let sql = learner_testkit::MemorySql::new();
        run(crate::migrations::migrate(&sql, 0)).expect("migrated");
        let mut cleared: Vec<&str> = TENANT_TABLES.to_vec();
        cleared.extend(["tenants", "seed_runs", "schema_migrations"]);
        cleared.sort_unstable();
        assert_eq!(
            run(crate::migrations::tables(&sql)).expect("tables"),
            cleared
        );
    }

    #[test]
    fn dates_are_civil_dates() {
        assert_eq!(civil_from_days(0), "1970-01-01");
        assert_eq!(civil_from_days(19_723), "2024-01-01");
        assert_eq!(civil_from_days(20_513), "2026-03-01");
    }

    #[test]
    fn the_same_seed_gives_the_same_rows() {
        let plan = Plan {
            seed: 7,
            tenants: 1,
            learners: 30,
            demo: true,
            now_ms: 1_790_000_000_000,
        };
        let generate = |plan: &Plan| {
            let mut rows = Rows::new();
            let mut report = Report::default();
            let mut rng = Rng(plan.seed);
            generate_tenant(&mut rng, &mut rows, &mut report, "demo", plan);
            (rows.take(), report)
        };
        let (a, report) = generate(&plan);
        let (b, _) = generate(&plan);
        assert_eq!(a, b);
        let (c, _) = generate(&Plan {
            seed: 8,
            ..plan.clone()
        });
        assert_ne!(a, c);
        assert_eq!(report.learners, 30);
        // Rows share statements, none past the parameter limit.
        assert!(a.iter().all(|s| s.params.len() <= MAX_PARAMS));
        assert!(
            a.len() * 4 < usize::try_from(report.events).unwrap_or(0),
            "{}",
            a.len()
        );
        assert!(
            report.under_13 > 0 && report.under_13_with_consent < report.under_13,
            "{report:?}"
        );
        assert!(report.events > 30 * 6, "{report:?}");
    }
}
