//! Spin's `spin:sqlite/sqlite@3.0.0` and `fermyon:spin/variables@2.0.0`, implemented
//! natively over rusqlite and the manifest's variables.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use wasmtime::component::{HasSelf, Linker, Resource};

use crate::native::open_database;
use learner_core::ports::SqlValue as NativeValue;

use crate::state::RequestState;
use learner_storage::Connection as _;
use learner_storage::native::Conn;

/// The host side of the Spin interfaces the adapter imports, as wasmtime's bindgen
/// generates it.
#[allow(missing_docs, clippy::pedantic)]
mod bindings {
    wasmtime::component::bindgen!({
        world: "spin-imports",
        path: "wit-spin",
        with: {
            "spin:sqlite/sqlite.connection": super::SpinConnection,
        },
    });
}

use bindings::fermyon::spin::variables;
use bindings::spin::sqlite::sqlite;

/// One guest `connection`: its own SQLite connection, so a guest's transaction is
/// isolated from other requests' (as in Spin's in-process SQLite).
pub struct SpinConnection {
    connection: Conn,
}

/// What the Spin interfaces reach: the databases the manifest grants, and the
/// component's variables.
pub struct SpinHost {
    databases: BTreeMap<String, PathBuf>,
    variables: BTreeMap<String, String>,
}

impl SpinHost {
    /// Databases live as `<dir>/<label>.db`.
    pub fn new(
        dir: &Path,
        labels: &[String],
        variables: BTreeMap<String, String>,
    ) -> wasmtime::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let mut databases = BTreeMap::new();
        for label in labels {
            let path = dir.join(format!("{label}.db"));
            // Sets WAL mode (persistent in the file) once, at start.
            open_database(&path)?;
            databases.insert(label.clone(), path);
        }
        Ok(Self {
            databases,
            variables,
        })
    }
}

/// Adds the Spin interfaces to a linker.
pub fn add_to_linker(linker: &mut Linker<RequestState>) -> wasmtime::Result<()> {
    sqlite::add_to_linker::<RequestState, HasSelf<RequestState>>(linker, |s| s)?;
    variables::add_to_linker::<RequestState, HasSelf<RequestState>>(linker, |s| s)?;
    Ok(())
}

fn to_native(value: sqlite::Value) -> NativeValue {
    match value {
        sqlite::Value::Integer(i) => NativeValue::Integer(i),
        sqlite::Value::Real(r) => NativeValue::Real(r),
        sqlite::Value::Text(t) => NativeValue::Text(t),
        sqlite::Value::Blob(b) => NativeValue::Blob(b),
        sqlite::Value::Null => NativeValue::Null,
    }
}

fn from_native(value: NativeValue) -> sqlite::Value {
    match value {
        NativeValue::Integer(i) => sqlite::Value::Integer(i),
        NativeValue::Real(r) => sqlite::Value::Real(r),
        NativeValue::Text(t) => sqlite::Value::Text(t),
        NativeValue::Blob(b) => sqlite::Value::Blob(b),
        NativeValue::Null => sqlite::Value::Null,
    }
}

impl sqlite::Host for RequestState {}

impl sqlite::HostConnection for RequestState {
    fn open(&mut self, database: String) -> Result<Resource<SpinConnection>, sqlite::Error> {
        let Some(spin) = self.spin() else {
            return Err(sqlite::Error::AccessDenied);
        };
        let Some(path) = spin.databases.get(&database) else {
            // Spin refuses labels the manifest does not grant.
            return Err(sqlite::Error::AccessDenied);
        };
        let connection = open_database(path).map_err(|e| sqlite::Error::Io(e.to_string()))?;
        self.table()
            .push(SpinConnection {
                connection: Conn(connection),
            })
            .map_err(|e| sqlite::Error::Io(e.to_string()))
    }

    fn execute(
        &mut self,
        connection: Resource<SpinConnection>,
        statement: String,
        parameters: Vec<sqlite::Value>,
    ) -> Result<sqlite::QueryResult, sqlite::Error> {
        let guest = self
            .table()
            .get(&connection)
            .map_err(|_| sqlite::Error::InvalidConnection)?;
        let params: Vec<NativeValue> = parameters.into_iter().map(to_native).collect();
        // Spin reports every refusal by the database as `io(message)`.
        let outcome = guest
            .connection
            .query(&statement, &params)
            .map_err(|e| sqlite::Error::Io(e.to_string()))?;
        Ok(sqlite::QueryResult {
            columns: outcome.columns,
            rows: outcome
                .rows
                .into_iter()
                .map(|row| sqlite::RowResult {
                    values: row.into_iter().map(from_native).collect(),
                })
                .collect(),
        })
    }

    fn last_insert_rowid(&mut self, connection: Resource<SpinConnection>) -> i64 {
        self.table()
            .get(&connection)
            .map_or(0, |guest| guest.connection.0.last_insert_rowid())
    }

    fn changes(&mut self, connection: Resource<SpinConnection>) -> u64 {
        self.table()
            .get(&connection)
            .map_or(0, |guest| guest.connection.0.changes())
    }

    fn drop(&mut self, connection: Resource<SpinConnection>) -> wasmtime::Result<()> {
        self.table().delete(connection)?;
        Ok(())
    }
}

/// Spin variable names: a lower-case letter, then lower-case letters, digits and
/// single underscores.
fn valid_variable_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.contains("__")
        && !name.ends_with('_')
}

impl variables::Host for RequestState {
    fn get(&mut self, name: String) -> Result<String, variables::Error> {
        if !valid_variable_name(&name) {
            return Err(variables::Error::InvalidName(name));
        }
        self.spin()
            .and_then(|spin| spin.variables.get(&name).cloned())
            .ok_or(variables::Error::Undefined(name))
    }
}

#[cfg(test)]
mod tests {
    use super::valid_variable_name;

    #[test]
    fn variable_names_follow_spin_rules() {
        assert!(valid_variable_name("config_host_name"));
        assert!(!valid_variable_name("Config"));
        assert!(!valid_variable_name("_x"));
        assert!(!valid_variable_name("a__b"));
        assert!(!valid_variable_name("a.b"));
    }
}
