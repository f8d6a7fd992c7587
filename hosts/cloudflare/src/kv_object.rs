//! The Durable Objects that hold the key-value port: the shared store
//! (`learner_storage::kv`) over each object's own SQLite storage.
//!
//! `KvObject`: keys are spread over a fixed number of objects by hash. `McpSession`:
//! each key partition (`@<partition>/…`, one MCP session's state, event log and
//! pending requests) has an object of its own, which also holds the session's waiting
//! streams. Both serve the same calls with the same code.
//!
//! The driver's "immediate transaction": a Durable Object runs one event at a time,
//! and every store operation is a run of synchronous `exec` calls with no `await`
//! between them, so no other request interleaves and the implicit transaction commits
//! them together. (An operation that fails part-way is not rolled back; the store's
//! operations decide before they write, and a write cut short leaves at most a version
//! number skipped or expired rows freed.) `wait` is the one operation that awaits: it
//! parks until a write to its key in the same object wakes it, or its time is up.

use std::cell::RefCell;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use futures_channel::oneshot;
use futures_util::future::select;
use learner_core::ports::{KvEntry, KvError, SqlError, SqlValue};
use learner_storage::kv::KvStore;
use learner_storage::{Connection, Driver, Rows};
use serde::{Deserialize, Serialize};
use worker::{Date, Delay, Request, Response, Result, SqlStorage, SqlStorageValue, State};

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
    /// The key or value broke the port's limits.
    Invalid(String),
    /// The storage failed.
    Backend(String),
}

/// An object's SQLite storage, as the shared store's driver.
pub struct ObjectStorage(SqlStorage);

fn to_object(value: &SqlValue) -> SqlStorageValue {
    match value {
        SqlValue::Null => SqlStorageValue::Null,
        SqlValue::Integer(i) => SqlStorageValue::Integer(*i),
        SqlValue::Real(r) => SqlStorageValue::Float(*r),
        SqlValue::Text(t) => SqlStorageValue::String(t.clone()),
        SqlValue::Blob(b) => SqlStorageValue::Blob(b.clone()),
    }
}

fn from_object(value: SqlStorageValue) -> SqlValue {
    match value {
        SqlStorageValue::Null => SqlValue::Null,
        SqlStorageValue::Boolean(b) => SqlValue::Integer(i64::from(b)),
        SqlStorageValue::Integer(i) => SqlValue::Integer(i),
        SqlStorageValue::Float(f) => SqlValue::Real(f),
        SqlStorageValue::String(s) => SqlValue::Text(s),
        SqlStorageValue::Blob(b) => SqlValue::Blob(b),
    }
}

impl Connection for ObjectStorage {
    fn query(&self, sql: &str, params: &[SqlValue]) -> std::result::Result<Rows, SqlError> {
        let failed = |e: worker::Error| SqlError::Statement(e.to_string());
        let cursor = self
            .0
            .exec(sql, params.iter().map(to_object).collect::<Vec<_>>())
            .map_err(failed)?;
        let columns = cursor.column_names();
        let rows = cursor
            .raw()
            .map(|row| row.map(|values| values.into_iter().map(from_object).collect()))
            .collect::<Result<_>>()
            .map_err(failed)?;
        Ok(Rows { columns, rows })
    }
}

impl Driver for ObjectStorage {
    type Connection = Self;

    fn immediate<T, E: From<SqlError>>(
        &self,
        work: impl FnOnce(&Self) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        // Atomic by the object's one-event-at-a-time execution (see the module docs).
        work(self)
    }

    fn autocommit<T, E: From<SqlError>>(
        &self,
        work: impl FnOnce(&Self) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        work(self)
    }
}

fn now_ms() -> u64 {
    Date::now().as_millis()
}

/// A key-value store in one Durable Object's storage, with the requests waiting on its
/// keys.
pub struct ObjectKv {
    store: KvStore<ObjectStorage>,
    waiters: RefCell<Vec<(String, oneshot::Sender<()>)>>,
}

impl ObjectKv {
    fn new(state: &State) -> Self {
        let store = KvStore::new(ObjectStorage(state.storage().sql()), now_ms);
        if let Err(error) = store.prepare() {
            worker::console_error!("key-value schema: {error}");
        }
        Self {
            store,
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
        };
        Response::from_json(&answer.unwrap_or_else(|error| match error {
            KvError::Conflict(current) => KvAnswer::Conflict(current),
            KvError::InvalidArgument(message) => KvAnswer::Invalid(message),
            KvError::Backend(message) => KvAnswer::Backend(message),
        }))
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

    async fn wait(&self, key: &str, timeout_ms: u32) -> std::result::Result<KvAnswer, KvError> {
        if let Some(found) = self.store.get(key)? {
            return Ok(entry_answer(Some(found)));
        }
        let (sender, receiver) = oneshot::channel();
        self.waiters.borrow_mut().push((key.to_owned(), sender));
        let timer = Delay::from(std::time::Duration::from_millis(u64::from(timeout_ms)));
        let _ = select(receiver, timer).await;
        // Dropped senders (time up) are cleared at the next wake of the key.
        Ok(entry_answer(self.store.get(key)?))
    }

    fn run(&self, call: KvCall) -> std::result::Result<KvAnswer, KvError> {
        let decode = |value: &str| {
            B64.decode(value)
                .map_err(|e| KvError::InvalidArgument(format!("value is not base64: {e}")))
        };
        let kv = &self.store;
        Ok(match call {
            KvCall::Get { key } | KvCall::Wait { key, .. } => entry_answer(kv.get(&key)?),
            KvCall::Put { key, value, ttl_ms } => {
                KvAnswer::Version(kv.put(&key, &decode(&value)?, ttl_ms)?)
            }
            KvCall::CompareAndSwap {
                key,
                expected,
                value,
                ttl_ms,
            } => {
                KvAnswer::Version(kv.compare_and_swap(&key, expected, &decode(&value)?, ttl_ms)?)
            }
            KvCall::Take { key } => entry_answer(kv.take(&key)?),
            KvCall::Delete { key } => KvAnswer::Deleted(kv.delete(&key)?),
        })
    }
}

fn entry_answer(found: Option<KvEntry>) -> KvAnswer {
    KvAnswer::Entry(found.map(|entry| WireEntry {
        value: B64.encode(entry.value),
        version: entry.version,
    }))
}

/// The two classes of Durable Object. (`#[durable_object]` generates JavaScript glue
/// without docs.)
#[allow(missing_docs)]
mod objects {
    use worker::{DurableObject, Env, Request, Response, Result, State, durable_object};

    use super::ObjectKv;

    /// The hash-sharded objects (keys outside any partition).
    #[durable_object]
    pub struct KvObject {
        kv: ObjectKv,
    }

    /// One object per key partition: an MCP session's keys, and its waiting streams.
    #[durable_object]
    pub struct McpSession {
        kv: ObjectKv,
    }

    impl DurableObject for KvObject {
        fn new(state: State, _env: Env) -> Self {
            Self {
                kv: ObjectKv::new(&state),
            }
        }

        async fn fetch(&self, request: Request) -> Result<Response> {
            self.kv.serve(request).await
        }
    }

    impl DurableObject for McpSession {
        fn new(state: State, _env: Env) -> Self {
            Self {
                kv: ObjectKv::new(&state),
            }
        }

        async fn fetch(&self, request: Request) -> Result<Response> {
            self.kv.serve(request).await
        }
    }
}

pub use objects::{KvObject, McpSession};
