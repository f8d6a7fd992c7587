//! The key-value, sql, audit and config ports: the shared storage semantics
//! (`learner-storage`) over Spin SQLite, and Spin variables.

use learner_core::executor::block_on;
use learner_storage::kv::KvStore;
use learner_storage::kv_protocol::{KvAnswer, KvOp};
use learner_storage::sql_port::SqlPort;

use crate::Adapter;
use crate::bindings::exports::learner_dna::app::{audit, config, fetch, key_value, sql};
use crate::database::Database;

learner_core::wit_conversions!(key_value, sql, audit, fetch);

fn now_ms() -> u64 {
    let now = wasi::clocks::wall_clock::now();
    now.seconds * 1_000 + u64::from(now.nanoseconds / 1_000_000)
}

fn kv() -> KvStore<Database> {
    KvStore::new(Database, now_ms as fn() -> u64)
}

/// The ports' futures complete at once here (Spin SQLite answers synchronously); one
/// that did not is a bug, reported rather than spun on.
fn at_once<T, E: From<String>>(future: impl Future<Output = Result<T, E>>) -> Result<T, E> {
    block_on(future).unwrap_or_else(|| Err(E::from("a port future did not complete".into())))
}

impl From<String> for key_value::KvError {
    fn from(message: String) -> Self {
        Self::Backend(message)
    }
}

type KvResult<T> = Result<T, key_value::KvError>;

fn apply(op: KvOp) -> KvAnswer {
    kv().apply(op)
}

impl key_value::Guest for Adapter {
    learner_storage::wit_key_value_functions!(key_value, [], apply);

    fn wait(key: String, timeout_ms: u32) -> KvResult<Option<key_value::Entry>> {
        // Spin SQLite cannot notify; an instance serves one request, so it may block
        // between looks.
        let sleep = |ms: u64| {
            wasi::clocks::monotonic_clock::subscribe_duration(ms.saturating_mul(1_000_000)).block();
            std::future::ready(())
        };
        let store = kv();
        let found = at_once(async {
            let found = store.wait_polling(&key, timeout_ms, sleep).await;
            found.map_err(key_value::KvError::from)
        })?;
        Ok(found.map(Into::into))
    }
}

impl sql::Guest for Adapter {
    fn execute(statement: sql::Statement) -> Result<sql::QueryResult, sql::SqlError> {
        Ok(SqlPort(Database).execute(&statement.into())?.into())
    }

    fn batch(statements: Vec<sql::Statement>) -> Result<Vec<sql::QueryResult>, sql::SqlError> {
        let statements: Vec<_> = statements.into_iter().map(Into::into).collect();
        let results = SqlPort(Database).batch(&statements)?;
        Ok(results.into_iter().map(Into::into).collect())
    }
}

impl audit::Guest for Adapter {
    fn append(record: audit::AuditRecord) -> Result<u64, String> {
        let (db, record) = (SqlPort(Database), record.into());
        at_once(async {
            learner_storage::audit::append(&db, &record)
                .await
                .map_err(|e| e.0)
        })
    }

    fn read(after: u64, limit: u32) -> Result<Vec<audit::AuditEntry>, String> {
        let db = SqlPort(Database);
        let entries = at_once(async {
            learner_storage::audit::read(&db, after, limit)
                .await
                .map_err(|e| e.0)
        })?;
        Ok(entries.into_iter().map(Into::into).collect())
    }
}

/// Spin variable names are lower-case letters, digits and `_`: `host.name` is
/// `host_name`.
fn variable_name(prefix: &str, name: &str) -> String {
    let mangled: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{prefix}_{mangled}")
}

/// A variable's value; undefined and empty are both "not set".
fn variable(prefix: &str, name: &str) -> Option<String> {
    spin_sdk::variables::get(&variable_name(prefix, name))
        .ok()
        .filter(|value| !value.is_empty())
}

impl config::Guest for Adapter {
    fn get(name: String) -> Option<String> {
        variable("config", &name)
    }

    fn secret(name: String) -> Option<String> {
        variable("secret", &name)
    }
}
