//! What an MCP server offers — tools, resources, resource templates, prompts and
//! completions — as a trait features implement. The engine lists definitions (only
//! those the caller's scopes admit), pages them, checks arguments against the declared
//! shapes, and routes calls; a catalogue only answers.

use std::future::Future;
use std::pin::Pin;

use serde_json::{Map, Value, json};

use crate::jsonrpc::RpcError;
use crate::revision::Revision;
use crate::session::LogLevel;

/// A boxed future (for the one dyn-dispatched async call, [`ClientRequests::ask`]).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Messages for the client, in order, produced while a request is handled (log
/// messages, progress, requests to the client); a streaming transport sends each as
/// soon as it appears.
pub type Outbox = std::rc::Rc<std::cell::RefCell<std::collections::VecDeque<Value>>>;

/// The caller, from the access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The person who authorized the grant.
    pub subject: String,
    /// The client acting for them.
    pub client_id: String,
    /// The token's scopes.
    pub scopes: Vec<String>,
    /// What the grant says of the person (tenant, role, display name), sealed with it.
    pub props: Value,
}

impl Caller {
    /// Whether the token carries `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// Whether a definition gated by `scope` is visible to this caller.
    pub fn admits(&self, scope: Option<&str>) -> bool {
        scope.is_none_or(|s| self.has_scope(s))
    }
}

/// A tool's definition.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolDef {
    /// Unique name.
    pub name: String,
    /// Display title (2025-06-18+).
    pub title: Option<String>,
    /// What it does, for the model.
    pub description: String,
    /// JSON Schema of the arguments (`"type": "object"`).
    pub input_schema: Value,
    /// JSON Schema of `structuredContent` (2025-06-18+).
    pub output_schema: Option<Value>,
    /// Behaviour hints (2025-03-26+).
    pub annotations: Option<Value>,
    /// The scope a caller needs to see and call it.
    pub scope: Option<String>,
}

/// A concrete resource.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceDef {
    /// Its URI.
    pub uri: String,
    /// Short name.
    pub name: String,
    /// Display title (2025-06-18+).
    pub title: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Media type of its contents.
    pub mime_type: Option<String>,
    /// The scope a caller needs to see and read it.
    pub scope: Option<String>,
}

/// A family of resources named by an RFC 6570 URI template.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateDef {
    /// The template, e.g. `learner-dna://learners/{id}/profile`.
    pub uri_template: String,
    /// Short name.
    pub name: String,
    /// Display title (2025-06-18+).
    pub title: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Media type of the contents.
    pub mime_type: Option<String>,
    /// The scope a caller needs.
    pub scope: Option<String>,
}

/// One argument a prompt takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptArgument {
    /// Its name.
    pub name: String,
    /// What it is.
    pub description: Option<String>,
    /// Whether `prompts/get` must supply it.
    pub required: bool,
}

/// A prompt's definition.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptDef {
    /// Unique name.
    pub name: String,
    /// Display title (2025-06-18+).
    pub title: Option<String>,
    /// What it is for.
    pub description: String,
    /// Its arguments.
    pub arguments: Vec<PromptArgument>,
    /// The scope a caller needs.
    pub scope: Option<String>,
}

/// A tool's result.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ToolOutput {
    /// Content blocks (see [`content`]).
    pub content: Vec<Value>,
    /// Structured result matching the tool's `outputSchema`.
    pub structured: Option<Value>,
    /// A tool-level failure the model should see (not a protocol error).
    pub is_error: bool,
}

impl ToolOutput {
    /// A result of one text block.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            content: vec![content::text(text)],
            ..Self::default()
        }
    }

    /// The result of a handler that asked for input it does not have yet (see
    /// [`ToolContext::input`]); the engine answers with what was asked for instead.
    pub fn awaiting_input() -> Self {
        Self::default()
    }

    /// A tool failure with a message for the model.
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            content: vec![content::text(message)],
            is_error: true,
            ..Self::default()
        }
    }
}

/// A prompt's messages.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PromptOutput {
    /// Description of this rendering.
    pub description: Option<String>,
    /// `{role, content}` messages.
    pub messages: Vec<Value>,
}

/// What `completion/complete` completes for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompletionRef {
    /// A prompt's argument.
    Prompt(String),
    /// A resource template's variable.
    Template(String),
}

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
    pub caller: &'a Caller,
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
            let mut params = json!({"level": level.as_str(), "data": data});
            if let (Some(logger), Value::Object(map)) = (logger, &mut params) {
                map.insert("logger".into(), Value::String(logger.into()));
            }
            self.notify("notifications/message", params);
        }
    }

    /// Reports progress if the request asked for it (`_meta.progressToken`).
    pub fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        let Some(token) = &self.progress_token else {
            return;
        };
        let mut params = json!({"progressToken": token, "progress": progress});
        if let Value::Object(map) = &mut params {
            if let Some(total) = total {
                map.insert("total".into(), json!(total));
            }
            if let Some(message) = message {
                map.insert("message".into(), Value::String(message.into()));
            }
        }
        self.notify("notifications/progress", params);
    }

    fn notify(&self, method: &str, params: Value) {
        self.notifications
            .borrow_mut()
            .push_back(crate::jsonrpc::notification(method, params));
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
    /// [`ToolOutput::awaiting_input`]. A capability the client did not declare is an
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
                RpcError::new(MISSING_CAPABILITY, message)
                    .with_data(json!({"requiredCapabilities": {capability: {}}}))
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

/// Content blocks.
pub mod content {
    use serde_json::{Value, json};

    /// A text block.
    pub fn text(text: impl Into<String>) -> Value {
        json!({"type": "text", "text": text.into()})
    }

    /// An image block (`data` is base64).
    pub fn image(data: &str, mime_type: &str) -> Value {
        json!({"type": "image", "data": data, "mimeType": mime_type})
    }

    /// An audio block (`data` is base64; 2025-03-26+).
    pub fn audio(data: &str, mime_type: &str) -> Value {
        json!({"type": "audio", "data": data, "mimeType": mime_type})
    }

    /// An embedded text resource.
    pub fn text_resource(uri: &str, mime_type: &str, text: &str) -> Value {
        json!({"type": "resource", "resource": {"uri": uri, "mimeType": mime_type, "text": text}})
    }

    /// Text contents of a resource (for `resources/read`).
    pub fn text_contents(uri: &str, mime_type: &str, text: &str) -> Value {
        json!({"uri": uri, "mimeType": mime_type, "text": text})
    }

    /// Binary contents of a resource (`blob` is base64).
    pub fn blob_contents(uri: &str, mime_type: &str, blob: &str) -> Value {
        json!({"uri": uri, "mimeType": mime_type, "blob": blob})
    }

    /// A prompt message.
    pub fn message(role: &str, content: Value) -> Value {
        json!({"role": role, "content": content})
    }
}

/// The offering. Every method sees only callers the engine has admitted to the
/// definition's scope. A catalogue implements what it offers; the defaults offer
/// nothing of a kind (and the engine only calls a tool, prompt or completion that a
/// list names).
#[allow(async_fn_in_trait)]
pub trait Catalogue {
    /// Tool definitions.
    fn tools(&self) -> Vec<ToolDef> {
        Vec::new()
    }
    /// Concrete resources.
    fn resources(&self) -> Vec<ResourceDef> {
        Vec::new()
    }
    /// Resource templates.
    fn templates(&self) -> Vec<TemplateDef> {
        Vec::new()
    }
    /// Prompt definitions.
    fn prompts(&self) -> Vec<PromptDef> {
        Vec::new()
    }
    /// Runs tool `name` (listed by [`Catalogue::tools`], arguments checked).
    async fn call_tool(
        &self,
        name: &str,
        _arguments: &Map<String, Value>,
        _context: &ToolContext<'_>,
    ) -> Result<ToolOutput, RpcError> {
        Err(RpcError::invalid_params(format!("unknown tool {name:?}")))
    }
    /// The contents of `uri`; `None` when there is no such resource.
    async fn read_resource(
        &self,
        _uri: &str,
        _caller: &Caller,
    ) -> Result<Option<Vec<Value>>, RpcError> {
        Ok(None)
    }
    /// Renders prompt `name` (listed, required arguments present); `Ok(None)` when
    /// it asked for input it does not have yet.
    async fn get_prompt(
        &self,
        name: &str,
        _arguments: &Map<String, Value>,
        _context: &ToolContext<'_>,
    ) -> Result<Option<PromptOutput>, RpcError> {
        Err(RpcError::invalid_params(format!("unknown prompt {name:?}")))
    }
    /// Values for `argument` starting with `value`; `context` holds arguments already
    /// chosen.
    async fn complete(
        &self,
        _reference: &CompletionRef,
        _argument: &str,
        _value: &str,
        _context: &Map<String, Value>,
        _caller: &Caller,
    ) -> Result<Vec<String>, RpcError> {
        Ok(Vec::new())
    }
}

/// Two catalogues offered as one: everything of both; a call goes to the one that
/// lists the name (or covers the URI), the first when both do.
pub struct Both<A, B>(pub A, pub B);

fn lists_resource<C: Catalogue>(catalogue: &C, uri: &str) -> bool {
    catalogue.resources().iter().any(|r| r.uri == uri)
        || catalogue
            .templates()
            .iter()
            .any(|t| crate::engine::match_template(&t.uri_template, uri).is_some())
}

impl<A: Catalogue, B: Catalogue> Catalogue for Both<A, B> {
    fn tools(&self) -> Vec<ToolDef> {
        let mut tools = self.0.tools();
        tools.extend(self.1.tools());
        tools
    }
    fn resources(&self) -> Vec<ResourceDef> {
        let mut resources = self.0.resources();
        resources.extend(self.1.resources());
        resources
    }
    fn templates(&self) -> Vec<TemplateDef> {
        let mut templates = self.0.templates();
        templates.extend(self.1.templates());
        templates
    }
    fn prompts(&self) -> Vec<PromptDef> {
        let mut prompts = self.0.prompts();
        prompts.extend(self.1.prompts());
        prompts
    }
    async fn call_tool(
        &self,
        name: &str,
        arguments: &Map<String, Value>,
        context: &ToolContext<'_>,
    ) -> Result<ToolOutput, RpcError> {
        if self.0.tools().iter().any(|t| t.name == name) {
            self.0.call_tool(name, arguments, context).await
        } else {
            self.1.call_tool(name, arguments, context).await
        }
    }
    async fn read_resource(
        &self,
        uri: &str,
        caller: &Caller,
    ) -> Result<Option<Vec<Value>>, RpcError> {
        if lists_resource(&self.0, uri) {
            self.0.read_resource(uri, caller).await
        } else {
            self.1.read_resource(uri, caller).await
        }
    }
    async fn get_prompt(
        &self,
        name: &str,
        arguments: &Map<String, Value>,
        context: &ToolContext<'_>,
    ) -> Result<Option<PromptOutput>, RpcError> {
        if self.0.prompts().iter().any(|p| p.name == name) {
            self.0.get_prompt(name, arguments, context).await
        } else {
            self.1.get_prompt(name, arguments, context).await
        }
    }
    async fn complete(
        &self,
        reference: &CompletionRef,
        argument: &str,
        value: &str,
        context: &Map<String, Value>,
        caller: &Caller,
    ) -> Result<Vec<String>, RpcError> {
        let first = match reference {
            CompletionRef::Prompt(name) => self.0.prompts().iter().any(|p| &p.name == name),
            CompletionRef::Template(uri) => {
                self.0.templates().iter().any(|t| &t.uri_template == uri)
            }
        };
        if first {
            self.0
                .complete(reference, argument, value, context, caller)
                .await
        } else {
            self.1
                .complete(reference, argument, value, context, caller)
                .await
        }
    }
}
