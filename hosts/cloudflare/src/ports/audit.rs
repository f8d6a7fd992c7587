//! Audit: the trail lives in the `AuditLog` Durable Object (`audit_object`); each
//! append and read is one RPC call to it.

use learner_core::ports::{Audit, AuditEntry, AuditError, AuditRecord};
use worker::Env;

use super::rpc;
use crate::audit_object::{AuditAnswer, AuditCall, TRAIL};

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
        let stub =
            rpc::stub(&self.env, "AUDIT_LOG", TRAIL).map_err(|e| AuditError(e.to_string()))?;
        rpc::call(stub, call).await.map_err(AuditError)
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
