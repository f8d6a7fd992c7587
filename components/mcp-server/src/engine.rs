//! The MCP methods: a request in, a result (and any change to the session) out. The
//! transport owns sessions, headers and streams; everything here is decided from the
//! parsed request, the caller and the catalogue, so it is tested without HTTP.

use std::cell::RefCell;

use serde_json::{Map, Value, json};

use crate::catalogue::{
    Caller, Catalogue, ClientRequests, CompletionRef, Outbox, PromptDef, ResourceDef, TemplateDef,
    ToolContext, ToolDef,
};
use crate::jsonrpc::RpcError;
use crate::mrtr::Round;
use crate::revision::Revision;
use crate::session::LogLevel;

/// MCP's error code for a resource that does not exist (session era).
pub const RESOURCE_NOT_FOUND: i64 = -32002;
/// Most values `completion/complete` returns (the spec's limit).
pub const MAX_COMPLETIONS: usize = 100;
/// Longest URI accepted in a request.
pub const MAX_URI_BYTES: usize = 2048;

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

/// The `server/discover` result (without `_meta`, which the transport adds).
pub fn discover_result(info: &ServerInfo) -> Value {
    let supported: Vec<&str> = Revision::ALL.iter().rev().map(|r| r.as_str()).collect();
    let mut result = json!({
        "supportedVersions": supported,
        "capabilities": capabilities(Revision::V2026_07_28),
        "resultType": "complete",
        "ttlMs": 0,
        "cacheScope": "private",
    });
    if let (Some(instructions), Value::Object(map)) = (&info.instructions, &mut result) {
        map.insert("instructions".into(), Value::String(instructions.clone()));
    }
    result
}

/// The capabilities this server declares: only what it does. No list ever changes
/// while a session lives, so no `listChanged`.
pub fn capabilities(revision: Revision) -> Value {
    let mut capabilities = json!({
        "tools": {"listChanged": false},
        "resources": {"subscribe": true, "listChanged": false},
        "prompts": {"listChanged": false},
        "logging": {},
    });
    if revision >= Revision::V2025_03_26
        && let Value::Object(map) = &mut capabilities
    {
        map.insert("completions".into(), json!({}));
    }
    capabilities
}

/// The `initialize` result for `revision`.
pub fn initialize_result(revision: Revision, info: &ServerInfo) -> Value {
    let mut result = json!({
        "protocolVersion": revision.as_str(),
        "capabilities": capabilities(revision),
        "serverInfo": {"name": info.name, "version": info.version},
    });
    if let (Some(instructions), Value::Object(map)) = (&info.instructions, &mut result) {
        map.insert("instructions".into(), Value::String(instructions.clone()));
    }
    result
}

/// One request's dispatch over a catalogue.
pub struct Dispatch<'a, C> {
    /// The offering.
    pub catalogue: &'a C,
    /// Who asks.
    pub caller: &'a Caller,
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

fn string_param<'p>(params: &'p Map<String, Value>, name: &str) -> Result<&'p str, RpcError> {
    params
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::invalid_params(format!("params.{name} must be a string")))
}

fn object_param<'p>(
    params: &'p Map<String, Value>,
    name: &str,
) -> Result<Option<&'p Map<String, Value>>, RpcError> {
    match params.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(_) => Err(RpcError::invalid_params(format!(
            "params.{name} must be an object"
        ))),
    }
}

/// A page of `items` after `cursor`, and the cursor of the next page.
fn page<T: Clone>(
    items: &[T],
    params: &Map<String, Value>,
    size: usize,
) -> Result<(Vec<T>, Option<String>), RpcError> {
    let start = match params.get("cursor") {
        None | Some(Value::Null) => 0,
        Some(Value::String(cursor)) => cursor
            .strip_prefix("offset:")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= items.len())
            .ok_or_else(|| RpcError::invalid_params("invalid cursor"))?,
        Some(_) => return Err(RpcError::invalid_params("params.cursor must be a string")),
    };
    let size = size.max(1);
    let end = start.saturating_add(size).min(items.len());
    let next = (end < items.len()).then(|| format!("offset:{end}"));
    Ok((items[start..end].to_vec(), next))
}

fn with_cursor(mut result: Value, next: Option<String>) -> Value {
    if let (Some(next), Value::Object(map)) = (next, &mut result) {
        map.insert("nextCursor".into(), Value::String(next));
    }
    result
}

/// Inserts `key` when `value` is `Some`.
fn put(map: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(value) = value {
        map.insert(key.into(), value);
    }
}

fn tool_json(tool: &ToolDef, revision: Revision) -> Value {
    let mut map = Map::new();
    map.insert("name".into(), json!(tool.name));
    map.insert("description".into(), json!(tool.description));
    map.insert("inputSchema".into(), tool.input_schema.clone());
    if revision.has_structured_output() {
        put(&mut map, "title", tool.title.clone().map(Value::String));
        put(&mut map, "outputSchema", tool.output_schema.clone());
    }
    if revision.has_audio() {
        put(&mut map, "annotations", tool.annotations.clone());
    }
    Value::Object(map)
}

fn resource_json(resource: &ResourceDef, revision: Revision) -> Value {
    let mut map = Map::new();
    map.insert("uri".into(), json!(resource.uri));
    map.insert("name".into(), json!(resource.name));
    if revision.has_structured_output() {
        put(&mut map, "title", resource.title.clone().map(Value::String));
    }
    put(
        &mut map,
        "description",
        resource.description.clone().map(Value::String),
    );
    put(
        &mut map,
        "mimeType",
        resource.mime_type.clone().map(Value::String),
    );
    Value::Object(map)
}

fn template_json(template: &TemplateDef, revision: Revision) -> Value {
    let mut map = Map::new();
    map.insert("uriTemplate".into(), json!(template.uri_template));
    map.insert("name".into(), json!(template.name));
    if revision.has_structured_output() {
        put(&mut map, "title", template.title.clone().map(Value::String));
    }
    put(
        &mut map,
        "description",
        template.description.clone().map(Value::String),
    );
    put(
        &mut map,
        "mimeType",
        template.mime_type.clone().map(Value::String),
    );
    Value::Object(map)
}

fn prompt_json(prompt: &PromptDef, revision: Revision) -> Value {
    let mut map = Map::new();
    map.insert("name".into(), json!(prompt.name));
    if revision.has_structured_output() {
        put(&mut map, "title", prompt.title.clone().map(Value::String));
    }
    map.insert("description".into(), json!(prompt.description));
    let arguments: Vec<Value> = prompt
        .arguments
        .iter()
        .map(|a| {
            let mut arg = Map::new();
            arg.insert("name".into(), json!(a.name));
            put(
                &mut arg,
                "description",
                a.description.clone().map(Value::String),
            );
            arg.insert("required".into(), json!(a.required));
            Value::Object(arg)
        })
        .collect();
    map.insert("arguments".into(), Value::Array(arguments));
    Value::Object(map)
}

/// Matches `uri` against an RFC 6570 level-1 template whose variables each stand for
/// one non-empty path segment; the variables' values when it matches.
pub fn match_template(template: &str, uri: &str) -> Option<Map<String, Value>> {
    let mut values = Map::new();
    let mut rest = uri;
    let mut pattern = template;
    while let Some(open) = pattern.find('{') {
        let literal = &pattern[..open];
        rest = rest.strip_prefix(literal)?;
        let close = pattern[open..].find('}')? + open;
        let name = &pattern[open + 1..close];
        pattern = &pattern[close + 1..];
        let stop = pattern.chars().next();
        let end = rest
            .find(|c: char| c == '/' || Some(c) == stop || c == '?' || c == '#')
            .unwrap_or(rest.len());
        if end == 0 {
            return None;
        }
        values.insert(name.to_owned(), Value::String(rest[..end].to_owned()));
        rest = &rest[end..];
    }
    (rest == pattern).then_some(values)
}

/// Checks arguments against the top level of a JSON Schema: required properties are
/// present and declared primitive types match. (Deeper validation is the tool's.)
pub fn check_arguments(schema: &Value, arguments: &Map<String, Value>) -> Result<(), RpcError> {
    if let Some(required) = schema.get("required").and_then(Value::as_array) {
        for name in required.iter().filter_map(Value::as_str) {
            if !arguments.contains_key(name) {
                return Err(RpcError::invalid_params(format!(
                    "missing required argument {name:?}"
                )));
            }
        }
    }
    let properties = schema.get("properties").and_then(Value::as_object);
    for (name, value) in arguments {
        let declared = properties.and_then(|p| p.get(name));
        if declared.is_none() && schema.get("additionalProperties") == Some(&Value::Bool(false)) {
            return Err(RpcError::invalid_params(format!(
                "unknown argument {name:?}"
            )));
        }
        let Some(kind) = declared.and_then(|d| d.get("type")).and_then(Value::as_str) else {
            continue;
        };
        let fits = match kind {
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "object" => value.is_object(),
            "array" => value.is_array(),
            "null" => value.is_null(),
            _ => true,
        };
        if !fits {
            return Err(RpcError::invalid_params(format!(
                "argument {name:?} must be of type {kind}"
            )));
        }
    }
    Ok(())
}

impl<C: Catalogue> Dispatch<'_, C> {
    /// Answers one request (anything but `initialize`, which opens a session and so
    /// belongs to the transport). In the stateless revision every result says what
    /// it is (`resultType`), and cacheable ones how long they keep (`ttlMs`,
    /// `cacheScope`).
    pub async fn request(
        &self,
        method: &str,
        params: &Map<String, Value>,
    ) -> Result<Answer, Refusal> {
        let mut answer = self.answer(method, params).await?;
        if !self.revision.has_sessions()
            && let Value::Object(result) = &mut answer.result
        {
            result
                .entry("resultType")
                .or_insert_with(|| Value::String("complete".into()));
            if let Some(ttl_ms) = cache_ttl_ms(method)
                && result.get("resultType") == Some(&json!("complete"))
            {
                result.insert("ttlMs".into(), json!(ttl_ms));
                // Lists and contents depend on who asks.
                result.insert("cacheScope".into(), json!("private"));
            }
        }
        Ok(answer)
    }

    async fn answer(&self, method: &str, params: &Map<String, Value>) -> Result<Answer, Refusal> {
        match method {
            "ping" => Ok(Answer::plain(json!({}))),
            "logging/setLevel" => {
                let level = string_param(params, "level")?;
                let level = LogLevel::parse(level).ok_or_else(|| {
                    RpcError::invalid_params(format!("unknown log level {level:?}"))
                })?;
                Ok(Answer {
                    result: json!({}),
                    effect: Some(Effect::SetLogLevel(level)),
                })
            }
            "tools/list" => self.list(
                self.catalogue.tools(),
                |t| &t.scope,
                tool_json,
                "tools",
                params,
            ),
            "tools/call" => self.call_tool(params).await.map(Answer::plain),
            "resources/list" => self.list(
                self.catalogue.resources(),
                |r| &r.scope,
                resource_json,
                "resources",
                params,
            ),
            "resources/templates/list" => self.list(
                self.catalogue.templates(),
                |t| &t.scope,
                template_json,
                "resourceTemplates",
                params,
            ),
            "resources/read" => {
                let uri = self.admitted_uri(params)?;
                match self.catalogue.read_resource(uri, self.caller).await? {
                    Some(contents) => Ok(Answer::plain(json!({"contents": contents}))),
                    None => Err(not_found(uri, self.revision).into()),
                }
            }
            "resources/subscribe" => {
                let uri = self.admitted_uri(params)?;
                Ok(Answer {
                    result: json!({}),
                    effect: Some(Effect::Subscribe(uri.to_owned())),
                })
            }
            "resources/unsubscribe" => {
                let uri = string_param(params, "uri")?;
                Ok(Answer {
                    result: json!({}),
                    effect: Some(Effect::Unsubscribe(uri.to_owned())),
                })
            }
            "prompts/list" => self.list(
                self.catalogue.prompts(),
                |p| &p.scope,
                prompt_json,
                "prompts",
                params,
            ),
            "prompts/get" => self.get_prompt(params).await.map(Answer::plain),
            "completion/complete" if self.revision >= Revision::V2025_03_26 => {
                self.complete(params).await.map(Answer::plain)
            }
            other => Err(RpcError::method_not_found(other).into()),
        }
    }

    /// A `*/list` answer: the definitions the caller's scopes admit, one page of them
    /// rendered for the revision under `key`, and the cursor of the next page.
    fn list<T: Clone>(
        &self,
        items: Vec<T>,
        scope: impl Fn(&T) -> &Option<String>,
        render: fn(&T, Revision) -> Value,
        key: &str,
        params: &Map<String, Value>,
    ) -> Result<Answer, Refusal> {
        let visible: Vec<T> = items
            .into_iter()
            .filter(|item| self.caller.admits(scope(item).as_deref()))
            .collect();
        let (page, next) = page(&visible, params, self.page_size)?;
        let rendered: Vec<Value> = page
            .iter()
            .map(|item| render(item, self.revision))
            .collect();
        let mut result = Map::new();
        result.insert(key.to_owned(), Value::Array(rendered));
        Ok(Answer::plain(with_cursor(Value::Object(result), next)))
    }

    async fn call_tool(&self, params: &Map<String, Value>) -> Result<Value, Refusal> {
        let name = string_param(params, "name")?;
        let empty = Map::new();
        let arguments = object_param(params, "arguments")?.unwrap_or(&empty);
        let tool = self
            .catalogue
            .tools()
            .into_iter()
            .find(|t| t.name == name)
            .ok_or_else(|| RpcError::invalid_params(format!("unknown tool {name:?}")))?;
        if let Some(scope) = &tool.scope
            && !self.caller.has_scope(scope)
        {
            return Err(Refusal::InsufficientScope(scope.clone()));
        }
        check_arguments(&tool.input_schema, arguments)?;
        let progress_token = object_param(params, "_meta")?
            .and_then(|meta| meta.get("progressToken"))
            .filter(|t| t.is_string() || t.is_i64() || t.is_u64())
            .cloned();
        let round = self.round("tools/call", name, params)?;
        let context = self.context(progress_token, round.as_ref());
        let output = self.catalogue.call_tool(name, arguments, &context).await?;
        if let Some(round) = round.filter(|r| r.needs_input()) {
            return Ok(round.input_required(&self.state_key.unwrap_or_default())?);
        }
        let mut result = Map::new();
        result.insert("content".into(), Value::Array(output.content));
        if self.revision.has_structured_output() {
            put(&mut result, "structuredContent", output.structured);
        }
        if output.is_error {
            result.insert("isError".into(), Value::Bool(true));
        }
        Ok(Value::Object(result))
    }

    /// The round of a multi-round request (stateless revision only).
    fn round(
        &self,
        method: &str,
        target: &str,
        params: &Map<String, Value>,
    ) -> Result<Option<Round>, RpcError> {
        if self.revision.has_sessions() {
            return Ok(None);
        }
        let key = self.state_key.ok_or_else(RpcError::internal)?;
        Round::from_request(&key, method, target, params).map(Some)
    }

    fn context<'c>(
        &'c self,
        progress_token: Option<Value>,
        round: Option<&'c Round>,
    ) -> ToolContext<'c> {
        ToolContext {
            caller: self.caller,
            revision: self.revision,
            client_capabilities: self.client_capabilities,
            log_level: self.log_level,
            progress_token,
            notifications: &self.notifications,
            updated: &self.updated,
            client: match round {
                Some(round) => Some(round),
                None => self.client,
            },
        }
    }

    /// The `uri` parameter, when a resource or template the caller may see covers it.
    fn admitted_uri<'p>(&self, params: &'p Map<String, Value>) -> Result<&'p str, Refusal> {
        let uri = string_param(params, "uri")?;
        if uri.len() > MAX_URI_BYTES {
            return Err(RpcError::invalid_params("uri is too long").into());
        }
        let scope = if let Some(resource) = self
            .catalogue
            .resources()
            .into_iter()
            .find(|r| r.uri == uri)
        {
            resource.scope
        } else if let Some(template) = self
            .catalogue
            .templates()
            .into_iter()
            .find(|t| match_template(&t.uri_template, uri).is_some())
        {
            template.scope
        } else {
            return Err(not_found(uri, self.revision).into());
        };
        match scope {
            Some(scope) if !self.caller.has_scope(&scope) => Err(Refusal::InsufficientScope(scope)),
            _ => Ok(uri),
        }
    }

    async fn get_prompt(&self, params: &Map<String, Value>) -> Result<Value, Refusal> {
        let name = string_param(params, "name")?;
        let empty = Map::new();
        let arguments = object_param(params, "arguments")?.unwrap_or(&empty);
        let prompt = self
            .catalogue
            .prompts()
            .into_iter()
            .find(|p| p.name == name)
            .ok_or_else(|| RpcError::invalid_params(format!("unknown prompt {name:?}")))?;
        if let Some(scope) = &prompt.scope
            && !self.caller.has_scope(scope)
        {
            return Err(Refusal::InsufficientScope(scope.clone()));
        }
        for argument in &prompt.arguments {
            match arguments.get(&argument.name) {
                Some(Value::String(_)) => {}
                None if !argument.required => {}
                None => {
                    return Err(RpcError::invalid_params(format!(
                        "missing required argument {:?}",
                        argument.name
                    ))
                    .into());
                }
                Some(_) => {
                    return Err(RpcError::invalid_params(format!(
                        "argument {:?} must be a string",
                        argument.name
                    ))
                    .into());
                }
            }
        }
        let round = self.round("prompts/get", name, params)?;
        let context = self.context(None, round.as_ref());
        let output = self.catalogue.get_prompt(name, arguments, &context).await?;
        if let Some(round) = round.filter(|r| r.needs_input()) {
            return Ok(round.input_required(&self.state_key.unwrap_or_default())?);
        }
        let output = output.ok_or_else(RpcError::internal)?;
        let mut result = Map::new();
        put(
            &mut result,
            "description",
            output.description.map(Value::String),
        );
        result.insert("messages".into(), Value::Array(output.messages));
        Ok(Value::Object(result))
    }

    async fn complete(&self, params: &Map<String, Value>) -> Result<Value, Refusal> {
        let reference = object_param(params, "ref")?
            .ok_or_else(|| RpcError::invalid_params("params.ref is required"))?;
        let argument = object_param(params, "argument")?
            .ok_or_else(|| RpcError::invalid_params("params.argument is required"))?;
        let argument_name = string_param(argument, "name")?;
        let value = string_param(argument, "value")?;
        let empty = Map::new();
        let context = object_param(params, "context")?
            .map(|c| object_param(c, "arguments"))
            .transpose()?
            .flatten()
            .unwrap_or(&empty);
        let reference = match reference.get("type").and_then(Value::as_str) {
            Some("ref/prompt") => {
                let name = string_param(reference, "name")?;
                let prompt = self
                    .catalogue
                    .prompts()
                    .into_iter()
                    .find(|p| p.name == name)
                    .ok_or_else(|| RpcError::invalid_params(format!("unknown prompt {name:?}")))?;
                if let Some(scope) = prompt.scope.filter(|s| !self.caller.has_scope(s)) {
                    return Err(Refusal::InsufficientScope(scope));
                }
                if !prompt.arguments.iter().any(|a| a.name == argument_name) {
                    return Err(RpcError::invalid_params(format!(
                        "prompt {name:?} has no argument {argument_name:?}"
                    ))
                    .into());
                }
                CompletionRef::Prompt(name.to_owned())
            }
            Some("ref/resource") => {
                let uri = string_param(reference, "uri")?;
                let template = self
                    .catalogue
                    .templates()
                    .into_iter()
                    .find(|t| t.uri_template == uri)
                    .ok_or_else(|| {
                        RpcError::invalid_params(format!("unknown resource template {uri:?}"))
                    })?;
                if let Some(scope) = template.scope.filter(|s| !self.caller.has_scope(s)) {
                    return Err(Refusal::InsufficientScope(scope));
                }
                CompletionRef::Template(uri.to_owned())
            }
            _ => {
                return Err(RpcError::invalid_params(
                    "ref.type must be ref/prompt or ref/resource",
                )
                .into());
            }
        };
        let mut values = self
            .catalogue
            .complete(&reference, argument_name, value, context, self.caller)
            .await?;
        let total = values.len();
        values.truncate(MAX_COMPLETIONS);
        Ok(json!({"completion": {
            "values": values,
            "total": total,
            "hasMore": total > MAX_COMPLETIONS,
        }}))
    }
}

/// A missing resource: `-32002` in the session era; 2026-07-28 standardized on
/// `-32602` (SEP-2164). The URI is in `data` either way.
fn not_found(uri: &str, revision: Revision) -> RpcError {
    let code = if revision.has_sessions() {
        RESOURCE_NOT_FOUND
    } else {
        crate::jsonrpc::code::INVALID_PARAMS
    };
    RpcError::new(code, "Resource not found").with_data(json!({"uri": uri}))
}

#[cfg(test)]
mod tests {
    use learner_testkit::run;

    use super::*;
    use crate::fixtures::Fixtures;

    fn caller(scopes: &[&str]) -> Caller {
        Caller {
            subject: "demo:teacher".into(),
            client_id: "c".into(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            props: json!({}),
        }
    }

    fn ask(
        method: &str,
        params: Value,
        revision: Revision,
        page_size: usize,
    ) -> Result<Answer, Refusal> {
        let caller = caller(&["learner.profile"]);
        let capabilities = json!({});
        let dispatch = Dispatch {
            catalogue: &Fixtures,
            caller: &caller,
            revision,
            client_capabilities: &capabilities,
            log_level: None,
            page_size,
            client: None,
            notifications: Outbox::default(),
            updated: RefCell::default(),
            state_key: Some([1; 32]),
        };
        let Value::Object(params) = params else {
            panic!("params must be an object")
        };
        run(dispatch.request(method, &params))
    }

    fn code(outcome: Result<Answer, Refusal>) -> i64 {
        match outcome {
            Err(Refusal::Rpc(error)) => error.code,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn lists_page_with_opaque_cursors_and_refuse_bad_ones() {
        let mut names = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let params = cursor.as_ref().map_or(json!({}), |c| json!({"cursor": c}));
            let answer = ask("tools/list", params, Revision::V2025_11_25, 5).expect("a page");
            let tools = answer.result["tools"].as_array().expect("tools").clone();
            assert!(tools.len() <= 5);
            names.extend(
                tools
                    .iter()
                    .map(|t| t["name"].as_str().unwrap_or_default().to_owned()),
            );
            match answer.result.get("nextCursor").and_then(Value::as_str) {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        assert_eq!(names.len(), Fixtures.tools().len());
        for bad in [
            json!({"cursor": "offset:999"}),
            json!({"cursor": "x"}),
            json!({"cursor": 3}),
        ] {
            assert_eq!(
                code(ask("tools/list", bad, Revision::V2025_11_25, 5)),
                -32602
            );
        }
    }

    #[test]
    fn definitions_follow_the_revision() {
        let find = |revision| {
            let answer = ask("tools/list", json!({}), revision, 100).expect("tools");
            answer.result["tools"]
                .as_array()
                .expect("tools")
                .iter()
                .find(|t| t["name"] == "test_structured_output")
                .cloned()
                .expect("listed")
        };
        let new = find(Revision::V2025_11_25);
        assert!(new.get("outputSchema").is_some() && new.get("title").is_some());
        assert!(new.get("annotations").is_some());
        let old = find(Revision::V2024_11_05);
        assert!(old.get("outputSchema").is_none() && old.get("title").is_none());
        assert!(old.get("annotations").is_none());
        let called = ask(
            "tools/call",
            json!({"name": "test_structured_output"}),
            Revision::V2025_03_26,
            100,
        )
        .expect("called");
        assert!(called.result.get("structuredContent").is_none());
        // completion/complete does not exist before 2025-03-26.
        let complete = json!({"ref": {"type": "ref/prompt", "name": "test_prompt_with_arguments"},
                              "argument": {"name": "arg1", "value": "pa"}});
        assert_eq!(
            code(ask(
                "completion/complete",
                complete.clone(),
                Revision::V2024_11_05,
                10
            )),
            -32601
        );
        let values =
            ask("completion/complete", complete, Revision::V2025_11_25, 10).expect("values");
        assert_eq!(
            values.result["completion"]["values"],
            json!(["paris", "park", "party"])
        );
        assert_eq!(values.result["completion"]["hasMore"], false);
    }

    #[test]
    fn bad_params_are_invalid_params_and_unknown_things_say_so() {
        let r = Revision::V2025_11_25;
        for (method, params) in [
            ("tools/call", json!({})),
            ("tools/call", json!({"name": 1})),
            ("tools/call", json!({"name": "nope"})),
            (
                "tools/call",
                json!({"name": "test_sampling", "arguments": []}),
            ),
            (
                "tools/call",
                json!({"name": "test_sampling", "arguments": {}}),
            ),
            (
                "tools/call",
                json!({"name": "test_sampling", "arguments": {"prompt": 5}}),
            ),
            (
                "tools/call",
                json!({"name": "json_schema_2020_12_tool", "arguments": {"extra": 1}}),
            ),
            (
                "prompts/get",
                json!({"name": "test_prompt_with_arguments", "arguments": {"arg1": "x"}}),
            ),
            (
                "prompts/get",
                json!({"name": "test_prompt_with_arguments", "arguments": {"arg1": "x", "arg2": 2}}),
            ),
            ("prompts/get", json!({"name": "nope"})),
            ("logging/setLevel", json!({"level": "loud"})),
            (
                "completion/complete",
                json!({"ref": {"type": "ref/other"}, "argument": {"name": "a", "value": ""}}),
            ),
            (
                "completion/complete",
                json!({"ref": {"type": "ref/prompt", "name": "test_simple_prompt"},
                                           "argument": {"name": "nope", "value": ""}}),
            ),
            ("resources/read", json!({"uri": 5})),
        ] {
            assert_eq!(
                code(ask(method, params.clone(), r, 10)),
                -32602,
                "{method} {params}"
            );
        }
        assert_eq!(
            code(ask("resources/read", json!({"uri": "test://nope"}), r, 10)),
            RESOURCE_NOT_FOUND
        );
        assert_eq!(
            code(ask(
                "resources/subscribe",
                json!({"uri": "test://nope"}),
                r,
                10
            )),
            RESOURCE_NOT_FOUND
        );
        assert_eq!(
            code(ask("sampling/createMessage", json!({}), r, 10)),
            -32601
        );
        // A tool failure is a result with isError, not a protocol error.
        let failed =
            ask("tools/call", json!({"name": "test_error_handling"}), r, 10).expect("result");
        assert_eq!(failed.result["isError"], true);
        // Asking the client without a channel to it is the tool's failure to report.
        let sampling = ask(
            "tools/call",
            json!({"name": "test_sampling", "arguments": {"prompt": "p"}}),
            r,
            10,
        )
        .expect("result");
        assert_eq!(sampling.result["isError"], true);
    }

    #[test]
    fn templates_match_whole_segments() {
        let t = "test://template/{id}/data";
        assert_eq!(
            match_template(t, "test://template/123/data"),
            Some(
                json!({"id": "123"})
                    .as_object()
                    .cloned()
                    .unwrap_or_default()
            )
        );
        for no in [
            "test://template//data",
            "test://template/1/2/data",
            "test://template/1/datax",
            "test://other/1/data",
        ] {
            assert_eq!(match_template(t, no), None, "{no}");
        }
    }

    #[test]
    fn scopes_gate_what_is_listed_and_called() {
        struct Gated;
        impl Catalogue for Gated {
            fn tools(&self) -> Vec<ToolDef> {
                vec![ToolDef {
                    name: "audit_read".into(),
                    title: None,
                    description: "needs learner.audit".into(),
                    input_schema: json!({"type": "object"}),
                    output_schema: None,
                    annotations: None,
                    scope: Some("learner.audit".into()),
                }]
            }
            async fn call_tool(
                &self,
                _: &str,
                _: &Map<String, Value>,
                _: &ToolContext<'_>,
            ) -> Result<crate::catalogue::ToolOutput, RpcError> {
                Ok(crate::catalogue::ToolOutput::text("ok"))
            }
        }
        let run_as = |scopes: &[&str], method: &str, params: Value| {
            let caller = caller(scopes);
            let capabilities = json!({});
            let dispatch = Dispatch {
                catalogue: &Gated,
                caller: &caller,
                revision: Revision::V2025_11_25,
                client_capabilities: &capabilities,
                log_level: None,
                page_size: 10,
                client: None,
                notifications: Outbox::default(),
                updated: RefCell::default(),
                state_key: Some([1; 32]),
            };
            let Value::Object(params) = params else {
                panic!()
            };
            run(dispatch.request(method, &params))
        };
        let listed = run_as(&["learner.profile"], "tools/list", json!({})).expect("list");
        assert_eq!(listed.result["tools"], json!([]));
        assert_eq!(
            run_as(
                &["learner.profile"],
                "tools/call",
                json!({"name": "audit_read"})
            ),
            Err(Refusal::InsufficientScope("learner.audit".into()))
        );
        let allowed = run_as(
            &["learner.audit"],
            "tools/call",
            json!({"name": "audit_read"}),
        )
        .expect("called");
        assert_eq!(allowed.result["content"][0]["text"], "ok");
    }
}
