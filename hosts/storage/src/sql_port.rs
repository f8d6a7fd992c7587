//! The SQL port (`wit/ports.wit`, interface `sql`) over a SQLite driver: what the
//! harness, the Spin adapter and the Cloudflare worker's `LearnerStore` object serve.

use learner_core::ports::{QueryResult, Sql, SqlError, Statement};

use crate::driver::{Counters, Driver};

/// Runs one statement, reporting the rows it changed and, when it inserted, the last
/// rowid. The counts come from SQLite's connection-wide counter: `changes()` would
/// repeat the previous statement's count after a SELECT.
pub fn execute<C: Counters>(db: &C, statement: &Statement) -> Result<QueryResult, SqlError> {
    let before = db.total_changes()?;
    let rows = db.query(&statement.sql, &statement.params)?;
    let rows_affected = db.total_changes()?.saturating_sub(before);
    Ok(QueryResult {
        columns: rows.columns,
        rows: rows.rows,
        rows_affected,
        // The port's contract: meaningful after an INSERT that added rows.
        last_insert_rowid: if rows_affected > 0 {
            Some(db.last_insert_rowid()?)
        } else {
            None
        },
    })
}

/// The SQL port over a driver's database.
pub struct SqlPort<D>(pub D);

impl<D: Driver> SqlPort<D>
where
    D::Connection: Counters,
{
    /// Runs one statement.
    pub fn execute(&self, statement: &Statement) -> Result<QueryResult, SqlError> {
        self.0.autocommit(|db| execute(db, statement))
    }

    /// Runs statements in order as one transaction: all take effect, or none.
    pub fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>, SqlError> {
        self.0
            .immediate(|db| statements.iter().map(|s| execute(db, s)).collect())
    }
}

impl<D: Driver> Sql for SqlPort<D>
where
    D::Connection: Counters,
{
    async fn execute(&self, statement: &Statement) -> Result<QueryResult, SqlError> {
        SqlPort::execute(self, statement)
    }
    async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>, SqlError> {
        SqlPort::batch(self, statements)
    }
}
