//! The instance's one Spin SQLite connection, the schema the ports need, and
//! transactions.

use std::cell::OnceCell;

use learner_host_sql as sql;
use spin_sdk::sqlite3::{Connection, Error};

thread_local! {
    static CONNECTION: OnceCell<Result<Connection, String>> = const { OnceCell::new() };
}

fn open() -> Result<Connection, String> {
    let connection = Connection::open_default().map_err(|e| describe(&e))?;
    for statement in sql::statements(sql::KV_SCHEMA).chain(sql::statements(sql::AUDIT_SCHEMA)) {
        connection
            .execute(&statement, &[])
            .map_err(|e| format!("applying schema: {}", describe(&e)))?;
    }
    Ok(connection)
}

/// Runs `f` with the instance's connection (opened, with its schema, on first use).
pub fn with<T>(f: impl FnOnce(&Connection) -> Result<T, String>) -> Result<T, String> {
    CONNECTION.with(|cell| match cell.get_or_init(open) {
        Ok(connection) => f(connection),
        Err(error) => Err(error.clone()),
    })
}

/// Runs `f` inside `BEGIN IMMEDIATE … COMMIT`: the write lock is taken first, so the
/// reads inside see no concurrent writer (this is what makes CAS and take atomic).
/// Rolls back if `f` fails.
pub fn transaction<T, E: From<String>>(
    f: impl FnOnce(&Connection) -> Result<T, E>,
) -> Result<T, E> {
    let outcome = with(|connection| {
        connection
            .execute("BEGIN IMMEDIATE", &[])
            .map_err(|e| describe(&e))?;
        let outcome = f(connection);
        let end = if outcome.is_ok() {
            "COMMIT"
        } else {
            "ROLLBACK"
        };
        connection.execute(end, &[]).map_err(|e| describe(&e))?;
        Ok(outcome)
    });
    outcome.map_err(E::from)?
}

/// A readable message for a Spin SQLite error.
pub fn describe(error: &Error) -> String {
    match error {
        Error::NoSuchDatabase => "no such database".into(),
        Error::AccessDenied => "access to the database denied".into(),
        Error::InvalidConnection => "invalid connection".into(),
        Error::DatabaseFull => "database full".into(),
        Error::Io(message) => message.clone(),
    }
}
