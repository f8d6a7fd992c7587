//! The Durable Object that holds the SQL port's database: the learner store (schema
//! and migrations are the application's own, `learner_dna::store`), in the object's
//! SQLite storage, run by the SQL port every SQLite host shares
//! (`learner_storage::sql_port`).
//!
//! One object, named [`STORE`], holds the one database, as one D1 database did. The
//! worker calls it by RPC (`ports::sql`): each statement or batch is one call that
//! runs synchronously in one event. Why not D1: a D1 query is a `fetch` to D1's own
//! worker and object, an HTTP exchange on each side, where an RPC call to an object is
//! a method call (locally, each D1 query also cost wrangler's node process a network
//! event to log, with its body); the database is a SQLite file held by one object
//! either way.
//!
//! A batch is all or nothing: `entry.js` runs each call inside the storage's
//! `transactionSync`, and a call that fails throws its answer, which rolls the
//! transaction back (the entry returns the answer as usual).

use learner_core::ports::{QueryResult, SqlError, SqlValue, Statement};
use learner_storage::driver::MAX_PORTABLE_INTEGER;
use learner_storage::sql_port::SqlPort;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;
use worker::State;

use crate::object_storage::ObjectStorage;

/// The name of the object that holds the database.
pub const STORE: &str = "learner-store";

/// A call to the object (JSON over RPC).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SqlCall {
    /// One statement.
    Execute(Statement),
    /// Statements as one transaction.
    Batch(Vec<Statement>),
}

/// The object's answer.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SqlAnswer {
    /// One result per statement.
    Results(Vec<QueryResult>),
    /// The statement or batch failed; nothing was changed.
    Failed(SqlError),
}

/// Refuses integers JavaScript numbers cannot hold exactly: the object's storage takes
/// parameters as numbers (D1 did the same).
fn portable(statement: &Statement) -> Result<(), SqlError> {
    match statement.params.iter().find(|value| {
        matches!(value, SqlValue::Integer(i) if i.unsigned_abs() > MAX_PORTABLE_INTEGER.unsigned_abs())
    }) {
        Some(SqlValue::Integer(i)) => Err(SqlError::Statement(format!(
            "integer {i} is outside the portable range ±(2^53 − 1)"
        ))),
        _ => Ok(()),
    }
}

/// The database in one object's storage.
pub struct ObjectDatabase {
    sql: SqlPort<ObjectStorage>,
}

impl ObjectDatabase {
    fn new(state: &State) -> Self {
        Self {
            sql: SqlPort(ObjectStorage(state.storage().sql())),
        }
    }

    /// Serves one call in JSON: its answer in JSON, thrown when it failed (so the
    /// caller's transaction rolls back; see the module docs).
    fn serve(&self, call: &str) -> Result<String, JsValue> {
        let answer = match serde_json::from_str::<SqlCall>(call) {
            Ok(call) => self.answer(&call),
            Err(error) => Err(SqlError::Statement(format!("malformed SQL call: {error}"))),
        };
        let failed = answer.is_err();
        let answer = match answer {
            Ok(results) => SqlAnswer::Results(results),
            Err(error) => SqlAnswer::Failed(error),
        };
        // Answers are plain data and always encode; the worker reads an empty reply
        // as a failure.
        let json = serde_json::to_string(&answer).unwrap_or_default();
        if failed {
            Err(JsValue::from_str(&json))
        } else {
            Ok(json)
        }
    }

    fn answer(&self, call: &SqlCall) -> Result<Vec<QueryResult>, SqlError> {
        match call {
            SqlCall::Execute(statement) => {
                portable(statement)?;
                Ok(vec![self.sql.execute(statement)?])
            }
            SqlCall::Batch(statements) => {
                statements.iter().try_for_each(portable)?;
                self.sql.batch(statements)
            }
        }
    }
}

/// The object class. (`#[durable_object]` generates JavaScript glue without docs.)
#[allow(missing_docs)]
mod object {
    use wasm_bindgen::JsValue;
    use wasm_bindgen::prelude::wasm_bindgen;
    use worker::{DurableObject, Env, Request, Response, Result, State, durable_object};

    use super::ObjectDatabase;

    /// The learner store's object.
    #[durable_object]
    pub struct LearnerStore {
        database: ObjectDatabase,
    }

    impl DurableObject for LearnerStore {
        fn new(state: State, _env: Env) -> Self {
            Self {
                database: ObjectDatabase::new(&state),
            }
        }

        async fn fetch(&self, _request: Request) -> Result<Response> {
            Response::error("the learner store is called by RPC (`call`)", 405)
        }
    }

    #[wasm_bindgen]
    impl LearnerStore {
        /// RPC `call(json) -> json`: a [`super::SqlCall`], its [`super::SqlAnswer`]
        /// (thrown when it failed).
        pub fn call(&self, call: &str) -> std::result::Result<String, JsValue> {
            self.database.serve(call)
        }
    }
}

pub use object::LearnerStore;
