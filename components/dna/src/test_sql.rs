//! The SQL port over an in-memory SQLite database, for this crate's unit tests.

use std::cell::RefCell;

use learner_core::ports::{QueryResult, Sql, SqlError, SqlValue, Statement};
use rusqlite::types::{Value as Sqlite, ValueRef};

/// The SQL port over an in-memory SQLite database (as the harness has it).
pub struct Memory(RefCell<rusqlite::Connection>);

impl Memory {
    pub fn new() -> Self {
        let conn = rusqlite::Connection::open_in_memory().expect("in-memory database");
        conn.pragma_update(None, "foreign_keys", "ON")
            .expect("pragma");
        Self(RefCell::new(conn))
    }

    /// The single integer `query` answers (a `COUNT(*)`, a `MAX`); panics otherwise.
    pub fn count(&self, query: &str) -> i64 {
        match exec(&self.0.borrow(), &Statement::new(query, Vec::new()))
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

fn exec(conn: &rusqlite::Connection, statement: &Statement) -> Result<QueryResult, SqlError> {
    let refused = |e: rusqlite::Error| SqlError::Statement(e.to_string());
    let mut prepared = conn.prepare(&statement.sql).map_err(refused)?;
    let params: Vec<Sqlite> = statement
        .params
        .iter()
        .map(|p| match p {
            SqlValue::Null => Sqlite::Null,
            SqlValue::Integer(i) => Sqlite::Integer(*i),
            SqlValue::Real(r) => Sqlite::Real(*r),
            SqlValue::Text(t) => Sqlite::Text(t.clone()),
            SqlValue::Blob(b) => Sqlite::Blob(b.clone()),
        })
        .collect();
    let columns = prepared.column_count();
    let mut rows = Vec::new();
    let mut cursor = prepared
        .query(rusqlite::params_from_iter(params))
        .map_err(refused)?;
    while let Some(row) = cursor.next().map_err(refused)? {
        rows.push(
            (0..columns)
                .map(|i| match row.get_ref(i) {
                    Ok(ValueRef::Integer(v)) => SqlValue::Integer(v),
                    Ok(ValueRef::Text(t)) => SqlValue::Text(String::from_utf8_lossy(t).into()),
                    Ok(ValueRef::Real(r)) => SqlValue::Real(r),
                    _ => SqlValue::Null,
                })
                .collect(),
        );
    }
    drop(cursor);
    // As the hosts report it: rows changed by this statement when it wrote.
    let rows_affected = if prepared.readonly() {
        0
    } else {
        conn.changes()
    };
    Ok(QueryResult {
        rows,
        rows_affected,
        ..QueryResult::default()
    })
}

impl Sql for Memory {
    async fn execute(&self, statement: &Statement) -> Result<QueryResult, SqlError> {
        exec(&self.0.borrow(), statement)
    }
    async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>, SqlError> {
        let mut conn = self.0.borrow_mut();
        let tx = conn
            .transaction()
            .map_err(|e| SqlError::Backend(e.to_string()))?;
        let results = statements
            .iter()
            .map(|s| exec(&tx, s))
            .collect::<Result<Vec<_>, _>>()?;
        tx.commit().map_err(|e| SqlError::Backend(e.to_string()))?;
        Ok(results)
    }
}
