//! Audit: the trail lives in the `AuditLog` Durable Object (`audit_object`); each
//! append and read is one RPC call to it.

use learner_core::ports::{Audit, AuditEntry, AuditError, AuditRecord};
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen_futures::JsFuture;
use worker::Env;

use crate::audit_object::{AuditAnswer, AuditCall, TRAIL};

#[wasm_bindgen]
extern "C" {
    /// The audit object's RPC surface, as its stub offers it.
    #[wasm_bindgen(extends = js_sys::Object)]
    type AuditRpc;

    /// One call in JSON; the promise resolves to the answer in JSON.
    #[wasm_bindgen(method, catch, js_name = call)]
    fn call(this: &AuditRpc, call: &str) -> Result<js_sys::Promise, JsValue>;
}

/// The audit port over the `AUDIT_LOG` Durable Object.
pub struct CfAudit {
    env: Env,
}

impl CfAudit {
    /// Calls go to `env`'s `AUDIT_LOG` binding.
    pub fn new(env: Env) -> Self {
        Self { env }
    }

    async fn send(&self, call: &AuditCall) -> Result<AuditAnswer, AuditError> {
        let failed = |e: &dyn std::fmt::Display| AuditError(e.to_string());
        let stub = self
            .env
            .durable_object("AUDIT_LOG")
            .and_then(|ns| ns.id_from_name(TRAIL)?.get_stub())
            .map_err(|e| failed(&e))?;
        let rpc: AuditRpc = stub.into_rpc();
        let call = serde_json::to_string(call).map_err(|e| failed(&e))?;
        let promise = rpc.call(&call).map_err(|e| AuditError(format!("{e:?}")))?;
        let answer = JsFuture::from(promise)
            .await
            .map_err(|e| AuditError(format!("{e:?}")))?
            .as_string()
            .ok_or_else(|| AuditError("an audit answer that is not text".into()))?;
        serde_json::from_str(&answer).map_err(|e| failed(&e))
    }
}

impl Audit for CfAudit {
    async fn append(&self, record: &AuditRecord) -> Result<u64, AuditError> {
        match self.send(&AuditCall::Append(record.clone())).await? {
            AuditAnswer::Appended(sequence) => Ok(sequence),
            AuditAnswer::Failed(message) => Err(AuditError(message)),
            AuditAnswer::Entries(_) => Err(AuditError("an append answered with entries".into())),
        }
    }

    async fn read(&self, after: u64, limit: u32) -> Result<Vec<AuditEntry>, AuditError> {
        match self.send(&AuditCall::Read { after, limit }).await? {
            AuditAnswer::Entries(entries) => Ok(entries),
            AuditAnswer::Failed(message) => Err(AuditError(message)),
            AuditAnswer::Appended(_) => Err(AuditError("a read answered with a sequence".into())),
        }
    }
}
