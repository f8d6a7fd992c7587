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

use futures_channel::oneshot;
use futures_util::future::select;
use learner_core::ports::{SqlError, SqlValue};
use learner_storage::kv::KvStore;
use learner_storage::kv_protocol::{KvAnswer, KvOp};
use learner_storage::{Connection, Driver, Rows};
use worker::{Date, Delay, Request, Response, Result, SqlStorage, SqlStorageValue, State};

/// An object's SQLite storage, as the shared store's driver.
pub struct ObjectStorage(SqlStorage);

learner_storage::native_values!(
    SqlStorageValue { Null, Integer, Float, String, Blob },
    Boolean(b) => SqlValue::Integer(i64::from(b)),
);

impl Connection for ObjectStorage {
    fn query(&self, sql: &str, params: &[SqlValue]) -> std::result::Result<Rows, SqlError> {
        let failed = |e: worker::Error| SqlError::Statement(e.to_string());
        let cursor = self
            .0
            .exec(sql, params.iter().map(to_native).collect::<Vec<_>>())
            .map_err(failed)?;
        let columns = cursor.column_names();
        let rows = cursor
            .raw()
            .map(|row| row.map(|values| values.into_iter().map(from_native).collect()))
            .collect::<Result<_>>()
            .map_err(failed)?;
        Ok(Rows { columns, rows })
    }
}

impl Driver for ObjectStorage {
    type Connection = Self;

    // Atomic by the object's one-event-at-a-time execution (see the module docs).
    const ATOMIC_WITHOUT_TRANSACTION: bool = true;

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
        let store = KvStore::new(ObjectStorage(state.storage().sql()), now_ms as fn() -> u64);
        if let Err(error) = store.prepare() {
            worker::console_error!("key-value schema: {error}");
        }
        Self {
            store,
            waiters: RefCell::default(),
        }
    }

    /// Serves one request to the object: a [`KvOp`] in JSON, answered with a
    /// [`KvAnswer`].
    async fn serve(&self, mut request: Request) -> Result<Response> {
        let answer = match request.json().await? {
            KvOp::Wait { key, timeout_ms } => self.wait(key, timeout_ms).await,
            op => {
                let key = op.key().to_owned();
                let answer = self.store.apply(op);
                self.wake(&key);
                answer
            }
        };
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

    async fn wait(&self, key: String, timeout_ms: u32) -> KvAnswer {
        let found = self.store.apply(KvOp::Get { key: key.clone() });
        if !matches!(found, KvAnswer::Entry(None)) {
            return found;
        }
        let (sender, receiver) = oneshot::channel();
        self.waiters.borrow_mut().push((key.clone(), sender));
        let timer = Delay::from(std::time::Duration::from_millis(u64::from(timeout_ms)));
        let _ = select(receiver, timer).await;
        // Dropped senders (time up) are cleared at the next wake of the key.
        self.store.apply(KvOp::Get { key })
    }
}

/// The two classes of Durable Object. (`#[durable_object]` generates JavaScript glue
/// without docs.)
#[allow(missing_docs)]
mod objects {
    use worker::{DurableObject, Env, Request, Response, Result, State, durable_object};

    use super::ObjectKv;

    /// A class of object that serves the key-value operations from its own storage.
    macro_rules! key_value_object {
        ($(#[$doc:meta])* $name:ident) => {
            $(#[$doc])*
            #[durable_object]
            pub struct $name {
                kv: ObjectKv,
            }

            impl DurableObject for $name {
                fn new(state: State, _env: Env) -> Self {
                    Self { kv: ObjectKv::new(&state) }
                }

                async fn fetch(&self, request: Request) -> Result<Response> {
                    self.kv.serve(request).await
                }
            }
        };
    }

    key_value_object!(
        /// The hash-sharded objects (keys outside any partition).
        KvObject
    );
    key_value_object!(
        /// One object per key partition: an MCP session's keys, and its waiting streams.
        McpSession
    );
}

pub use objects::{KvObject, McpSession};
