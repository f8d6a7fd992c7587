//! SQL: the database lives in the `LearnerStore` Durable Object (`sql_object`); each
//! statement or batch is one RPC call to it.

use learner_core::ports::{self as core, QueryResult, SqlError, Statement};
use worker::Env;

use super::rpc;
use crate::sql_object::{STORE, SqlAnswer, SqlCall};

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
        let stub = rpc::stub(&self.env, "LEARNER_STORE", STORE)
            .map_err(|e| SqlError::Backend(e.to_string()))?;
        match rpc::call(stub, call).await.map_err(SqlError::Backend)? {
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
