//! The Spin driver for the shared storage semantics (`learner-storage`): the
//! instance's one connection to Spin SQLite's `default` database, opened with the
//! ports' schema on first use, and immediate transactions on it.

use std::cell::OnceCell;

use learner_core::ports::{SqlError, SqlValue};
use learner_storage::{Connection, Counters, Driver, Rows, schema};
use spin_sdk::sqlite3::{self, Error, Value};

thread_local! {
    static CONNECTION: OnceCell<Result<SpinDb, SqlError>> = const { OnceCell::new() };
}

/// A Spin SQLite connection.
pub struct SpinDb(sqlite3::Connection);

/// The component's `default` database.
pub struct Database;

/// Spin reports what the database refused as `io(message)`; the other cases are
/// failures of the database itself.
fn sql_error(error: Error) -> SqlError {
    match error {
        Error::Io(message) => SqlError::Statement(message),
        Error::NoSuchDatabase => SqlError::Backend("no such database".into()),
        Error::AccessDenied => SqlError::Backend("access to the database denied".into()),
        Error::InvalidConnection => SqlError::Backend("invalid connection".into()),
        Error::DatabaseFull => SqlError::Backend("database full".into()),
    }
}

fn open() -> Result<SpinDb, SqlError> {
    let db = SpinDb(sqlite3::Connection::open_default().map_err(sql_error)?);
    for statement in
        schema::statements(schema::KV_SCHEMA).chain(schema::statements(schema::AUDIT_SCHEMA))
    {
        db.query(&statement, &[])
            .map_err(|e| SqlError::Backend(format!("applying the schema: {e}")))?;
    }
    Ok(db)
}

learner_storage::native_values!(Value {
    Null,
    Integer,
    Real,
    Text,
    Blob
});

impl Connection for SpinDb {
    fn query(&self, sql: &str, params: &[SqlValue]) -> Result<Rows, SqlError> {
        let params: Vec<Value> = params.iter().map(to_native).collect();
        let result = self.0.execute(sql, &params).map_err(sql_error)?;
        Ok(Rows {
            columns: result.columns,
            rows: result
                .rows
                .into_iter()
                .map(|row| row.values.into_iter().map(from_native).collect())
                .collect(),
        })
    }
}

impl Counters for SpinDb {
    fn total_changes(&self) -> Result<u64, SqlError> {
        let found = self.query("SELECT total_changes()", &[])?;
        match found.rows.first().and_then(|row| row.first()) {
            Some(SqlValue::Integer(n)) => Ok(u64::try_from(*n).unwrap_or_default()),
            other => Err(SqlError::Backend(format!(
                "total_changes() returned {other:?}"
            ))),
        }
    }
    fn last_insert_rowid(&self) -> Result<i64, SqlError> {
        Ok(self.0.last_insert_rowid())
    }
}

impl Driver for Database {
    type Connection = SpinDb;

    fn autocommit<T, E: From<SqlError>>(
        &self,
        work: impl FnOnce(&SpinDb) -> Result<T, E>,
    ) -> Result<T, E> {
        CONNECTION.with(|cell| match cell.get_or_init(open) {
            Ok(db) => work(db),
            Err(error) => Err(error.clone().into()),
        })
    }
}
