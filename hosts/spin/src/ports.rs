//! The key-value, sql, audit and config ports over Spin SQLite and variables.

use learner_core::audit_chain;
use learner_host_sql as host_sql;
use spin_sdk::sqlite3::{Connection, Error as SqliteError, QueryResult as SpinResult, Value};

use crate::Adapter;
use crate::database::{describe, transaction, with};
use crate::exports::learner_dna::app::{audit, config, key_value, sql};

fn now_ms() -> i64 {
    let now = wasi::clocks::wall_clock::now();
    (now.seconds * 1_000 + u64::from(now.nanoseconds / 1_000_000)) as i64
}

impl From<String> for key_value::KvError {
    fn from(message: String) -> Self {
        Self::Backend(message)
    }
}

/// The port's size limits, checked the way every host checks them.
fn check(key: &str, value: Option<&[u8]>) -> Result<(), key_value::KvError> {
    learner_core::ports::check_kv_args(key, value)
        .map_err(|e| key_value::KvError::InvalidArgument(e.to_string()))
}

fn kv_backend(error: SqliteError) -> key_value::KvError {
    key_value::KvError::Backend(describe(&error))
}

fn live_entry(db: &Connection, key: &str) -> Result<Option<key_value::Entry>, key_value::KvError> {
    let result = db
        .execute(
            host_sql::KV_GET_LIVE,
            &[Value::Text(key.into()), Value::Integer(now_ms())],
        )
        .map_err(kv_backend)?;
    Ok(result.rows.into_iter().next().map(|row| {
        let mut values = row.values.into_iter();
        let value = match values.next() {
            Some(Value::Blob(bytes)) => bytes,
            _ => Vec::new(),
        };
        let version = match values.next() {
            Some(Value::Integer(v)) => v as u64,
            _ => 0,
        };
        key_value::Entry { value, version }
    }))
}

fn write(
    db: &Connection,
    key: &str,
    value: &[u8],
    ttl_ms: Option<u64>,
) -> Result<u64, key_value::KvError> {
    let counter = db
        .execute(host_sql::KV_NEXT_VERSION, &[])
        .map_err(kv_backend)?;
    let version = match counter.rows.first().and_then(|r| r.values.first()) {
        Some(Value::Integer(v)) => *v,
        other => {
            return Err(key_value::KvError::Backend(format!(
                "version counter returned {other:?}"
            )));
        }
    };
    let expires = ttl_ms.map_or(Value::Null, |ttl| {
        Value::Integer(now_ms().saturating_add(i64::try_from(ttl).unwrap_or(i64::MAX)))
    });
    db.execute(
        host_sql::KV_UPSERT,
        &[
            Value::Text(key.into()),
            Value::Blob(value.to_vec()),
            Value::Integer(version),
            expires,
        ],
    )
    .map_err(kv_backend)?;
    // Expired rows are invisible already; deleting them here only frees space.
    db.execute(host_sql::KV_PURGE_EXPIRED, &[Value::Integer(now_ms())])
        .map_err(kv_backend)?;
    Ok(version as u64)
}

fn remove(db: &Connection, key: &str) -> Result<(), key_value::KvError> {
    db.execute(host_sql::KV_DELETE, &[Value::Text(key.into())])
        .map(|_| ())
        .map_err(kv_backend)
}

impl key_value::Guest for Adapter {
    fn get(key: String) -> Result<Option<key_value::Entry>, key_value::KvError> {
        check(&key, None)?;
        with(|db| Ok(live_entry(db, &key)))?
    }

    fn put(key: String, value: Vec<u8>, ttl_ms: Option<u64>) -> Result<u64, key_value::KvError> {
        check(&key, Some(&value))?;
        transaction(|db| write(db, &key, &value, ttl_ms))
    }

    fn compare_and_swap(
        key: String,
        expected_version: Option<u64>,
        value: Vec<u8>,
        ttl_ms: Option<u64>,
    ) -> Result<u64, key_value::KvError> {
        check(&key, Some(&value))?;
        transaction(|db| {
            let current = live_entry(db, &key)?.map(|e| e.version);
            if current != expected_version {
                return Err(key_value::KvError::Conflict(current));
            }
            write(db, &key, &value, ttl_ms)
        })
    }

    fn take(key: String) -> Result<Option<key_value::Entry>, key_value::KvError> {
        check(&key, None)?;
        transaction(|db| {
            let entry = live_entry(db, &key)?;
            remove(db, &key)?;
            Ok(entry)
        })
    }

    fn delete(key: String) -> Result<bool, key_value::KvError> {
        check(&key, None)?;
        transaction(|db| {
            let existed = live_entry(db, &key)?.is_some();
            remove(db, &key)?;
            Ok(existed)
        })
    }

    fn wait(key: String, timeout_ms: u32) -> Result<Option<key_value::Entry>, key_value::KvError> {
        check(&key, None)?;
        // Spin SQLite cannot notify: check at short intervals until the deadline.
        let deadline = wasi::clocks::monotonic_clock::now()
            .saturating_add(u64::from(timeout_ms).saturating_mul(1_000_000));
        loop {
            if let Some(entry) = with(|db| Ok(live_entry(db, &key)))?? {
                return Ok(Some(entry));
            }
            if wasi::clocks::monotonic_clock::now() >= deadline {
                return Ok(None);
            }
            wasi::clocks::monotonic_clock::subscribe_duration(WAIT_POLL_NS).block();
        }
    }
}

/// How often `wait` checks the store (20 ms).
const WAIT_POLL_NS: u64 = 20_000_000;

impl From<String> for sql::SqlError {
    fn from(message: String) -> Self {
        Self::Backend(message)
    }
}

/// Spin reports what the database refused as `io(message)`; the other variants are
/// failures of the database itself.
fn sql_error(error: SqliteError) -> sql::SqlError {
    match error {
        SqliteError::Io(message) => sql::SqlError::Statement(message),
        other => sql::SqlError::Backend(describe(&other)),
    }
}

fn to_spin(value: sql::Value) -> Value {
    match value {
        sql::Value::Null => Value::Null,
        sql::Value::Integer(i) => Value::Integer(i),
        sql::Value::Real(r) => Value::Real(r),
        sql::Value::Text(t) => Value::Text(t),
        sql::Value::Blob(b) => Value::Blob(b),
    }
}

fn from_spin(value: Value) -> sql::Value {
    match value {
        Value::Null => sql::Value::Null,
        Value::Integer(i) => sql::Value::Integer(i),
        Value::Real(r) => sql::Value::Real(r),
        Value::Text(t) => sql::Value::Text(t),
        Value::Blob(b) => sql::Value::Blob(b),
    }
}

/// SQLite's count of rows changed on this connection so far. (`changes()` would
/// repeat the previous statement's count after a SELECT.)
fn total_changes(db: &Connection) -> Result<u64, sql::SqlError> {
    let result = db
        .execute("SELECT total_changes()", &[])
        .map_err(sql_error)?;
    match result.rows.first().and_then(|r| r.values.first()) {
        Some(Value::Integer(n)) => Ok(*n as u64),
        other => Err(sql::SqlError::Backend(format!(
            "total_changes() returned {other:?}"
        ))),
    }
}

fn run(db: &Connection, statement: sql::Statement) -> Result<sql::QueryResult, sql::SqlError> {
    let params: Vec<Value> = statement.params.into_iter().map(to_spin).collect();
    let before = total_changes(db)?;
    let SpinResult { columns, rows } = db.execute(&statement.sql, &params).map_err(sql_error)?;
    let rows_affected = total_changes(db)?.saturating_sub(before);
    Ok(sql::QueryResult {
        columns,
        rows: rows
            .into_iter()
            .map(|row| row.values.into_iter().map(from_spin).collect())
            .collect(),
        rows_affected,
        // The port's contract: meaningful after an INSERT that added rows.
        last_insert_rowid: (rows_affected > 0).then(|| db.last_insert_rowid()),
    })
}

impl sql::Guest for Adapter {
    fn execute(statement: sql::Statement) -> Result<sql::QueryResult, sql::SqlError> {
        with(|db| Ok(run(db, statement)))?
    }

    fn batch(statements: Vec<sql::Statement>) -> Result<Vec<sql::QueryResult>, sql::SqlError> {
        transaction(|db| statements.into_iter().map(|s| run(db, s)).collect())
    }
}

fn audit_error(error: SqliteError) -> String {
    describe(&error)
}

impl audit::Guest for Adapter {
    /// Appends at the chain's head inside an immediate transaction, so the head cannot
    /// move between reading it and writing after it.
    fn append(record: audit::AuditRecord) -> Result<u64, String> {
        transaction(|db| {
            let head = db.execute(host_sql::AUDIT_LAST, &[]).map_err(audit_error)?;
            let (last, prev_hash) = match head.rows.first().map(|r| r.values.as_slice()) {
                None => (0, audit_chain::GENESIS.to_owned()),
                Some([Value::Integer(last), Value::Text(hash)]) => (*last, hash.clone()),
                Some(other) => return Err(format!("malformed audit head {other:?}")),
            };
            let sequence = last as u64 + 1;
            let core_record = learner_core::ports::AuditRecord {
                at_ms: record.at_ms,
                kind: record.kind,
                actor: record.actor,
                outcome: record.outcome,
                detail_json: record.detail_json,
            };
            let hash = audit_chain::link(&prev_hash, sequence, &core_record);
            db.execute(
                host_sql::AUDIT_APPEND,
                &[
                    Value::Integer(last + 1),
                    Value::Integer(i64::try_from(core_record.at_ms).unwrap_or(i64::MAX)),
                    Value::Text(core_record.kind),
                    Value::Text(core_record.actor),
                    Value::Text(core_record.outcome),
                    Value::Text(core_record.detail_json),
                    Value::Text(prev_hash),
                    Value::Text(hash),
                ],
            )
            .map_err(audit_error)?;
            Ok(sequence)
        })
    }

    fn read(after: u64, limit: u32) -> Result<Vec<audit::AuditEntry>, String> {
        with(|db| {
            let result = db
                .execute(
                    host_sql::AUDIT_READ,
                    &[
                        Value::Integer(i64::try_from(after).unwrap_or(i64::MAX)),
                        Value::Integer(i64::from(limit)),
                    ],
                )
                .map_err(audit_error)?;
            result
                .rows
                .into_iter()
                .map(|row| match row.values.as_slice() {
                    [
                        Value::Integer(sequence),
                        Value::Integer(at_ms),
                        Value::Text(kind),
                        Value::Text(actor),
                        Value::Text(outcome),
                        Value::Text(detail_json),
                        Value::Text(prev_hash),
                        Value::Text(hash),
                    ] => Ok(audit::AuditEntry {
                        sequence: *sequence as u64,
                        record: audit::AuditRecord {
                            at_ms: *at_ms as u64,
                            kind: kind.clone(),
                            actor: actor.clone(),
                            outcome: outcome.clone(),
                            detail_json: detail_json.clone(),
                        },
                        prev_hash: prev_hash.clone(),
                        hash: hash.clone(),
                    }),
                    other => Err(format!("malformed audit row {other:?}")),
                })
                .collect()
        })
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
