//! The Learner DNA on the MCP server's catalogue: its resources, tools and prompts,
//! each a thin shell over the domain's service (`learner_dna::service`), which applies
//! the privacy rules and writes the audit trail. This crate only maps arguments in and
//! answers out; the domain knows nothing of MCP.
//!
//! | module | holds |
//! |---|---|
//! | `definitions` | what is offered: resources, templates, tools (with their schemas), prompts |
//! | `tools` | each tool's arguments in, the service's answer out |
//! | `summaries` | the text a model reads beside each tool's structured result |
//! | `reads` | resources, prompts and completion |

mod definitions;
mod reads;
mod summaries;
mod tools;

#[cfg(test)]
mod privacy_table;
#[cfg(test)]
mod revocations;

use learner_core::identity::Principal;
use learner_core::ports::Host;
use learner_dna::gdpr::AccessRevocation;
use learner_dna::privacy::Requester;
use learner_dna::service::{Failure, Service};
use learner_mcp_server::catalogue::{
    Catalogue, CompleteOutcome, PromptOutcome, ReadOutcome, ToolContext, ToolOutcome,
};
use learner_mcp_server::jsonrpc::RpcError;
use learner_mcp_server::model::params::{CallToolParams, CompleteParams, GetPromptParams};
use learner_mcp_server::model::{CallToolResult, Prompt, Resource, ResourceTemplate, Tool};
use serde_json::json;

/// The learners the caller may see.
pub const LEARNERS: &str = "learner-dna://learners";
/// The classes whose aggregates the caller may see.
pub const CLASSES: &str = "learner-dna://classes";
/// One learner's profile.
pub const PROFILE: &str = "learner-dna://learners/{id}/profile";
/// One learner's struggle patterns (misconceptions per concept).
pub const STRUGGLES: &str = "learner-dna://learners/{id}/struggles";
/// One learner's concept mastery.
pub const MASTERY: &str = "learner-dna://learners/{id}/mastery";
/// A class's insights (aggregates, k-anonymous).
pub const CLASS_INSIGHTS: &str = "learner-dna://classes/{id}/insights";
/// The implementation-defined JSON-RPC error for a read the privacy rules refuse.
pub const ACCESS_DENIED: i64 = -32003;

const JSON: &str = "application/json";

/// The catalogue over a host's ports, ending access through `revocation`.
pub struct LearnerCatalogue<'a, H, R> {
    host: &'a H,
    revocation: R,
}

/// Who the caller is in the tenant, from the grant (never from the request).
fn requester(caller: &Principal) -> Result<Requester, RpcError> {
    Requester::new(caller.clone()).ok_or_else(|| {
        RpcError::new(
            ACCESS_DENIED,
            "access denied: the token names no tenant role",
        )
    })
}

/// A failure as a `resources/read` error.
fn resource_error(failure: Failure) -> RpcError {
    match failure {
        Failure::Refused(reason) => {
            RpcError::new(ACCESS_DENIED, format!("access denied: {reason}"))
                .with_data(json!({"reason": reason}))
        }
        Failure::Invalid(message) => RpcError::invalid_params(message),
        Failure::NotFound(_) | Failure::Storage => RpcError::internal(),
    }
}

/// A failure as a tool result the model can read (`isError`), or a protocol error
/// when storage failed.
fn tool_failure(failure: Failure) -> Result<CallToolResult, RpcError> {
    match failure {
        Failure::Storage => Err(RpcError::internal()),
        other => Ok(CallToolResult::error(other.to_string())),
    }
}

impl<'a, H: Host, R: AccessRevocation> LearnerCatalogue<'a, H, R> {
    /// The catalogue of `host`.
    pub fn new(host: &'a H, revocation: R) -> Self {
        Self { host, revocation }
    }

    async fn service(&self, caller: &Principal) -> Result<Service<'_, H, R>, RpcError> {
        let requester = requester(caller)?;
        Service::open(self.host, &self.revocation, requester)
            .await
            .map_err(|_| RpcError::internal())
    }
}

impl<H: Host, R: AccessRevocation> Catalogue for LearnerCatalogue<'_, H, R> {
    fn resources(&self) -> Vec<Resource> {
        definitions::resources()
    }

    fn templates(&self) -> Vec<ResourceTemplate> {
        definitions::templates()
    }

    fn tools(&self) -> Vec<Tool> {
        definitions::tools()
    }

    fn prompts(&self) -> Vec<Prompt> {
        definitions::prompts()
    }

    async fn call_tool(&self, call: &CallToolParams, context: &ToolContext<'_>) -> ToolOutcome {
        let service = match self.service(context.caller).await {
            Ok(service) => service,
            Err(error) if error.code == ACCESS_DENIED => {
                return Ok(CallToolResult::error(error.message));
            }
            Err(error) => return Err(error),
        };
        match tools::run(&call.name, &call.arguments, &service, self.host).await {
            Ok((text, body)) => Ok(CallToolResult::structured(text, body)),
            Err(failure) => tool_failure(failure),
        }
    }

    async fn read_resource(&self, uri: &str, caller: &Principal) -> ReadOutcome {
        let service = self.service(caller).await?;
        reads::resource(&service, uri).await
    }

    async fn get_prompt(&self, get: &GetPromptParams, context: &ToolContext<'_>) -> PromptOutcome {
        let service = self.service(context.caller).await?;
        reads::prompt(&service, &get.name, &get.arguments).await
    }

    async fn complete(&self, request: &CompleteParams, caller: &Principal) -> CompleteOutcome {
        let Some(wanted) = reads::completes(&request.reference, &request.argument) else {
            return Ok(Vec::new());
        };
        let service = self.service(caller).await?;
        reads::complete(&service, wanted, &request.value).await
    }
}
