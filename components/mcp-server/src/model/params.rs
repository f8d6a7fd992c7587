//! Request params, parsed once into types. Each parser names the field it refuses
//! (`params.name must be a string`), which serde's messages would not.

use serde_json::{Map, Value};

use crate::jsonrpc::RpcError;
use crate::session::LogLevel;

/// Longest URI accepted in a request.
pub const MAX_URI_BYTES: usize = 2048;

/// A request's params object.
pub type Params = Map<String, Value>;

fn string<'p>(params: &'p Params, name: &str) -> Result<&'p str, RpcError> {
    params
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::invalid_params(format!("params.{name} must be a string")))
}

fn object<'p>(params: &'p Params, name: &str) -> Result<Option<&'p Params>, RpcError> {
    match params.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(_) => Err(RpcError::invalid_params(format!(
            "params.{name} must be an object"
        ))),
    }
}

/// `*/list`: where the page starts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListParams {
    /// The cursor a previous page gave (`None`: the first page).
    pub cursor: Option<String>,
}

impl ListParams {
    /// Parses `params`.
    pub fn parse(params: &Params) -> Result<Self, RpcError> {
        match params.get("cursor") {
            None | Some(Value::Null) => Ok(Self::default()),
            Some(Value::String(cursor)) => Ok(Self {
                cursor: Some(cursor.clone()),
            }),
            Some(_) => Err(RpcError::invalid_params("params.cursor must be a string")),
        }
    }
}

/// `logging/setLevel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetLevelParams {
    /// The least severe level the client wants.
    pub level: LogLevel,
}

impl SetLevelParams {
    /// Parses `params`.
    pub fn parse(params: &Params) -> Result<Self, RpcError> {
        let level = string(params, "level")?;
        let level = LogLevel::parse(level)
            .ok_or_else(|| RpcError::invalid_params(format!("unknown log level {level:?}")))?;
        Ok(Self { level })
    }
}

/// `tools/call`.
#[derive(Debug, Clone, PartialEq)]
pub struct CallToolParams {
    /// The tool.
    pub name: String,
    /// Its arguments (empty when none were given).
    pub arguments: Params,
    /// The token to report progress under (`_meta.progressToken`), if asked for.
    pub progress_token: Option<Value>,
}

impl CallToolParams {
    /// Parses `params`.
    pub fn parse(params: &Params) -> Result<Self, RpcError> {
        let progress_token = object(params, "_meta")?
            .and_then(|meta| meta.get("progressToken"))
            .filter(|t| t.is_string() || t.is_i64() || t.is_u64())
            .cloned();
        Ok(Self {
            name: string(params, "name")?.to_owned(),
            arguments: object(params, "arguments")?.cloned().unwrap_or_default(),
            progress_token,
        })
    }
}

/// `resources/read`, `resources/subscribe`, `resources/unsubscribe`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriParams {
    /// The resource.
    pub uri: String,
}

impl UriParams {
    /// Parses `params`; a URI longer than [`MAX_URI_BYTES`] is refused.
    pub fn parse(params: &Params) -> Result<Self, RpcError> {
        let uri = string(params, "uri")?;
        if uri.len() > MAX_URI_BYTES {
            return Err(RpcError::invalid_params("uri is too long"));
        }
        Ok(Self {
            uri: uri.to_owned(),
        })
    }
}

/// `prompts/get`.
#[derive(Debug, Clone, PartialEq)]
pub struct GetPromptParams {
    /// The prompt.
    pub name: String,
    /// Its arguments (strings, checked against the prompt's declaration).
    pub arguments: Params,
}

impl GetPromptParams {
    /// Parses `params`.
    pub fn parse(params: &Params) -> Result<Self, RpcError> {
        Ok(Self {
            name: string(params, "name")?.to_owned(),
            arguments: object(params, "arguments")?.cloned().unwrap_or_default(),
        })
    }
}

/// What `completion/complete` completes for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompletionRef {
    /// A prompt's argument.
    Prompt(String),
    /// A resource template's variable.
    Template(String),
}

/// `completion/complete`.
#[derive(Debug, Clone, PartialEq)]
pub struct CompleteParams {
    /// What is completed.
    pub reference: CompletionRef,
    /// The argument's name.
    pub argument: String,
    /// What the user typed so far.
    pub value: String,
    /// Arguments already chosen.
    pub context: Params,
}

impl CompleteParams {
    /// Parses `params`.
    pub fn parse(params: &Params) -> Result<Self, RpcError> {
        let reference = object(params, "ref")?
            .ok_or_else(|| RpcError::invalid_params("params.ref is required"))?;
        let argument = object(params, "argument")?
            .ok_or_else(|| RpcError::invalid_params("params.argument is required"))?;
        let context = object(params, "context")?
            .map(|c| object(c, "arguments"))
            .transpose()?
            .flatten()
            .cloned()
            .unwrap_or_default();
        let reference = match reference.get("type").and_then(Value::as_str) {
            Some("ref/prompt") => CompletionRef::Prompt(string(reference, "name")?.to_owned()),
            Some("ref/resource") => CompletionRef::Template(string(reference, "uri")?.to_owned()),
            _ => {
                return Err(RpcError::invalid_params(
                    "ref.type must be ref/prompt or ref/resource",
                ));
            }
        };
        Ok(Self {
            reference,
            argument: string(argument, "name")?.to_owned(),
            value: string(argument, "value")?.to_owned(),
            context,
        })
    }
}

/// `initialize`.
#[derive(Debug, Clone, PartialEq)]
pub struct InitializeParams {
    /// The revision the client asks for.
    pub protocol_version: String,
    /// What the client can do.
    pub capabilities: Value,
    /// The client's name and version, as it gave them.
    pub client_info: Value,
}

impl InitializeParams {
    /// Parses `params` (Streamable HTTP).
    pub fn parse(params: &Params) -> Result<Self, RpcError> {
        let capabilities = match params.get("capabilities") {
            Some(Value::Object(map)) => Value::Object(map.clone()),
            None => Value::Object(Map::new()),
            Some(_) => {
                return Err(RpcError::invalid_params(
                    "params.capabilities must be an object",
                ));
            }
        };
        Ok(Self {
            protocol_version: string(params, "protocolVersion")?.to_owned(),
            capabilities,
            client_info: params.get("clientInfo").cloned().unwrap_or(Value::Null),
        })
    }

    /// Parses `params` as the legacy HTTP+SSE transport always has: a missing or
    /// malformed version or capabilities count as none (the newest revision is
    /// offered, no capabilities).
    pub fn lenient(params: &Params) -> Self {
        Self {
            protocol_version: params
                .get("protocolVersion")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            capabilities: params
                .get("capabilities")
                .filter(|c| c.is_object())
                .cloned()
                .unwrap_or_else(|| Value::Object(Map::new())),
            client_info: params
                .get("clientInfo")
                .cloned()
                .unwrap_or_else(|| Value::Object(Map::new())),
        }
    }
}
