//! The SQL port: the shared statement and batch semantics (`learner_storage::sql_port`)
//! over a SQLite file.

use std::path::Path;

use learner_storage::sql_port::SqlPort;

use learner_storage::native::SqliteFile;

/// A SQLite database behind the SQL port.
pub type SqliteSql = SqlPort<SqliteFile>;

/// Opens (creating if needed) the database at `path`.
pub fn open(path: &Path) -> wasmtime::Result<SqliteSql> {
    Ok(SqlPort(SqliteFile::open(path)?))
}

#[cfg(test)]
mod tests {
    use learner_core::ports::{SqlError, SqlValue as Value, Statement};

    use super::*;

    fn db() -> (tempfile::TempDir, SqliteSql) {
        super::super::in_temp_dir("app.db", open)
    }

    fn run(db: &SqliteSql, sql: &str) -> Result<learner_core::ports::QueryResult, SqlError> {
        db.execute(&Statement::new(sql, Vec::new()))
    }

    #[test]
    fn select_reports_no_changes_and_no_rowid() {
        // The rowid of an insert into another table must not leak into a select.
        let (_dir, db) = db();
        run(&db, "CREATE TABLE t (x)").unwrap();
        let insert = run(&db, "INSERT INTO t VALUES (1)").unwrap();
        assert_eq!(
            (insert.rows_affected, insert.last_insert_rowid),
            (1, Some(1))
        );
        let select = run(&db, "SELECT x FROM t").unwrap();
        assert_eq!(select.columns, vec!["x".to_string()]);
        assert_eq!(select.rows, vec![vec![Value::Integer(1)]]);
        assert_eq!((select.rows_affected, select.last_insert_rowid), (0, None));
    }

    #[test]
    fn syntax_and_constraint_errors_are_statement_errors() {
        let (_dir, db) = db();
        assert!(matches!(run(&db, "SELEC 1"), Err(SqlError::Statement(_))));
        run(&db, "CREATE TABLE u (x UNIQUE)").unwrap();
        run(&db, "INSERT INTO u VALUES (1)").unwrap();
        assert!(matches!(
            run(&db, "INSERT INTO u VALUES (1)"),
            Err(SqlError::Statement(_))
        ));
    }
}
