//! Native implementations of the application's ports, and their WIT bindings.
//!
//! Each submodule is a plain Rust store over rusqlite or hyper, testable on its own;
//! this module binds them to the WIT interfaces the gateway component imports.

pub mod audit;
pub mod config;
pub mod fetch;
pub mod kv;
pub mod sql;

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use learner_core::ports::{
    AuditRecord, FetchError, KvEntry, KvError, OutboundRequest, QueryResult, SqlError, SqlValue,
    Statement,
};
use rusqlite::Connection;

use crate::state::RequestState;

wasmtime::component::bindgen!({
    world: "gateway",
    path: "../../wit",
    imports: {
        "learner-dna:app/fetch.send": async,
        "learner-dna:app/key-value.wait": async,
        default: tracing,
    },
    with: {
        "wasi:http": wasmtime_wasi_http::p2::bindings::http,
        "wasi:io": wasmtime_wasi::p2::bindings::io,
        "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
        "wasi:random": wasmtime_wasi::p2::bindings::random,
    },
});

use learner_dna::app::{audit as wit_audit, config as wit_config, fetch as wit_fetch};
use learner_dna::app::{key_value as wit_kv, sql as wit_sql};

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Opens a SQLite file the way every harness store wants it: WAL, a busy timeout,
/// foreign keys on.
pub fn open_database(path: &Path) -> wasmtime::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

/// Adds the application ports (not WASI) to a linker.
pub fn add_to_linker(
    linker: &mut wasmtime::component::Linker<RequestState>,
) -> wasmtime::Result<()> {
    type Data = wasmtime::component::HasSelf<RequestState>;
    wit_kv::add_to_linker::<RequestState, Data>(linker, |s| s)?;
    wit_sql::add_to_linker::<RequestState, Data>(linker, |s| s)?;
    wit_audit::add_to_linker::<RequestState, Data>(linker, |s| s)?;
    wit_config::add_to_linker::<RequestState, Data>(linker, |s| s)?;
    wit_fetch::add_to_linker::<RequestState, Data>(linker, |s| s)?;
    Ok(())
}

/// How often `wait` checks the store.
const WAIT_POLL: std::time::Duration = std::time::Duration::from_millis(20);

fn wit_kv_error(error: KvError) -> wit_kv::KvError {
    match error {
        KvError::InvalidArgument(m) => wit_kv::KvError::InvalidArgument(m),
        KvError::Conflict(v) => wit_kv::KvError::Conflict(v),
        KvError::Backend(m) => wit_kv::KvError::Backend(m),
    }
}

fn wit_entry(entry: KvEntry) -> wit_kv::Entry {
    wit_kv::Entry {
        value: entry.value,
        version: entry.version,
    }
}

impl wit_kv::Host for RequestState {
    fn get(&mut self, key: String) -> Result<Option<wit_kv::Entry>, wit_kv::KvError> {
        self.ports()
            .kv
            .get(&key)
            .map(|e| e.map(wit_entry))
            .map_err(wit_kv_error)
    }
    fn put(
        &mut self,
        key: String,
        value: Vec<u8>,
        ttl_ms: Option<u64>,
    ) -> Result<u64, wit_kv::KvError> {
        self.ports()
            .kv
            .put(&key, &value, ttl_ms)
            .map_err(wit_kv_error)
    }
    fn compare_and_swap(
        &mut self,
        key: String,
        expected_version: Option<u64>,
        value: Vec<u8>,
        ttl_ms: Option<u64>,
    ) -> Result<u64, wit_kv::KvError> {
        self.ports()
            .kv
            .compare_and_swap(&key, expected_version, &value, ttl_ms)
            .map_err(wit_kv_error)
    }
    fn take(&mut self, key: String) -> Result<Option<wit_kv::Entry>, wit_kv::KvError> {
        self.ports()
            .kv
            .take(&key)
            .map(|e| e.map(wit_entry))
            .map_err(wit_kv_error)
    }
    fn delete(&mut self, key: String) -> Result<bool, wit_kv::KvError> {
        self.ports().kv.delete(&key).map_err(wit_kv_error)
    }
    async fn wait(
        &mut self,
        key: String,
        timeout_ms: u32,
    ) -> Result<Option<wit_kv::Entry>, wit_kv::KvError> {
        // SQLite cannot notify: check every few milliseconds without holding a thread.
        let deadline =
            tokio::time::Instant::now() + std::time::Duration::from_millis(u64::from(timeout_ms));
        loop {
            if let Some(entry) = self.ports().kv.get(&key).map_err(wit_kv_error)? {
                return Ok(Some(wit_entry(entry)));
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(WAIT_POLL).await;
        }
    }
}

fn from_wit_value(value: wit_sql::Value) -> SqlValue {
    match value {
        wit_sql::Value::Null => SqlValue::Null,
        wit_sql::Value::Integer(i) => SqlValue::Integer(i),
        wit_sql::Value::Real(r) => SqlValue::Real(r),
        wit_sql::Value::Text(t) => SqlValue::Text(t),
        wit_sql::Value::Blob(b) => SqlValue::Blob(b),
    }
}

fn to_wit_value(value: SqlValue) -> wit_sql::Value {
    match value {
        SqlValue::Null => wit_sql::Value::Null,
        SqlValue::Integer(i) => wit_sql::Value::Integer(i),
        SqlValue::Real(r) => wit_sql::Value::Real(r),
        SqlValue::Text(t) => wit_sql::Value::Text(t),
        SqlValue::Blob(b) => wit_sql::Value::Blob(b),
    }
}

fn from_wit_statement(statement: wit_sql::Statement) -> Statement {
    Statement::new(
        statement.sql,
        statement.params.into_iter().map(from_wit_value).collect(),
    )
}

fn to_wit_result(result: QueryResult) -> wit_sql::QueryResult {
    wit_sql::QueryResult {
        columns: result.columns,
        rows: result
            .rows
            .into_iter()
            .map(|row| row.into_iter().map(to_wit_value).collect())
            .collect(),
        rows_affected: result.rows_affected,
        last_insert_rowid: result.last_insert_rowid,
    }
}

fn wit_sql_error(error: SqlError) -> wit_sql::SqlError {
    match error {
        SqlError::Statement(m) => wit_sql::SqlError::Statement(m),
        SqlError::Backend(m) => wit_sql::SqlError::Backend(m),
    }
}

impl wit_sql::Host for RequestState {
    fn execute(
        &mut self,
        statement: wit_sql::Statement,
    ) -> Result<wit_sql::QueryResult, wit_sql::SqlError> {
        let statement = from_wit_statement(statement);
        self.ports()
            .sql
            .execute(&statement.sql, &statement.params)
            .map(to_wit_result)
            .map_err(wit_sql_error)
    }
    fn batch(
        &mut self,
        statements: Vec<wit_sql::Statement>,
    ) -> Result<Vec<wit_sql::QueryResult>, wit_sql::SqlError> {
        let statements: Vec<Statement> = statements.into_iter().map(from_wit_statement).collect();
        self.ports()
            .sql
            .batch(&statements)
            .map(|results| results.into_iter().map(to_wit_result).collect())
            .map_err(wit_sql_error)
    }
}

fn from_wit_record(record: wit_audit::AuditRecord) -> AuditRecord {
    AuditRecord {
        at_ms: record.at_ms,
        kind: record.kind,
        actor: record.actor,
        outcome: record.outcome,
        detail_json: record.detail_json,
    }
}

fn to_wit_record(record: AuditRecord) -> wit_audit::AuditRecord {
    wit_audit::AuditRecord {
        at_ms: record.at_ms,
        kind: record.kind,
        actor: record.actor,
        outcome: record.outcome,
        detail_json: record.detail_json,
    }
}

impl wit_audit::Host for RequestState {
    fn append(&mut self, record: wit_audit::AuditRecord) -> Result<u64, String> {
        self.ports().audit.append(&from_wit_record(record))
    }
    fn read(&mut self, after: u64, limit: u32) -> Result<Vec<wit_audit::AuditEntry>, String> {
        let entries = self.ports().audit.read(after, limit)?;
        Ok(entries
            .into_iter()
            .map(|entry| wit_audit::AuditEntry {
                sequence: entry.sequence,
                record: to_wit_record(entry.record),
                prev_hash: entry.prev_hash,
                hash: entry.hash,
            })
            .collect())
    }
}

impl wit_config::Host for RequestState {
    fn get(&mut self, name: String) -> Option<String> {
        self.ports().config.get(&name)
    }
    fn secret(&mut self, name: String) -> Option<String> {
        self.ports().config.secret(&name)
    }
}

impl wit_fetch::Host for RequestState {
    async fn send(
        &mut self,
        request: wit_fetch::OutboundRequest,
    ) -> Result<wit_fetch::OutboundResponse, wit_fetch::FetchError> {
        let ports = self.ports_arc();
        let request = OutboundRequest {
            method: request.method,
            url: request.url,
            headers: request.headers,
            body: request.body,
            timeout_ms: request.timeout_ms,
            max_response_bytes: request.max_response_bytes,
        };
        ports
            .fetch
            .send(request)
            .await
            .map(|r| wit_fetch::OutboundResponse {
                status: r.status,
                headers: r.headers,
                body: r.body,
            })
            .map_err(|e| match e {
                FetchError::Denied(m) => wit_fetch::FetchError::Denied(m),
                FetchError::Timeout => wit_fetch::FetchError::Timeout,
                FetchError::TooLarge => wit_fetch::FetchError::TooLarge,
                FetchError::Transport(m) => wit_fetch::FetchError::Transport(m),
            })
    }
}
