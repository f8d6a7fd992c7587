//! The learner store made ready by the application itself, on whichever host runs it:
//! the schema brought to this build's version, and — where the operator turned the demo
//! on by setting the `demo-password` secret — the demo tenant the demo accounts belong
//! to. Nothing has to be run by hand before a deployed worker or Spin app can answer.
//!
//! An instance that has found the store ready does not look again (a host may keep one
//! instance for many requests); a host that makes an instance per request pays one
//! query per opened service. The flag is per instance of this code: inside a component
//! that is one store; a native process serving several stores (benches, tests) calls
//! [`prepare`] for each itself.

use std::sync::atomic::{AtomicBool, Ordering};

use learner_core::ports::{Clock, Config, Host, Sql, SqlError, SqlValue, Statement};
use thiserror::Error;

use crate::migrations::{self, LATEST, MigrationError};
use crate::seed::{self, Plan};

/// Whether this instance has found the store ready.
static READY: AtomicBool = AtomicBool::new(false);

/// The demo tenant: the same on every host, so the demo accounts see the same learners.
pub fn demo_plan(now_ms: u64) -> Plan {
    Plan {
        seed: 1,
        tenants: 0,
        learners: 30,
        demo: true,
        now_ms,
    }
}

/// Why the store could not be made ready.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum StoreError {
    /// The schema could not be brought up to date.
    #[error(transparent)]
    Migration(#[from] MigrationError),
    /// The demo tenant could not be written.
    #[error("seeding the demo tenant failed: {0}")]
    Demo(SqlError),
    /// Another instance is writing the demo tenant and has not finished in time.
    #[error("the demo tenant is still being written")]
    DemoBusy,
}

/// How long a request waits for another instance writing the demo tenant, and how
/// often it looks.
const WAIT_MS: u64 = 30_000;
const LOOK_EVERY_MS: u64 = 100;

/// Makes the store ready (see the module's documentation).
pub async fn ready<H: Host>(host: &H) -> Result<(), StoreError> {
    if READY.load(Ordering::Relaxed) {
        return Ok(());
    }
    let demo = host
        .config()
        .secret("demo-password")
        .is_some_and(|password| !password.is_empty());
    prepare(host.sql(), host.clock(), demo).await?;
    READY.store(true, Ordering::Relaxed);
    Ok(())
}

/// Brings `sql` to this build's schema and, when `demo`, adds the demo tenant if it is
/// missing — or, while another instance is writing it, waits for that.
pub async fn prepare<S: Sql, C: Clock>(sql: &S, clock: &C, demo: bool) -> Result<(), StoreError> {
    if is_ready(sql, demo).await {
        return Ok(());
    }
    let now_ms = clock.now_ms();
    match migrations::migrate(sql, now_ms).await {
        // A newer build migrated further (a rolling deploy, a rollback): migrations only
        // add, so this build still finds everything it reads.
        Ok(_) | Err(MigrationError::TooNew(_)) => {}
        Err(error) => return Err(error.into()),
    }
    if !demo {
        return Ok(());
    }
    let written = seed::seed(sql, &demo_plan(now_ms)).await;
    match written {
        Ok(report) if report.busy == 0 => return Ok(()),
        Ok(_) => {}
        // Another instance claiming it at the same moment can make ours fail.
        Err(_) if is_ready(sql, demo).await => return Ok(()),
        Err(error) => return Err(StoreError::Demo(error)),
    }
    // Another instance is writing it: wait until it has.
    let mut waited = 0;
    while waited < WAIT_MS {
        clock.sleep_ms(LOOK_EVERY_MS).await;
        waited += LOOK_EVERY_MS;
        if is_ready(sql, demo).await {
            return Ok(());
        }
    }
    Err(StoreError::DemoBusy)
}

/// One query: the schema is at least at this build's version and, with the demo on,
/// the demo tenant was written whole. Before the first migration the tables are
/// missing and the query fails, which means "not ready".
async fn is_ready<S: Sql>(sql: &S, demo: bool) -> bool {
    let query = if demo {
        "SELECT (SELECT MAX(version) FROM schema_migrations) >= ?, \
                EXISTS (SELECT 1 FROM seed_runs WHERE tenant_id = 'demo' AND completed = 1)"
    } else {
        "SELECT (SELECT MAX(version) FROM schema_migrations) >= ?, 1"
    };
    let answer = sql
        .execute(&Statement::new(query, vec![SqlValue::Integer(LATEST)]))
        .await;
    matches!(
        answer.as_ref().map(|r| r.rows.first().map(Vec::as_slice)),
        Ok(Some([SqlValue::Integer(1), SqlValue::Integer(1)]))
    )
}

#[cfg(test)]
mod tests {
    use learner_core::ports::{Sql, Statement};
    use learner_testkit::{TestClock, run};

    use super::*;
    use learner_testkit::MemorySql as Memory;

    const NOW: u64 = 1_700_000_000_000;

    fn clock() -> TestClock {
        TestClock(NOW.into())
    }

    #[test]
    fn a_fresh_store_gets_the_schema_and_nothing_else_without_the_demo() {
        let sql = Memory::new();
        assert!(!run(is_ready(&sql, false)), "no tables yet");
        run(prepare(&sql, &clock(), false)).expect("prepared");
        assert!(run(is_ready(&sql, false)));
        assert_eq!(
            sql.count("SELECT MAX(version) FROM schema_migrations"),
            LATEST
        );
        assert_eq!(sql.count("SELECT COUNT(*) FROM tenants"), 0);
        assert!(!run(is_ready(&sql, true)), "no demo tenant");
    }

    #[test]
    fn with_the_demo_on_the_demo_tenant_is_added_once() {
        let sql = Memory::new();
        run(prepare(&sql, &clock(), true)).expect("prepared");
        assert!(run(is_ready(&sql, true)));
        let learners = "SELECT COUNT(*) FROM learners WHERE tenant_id = 'demo'";
        assert_eq!(sql.count(learners), 30);
        let events = sql.count("SELECT COUNT(*) FROM learning_events");
        // Again (a store made ready earlier, the demo turned on later, or another
        // instance at the same moment): nothing added.
        run(prepare(&sql, &clock(), true)).expect("prepared again");
        run(seed::seed(&sql, &demo_plan(NOW))).expect("seeded again");
        assert_eq!(sql.count(learners), 30);
        assert_eq!(sql.count("SELECT COUNT(*) FROM learning_events"), events);
    }

    /// What a newer build's migration leaves in the schema's history.
    fn migrated_by_a_newer_build(sql: &Memory) {
        run(sql.execute(&Statement::new(
            "INSERT INTO schema_migrations VALUES (99, 'future', 0)",
            Vec::new(),
        )))
        .expect("a newer build's migration");
    }

    #[test]
    fn a_schema_a_newer_build_migrated_is_ready_for_this_one() {
        let sql = Memory::new();
        run(prepare(&sql, &clock(), true)).expect("prepared");
        migrated_by_a_newer_build(&sql);
        assert!(run(is_ready(&sql, true)));
        // Even one that finds the demo missing still adds it.
        let newer = Memory::new();
        run(prepare(&newer, &clock(), false)).expect("prepared");
        migrated_by_a_newer_build(&newer);
        run(prepare(&newer, &clock(), true)).expect("demo on a newer schema");
        assert!(run(is_ready(&newer, true)));
    }

    #[test]
    fn while_another_instance_writes_the_demo_a_request_waits_for_it() {
        let sql = Memory::new();
        run(prepare(&sql, &clock(), false)).expect("schema");
        // Another instance has just claimed the demo tenant.
        run(sql.execute(&Statement::new(
            "INSERT INTO seed_runs (tenant_id, started_at_ms) VALUES ('demo', ?)",
            vec![SqlValue::Integer(i64::try_from(NOW).unwrap())],
        )))
        .expect("claimed");
        // It never finishes here: the request gives up after the wait, having written
        // nothing itself; test time moves only as the request sleeps.
        let waiting = clock();
        assert_eq!(
            run(prepare(&sql, &waiting, true)),
            Err(StoreError::DemoBusy)
        );
        assert_eq!(waiting.now_ms(), NOW + WAIT_MS);
        assert_eq!(sql.count("SELECT COUNT(*) FROM tenants"), 0);
        // Once the claim is stale, the next request takes it over and writes it.
        let later = TestClock((NOW + seed::STALE_MS).into());
        run(prepare(&sql, &later, true)).expect("taken over");
        assert!(run(is_ready(&sql, true)));
    }

    #[test]
    fn a_store_made_without_the_demo_gets_it_when_the_demo_is_turned_on() {
        let sql = Memory::new();
        run(prepare(&sql, &clock(), false)).expect("prepared");
        run(prepare(&sql, &clock(), true)).expect("demo on");
        assert_eq!(
            sql.count("SELECT COUNT(*) FROM tenants WHERE id = 'demo'"),
            1
        );
    }
}
