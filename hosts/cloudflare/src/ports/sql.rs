//! SQL: the database lives in the `LearnerStore` Durable Object (`sql_object`); each
//! statement or batch is one RPC call to it.

use learner_core::ports::{self as core, QueryResult, SqlError, Statement};
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen_futures::JsFuture;
use worker::Env;

use crate::sql_object::{STORE, SqlAnswer, SqlCall};

#[wasm_bindgen]
extern "C" {
    /// The store object's RPC surface, as its stub offers it.
    #[wasm_bindgen(extends = js_sys::Object)]
    type StoreRpc;

    /// One call in JSON; the promise resolves to the answer in JSON.
    #[wasm_bindgen(method, catch, js_name = call)]
    fn call(this: &StoreRpc, call: &str) -> Result<js_sys::Promise, JsValue>;
}

/// The SQL port over the `LEARNER_STORE` Durable Object.
pub struct CfSql {
    env: Env,
}

impl CfSql {
    /// Calls go to `env`'s `LEARNER_STORE` binding.
    pub fn new(env: Env) -> Self {
        Self { env }
    }

    async fn send(&self, call: &SqlCall) -> Result<Vec<QueryResult>, SqlError> {
        let backend = |e: &dyn std::fmt::Display| SqlError::Backend(e.to_string());
        let stub = self
            .env
            .durable_object("LEARNER_STORE")
            .and_then(|ns| ns.id_from_name(STORE)?.get_stub())
            .map_err(|e| backend(&e))?;
        let rpc: StoreRpc = stub.into_rpc();
        let call = serde_json::to_string(call).map_err(|e| backend(&e))?;
        let promise = rpc
            .call(&call)
            .map_err(|e| SqlError::Backend(format!("{e:?}")))?;
        let answer = JsFuture::from(promise)
            .await
            .map_err(|e| SqlError::Backend(format!("{e:?}")))?
            .as_string()
            .ok_or_else(|| SqlError::Backend("a SQL answer that is not text".into()))?;
        match serde_json::from_str(&answer).map_err(|e| backend(&e))? {
            SqlAnswer::Results(results) => Ok(results),
            SqlAnswer::Failed(error) => Err(error),
        }
    }
}

impl core::Sql for CfSql {
    async fn execute(&self, statement: &Statement) -> Result<QueryResult, SqlError> {
        self.send(&SqlCall::Execute(statement.clone()))
            .await?
            .pop()
            .ok_or_else(|| SqlError::Backend("a statement answered no result".into()))
    }

    async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>, SqlError> {
        self.send(&SqlCall::Batch(statements.to_vec())).await
    }
}
