//! What an MCP server offers — tools, resources, resource templates, prompts and
//! completions — as a trait features implement. The engine lists definitions (only
//! those the caller's scopes admit), pages them, checks arguments against the declared
//! shapes, and routes calls; a catalogue only answers.

use std::future::Future;
use std::pin::Pin;

use learner_core::identity::Principal;
use serde_json::{Map, Value};

use crate::jsonrpc::{self, RpcError};
use crate::model::notifications::{LoggingMessage, Progress};
use crate::model::params::{CallToolParams, CompleteParams, CompletionRef, GetPromptParams};
use crate::model::{
    CallToolResult, GetPromptResult, Prompt, Resource, ResourceContents, ResourceTemplate, Tool,
};
use crate::revision::Revision;
use crate::session::LogLevel;
use crate::uri_template::match_template;

/// A boxed future (for the one dyn-dispatched async call, [`ClientRequests::ask`]).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Messages for the client, in order, produced while a request is handled (log
/// messages, progress, requests to the client); a streaming transport sends each as
/// soon as it appears.
pub type Outbox = std::rc::Rc<std::cell::RefCell<std::collections::VecDeque<Value>>>;

/// Input from the client in the middle of a request (sampling, elicitation, roots):
/// in the session era a request sent on the stream and its answer awaited; in the
/// stateless era the answer from a later round of the same request, if it came.
pub trait ClientRequests {
    /// The client's answer to `method` with `params`, asked under `key`; `None` when
    /// it must be asked for and the request repeated (stateless era).
    fn ask<'a>(
        &'a self,
        key: &'a str,
        method: &'a str,
        params: Value,
    ) -> BoxFuture<'a, Result<Option<Value>, RpcError>>;
}

/// MCP's error code (2026-07-28) for a request that needs a client capability the
/// client did not declare.
pub const MISSING_CAPABILITY: i64 = -32021;

/// What a tool or prompt may do besides answering: log, report progress, ask the
/// client for input, say a resource changed.
pub struct ToolContext<'a> {
    /// The caller.
    pub caller: &'a Principal,
    /// The session's (or request's) protocol revision.
    pub revision: Revision,
    /// The client's declared capabilities.
    pub client_capabilities: &'a Value,
    pub(crate) log_level: Option<LogLevel>,
    pub(crate) progress_token: Option<Value>,
    pub(crate) notifications: &'a Outbox,
    pub(crate) updated: &'a std::cell::RefCell<Vec<String>>,
    pub(crate) client: Option<&'a dyn ClientRequests>,
}

impl ToolContext<'_> {
    /// Sends a log message if the client asked for this level or a lower one.
    pub fn log(&self, level: LogLevel, logger: Option<&str>, data: Value) {
        if self.log_level.is_some_and(|min| level >= min) {
            let message = LoggingMessage {
                level,
                logger: logger.map(str::to_owned),
                data,
            };
            self.notify("notifications/message", &message);
        }
    }

    /// Reports progress if the request asked for it (`_meta.progressToken`).
    pub fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        let Some(token) = &self.progress_token else {
            return;
        };
        let params = Progress {
            progress_token: token.clone(),
            progress,
            total,
            message: message.map(str::to_owned),
        };
        self.notify("notifications/progress", &params);
    }

    fn notify(&self, method: &str, params: &impl serde::Serialize) {
        self.notifications
            .borrow_mut()
            .push_back(jsonrpc::notification(method, params));
    }

    /// Says that resource `uri` changed: every session subscribed to it is told
    /// (`notifications/resources/updated`).
    pub fn resource_updated(&self, uri: &str) {
        let mut updated = self.updated.borrow_mut();
        if !updated.iter().any(|u| u == uri) {
            updated.push(uri.to_owned());
        }
    }

    /// Whether the client declared capability `name` (`sampling`, `elicitation`, …).
    pub fn client_can(&self, name: &str) -> bool {
        self.client_capabilities
            .get(name)
            .is_some_and(Value::is_object)
    }

    /// Input from the client: `sampling/createMessage`, `elicitation/create` or
    /// `roots/list` with `params`, under `key`. `Ok(None)` means the request must end
    /// now and will be repeated with the answer (stateless era): return
    /// [`CallToolResult::awaiting_input`]. A capability the client did not declare is an
    /// error the tool should return as it is.
    pub async fn input(
        &self,
        key: &str,
        method: &str,
        params: Value,
    ) -> Result<Option<Value>, RpcError> {
        let capability = match method {
            "sampling/createMessage" => "sampling",
            "elicitation/create" => "elicitation",
            "roots/list" => "roots",
            other => {
                return Err(RpcError::invalid_params(format!(
                    "{other} is not a request a server may send"
                )));
            }
        };
        if !self.client_can(capability) {
            let message = format!("the client did not declare the {capability} capability");
            return Err(if self.revision.has_sessions() {
                RpcError::invalid_request(message)
            } else {
                let mut required = Map::new();
                required.insert(capability.to_owned(), Value::Object(Map::new()));
                let mut data = Map::new();
                data.insert("requiredCapabilities".into(), Value::Object(required));
                RpcError::new(MISSING_CAPABILITY, message).with_data(Value::Object(data))
            });
        }
        match self.client {
            Some(client) => client.ask(key, method, params).await,
            None => Err(RpcError::invalid_request(
                "this request cannot carry requests to the client: accept text/event-stream",
            )),
        }
    }
}

/// What a tool call ends in: its result (a tool's own failure is a result with
/// `isError`), or a protocol error.
pub type ToolOutcome = Result<CallToolResult, RpcError>;
/// What a resource read ends in: its contents, `None` when there is no such resource.
pub type ReadOutcome = Result<Option<Vec<ResourceContents>>, RpcError>;
/// What rendering a prompt ends in: the prompt, `None` when it asked for input it does
/// not have yet.
pub type PromptOutcome = Result<Option<GetPromptResult>, RpcError>;
/// What a completion ends in: the candidate values.
pub type CompleteOutcome = Result<Vec<String>, RpcError>;

/// The offering. Every method sees only callers the engine has admitted to the
/// definition's scope, and the request's parameters as the engine parsed and checked
/// them. A catalogue implements what it offers; the defaults offer nothing of a kind
/// (and the engine only calls a tool, prompt or completion that a list names).
#[allow(async_fn_in_trait)]
pub trait Catalogue {
    // Each kind is listed on its own: a request builds only the definitions it needs
    // (tool schemas are the costly part).
    /// Tool definitions.
    fn tools(&self) -> Vec<Tool> {
        Vec::new()
    }
    /// Concrete resources.
    fn resources(&self) -> Vec<Resource> {
        Vec::new()
    }
    /// Resource templates.
    fn templates(&self) -> Vec<ResourceTemplate> {
        Vec::new()
    }
    /// Prompt definitions.
    fn prompts(&self) -> Vec<Prompt> {
        Vec::new()
    }
    /// Runs the tool `call` names (listed by [`Catalogue::tools`], arguments checked).
    async fn call_tool(&self, call: &CallToolParams, _context: &ToolContext<'_>) -> ToolOutcome {
        Err(RpcError::invalid_params(format!(
            "unknown tool {:?}",
            call.name
        )))
    }
    /// The contents of `uri`.
    async fn read_resource(&self, _uri: &str, _caller: &Principal) -> ReadOutcome {
        Ok(None)
    }
    /// Renders the prompt `get` names (listed, required arguments present).
    async fn get_prompt(&self, get: &GetPromptParams, _context: &ToolContext<'_>) -> PromptOutcome {
        Err(RpcError::invalid_params(format!(
            "unknown prompt {:?}",
            get.name
        )))
    }
    /// Values for the argument `request` names that start with what the user typed;
    /// `request.context` holds arguments already chosen.
    async fn complete(&self, _request: &CompleteParams, _caller: &Principal) -> CompleteOutcome {
        Ok(Vec::new())
    }
}

/// A catalogue that offers nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Nothing;

impl Catalogue for Nothing {}

/// Two catalogues offered as one: everything of both; a call goes to the one that
/// lists the name (or covers the URI), the first when both do.
pub struct Both<A, B>(pub A, pub B);

fn lists_resource<C: Catalogue>(catalogue: &C, uri: &str) -> bool {
    catalogue.resources().iter().any(|r| r.uri == uri)
        || catalogue
            .templates()
            .iter()
            .any(|t| match_template(&t.uri_template, uri).is_some())
}

/// Both lists, `first`'s first.
fn both<T>(mut first: Vec<T>, second: Vec<T>) -> Vec<T> {
    first.extend(second);
    first
}

impl<A: Catalogue, B: Catalogue> Catalogue for Both<A, B> {
    fn tools(&self) -> Vec<Tool> {
        both(self.0.tools(), self.1.tools())
    }
    fn resources(&self) -> Vec<Resource> {
        both(self.0.resources(), self.1.resources())
    }
    fn templates(&self) -> Vec<ResourceTemplate> {
        both(self.0.templates(), self.1.templates())
    }
    fn prompts(&self) -> Vec<Prompt> {
        both(self.0.prompts(), self.1.prompts())
    }
    async fn call_tool(&self, call: &CallToolParams, context: &ToolContext<'_>) -> ToolOutcome {
        if self.0.tools().iter().any(|t| t.name == call.name) {
            self.0.call_tool(call, context).await
        } else {
            self.1.call_tool(call, context).await
        }
    }
    async fn read_resource(&self, uri: &str, caller: &Principal) -> ReadOutcome {
        if lists_resource(&self.0, uri) {
            self.0.read_resource(uri, caller).await
        } else {
            self.1.read_resource(uri, caller).await
        }
    }
    async fn get_prompt(&self, get: &GetPromptParams, context: &ToolContext<'_>) -> PromptOutcome {
        if self.0.prompts().iter().any(|p| p.name == get.name) {
            self.0.get_prompt(get, context).await
        } else {
            self.1.get_prompt(get, context).await
        }
    }
    async fn complete(&self, request: &CompleteParams, caller: &Principal) -> CompleteOutcome {
        let first = match &request.reference {
            CompletionRef::Prompt(name) => self.0.prompts().iter().any(|p| &p.name == name),
            CompletionRef::Template(uri) => {
                self.0.templates().iter().any(|t| &t.uri_template == uri)
            }
        };
        if first {
            self.0.complete(request, caller).await
        } else {
            self.1.complete(request, caller).await
        }
    }
}
