//! The core's port traits, implemented over the component's WIT imports.

use learner_core::ports::{
    self as core, AuditEntry, AuditError, AuditRecord, FetchError, KvEntry, KvError,
    OutboundRequest, OutboundResponse, QueryResult, SqlError, SqlValue, Statement,
};

use crate::learner_dna::app::{audit, config, fetch, key_value, sql};
use crate::wasi::clocks::{monotonic_clock, wall_clock};
use crate::wasi::random::random;

/// The host as seen from inside the component: every port is a WIT import.
pub struct WitHost;

/// `key-value` import.
pub struct WitKeyValue;
/// `sql` import.
pub struct WitSql;
/// `audit` import.
pub struct WitAudit;
/// `config` import.
pub struct WitConfig;
/// `fetch` import.
pub struct WitFetch;
/// `wasi:clocks`.
pub struct WasiClock;
/// `wasi:random`.
pub struct WasiRandom;

impl core::Host for WitHost {
    type KeyValue = WitKeyValue;
    type Sql = WitSql;
    type Audit = WitAudit;
    type Config = WitConfig;
    type Fetch = WitFetch;
    type Clock = WasiClock;
    type Random = WasiRandom;

    fn key_value(&self) -> &WitKeyValue {
        &WitKeyValue
    }
    fn sql(&self) -> &WitSql {
        &WitSql
    }
    fn audit(&self) -> &WitAudit {
        &WitAudit
    }
    fn config(&self) -> &WitConfig {
        &WitConfig
    }
    fn fetch(&self) -> &WitFetch {
        &WitFetch
    }
    fn clock(&self) -> &WasiClock {
        &WasiClock
    }
    fn random(&self) -> &WasiRandom {
        &WasiRandom
    }
}

fn kv_error(error: key_value::KvError) -> KvError {
    match error {
        key_value::KvError::InvalidArgument(m) => KvError::InvalidArgument(m),
        key_value::KvError::Conflict(current) => KvError::Conflict(current),
        key_value::KvError::Backend(m) => KvError::Backend(m),
    }
}

fn kv_entry(entry: key_value::Entry) -> KvEntry {
    KvEntry {
        value: entry.value,
        version: entry.version,
    }
}

impl core::KeyValue for WitKeyValue {
    async fn get(&self, key: &str) -> Result<Option<KvEntry>, KvError> {
        key_value::get(key)
            .map(|e| e.map(kv_entry))
            .map_err(kv_error)
    }
    async fn put(&self, key: &str, value: &[u8], ttl_ms: Option<u64>) -> Result<u64, KvError> {
        key_value::put(key, value, ttl_ms).map_err(kv_error)
    }
    async fn compare_and_swap(
        &self,
        key: &str,
        expected_version: Option<u64>,
        value: &[u8],
        ttl_ms: Option<u64>,
    ) -> Result<u64, KvError> {
        key_value::compare_and_swap(key, expected_version, value, ttl_ms).map_err(kv_error)
    }
    async fn take(&self, key: &str) -> Result<Option<KvEntry>, KvError> {
        key_value::take(key)
            .map(|e| e.map(kv_entry))
            .map_err(kv_error)
    }
    async fn delete(&self, key: &str) -> Result<bool, KvError> {
        key_value::delete(key).map_err(kv_error)
    }
    async fn wait(&self, key: &str, timeout_ms: u32) -> Result<Option<KvEntry>, KvError> {
        key_value::wait(key, timeout_ms)
            .map(|e| e.map(kv_entry))
            .map_err(kv_error)
    }
}

fn to_wit_value(value: &SqlValue) -> sql::Value {
    match value {
        SqlValue::Null => sql::Value::Null,
        SqlValue::Integer(i) => sql::Value::Integer(*i),
        SqlValue::Real(r) => sql::Value::Real(*r),
        SqlValue::Text(t) => sql::Value::Text(t.clone()),
        SqlValue::Blob(b) => sql::Value::Blob(b.clone()),
    }
}

fn from_wit_value(value: sql::Value) -> SqlValue {
    match value {
        sql::Value::Null => SqlValue::Null,
        sql::Value::Integer(i) => SqlValue::Integer(i),
        sql::Value::Real(r) => SqlValue::Real(r),
        sql::Value::Text(t) => SqlValue::Text(t),
        sql::Value::Blob(b) => SqlValue::Blob(b),
    }
}

fn to_wit_statement(statement: &Statement) -> sql::Statement {
    sql::Statement {
        sql: statement.sql.clone(),
        params: statement.params.iter().map(to_wit_value).collect(),
    }
}

fn from_wit_result(result: sql::QueryResult) -> QueryResult {
    QueryResult {
        columns: result.columns,
        rows: result
            .rows
            .into_iter()
            .map(|row| row.into_iter().map(from_wit_value).collect())
            .collect(),
        rows_affected: result.rows_affected,
        last_insert_rowid: result.last_insert_rowid,
    }
}

fn sql_error(error: sql::SqlError) -> SqlError {
    match error {
        sql::SqlError::Statement(m) => SqlError::Statement(m),
        sql::SqlError::Backend(m) => SqlError::Backend(m),
    }
}

impl core::Sql for WitSql {
    async fn execute(&self, statement: &Statement) -> Result<QueryResult, SqlError> {
        sql::execute(&to_wit_statement(statement))
            .map(from_wit_result)
            .map_err(sql_error)
    }
    async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>, SqlError> {
        let statements: Vec<_> = statements.iter().map(to_wit_statement).collect();
        sql::batch(&statements)
            .map(|results| results.into_iter().map(from_wit_result).collect())
            .map_err(sql_error)
    }
}

impl core::Audit for WitAudit {
    async fn append(&self, record: &AuditRecord) -> Result<u64, AuditError> {
        audit::append(&audit::AuditRecord {
            at_ms: record.at_ms,
            kind: record.kind.clone(),
            actor: record.actor.clone(),
            outcome: record.outcome.clone(),
            detail_json: record.detail_json.clone(),
        })
        .map_err(AuditError)
    }
    async fn read(&self, after: u64, limit: u32) -> Result<Vec<AuditEntry>, AuditError> {
        let entries = audit::read(after, limit).map_err(AuditError)?;
        Ok(entries
            .into_iter()
            .map(|e| AuditEntry {
                sequence: e.sequence,
                record: AuditRecord {
                    at_ms: e.record.at_ms,
                    kind: e.record.kind,
                    actor: e.record.actor,
                    outcome: e.record.outcome,
                    detail_json: e.record.detail_json,
                },
                prev_hash: e.prev_hash,
                hash: e.hash,
            })
            .collect())
    }
}

impl core::Config for WitConfig {
    fn get(&self, name: &str) -> Option<String> {
        config::get(name)
    }
    fn secret(&self, name: &str) -> Option<String> {
        config::secret(name)
    }
}

impl core::Fetch for WitFetch {
    async fn send(&self, request: &OutboundRequest) -> Result<OutboundResponse, FetchError> {
        let request = fetch::OutboundRequest {
            method: request.method.clone(),
            url: request.url.clone(),
            headers: request.headers.clone(),
            body: request.body.clone(),
            timeout_ms: request.timeout_ms,
            max_response_bytes: request.max_response_bytes,
        };
        fetch::send(&request)
            .map(|r| OutboundResponse {
                status: r.status,
                headers: r.headers,
                body: r.body,
            })
            .map_err(|e| match e {
                fetch::FetchError::Denied(m) => FetchError::Denied(m),
                fetch::FetchError::Timeout => FetchError::Timeout,
                fetch::FetchError::TooLarge => FetchError::TooLarge,
                fetch::FetchError::Transport(m) => FetchError::Transport(m),
            })
    }
}

impl core::Clock for WasiClock {
    fn now_ms(&self) -> u64 {
        let now = wall_clock::now();
        now.seconds * 1_000 + u64::from(now.nanoseconds / 1_000_000)
    }
    fn monotonic_ns(&self) -> u64 {
        monotonic_clock::now()
    }
    async fn sleep_ms(&self, ms: u64) {
        // WIT imports are synchronous: the instance blocks until the time has passed.
        monotonic_clock::subscribe_duration(ms.saturating_mul(1_000_000)).block();
    }
}

impl core::Random for WasiRandom {
    fn fill(&self, buf: &mut [u8]) {
        let bytes = random::get_random_bytes(buf.len() as u64);
        buf.copy_from_slice(&bytes[..buf.len()]);
    }
}
