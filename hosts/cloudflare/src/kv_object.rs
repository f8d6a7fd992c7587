//! The Durable Objects that make the key-value port linearizable.
//!
//! `KvObject`: keys are spread over a fixed number of objects by hash. `McpSession`:
//! each key partition (`@<partition>/…`, one MCP session's state, event log and
//! pending requests) has an object of its own, which also holds the session's waiting
//! streams. Both keep their keys in their own SQLite storage with the same code. A
//! Durable Object runs one event at a time, and every operation here is a run of
//! synchronous `exec` calls with no `await` between them, so no other request can
//! interleave: compare-and-swap and take are atomic, and the implicit transaction
//! commits them together. `wait` is the one operation that awaits: it parks until a
//! write to its key (in the same object) wakes it, or its time is up.

use std::cell::RefCell;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use futures_channel::oneshot;
use futures_util::future::select;
use learner_host_sql as host_sql;
use serde::{Deserialize, Serialize};
use worker::{
    Date, Delay, DurableObject, Env, Request, Response, Result, SqlStorage, SqlStorageValue, State,
    durable_object,
};

/// One key-value operation, as sent from the worker to the object.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum KvCall {
    /// Read.
    Get { key: String },
    /// Unconditional write.
    Put {
        key: String,
        value: String,
        ttl_ms: Option<u64>,
    },
    /// Conditional write.
    CompareAndSwap {
        key: String,
        expected: Option<u64>,
        value: String,
        ttl_ms: Option<u64>,
    },
    /// Read and delete.
    Take { key: String },
    /// Delete.
    Delete { key: String },
    /// Wait for a live entry.
    Wait { key: String, timeout_ms: u32 },
}

impl KvCall {
    /// The key this call is about (it decides which object serves it).
    pub fn key(&self) -> &str {
        match self {
            Self::Get { key }
            | Self::Put { key, .. }
            | Self::CompareAndSwap { key, .. }
            | Self::Take { key }
            | Self::Delete { key }
            | Self::Wait { key, .. } => key,
        }
    }
}

/// A live entry on the wire (value in base64).
#[derive(Debug, Serialize, Deserialize)]
pub struct WireEntry {
    /// Base64 of the stored bytes.
    pub value: String,
    /// Version of the write.
    pub version: u64,
}

/// The object's answer.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KvAnswer {
    /// get / take.
    Entry(Option<WireEntry>),
    /// put / compare-and-swap: the new version.
    Version(u64),
    /// delete: whether a live entry existed.
    Deleted(bool),
    /// compare-and-swap refused: the current version.
    Conflict(Option<u64>),
    /// The storage failed.
    Backend(String),
}

/// A key-value store in one Durable Object's SQLite storage, with the requests
/// waiting on its keys.
pub struct KvStore {
    sql: SqlStorage,
    waiters: RefCell<Vec<(String, oneshot::Sender<()>)>>,
}

/// The hash-sharded objects (keys outside any partition).
#[durable_object]
pub struct KvObject {
    store: KvStore,
}

/// One object per key partition: an MCP session's keys, and its waiting streams.
#[durable_object]
pub struct McpSession {
    store: KvStore,
}

fn now_ms() -> i64 {
    Date::now().as_millis() as i64
}

fn ms(value: u64) -> SqlStorageValue {
    // Times and versions stay far below 2^53 (the JavaScript number limit).
    SqlStorageValue::Integer(i64::try_from(value).unwrap_or(i64::MAX))
}

impl KvStore {
    fn new(state: &State) -> Self {
        let sql = state.storage().sql();
        for statement in host_sql::statements(host_sql::KV_SCHEMA) {
            if let Err(error) = sql.exec(&statement, None) {
                worker::console_error!("key-value schema: {error}");
            }
        }
        Self {
            sql,
            waiters: RefCell::default(),
        }
    }

    /// Serves one request to the object.
    async fn serve(&self, mut request: Request) -> Result<Response> {
        let call: KvCall = request.json().await?;
        let answer = match call {
            KvCall::Wait { key, timeout_ms } => self.wait(&key, timeout_ms).await,
            call => {
                let key = call.key().to_owned();
                let answer = self.run(call);
                self.wake(&key);
                answer
            }
        }
        .unwrap_or_else(|error| KvAnswer::Backend(error.to_string()));
        Response::from_json(&answer)
    }

    /// Wakes the requests waiting on `key` (they read it again themselves).
    fn wake(&self, key: &str) {
        let mut waiters = self.waiters.borrow_mut();
        let (woken, rest): (Vec<_>, Vec<_>) = waiters.drain(..).partition(|(k, _)| k == key);
        *waiters = rest;
        for (_, sender) in woken {
            let _ = sender.send(());
        }
    }

    async fn wait(&self, key: &str, timeout_ms: u32) -> Result<KvAnswer> {
        if let Some(found) = self.live_entry(key)? {
            return Ok(entry_answer(Some(found)));
        }
        let (sender, receiver) = oneshot::channel();
        self.waiters.borrow_mut().push((key.to_owned(), sender));
        let timer = Delay::from(std::time::Duration::from_millis(u64::from(timeout_ms)));
        let _ = select(receiver, timer).await;
        // Dropped senders (time up) are cleared at the next wake of the key.
        Ok(entry_answer(self.live_entry(key)?))
    }

    fn live_entry(&self, key: &str) -> Result<Option<(Vec<u8>, u64)>> {
        let cursor = self.sql.exec(
            host_sql::KV_GET_LIVE,
            vec![key.into(), SqlStorageValue::Integer(now_ms())],
        )?;
        let Some(row) = cursor.raw().next() else {
            return Ok(None);
        };
        let row = row?;
        let value = match row.first() {
            Some(SqlStorageValue::Blob(bytes)) => bytes.clone(),
            _ => Vec::new(),
        };
        let version = match row.get(1) {
            Some(SqlStorageValue::Integer(v)) => *v as u64,
            Some(SqlStorageValue::Float(v)) => *v as u64,
            _ => 0,
        };
        Ok(Some((value, version)))
    }

    fn write(&self, key: &str, value: &[u8], ttl_ms: Option<u64>) -> Result<u64> {
        // Purge on writes: expired rows are already invisible to reads, this only
        // frees their space (an indexed range delete).
        self.sql.exec(
            host_sql::KV_PURGE_EXPIRED,
            vec![SqlStorageValue::Integer(now_ms())],
        )?;
        let mut version = 0u64;
        for row in self.sql.exec(host_sql::KV_NEXT_VERSION, None)?.raw() {
            if let Some(SqlStorageValue::Integer(v)) = row?.first() {
                version = *v as u64;
            }
        }
        let expires = match ttl_ms {
            Some(ttl) => SqlStorageValue::Integer(
                now_ms().saturating_add(i64::try_from(ttl).unwrap_or(i64::MAX)),
            ),
            None => SqlStorageValue::Null,
        };
        self.sql.exec(
            host_sql::KV_UPSERT,
            vec![
                key.into(),
                SqlStorageValue::Blob(value.to_vec()),
                ms(version),
                expires,
            ],
        )?;
        Ok(version)
    }

    fn delete_key(&self, key: &str) -> Result<()> {
        self.sql.exec(host_sql::KV_DELETE, vec![key.into()])?;
        Ok(())
    }

    fn run(&self, call: KvCall) -> Result<KvAnswer> {
        let entry = entry_answer;
        let decode = |value: &str| {
            B64.decode(value)
                .map_err(|e| worker::Error::RustError(format!("value is not base64: {e}")))
        };
        Ok(match call {
            KvCall::Get { key } => entry(self.live_entry(&key)?),
            KvCall::Put { key, value, ttl_ms } => {
                KvAnswer::Version(self.write(&key, &decode(&value)?, ttl_ms)?)
            }
            KvCall::CompareAndSwap {
                key,
                expected,
                value,
                ttl_ms,
            } => {
                let current = self.live_entry(&key)?.map(|(_, version)| version);
                if current == expected {
                    KvAnswer::Version(self.write(&key, &decode(&value)?, ttl_ms)?)
                } else {
                    KvAnswer::Conflict(current)
                }
            }
            KvCall::Take { key } => {
                let found = self.live_entry(&key)?;
                self.delete_key(&key)?;
                entry(found)
            }
            KvCall::Delete { key } => {
                let existed = self.live_entry(&key)?.is_some();
                self.delete_key(&key)?;
                KvAnswer::Deleted(existed)
            }
            KvCall::Wait { key, .. } => entry(self.live_entry(&key)?),
        })
    }
}

fn entry_answer(found: Option<(Vec<u8>, u64)>) -> KvAnswer {
    KvAnswer::Entry(found.map(|(value, version)| WireEntry {
        value: B64.encode(value),
        version,
    }))
}

impl DurableObject for KvObject {
    fn new(state: State, _env: Env) -> Self {
        Self {
            store: KvStore::new(&state),
        }
    }

    async fn fetch(&self, request: Request) -> Result<Response> {
        self.store.serve(request).await
    }
}

impl DurableObject for McpSession {
    fn new(state: State, _env: Env) -> Self {
        Self {
            store: KvStore::new(&state),
        }
    }

    async fn fetch(&self, request: Request) -> Result<Response> {
        self.store.serve(request).await
    }
}
