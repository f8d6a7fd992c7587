//! The ports: everything the core needs from the world, as small traits.
//!
//! Each trait mirrors one interface of `wit/ports.wit` (or a WASI interface for time and
//! randomness); the WIT doc comments are the normative contract, including which
//! operations must be linearizable. Hosts implement these traits — the gateway
//! component over the WIT imports, the Cloudflare worker over its bindings.
//!
//! The futures are not `Send`: on Cloudflare they await JavaScript promises, and inside a
//! component they complete at once. Core code never spawns or blocks.
#![allow(async_fn_in_trait)] // deliberately no `Send` bound: see above.

use thiserror::Error;

/// Largest key the key-value port accepts, in bytes.
pub const MAX_KEY_BYTES: usize = 512;
/// Largest value the key-value port accepts, in bytes.
pub const MAX_VALUE_BYTES: usize = 1024 * 1024;

/// A stored value and the version it was written at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvEntry {
    /// The stored bytes.
    pub value: Vec<u8>,
    /// Strictly increases with every write of the key; never 0.
    pub version: u64,
}

/// Failure of a key-value operation.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KvError {
    /// Key or value violates the size limits.
    #[error("invalid key-value argument: {0}")]
    InvalidArgument(String),
    /// Compare-and-swap found another version; nothing was written.
    #[error("version conflict (current version {0:?})")]
    Conflict(Option<u64>),
    /// The backend failed.
    #[error("key-value backend failed: {0}")]
    Backend(String),
}

/// A host keeps its key-value store in SQL: a failure there is the store's failure.
impl From<SqlError> for KvError {
    fn from(error: SqlError) -> Self {
        Self::Backend(error.to_string())
    }
}

/// Key-value storage with expiry, compare-and-swap and take-once (`wit/ports.wit`,
/// interface `key-value`).
pub trait KeyValue {
    /// Reads a live entry.
    async fn get(&self, key: &str) -> Result<Option<KvEntry>, KvError>;
    /// Writes unconditionally; returns the new version.
    async fn put(&self, key: &str, value: &[u8], ttl_ms: Option<u64>) -> Result<u64, KvError>;
    /// Writes only at `expected_version` (`None`: only if absent). Linearizable.
    async fn compare_and_swap(
        &self,
        key: &str,
        expected_version: Option<u64>,
        value: &[u8],
        ttl_ms: Option<u64>,
    ) -> Result<u64, KvError>;
    /// Reads and deletes atomically. Linearizable.
    async fn take(&self, key: &str) -> Result<Option<KvEntry>, KvError>;
    /// Deletes; returns whether a live entry was there.
    async fn delete(&self, key: &str) -> Result<bool, KvError>;
    /// Adds `delta` to the counter at `key` (absent or expired: 0); the new count, never
    /// below 0. Linearizable. Written as `put` writes; the value is [`counter_bytes`].
    async fn add(&self, key: &str, delta: i64, ttl_ms: Option<u64>) -> Result<u64, KvError>;
    /// Waits up to `timeout_ms` for a live entry at `key`.
    async fn wait(&self, key: &str, timeout_ms: u32) -> Result<Option<KvEntry>, KvError>;
}

/// A counter's value as the key-value port stores it: 8 big-endian bytes.
pub fn counter_bytes(count: u64) -> [u8; 8] {
    count.to_be_bytes()
}

/// The count a counter entry's value holds; a value of another length counts as 0.
pub fn counter_of(value: &[u8]) -> u64 {
    <[u8; 8]>::try_from(value).map_or(0, u64::from_be_bytes)
}

/// A counter moved by `delta` from `count`: never below 0, never past the largest
/// count every host stores exactly (2^53 − 1).
pub fn counter_added(count: u64, delta: i64) -> u64 {
    const MAX: u64 = (1 << 53) - 1;
    let moved = if delta < 0 {
        count.saturating_sub(delta.unsigned_abs())
    } else {
        count.saturating_add(delta.unsigned_abs())
    };
    moved.min(MAX)
}

/// A random 32-byte secret stored under `key`, made by whichever instance needs it
/// first (create-only, so racing instances end up with the same one).
pub async fn shared_secret<K: KeyValue, R: Random>(
    kv: &K,
    random: &R,
    key: &str,
) -> Result<[u8; 32], KvError> {
    for _ in 0..2 {
        if let Some(entry) = kv.get(key).await?
            && let Ok(secret) = <[u8; 32]>::try_from(entry.value.as_slice())
        {
            return Ok(secret);
        }
        let mut secret = [0u8; 32];
        random.fill(&mut secret);
        match kv.compare_and_swap(key, None, &secret, None).await {
            Ok(_) => return Ok(secret),
            // Another instance made it first: read theirs.
            Err(KvError::Conflict(_)) => {}
            Err(other) => return Err(other),
        }
    }
    Err(KvError::Backend(format!(
        "the secret {key:?} could not be made"
    )))
}

/// The partition a key belongs to (`@<partition>/…`), if any: keys a host may keep
/// together (`wit/ports.wit`).
pub fn kv_partition(key: &str) -> Option<&str> {
    key.strip_prefix('@')?
        .split_once('/')
        .map(|(p, _)| p)
        .filter(|p| !p.is_empty())
}

/// Checks a key and value against the port's size limits; hosts call this before
/// touching their backend so every host refuses the same inputs.
pub fn check_kv_args(key: &str, value: Option<&[u8]>) -> Result<(), KvError> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES {
        return Err(KvError::InvalidArgument(format!(
            "key must be 1..={MAX_KEY_BYTES} bytes, got {}",
            key.len()
        )));
    }
    if let Some(value) = value
        && value.len() > MAX_VALUE_BYTES
    {
        return Err(KvError::InvalidArgument(format!(
            "value must be at most {MAX_VALUE_BYTES} bytes, got {}",
            value.len()
        )));
    }
    Ok(())
}

/// A SQL value (SQLite storage classes). (Serde, like the other SQL types: a host
/// may carry statements to where its database lives.)
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SqlValue {
    /// SQL NULL.
    Null,
    /// A 64-bit signed integer (portable within ±(2^53 − 1)).
    Integer(i64),
    /// A 64-bit float.
    Real(f64),
    /// UTF-8 text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
}

/// One statement with positional parameters.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Statement {
    /// SQL text in the SQLite dialect.
    pub sql: String,
    /// Values for `?` / `?NNN`, in order.
    pub params: Vec<SqlValue>,
}

impl Statement {
    /// A statement with parameters.
    pub fn new(sql: impl Into<String>, params: Vec<SqlValue>) -> Self {
        Self {
            sql: sql.into(),
            params,
        }
    }
}

/// What a statement produced.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct QueryResult {
    /// Column names, in order.
    pub columns: Vec<String>,
    /// Rows, one value per column.
    pub rows: Vec<Vec<SqlValue>>,
    /// Rows changed by an INSERT, UPDATE or DELETE.
    pub rows_affected: u64,
    /// Rowid of the last row this statement inserted.
    pub last_insert_rowid: Option<i64>,
}

/// Splits a SQL script into statements: each ends with `;` at the end of a line, so
/// the `;` inside a trigger body (followed by ` END`) does not split. Comment lines are
/// dropped.
pub fn sql_statements(script: &str) -> impl Iterator<Item = String> + '_ {
    script
        .split(";\n")
        .map(|statement| {
            statement
                .lines()
                .filter(|line| !line.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .filter(|statement| !statement.trim().is_empty())
}

/// Failure of a SQL call.
#[derive(Debug, Clone, PartialEq, Eq, Error, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SqlError {
    /// The database refused the statement; nothing was changed.
    #[error("statement refused: {0}")]
    Statement(String),
    /// The backend failed.
    #[error("sql backend failed: {0}")]
    Backend(String),
}

/// SQL in the SQLite dialect (`wit/ports.wit`, interface `sql`).
pub trait Sql {
    /// Runs one statement.
    async fn execute(&self, statement: &Statement) -> Result<QueryResult, SqlError>;
    /// Runs statements as one transaction: all or nothing.
    async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>, SqlError>;
}

/// One audit record. (Serde: a host may carry records to where its trail lives.)
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuditRecord {
    /// Milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// What happened.
    pub kind: String,
    /// Who acted.
    pub actor: String,
    /// `allowed`, `denied` or `error`.
    pub outcome: String,
    /// Details as a JSON object.
    pub detail_json: String,
}

/// An appended audit record and its sequence number.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuditEntry {
    /// Strictly increasing from 1, without gaps.
    pub sequence: u64,
    /// The record.
    pub record: AuditRecord,
    /// The previous entry's hash ([`crate::audit_chain::GENESIS`] for the first).
    pub prev_hash: String,
    /// This entry's hash over `prev_hash`, `sequence` and `record`
    /// ([`crate::audit_chain::link`]).
    pub hash: String,
}

/// Failure of the audit sink.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("audit sink failed: {0}")]
pub struct AuditError(pub String);

/// The append-only, hash-chained audit trail (`wit/ports.wit`, interface `audit`).
pub trait Audit {
    /// Appends; returns the sequence number.
    async fn append(&self, record: &AuditRecord) -> Result<u64, AuditError>;
    /// Entries with `sequence > after`, oldest first, at most `limit`.
    async fn read(&self, after: u64, limit: u32) -> Result<Vec<AuditEntry>, AuditError>;
}

/// Host configuration and secrets (`wit/ports.wit`, interface `config`).
pub trait Config {
    /// A non-secret value.
    fn get(&self, name: &str) -> Option<String>;
    /// A secret value.
    fn secret(&self, name: &str) -> Option<String>;
}

/// An outbound HTTP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundRequest {
    /// HTTP method.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Header fields.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
    /// Deadline for the whole exchange.
    pub timeout_ms: u32,
    /// Longest acceptable response body.
    pub max_response_bytes: u32,
}

/// An outbound HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundResponse {
    /// Status code.
    pub status: u16,
    /// Header fields.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// Failure of an outbound request.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FetchError {
    /// Destination not allowed, or URL malformed.
    #[error("outbound request denied: {0}")]
    Denied(String),
    /// The deadline passed.
    #[error("outbound request timed out")]
    Timeout,
    /// The response body exceeded the limit.
    #[error("outbound response too large")]
    TooLarge,
    /// Connection, TLS or protocol failure.
    #[error("outbound transport failed: {0}")]
    Transport(String),
}

/// How a secret is named in flat, upper-case secret stores (environment variables,
/// Cloudflare secret bindings): `signing-key.v1` is `SIGNING_KEY_V1`.
pub fn secret_binding_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// Outbound HTTP (`wit/ports.wit`, interface `fetch`).
pub trait Fetch {
    /// Sends a request.
    async fn send(&self, request: &OutboundRequest) -> Result<OutboundResponse, FetchError>;
}

/// Time (`wasi:clocks`).
pub trait Clock {
    /// Wall-clock milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
    /// Monotonic nanoseconds from an arbitrary origin, for measuring durations.
    fn monotonic_ns(&self) -> u64;
    /// Waits `ms` milliseconds (for polling a store while a client answers).
    async fn sleep_ms(&self, ms: u64);
}

/// A borrowed clock is a clock (hosts that share one clock among ports hold it by
/// reference).
impl<T: Clock> Clock for &T {
    fn now_ms(&self) -> u64 {
        (**self).now_ms()
    }
    fn monotonic_ns(&self) -> u64 {
        (**self).monotonic_ns()
    }
    async fn sleep_ms(&self, ms: u64) {
        (**self).sleep_ms(ms).await;
    }
}

/// Cryptographically secure randomness (`wasi:random`).
pub trait Random {
    /// Fills `buf` with random bytes.
    fn fill(&self, buf: &mut [u8]);
}

/// Everything a host provides, one accessor per port.
pub trait Host {
    /// Key-value port.
    type KeyValue: KeyValue;
    /// SQL port.
    type Sql: Sql;
    /// Audit port.
    type Audit: Audit;
    /// Configuration port.
    type Config: Config;
    /// Outbound HTTP port.
    type Fetch: Fetch;
    /// Clock port.
    type Clock: Clock;
    /// Randomness port.
    type Random: Random;

    /// The key-value store.
    fn key_value(&self) -> &Self::KeyValue;
    /// The SQL database.
    fn sql(&self) -> &Self::Sql;
    /// The audit sink.
    fn audit(&self) -> &Self::Audit;
    /// Configuration and secrets.
    fn config(&self) -> &Self::Config;
    /// Outbound HTTP.
    fn fetch(&self) -> &Self::Fetch;
    /// Time.
    fn clock(&self) -> &Self::Clock;
    /// Randomness.
    fn random(&self) -> &Self::Random;
}

/// A host assembled from its seven ports — what the gateway's WIT imports, the worker's
/// bindings and the test kit's memory ports each are.
pub struct Ports<K, S, A, C, F, T, R> {
    /// The key-value store.
    pub kv: K,
    /// The SQL database.
    pub sql: S,
    /// The audit sink.
    pub audit: A,
    /// Configuration and secrets.
    pub config: C,
    /// Outbound HTTP.
    pub fetch: F,
    /// Time.
    pub clock: T,
    /// Randomness.
    pub random: R,
}

impl<K, S, A, C, F, T, R> Host for Ports<K, S, A, C, F, T, R>
where
    K: KeyValue,
    S: Sql,
    A: Audit,
    C: Config,
    F: Fetch,
    T: Clock,
    R: Random,
{
    type KeyValue = K;
    type Sql = S;
    type Audit = A;
    type Config = C;
    type Fetch = F;
    type Clock = T;
    type Random = R;

    fn key_value(&self) -> &K {
        &self.kv
    }
    fn sql(&self) -> &S {
        &self.sql
    }
    fn audit(&self) -> &A {
        &self.audit
    }
    fn config(&self) -> &C {
        &self.config
    }
    fn fetch(&self) -> &F {
        &self.fetch
    }
    fn clock(&self) -> &T {
        &self.clock
    }
    fn random(&self) -> &R {
        &self.random
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_map_to_upper_case_bindings() {
        assert_eq!(secret_binding_name("signing-key.v1"), "SIGNING_KEY_V1");
    }

    #[test]
    fn kv_args_refuse_empty_and_oversize_keys_and_values() {
        assert!(check_kv_args("k", Some(b"v")).is_ok());
        assert!(matches!(
            check_kv_args("", None),
            Err(KvError::InvalidArgument(_))
        ));
        let long_key = "k".repeat(MAX_KEY_BYTES + 1);
        assert!(matches!(
            check_kv_args(&long_key, None),
            Err(KvError::InvalidArgument(_))
        ));
        assert!(check_kv_args(&"k".repeat(MAX_KEY_BYTES), None).is_ok());
        let big = vec![0u8; MAX_VALUE_BYTES + 1];
        assert!(matches!(
            check_kv_args("k", Some(&big)),
            Err(KvError::InvalidArgument(_))
        ));
    }
}
