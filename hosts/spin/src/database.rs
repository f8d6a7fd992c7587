//! The instance's one Spin SQLite connection, the schema the ports need, and
//! transactions.

use std::cell::OnceCell;

use spin_sdk::sqlite3::{Connection, Error};

/// The key-value table and its version counter (a key deleted and written again never
/// reuses a version).
const KV_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB NOT NULL, version INTEGER NOT NULL, expires_at_ms INTEGER) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS kv_expiry ON kv (expires_at_ms) WHERE expires_at_ms IS NOT NULL;
CREATE TABLE IF NOT EXISTS kv_version (id INTEGER PRIMARY KEY CHECK (id = 1), last INTEGER NOT NULL);
INSERT OR IGNORE INTO kv_version (id, last) VALUES (1, 0);
";

/// The audit table, shared with every host.
const AUDIT_SCHEMA: &str = include_str!("../../sql/audit_log.sql");

thread_local! {
    static CONNECTION: OnceCell<Result<Connection, String>> = const { OnceCell::new() };
}

/// Splits a schema script into statements: each ends with `;` at the end of a line
/// (so the `;` inside a trigger body, followed by ` END`, does not split).
fn statements(script: &str) -> impl Iterator<Item = String> + '_ {
    script
        .split(";\n")
        .map(|s| {
            s.lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .filter(|s| !s.trim().is_empty())
}

fn open() -> Result<Connection, String> {
    let connection = Connection::open_default().map_err(|e| describe(&e))?;
    for statement in statements(KV_SCHEMA).chain(statements(AUDIT_SCHEMA)) {
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

#[cfg(test)]
mod tests {
    use super::statements;

    #[test]
    fn trigger_bodies_stay_whole() {
        let parts: Vec<String> = statements(super::AUDIT_SCHEMA).collect();
        assert_eq!(parts.len(), 3, "{parts:#?}");
        assert!(parts[1].contains("RAISE(ABORT") && parts[1].trim_end().ends_with("END"));
    }
}
