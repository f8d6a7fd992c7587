//! The deterministic synthetic data generator: the same seed gives the same tenants,
//! schools, classes, people, events, derived DNA and consent records, byte for byte,
//! on every host. Ages range over 6–17, so some learners are under 13 — some with
//! verified parental consent on file and some without — as the privacy rules need.
//!
//! Tenant `demo` (when asked for) is the one the built-in sign-in accounts belong to:
//! `demo:teacher` teaches its first class, `demo:student` is in it, `demo:guardian`
//! is the student's parent (and of a younger sibling), `demo:admin` runs the tenant.
//!
//! | module | holds |
//! |---|---|
//! | this one | the run: claiming each tenant, clearing a stopped run's rows, transactions |
//! | `names` | the random sequence and the tables names and subjects are drawn from |
//! | `rows` | the rows to insert, batched into multi-row statements |
//! | `generate` | one tenant: its schools, staff and classes |
//! | `learners` | one learner: guardian, enrollments and consent |
//! | `activity` | one learner's learning events and the DNA derived from them |

// The generator draws u64s and uses them as indices below the lengths they index, and
// as counts far below 2^31: none of its casts can truncate.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

mod activity;
mod generate;
mod learners;
mod names;
mod rows;

use learner_core::ports::{Sql, SqlError, SqlValue, Statement};

use crate::text;
use generate::generate_tenant;
use names::Rng;
#[cfg(test)]
use rows::MAX_PARAMS;
use rows::Rows;

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

/// A day, in milliseconds.
const DAY_MS: u64 = 86_400_000;

/// An integer value for a SQL parameter (saturating at `i64::MAX`).
fn int(n: u64) -> SqlValue {
    SqlValue::Integer(i64::try_from(n).unwrap_or(i64::MAX))
}

/// An ISO date `years` years and `days` days before `now_ms` (no leap-year precision
/// needed: ages are whole years apart from the boundary, which the generator avoids).
fn date_before(now_ms: u64, years: u64, days: u64) -> String {
    let day = (now_ms / DAY_MS).saturating_sub(years * 365 + years / 4 + days);
    crate::dates::civil_from_days(day)
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

/// Claims `tenant` for this run in `seed_runs`, or says who writes it instead.
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

/// For the domain's tests: an in-memory database, migrated, then seeded with the demo
/// tenant and `tenants` more of `learners` learners each; the plan and what it wrote.
#[cfg(test)]
pub(crate) fn seeded_in_memory(
    seed: u64,
    tenants: u32,
    learners: u32,
    now_ms: u64,
) -> (learner_testkit::MemorySql, Plan, Report) {
    use learner_testkit::run;

    let sql = learner_testkit::MemorySql::new();
    run(crate::migrations::migrate(&sql, 0)).expect("migrated");
    let plan = Plan {
        seed,
        tenants,
        learners,
        demo: true,
        now_ms,
    };
    // Foreign keys are on: every reference must resolve.
    let report = run(self::seed(&sql, &plan)).expect("seeded");
    (sql, plan, report)
}

#[cfg(test)]
mod tests;
