//! The SQL port over an in-memory SQLite database: `learner-storage`'s SQL port over
//! its native driver, as the harness serves it.

use learner_core::ports::{QueryResult, Sql, SqlError, SqlValue, Statement};
use learner_storage::native::SqliteFile;
use learner_storage::sql_port::SqlPort;

/// A fresh in-memory database behind the SQL port.
pub struct MemorySql(SqlPort<SqliteFile>);

impl Default for MemorySql {
    fn default() -> Self {
        Self::new()
    }
}

impl MemorySql {
    /// An empty database (foreign keys on).
    pub fn new() -> Self {
        Self(SqlPort(
            SqliteFile::open_in_memory().expect("an in-memory database opens"),
        ))
    }

    /// The single integer `query` answers (a `COUNT(*)`, a `MAX`); panics otherwise.
    pub fn count(&self, query: &str) -> i64 {
        match self
            .0
            .execute(&Statement::new(query, Vec::new()))
            .expect("counted")
            .rows
            .first()
            .and_then(|row| row.first())
        {
            Some(SqlValue::Integer(n)) => *n,
            other => panic!("{query}: {other:?}"),
        }
    }
}

impl Sql for MemorySql {
    async fn execute(&self, statement: &Statement) -> Result<QueryResult, SqlError> {
        self.0.execute(statement)
    }
    async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>, SqlError> {
        self.0.batch(statements)
    }
}
