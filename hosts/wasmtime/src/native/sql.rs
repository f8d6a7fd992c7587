//! The SQL port over SQLite: one statement, or a batch in one transaction.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::types::{Value as SqliteValue, ValueRef};
use rusqlite::{Connection, ErrorCode};

use learner_core::ports::{QueryResult, SqlError, SqlValue as Value, Statement};

use super::open_database;

/// Maps a rusqlite error to the port's: what the database refused is a statement
/// error; a failure of the database itself is a backend error.
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

fn to_sqlite(value: &Value) -> SqliteValue {
    match value {
        Value::Null => SqliteValue::Null,
        Value::Integer(i) => SqliteValue::Integer(*i),
        Value::Real(r) => SqliteValue::Real(*r),
        Value::Text(t) => SqliteValue::Text(t.clone()),
        Value::Blob(b) => SqliteValue::Blob(b.clone()),
    }
}

fn from_sqlite(value: ValueRef<'_>) -> Value {
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Integer(i),
        ValueRef::Real(r) => Value::Real(r),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

/// Runs one statement on `conn`.
pub fn run(conn: &Connection, sql: &str, params: &[Value]) -> Result<QueryResult, SqlError> {
    let changes_before = conn.total_changes();
    let mut statement = conn.prepare(sql).map_err(sql_error)?;
    let columns: Vec<String> = statement.column_names().map(str::to_owned).collect();
    let mut rows_out = Vec::new();
    {
        let mut rows = statement
            .query(rusqlite::params_from_iter(params.iter().map(to_sqlite)))
            .map_err(sql_error)?;
        while let Some(row) = rows.next().map_err(sql_error)? {
            let mut values = Vec::with_capacity(columns.len());
            for index in 0..columns.len() {
                values.push(from_sqlite(row.get_ref(index).map_err(sql_error)?));
            }
            rows_out.push(values);
        }
    }
    let rows_affected = conn.total_changes().saturating_sub(changes_before);
    Ok(QueryResult {
        columns,
        rows: rows_out,
        rows_affected,
        // The port's contract: meaningful after an INSERT that added rows.
        last_insert_rowid: (rows_affected > 0).then(|| conn.last_insert_rowid()),
    })
}

/// A SQLite database behind the SQL port.
pub struct SqliteSql {
    conn: Mutex<Connection>,
}

impl SqliteSql {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> wasmtime::Result<Self> {
        Ok(Self {
            conn: Mutex::new(open_database(path)?),
        })
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Connection>, SqlError> {
        self.conn
            .lock()
            .map_err(|_| SqlError::Backend("sql connection poisoned".into()))
    }

    /// Runs one statement.
    pub fn execute(&self, sql: &str, params: &[Value]) -> Result<QueryResult, SqlError> {
        let conn = self.lock()?;
        run(&conn, sql, params)
    }

    /// Runs statements in one transaction: all or nothing.
    pub fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>, SqlError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction().map_err(sql_error)?;
        let mut outcomes = Vec::with_capacity(statements.len());
        for statement in statements {
            // On error `tx` is dropped, which rolls back.
            outcomes.push(run(&tx, &statement.sql, &statement.params)?);
        }
        tx.commit().map_err(sql_error)?;
        Ok(outcomes)
    }
}

/// The core's SQL port over the same database, for host commands that run core logic
/// natively (`learner-mcp seed`).
impl learner_core::ports::Sql for SqliteSql {
    async fn execute(&self, statement: &Statement) -> Result<QueryResult, SqlError> {
        SqliteSql::execute(self, &statement.sql, &statement.params)
    }
    async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>, SqlError> {
        SqliteSql::batch(self, statements)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> (tempfile::TempDir, SqliteSql) {
        let dir = tempfile::tempdir().expect("temp dir");
        let sql = SqliteSql::open(&dir.path().join("app.db")).expect("open");
        (dir, sql)
    }

    #[test]
    fn select_reports_no_changes_and_no_rowid() {
        // The rowid of an insert into another table must not leak into a select.
        let (_dir, db) = db();
        db.execute("CREATE TABLE t (x)", &[]).unwrap();
        let insert = db.execute("INSERT INTO t VALUES (1)", &[]).unwrap();
        assert_eq!(
            (insert.rows_affected, insert.last_insert_rowid),
            (1, Some(1))
        );
        let select = db.execute("SELECT x FROM t", &[]).unwrap();
        assert_eq!(select.columns, vec!["x".to_string()]);
        assert_eq!(select.rows, vec![vec![Value::Integer(1)]]);
        assert_eq!((select.rows_affected, select.last_insert_rowid), (0, None));
    }

    #[test]
    fn syntax_and_constraint_errors_are_statement_errors() {
        let (_dir, db) = db();
        assert!(matches!(
            db.execute("SELEC 1", &[]),
            Err(SqlError::Statement(_))
        ));
        db.execute("CREATE TABLE u (x UNIQUE)", &[]).unwrap();
        db.execute("INSERT INTO u VALUES (1)", &[]).unwrap();
        assert!(matches!(
            db.execute("INSERT INTO u VALUES (1)", &[]),
            Err(SqlError::Statement(_))
        ));
    }
}
