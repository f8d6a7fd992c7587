//! The Durable Object that holds the audit trail: the hash chain in the object's own
//! SQLite storage, appended and read by the code every host shares
//! (`learner_storage::audit`) over the SQL port of that storage.
//!
//! One object, named [`TRAIL`], holds the whole trail: the chain is one sequence. The
//! worker calls it by RPC (`ports::audit`): an append is one call, in which the object
//! reads the head and inserts in a single event that nothing interleaves, so the race
//! the shared append guards against does not arise here and an append costs one round
//! trip (over D1 it took two queries, a head read and an insert, each a round trip).

use futures_util::FutureExt;
use learner_core::ports::{AuditEntry, AuditRecord};
use learner_storage::sql_port::SqlPort;
use learner_storage::{audit, schema};
use serde::{Deserialize, Serialize};
use worker::State;

use crate::object_storage::ObjectStorage;

/// The name of the object that holds the trail.
pub const TRAIL: &str = "audit-trail";

/// A call to the object (JSON over RPC).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditCall {
    /// Append a record.
    Append(AuditRecord),
    /// Entries after a sequence, at most `limit`.
    Read {
        /// Entries with a greater sequence.
        after: u64,
        /// At most this many.
        limit: u32,
    },
}

/// The object's answer.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAnswer {
    /// Appended at this sequence.
    Appended(u64),
    /// The entries read.
    Entries(Vec<AuditEntry>),
    /// The storage failed, or the call was malformed.
    Failed(String),
}

/// The trail in one object's storage.
pub struct ObjectTrail {
    sql: SqlPort<ObjectStorage>,
}

impl ObjectTrail {
    fn new(state: &State) -> Self {
        let storage = ObjectStorage(state.storage().sql());
        for statement in schema::statements(schema::AUDIT_SCHEMA) {
            if let Err(error) = learner_storage::Connection::query(&storage, &statement, &[]) {
                worker::console_error!("audit schema: {error}");
            }
        }
        Self {
            sql: SqlPort(storage),
        }
    }

    /// Serves one call in JSON, answered in JSON.
    fn serve(&self, call: &str) -> String {
        let answer = match serde_json::from_str::<AuditCall>(call) {
            Ok(call) => self.answer(call),
            Err(error) => AuditAnswer::Failed(format!("malformed audit call: {error}")),
        };
        // Answers are plain data and always encode; the worker reads an empty reply
        // as a failure.
        serde_json::to_string(&answer).unwrap_or_default()
    }

    fn answer(&self, call: AuditCall) -> AuditAnswer {
        // The SQL port over the object's storage never awaits: each future is ready
        // when first polled.
        let pending = || AuditAnswer::Failed("the audit storage did not answer at once".into());
        match call {
            AuditCall::Append(record) => match audit::append(&self.sql, &record).now_or_never() {
                Some(Ok(sequence)) => AuditAnswer::Appended(sequence),
                Some(Err(error)) => AuditAnswer::Failed(error.0),
                None => pending(),
            },
            AuditCall::Read { after, limit } => {
                match audit::read(&self.sql, after, limit).now_or_never() {
                    Some(Ok(entries)) => AuditAnswer::Entries(entries),
                    Some(Err(error)) => AuditAnswer::Failed(error.0),
                    None => pending(),
                }
            }
        }
    }
}

/// The object class. (`#[durable_object]` generates JavaScript glue without docs.)
#[allow(missing_docs)]
mod object {
    use wasm_bindgen::prelude::wasm_bindgen;
    use worker::{DurableObject, Env, Request, Response, Result, State, durable_object};

    use super::ObjectTrail;

    /// The audit trail's object.
    #[durable_object]
    pub struct AuditLog {
        trail: ObjectTrail,
    }

    impl DurableObject for AuditLog {
        fn new(state: State, _env: Env) -> Self {
            Self {
                trail: ObjectTrail::new(&state),
            }
        }

        async fn fetch(&self, _request: Request) -> Result<Response> {
            Response::error("the audit trail is called by RPC (`call`)", 405)
        }
    }

    #[wasm_bindgen]
    impl AuditLog {
        /// RPC `call(json) -> json`: an [`super::AuditCall`], its [`super::AuditAnswer`].
        pub fn call(&self, call: &str) -> String {
            self.trail.serve(call)
        }
    }
}

pub use object::AuditLog;
