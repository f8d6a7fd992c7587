//! Versioned schema migrations, applied through the SQL port: each migration is one
//! transaction that also records its version in `schema_migrations`, so it applies
//! completely or not at all, and exactly once even when instances race to apply it.
//! Migrations only add (tables, columns, indexes, rows), so a build keeps working on a
//! schema a newer build has migrated further — during a rolling deploy or after a
//! rollback.

use learner_core::ports::{Sql, SqlError, SqlValue, Statement, sql_statements};
use thiserror::Error;

/// One migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    /// Its version; versions increase by one from 1.
    pub version: i64,
    /// A short name.
    pub name: &'static str,
    /// The SQL script (statements end with `;` at the end of a line).
    pub script: &'static str,
}

/// Every migration, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "learner_dna",
        script: include_str!("../migrations/0001_learner_dna.sql"),
    },
    Migration {
        version: 2,
        name: "seed_runs",
        script: include_str!("../migrations/0002_seed_runs.sql"),
    },
];

/// The version the schema reaches when every migration is applied.
pub const LATEST: i64 = MIGRATIONS[MIGRATIONS.len() - 1].version;

const CREATE_LEDGER: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (\
     version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms INTEGER NOT NULL)";
const CURRENT_VERSION: &str = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
const RECORD: &str =
    "INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES (?, ?, ?)";

/// Why the schema could not be brought up to date.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum MigrationError {
    /// A migration failed; nothing of it was applied.
    #[error("migration {version} ({name}) failed: {error}")]
    Failed {
        /// Its version.
        version: i64,
        /// Its name.
        name: &'static str,
        /// What the database said.
        error: SqlError,
    },
    /// The database is at a version this build does not know (a newer build ran).
    #[error("the schema is at version {0}, newer than this build's {LATEST}")]
    TooNew(i64),
    /// The SQL port failed.
    #[error("reading the schema version failed: {0}")]
    Sql(SqlError),
}

/// The version the database's schema is at (0: none).
pub async fn current_version<S: Sql>(sql: &S) -> Result<i64, SqlError> {
    sql.execute(&Statement::new(CREATE_LEDGER, Vec::new()))
        .await?;
    let result = sql
        .execute(&Statement::new(CURRENT_VERSION, Vec::new()))
        .await?;
    Ok(match result.rows.first().and_then(|row| row.first()) {
        Some(SqlValue::Integer(version)) => *version,
        _ => 0,
    })
}

/// The tables the database holds, by name.
pub async fn tables<S: Sql>(sql: &S) -> Result<Vec<String>, SqlError> {
    let result = sql
        .execute(&Statement::new(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
            Vec::new(),
        ))
        .await?;
    Ok(result
        .rows
        .into_iter()
        .filter_map(|row| match row.into_iter().next() {
            Some(SqlValue::Text(name)) => Some(name),
            _ => None,
        })
        .collect())
}

/// Applies the migrations the database lacks; the versions applied now.
pub async fn migrate<S: Sql>(sql: &S, now_ms: u64) -> Result<Vec<i64>, MigrationError> {
    let start = current_version(sql).await.map_err(MigrationError::Sql)?;
    if start > LATEST {
        return Err(MigrationError::TooNew(start));
    }
    let mut applied = Vec::new();
    for migration in MIGRATIONS.iter().filter(|m| m.version > start) {
        let mut statements: Vec<Statement> = sql_statements(migration.script)
            .map(|text| Statement::new(text, Vec::new()))
            .collect();
        statements.push(Statement::new(
            RECORD,
            vec![
                SqlValue::Integer(migration.version),
                SqlValue::Text(migration.name.into()),
                SqlValue::Integer(i64::try_from(now_ms).unwrap_or(i64::MAX)),
            ],
        ));
        match sql.batch(&statements).await {
            Ok(_) => applied.push(migration.version),
            Err(error) => {
                // Another instance may have applied it meanwhile (its ledger row or
                // its tables then refuse ours): fine if the version is there now.
                let version = current_version(sql).await.map_err(MigrationError::Sql)?;
                if version < migration.version {
                    return Err(MigrationError::Failed {
                        version: migration.version,
                        name: migration.name,
                        error,
                    });
                }
            }
        }
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use learner_testkit::run;

    use super::*;
    use learner_testkit::MemorySql as Memory;

    #[test]
    fn migrations_apply_once_in_order() {
        let sql = Memory::new();
        assert_eq!(run(current_version(&sql)), Ok(0));
        assert_eq!(run(migrate(&sql, 1_000)), Ok(vec![1, 2]));
        assert_eq!(run(current_version(&sql)), Ok(LATEST));
        for table in [
            "class_teachers",
            "classes",
            "concept_mastery",
            "consents",
            "dna_traits",
            "enrollments",
            "guardians",
            "guardianships",
            "learners",
            "learning_events",
            "schema_migrations",
            "schools",
            "seed_runs",
            "staff",
            "struggles",
            "tenants",
        ] {
            assert!(
                run(tables(&sql))
                    .expect("listed")
                    .iter()
                    .any(|t| t == table),
                "{table}"
            );
        }
        // Applying again changes nothing.
        assert_eq!(run(migrate(&sql, 2_000)), Ok(vec![]));
    }

    #[test]
    fn every_statement_of_every_migration_is_valid_sqlite() {
        for (index, migration) in MIGRATIONS.iter().enumerate() {
            // Each on the schema the migrations before it leave.
            let sql = Memory::new();
            for earlier in &MIGRATIONS[..index] {
                for statement in sql_statements(earlier.script) {
                    run(sql.execute(&Statement::new(statement, Vec::new()))).expect("earlier");
                }
            }
            for statement in sql_statements(migration.script) {
                run(sql.execute(&Statement::new(statement.clone(), Vec::new())))
                    .unwrap_or_else(|e| panic!("{statement}: {e}"));
            }
        }
        assert!(
            MIGRATIONS
                .windows(2)
                .all(|w| w[1].version == w[0].version + 1)
        );
        assert_eq!(MIGRATIONS[0].version, 1);
    }

    #[test]
    fn a_failing_migration_leaves_nothing_behind_and_a_newer_schema_is_refused() {
        let sql = Memory::new();
        // A table of the migration exists already: the migration fails as a whole.
        run(sql.execute(&Statement::new(
            "CREATE TABLE tenants (x INTEGER)",
            Vec::new(),
        )))
        .expect("created");
        match run(migrate(&sql, 1)) {
            Err(MigrationError::Failed { version: 1, .. }) => {}
            other => panic!("{other:?}"),
        }
        assert_eq!(run(current_version(&sql)), Ok(0));
        assert!(
            !run(tables(&sql))
                .expect("listed")
                .iter()
                .any(|t| t == "schools")
        );
        let newer = Memory::new();
        run(current_version(&newer)).expect("ledger");
        run(newer.execute(&Statement::new(
            "INSERT INTO schema_migrations VALUES (99, 'future', 0)",
            Vec::new(),
        )))
        .expect("inserted");
        assert_eq!(run(migrate(&newer, 1)), Err(MigrationError::TooNew(99)));
    }
}
