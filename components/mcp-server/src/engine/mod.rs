//! The MCP methods: a request in, a result (and any change to the session) out. The
//! transport owns sessions, headers and streams; everything here is decided from the
//! parsed request, the caller and the catalogue, so it is tested without HTTP.
//!
//! This module dispatches; `lists` pages definitions, `calls` runs tools, prompts,
//! reads and completions, `arguments` checks a tool's arguments against its schema.

mod arguments;
mod calls;
mod lists;
#[cfg(test)]
mod tests;

use std::cell::RefCell;

use learner_core::identity::Principal;
use serde_json::Value;

pub use arguments::check_arguments;

use crate::catalogue::{Catalogue, ClientRequests, Outbox};
use crate::jsonrpc::RpcError;
use crate::model::Downlevel;
use crate::model::params::{Params, SetLevelParams, UriParams};
use crate::model::results::{
    DiscoverResult, Empty, Implementation, InitializeResult, ListChanges, Present,
    ResourcesCapability, ServerCapabilities, StatelessFields, to_json,
};
use crate::revision::Revision;
use crate::session::LogLevel;

/// MCP's error code for a resource that does not exist (session era).
pub const RESOURCE_NOT_FOUND: i64 = -32002;
/// Most values `completion/complete` returns (the spec's limit).
pub const MAX_COMPLETIONS: usize = 100;
pub use crate::model::params::MAX_URI_BYTES;

/// This server, as `initialize` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    /// Implementation name.
    pub name: String,
    /// Implementation version.
    pub version: String,
    /// Guidance for the model.
    pub instructions: Option<String>,
}

impl ServerInfo {
    /// Its name and version.
    pub fn implementation(&self) -> Implementation {
        Implementation {
            name: self.name.clone(),
            version: self.version.clone(),
        }
    }
}

/// Why a request got no result.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// A JSON-RPC error.
    Rpc(RpcError),
    /// The token lacks this scope (the transport answers 403 `insufficient_scope`).
    InsufficientScope(String),
}

impl From<RpcError> for Refusal {
    fn from(error: RpcError) -> Self {
        Self::Rpc(error)
    }
}

/// A change the transport applies to the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// `logging/setLevel`.
    SetLogLevel(LogLevel),
    /// `resources/subscribe`.
    Subscribe(String),
    /// `resources/unsubscribe`.
    Unsubscribe(String),
}

/// A result and the session change it asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The JSON-RPC result.
    pub result: Value,
    /// What to change in the session.
    pub effect: Option<Effect>,
}

impl Answer {
    fn plain(result: Value) -> Self {
        Self {
            result,
            effect: None,
        }
    }

    fn empty(effect: Option<Effect>) -> Self {
        Self {
            result: to_json(&Empty {}),
            effect,
        }
    }
}

/// How long a client may cache the result of `method` (stateless revision), or
/// `None` for results that are not cacheable. Definitions change only with a new
/// release; resource contents change with the data, so they are never reused.
pub fn cache_ttl_ms(method: &str) -> Option<u64> {
    match method {
        "tools/list" | "prompts/list" | "resources/templates/list" => Some(60_000),
        "resources/list" | "resources/read" | "server/discover" => Some(0),
        _ => None,
    }
}

/// The methods of the stateless revision (2026-07-28) other than `server/discover`
/// and `subscriptions/listen`, which the transport answers.
pub const STATELESS_METHODS: [&str; 8] = [
    "tools/list",
    "tools/call",
    "prompts/list",
    "prompts/get",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "completion/complete",
];

/// The capabilities this server declares for `revision`: only what it does. No list
/// ever changes while a session lives, so no `listChanged`.
pub fn capabilities(revision: Revision) -> ServerCapabilities {
    ServerCapabilities {
        tools: ListChanges::default(),
        resources: ResourcesCapability {
            subscribe: true,
            list_changed: false,
        },
        prompts: ListChanges::default(),
        logging: Present {},
        completions: Some(Present {}),
    }
    .downlevel(revision)
}

/// The `server/discover` result (without `_meta`, which the transport adds).
pub fn discover_result(info: &ServerInfo) -> Value {
    let result = DiscoverResult {
        supported_versions: Revision::ALL.iter().rev().map(|r| r.as_str()).collect(),
        capabilities: capabilities(Revision::V2026_07_28),
        instructions: info.instructions.clone(),
    };
    stateless(to_json(&result), "server/discover")
}

/// The `initialize` result for `revision`.
pub fn initialize_result(revision: Revision, info: &ServerInfo) -> Value {
    to_json(&InitializeResult {
        protocol_version: revision.as_str(),
        capabilities: capabilities(revision),
        server_info: info.implementation(),
        instructions: info.instructions.clone(),
    })
}

/// A result as the stateless revision has it: it says what it is (`resultType`,
/// unless it says so already), and a cacheable complete one how long it keeps
/// (`ttlMs`) and for whom (`cacheScope`: lists and contents depend on who asks).
fn stateless(mut result: Value, method: &str) -> Value {
    let Value::Object(map) = &mut result else {
        return result;
    };
    let complete = !map.contains_key("resultType");
    let fields = StatelessFields {
        result_type: "complete",
        ttl_ms: cache_ttl_ms(method).filter(|_| complete),
        cache_scope: cache_ttl_ms(method).filter(|_| complete).map(|_| "private"),
    };
    if let Value::Object(added) = to_json(&fields) {
        for (key, value) in added {
            map.entry(key).or_insert(value);
        }
    }
    result
}

/// One request's dispatch over a catalogue.
pub struct Dispatch<'a, C> {
    /// The offering.
    pub catalogue: &'a C,
    /// Who asks.
    pub caller: &'a Principal,
    /// The revision in force.
    pub revision: Revision,
    /// The client's capabilities.
    pub client_capabilities: &'a Value,
    /// The session's log level.
    pub log_level: Option<LogLevel>,
    /// Definitions per page of a list.
    pub page_size: usize,
    /// How to reach the client mid-call, where the transport can.
    pub client: Option<&'a dyn ClientRequests>,
    /// Messages produced while handling (log messages, progress, requests to the
    /// client), in order.
    pub notifications: Outbox,
    /// Resources the handling changed (their subscribers are to be told).
    pub updated: RefCell<Vec<String>>,
    /// The key that signs `requestState` (stateless revision; `None` elsewhere).
    pub state_key: Option<[u8; 32]>,
}

impl<C: Catalogue> Dispatch<'_, C> {
    /// Answers one request (anything but `initialize`, which opens a session and so
    /// belongs to the transport). In the stateless revision every result says what
    /// it is (`resultType`), and cacheable ones how long they keep (`ttlMs`,
    /// `cacheScope`).
    pub async fn request(&self, method: &str, params: &Params) -> Result<Answer, Refusal> {
        let mut answer = self.answer(method, params).await?;
        if !self.revision.has_sessions() {
            answer.result = stateless(answer.result, method);
        }
        Ok(answer)
    }

    async fn answer(&self, method: &str, params: &Params) -> Result<Answer, Refusal> {
        match method {
            "ping" => Ok(Answer::empty(None)),
            "logging/setLevel" => {
                let SetLevelParams { level } = SetLevelParams::parse(params)?;
                Ok(Answer::empty(Some(Effect::SetLogLevel(level))))
            }
            "tools/list" => self.list(C::tools, params),
            "tools/call" => self.call_tool(params).await.map(Answer::plain),
            "resources/list" => self.list(C::resources, params),
            "resources/templates/list" => self.list(C::templates, params),
            "resources/read" => self.read_resource(params).await.map(Answer::plain),
            "resources/subscribe" => {
                let uri = self.admitted_uri(params)?;
                Ok(Answer::empty(Some(Effect::Subscribe(uri))))
            }
            "resources/unsubscribe" => {
                let UriParams { uri } = UriParams::parse(params)?;
                Ok(Answer::empty(Some(Effect::Unsubscribe(uri))))
            }
            "prompts/list" => self.list(C::prompts, params),
            "prompts/get" => self.get_prompt(params).await.map(Answer::plain),
            "completion/complete" if self.revision >= Revision::V2025_03_26 => {
                self.complete(params).await.map(Answer::plain)
            }
            other => Err(RpcError::method_not_found(other).into()),
        }
    }
}
