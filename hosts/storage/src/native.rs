//! The native driver (rusqlite, feature `rusqlite`): SQLite files for the harness,
//! and in-memory databases for tests, so native code runs the same SQL port the
//! harness serves. One connection per database behind a mutex; immediate transactions
//! take SQLite's write lock, which also covers other processes.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use crate::driver::{Connection, Counters, Driver, Rows};
use learner_core::ports::{SqlError, SqlValue};
use rusqlite::types::{Value as SqliteValue, ValueRef};
use rusqlite::{ErrorCode, OpenFlags};

/// Opens a SQLite file the way every harness store wants it: WAL, a busy timeout,
/// foreign keys on.
pub fn open_database(path: &Path) -> rusqlite::Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

/// Maps a rusqlite error to the port's: what the database refused is a statement
/// error; a failure of the database itself is a backend error.
#[allow(clippy::needless_pass_by_value)] // A `map_err` callback.
pub fn sql_error(error: rusqlite::Error) -> SqlError {
    let backend = matches!(
        error.sqlite_error_code(),
        Some(
            ErrorCode::DatabaseBusy
                | ErrorCode::DatabaseLocked
                | ErrorCode::SystemIoFailure
                | ErrorCode::DiskFull
                | ErrorCode::CannotOpen
                | ErrorCode::DatabaseCorrupt
                | ErrorCode::OutOfMemory
                | ErrorCode::FileLockingProtocolFailed
                | ErrorCode::NotADatabase
        )
    );
    if backend {
        SqlError::Backend(error.to_string())
    } else {
        SqlError::Statement(error.to_string())
    }
}

crate::native_values!(SqliteValue {
    Null,
    Integer,
    Real,
    Text,
    Blob
});

/// A column as the port's value (text and blobs copied out of SQLite's buffer).
fn from_sqlite(value: ValueRef<'_>) -> SqlValue {
    match value {
        ValueRef::Null => SqlValue::Null,
        ValueRef::Integer(i) => SqlValue::Integer(i),
        ValueRef::Real(r) => SqlValue::Real(r),
        ValueRef::Text(t) => SqlValue::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => SqlValue::Blob(b.to_vec()),
    }
}

/// One rusqlite connection, as the storage semantics see it.
pub struct Conn(pub rusqlite::Connection);

impl Connection for Conn {
    fn query(&self, sql: &str, params: &[SqlValue]) -> Result<Rows, SqlError> {
        // Prepared afresh: measured on the Learner DNA read (`just bench`, dna_fetch),
        // rusqlite's statement cache costs more than it saves (about 15%), whatever its
        // capacity.
        let mut statement = self.0.prepare(sql).map_err(sql_error)?;
        let columns: Vec<String> = statement.column_names().map(str::to_owned).collect();
        let mut rows = statement
            .query(rusqlite::params_from_iter(params.iter().map(to_native)))
            .map_err(sql_error)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sql_error)? {
            // Sized up front: collecting through a `Result` would grow the row by
            // doubling, and rows are the hot path of every read.
            let mut values = Vec::with_capacity(columns.len());
            for index in 0..columns.len() {
                values.push(from_sqlite(row.get_ref(index).map_err(sql_error)?));
            }
            out.push(values);
        }
        Ok(Rows { columns, rows: out })
    }
}

impl Counters for Conn {
    fn total_changes(&self) -> Result<u64, SqlError> {
        Ok(self.0.total_changes())
    }
    fn last_insert_rowid(&self) -> Result<i64, SqlError> {
        Ok(self.0.last_insert_rowid())
    }
}

/// A SQLite database file.
pub struct SqliteFile {
    conn: Mutex<Conn>,
}

impl SqliteFile {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> rusqlite::Result<Self> {
        Ok(Self::from(open_database(path)?))
    }

    /// A new, empty database in memory (foreign keys on, as in files).
    pub fn open_in_memory() -> rusqlite::Result<Self> {
        let conn = rusqlite::Connection::open_in_memory()?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        Ok(Self::from(conn))
    }

    /// Opens an existing database for reading only: a missing file is an error rather
    /// than a new empty database.
    pub fn open_read_only(path: &Path) -> rusqlite::Result<Self> {
        let conn = rusqlite::Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        Ok(Self::from(conn))
    }

    fn lock(&self) -> Result<MutexGuard<'_, Conn>, SqlError> {
        self.conn
            .lock()
            .map_err(|_| SqlError::Backend("the database connection is poisoned".into()))
    }
}

impl From<rusqlite::Connection> for SqliteFile {
    fn from(conn: rusqlite::Connection) -> Self {
        Self {
            conn: Mutex::new(Conn(conn)),
        }
    }
}

impl Driver for SqliteFile {
    type Connection = Conn;

    fn autocommit<T, E: From<SqlError>>(
        &self,
        work: impl FnOnce(&Conn) -> Result<T, E>,
    ) -> Result<T, E> {
        work(&*self.lock()?)
    }
}
