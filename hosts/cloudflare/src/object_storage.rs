//! A Durable Object's own SQLite storage as a `learner_storage` driver: what the
//! key-value objects (`kv_object`) and the audit object (`audit_object`) run the shared
//! store code over.
//!
//! The driver's "immediate transaction": a Durable Object runs one event at a time,
//! and every operation the objects serve is a run of synchronous `exec` calls with no
//! `await` between them, so no other request interleaves and the implicit transaction
//! commits them together. (An operation that fails part-way is not rolled back; the
//! shared code's operations decide before they write, so a write cut short leaves at
//! most a version number skipped or expired rows freed, and an audit append writes
//! once.)

use learner_core::ports::{SqlError, SqlValue};
use learner_storage::driver::Counters;
use learner_storage::{Connection, Driver, Rows};
use worker::{SqlStorage, SqlStorageValue};

/// An object's SQLite storage, as the shared store's driver.
pub struct ObjectStorage(pub SqlStorage);

learner_storage::native_values!(
    SqlStorageValue { Null, Integer, Float, String, Blob },
    Boolean(b) => SqlValue::Integer(i64::from(b)),
);

impl Connection for ObjectStorage {
    fn query(&self, sql: &str, params: &[SqlValue]) -> std::result::Result<Rows, SqlError> {
        let failed = |e: worker::Error| SqlError::Statement(e.to_string());
        let cursor = self
            .0
            .exec(sql, params.iter().map(to_native).collect::<Vec<_>>())
            .map_err(failed)?;
        let columns = cursor.column_names();
        let rows = cursor
            .raw()
            .map(|row| row.map(|values| values.into_iter().map(from_native).collect()))
            .collect::<worker::Result<_>>()
            .map_err(failed)?;
        Ok(Rows { columns, rows })
    }
}

impl Driver for ObjectStorage {
    type Connection = Self;

    // Atomic by the object's one-event-at-a-time execution (see the module docs).
    const ATOMIC_WITHOUT_TRANSACTION: bool = true;

    fn autocommit<T, E: From<SqlError>>(
        &self,
        work: impl FnOnce(&Self) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        work(self)
    }
}

impl ObjectStorage {
    /// The one integer `query` answers.
    fn integer(&self, query: &str) -> Result<i64, SqlError> {
        match self.query(query, &[])?.rows.first().map(Vec::as_slice) {
            Some([SqlValue::Integer(n)]) => Ok(*n),
            other => Err(SqlError::Statement(format!("{query} answered {other:?}"))),
        }
    }
}

// SQLite's own counters, read with its functions (the object's storage keeps one
// connection for the object's life).
impl Counters for ObjectStorage {
    fn total_changes(&self) -> Result<u64, SqlError> {
        Ok(u64::try_from(self.integer("SELECT total_changes()")?).unwrap_or(0))
    }
    fn last_insert_rowid(&self) -> Result<i64, SqlError> {
        self.integer("SELECT last_insert_rowid()")
    }
}
