//! The Durable Objects that hold the key-value port: the shared store
//! (`learner_storage::kv`) over each object's own SQLite storage.
//!
//! `KvObject`: keys are spread over a fixed number of objects by hash. `McpSession`:
//! each key partition (`@<partition>/…`, one MCP session's state, event log and
//! pending requests) has an object of its own, which also holds the session's waiting
//! streams. Both serve the same calls with the same code.
//!
//! Every store operation is a run of synchronous `exec` calls in one event (see
//! `object_storage`). `wait` is the one operation that awaits: it parks until a write
//! to its key in the same object wakes it, or its time is up.

use std::cell::RefCell;

use futures_channel::oneshot;
use futures_util::future::select;
use learner_storage::kv::KvStore;
use learner_storage::kv_protocol::{KvAnswer, KvOp};
use worker::{Date, Delay, Request, Response, Result, State};

use crate::object_storage::ObjectStorage;

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
    /// [`KvAnswer`]. The worker sends `wait` this way, the one op that parks; the others
    /// come by RPC ([`Self::apply_json`]).
    async fn serve(&self, mut request: Request) -> Result<Response> {
        let answer = match request.json().await? {
            KvOp::Wait { key, timeout_ms } => self.wait(key, timeout_ms).await,
            op => self.apply(op),
        };
        Response::from_json(&answer)
    }

    /// Applies an op that does not park, waking the requests waiting on its key.
    fn apply(&self, op: KvOp) -> KvAnswer {
        let key = op.key().to_owned();
        let answer = self.store.apply(op);
        self.wake(&key);
        answer
    }

    /// The RPC form: a [`KvOp`] in JSON in, its [`KvAnswer`] in JSON out. A `wait`
    /// cannot park in a synchronous call: it is answered as a read (the worker sends
    /// waits by fetch).
    fn apply_json(&self, op: &str) -> String {
        let answer = match serde_json::from_str::<KvOp>(op) {
            Ok(KvOp::Wait { key, .. }) => self.store.apply(KvOp::Get { key }),
            Ok(op) => self.apply(op),
            Err(error) => KvAnswer::Backend(format!("malformed key-value op: {error}")),
        };
        // Answers are plain data and always encode; the worker reads an empty reply
        // as a backend failure.
        serde_json::to_string(&answer).unwrap_or_default()
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
    use wasm_bindgen::prelude::wasm_bindgen;
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

            #[wasm_bindgen]
            impl $name {
                /// RPC `call(json) -> json`: one key-value op that does not park.
                pub fn call(&self, op: &str) -> String {
                    self.kv.apply_json(op)
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
