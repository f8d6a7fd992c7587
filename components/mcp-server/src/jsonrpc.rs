//! JSON-RPC 2.0 as MCP uses it: parsing that refuses every malformed message with the
//! standard error and an id that can be echoed safely, and the messages the server
//! writes. Never panics on any input.

use serde::Serialize;
use serde_json::{Map, Value};

/// Standard error codes (JSON-RPC 2.0 §5.1).
pub mod code {
    /// The body is not JSON.
    pub const PARSE_ERROR: i64 = -32700;
    /// Not a valid request object.
    pub const INVALID_REQUEST: i64 = -32600;
    /// No such method.
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// The params do not fit the method.
    pub const INVALID_PARAMS: i64 = -32602;
    /// The server failed.
    pub const INTERNAL_ERROR: i64 = -32603;
}

/// Longest string id accepted; longer ones are refused rather than stored and echoed.
pub const MAX_ID_BYTES: usize = 256;

/// A request id: MCP allows strings and integers only (never null).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum Id {
    /// An integer id (within i64).
    Number(i64),
    /// A string id.
    String(String),
}

impl Id {
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Number(n) => n.as_i64().map(Self::Number),
            Value::String(s) if s.len() <= MAX_ID_BYTES => Some(Self::String(s.clone())),
            _ => None,
        }
    }

    /// The id as JSON, exactly as it was received.
    pub fn to_value(&self) -> Value {
        match self {
            Self::Number(n) => Value::from(*n),
            Self::String(s) => Value::String(s.clone()),
        }
    }
}

/// An error object (JSON-RPC 2.0 §5.1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RpcError {
    /// The code.
    pub code: i64,
    /// A short description.
    pub message: String,
    /// Extra detail, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl RpcError {
    /// An error with `code` and `message`.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// `-32600`.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(code::INVALID_REQUEST, message)
    }

    /// `-32601` for `method`.
    pub fn method_not_found(method: &str) -> Self {
        Self::new(
            code::METHOD_NOT_FOUND,
            format!("method not found: {}", truncate(method, 100)),
        )
    }

    /// `-32602`.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(code::INVALID_PARAMS, message)
    }

    /// `-32603`. The detail stays on the server.
    pub fn internal() -> Self {
        Self::new(code::INTERNAL_ERROR, "internal error")
    }

    /// With `data`.
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

/// A message received from a client.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// A request: it gets exactly one response.
    Request {
        /// Its id.
        id: Id,
        /// The method.
        method: String,
        /// The params object (empty when absent).
        params: Map<String, Value>,
    },
    /// A notification: no response.
    Notification {
        /// The method.
        method: String,
        /// The params object (empty when absent).
        params: Map<String, Value>,
    },
    /// A response to a request the server sent.
    Response {
        /// The id of the server's request.
        id: Id,
        /// `Ok(result)` or `Err(error)`.
        outcome: Result<Value, Value>,
    },
}

/// A message, or the error to answer it with (and the id to answer, when readable).
pub type Parsed = Result<Incoming, (Option<Id>, RpcError)>;

/// What a POST body held.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// One message.
    Single(Parsed),
    /// A batch (a JSON array) of messages; never empty.
    Batch(Vec<Parsed>),
}

/// Most messages one batch may carry.
pub const MAX_BATCH: usize = 100;

/// Parses a POST body. Invalid JSON (including nesting deeper than the parser's limit
/// of 128) is a single parse error; an empty or oversized batch a single invalid
/// request.
pub fn parse_body(bytes: &[u8]) -> Body {
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(value) => value,
        Err(error) => {
            return Body::Single(Err((
                None,
                RpcError::new(code::PARSE_ERROR, format!("parse error: {error}")),
            )));
        }
    };
    match value {
        Value::Array(items) if items.is_empty() => Body::Single(Err((
            None,
            RpcError::invalid_request("an empty batch is not a request"),
        ))),
        Value::Array(items) if items.len() > MAX_BATCH => Body::Single(Err((
            None,
            RpcError::invalid_request(format!("a batch may hold at most {MAX_BATCH} messages")),
        ))),
        Value::Array(items) => Body::Batch(items.iter().map(parse_message).collect()),
        other => Body::Single(parse_message(&other)),
    }
}

/// Validates one message object.
pub fn parse_message(value: &Value) -> Parsed {
    let Value::Object(object) = value else {
        return Err((
            None,
            RpcError::invalid_request("a message must be a JSON object"),
        ));
    };
    let raw_id = object.get("id");
    let id = match raw_id {
        None => None,
        Some(raw) => match Id::from_value(raw) {
            Some(id) => Some(id),
            None => {
                return Err((
                    None,
                    RpcError::invalid_request(
                        "id must be a string (at most 256 bytes) or an integer",
                    ),
                ));
            }
        },
    };
    if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err((id, RpcError::invalid_request("jsonrpc must be \"2.0\"")));
    }
    if let Some(method) = object.get("method") {
        let Some(method) = method.as_str() else {
            return Err((id, RpcError::invalid_request("method must be a string")));
        };
        let params = match object.get("params") {
            None => Map::new(),
            Some(Value::Object(params)) => params.clone(),
            Some(_) => {
                return Err((id, RpcError::invalid_params("params must be an object")));
            }
        };
        return Ok(match id {
            Some(id) => Incoming::Request {
                id,
                method: method.to_owned(),
                params,
            },
            None => Incoming::Notification {
                method: method.to_owned(),
                params,
            },
        });
    }
    let outcome = match (object.get("result"), object.get("error")) {
        (Some(result), None) => Ok(result.clone()),
        (None, Some(error)) if error.is_object() => Err(error.clone()),
        _ => {
            return Err((
                id,
                RpcError::invalid_request(
                    "a message needs a method, or exactly one of result and error",
                ),
            ));
        }
    };
    match id {
        Some(id) => Ok(Incoming::Response { id, outcome }),
        None => Err((None, RpcError::invalid_request("a response needs an id"))),
    }
}

const VERSION: &str = "2.0";

/// A response carrying a result.
#[derive(Serialize)]
struct ResultMessage<'a, R> {
    jsonrpc: &'static str,
    id: &'a Id,
    result: R,
}

/// A response carrying an error; `id` is null when the request's could not be read.
#[derive(Serialize)]
struct ErrorMessage<'a> {
    jsonrpc: &'static str,
    id: Option<&'a Id>,
    error: &'a RpcError,
}

/// A notification or a request the server sends (a request has an id).
#[derive(Serialize)]
struct Outgoing<'a, P> {
    jsonrpc: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a Id>,
    method: &'a str,
    params: P,
}

/// Serializes a message: ids, strings and JSON values only, so it cannot fail.
fn message(value: &impl Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// A success response.
pub fn result(id: &Id, result: Value) -> Value {
    message(&ResultMessage {
        jsonrpc: VERSION,
        id,
        result,
    })
}

/// An error response; `id` is `None` when the request's id could not be read.
pub fn error(id: Option<&Id>, error: &RpcError) -> Value {
    message(&ErrorMessage {
        jsonrpc: VERSION,
        id,
        error,
    })
}

/// A notification the server sends.
pub fn notification(method: &str, params: &impl Serialize) -> Value {
    message(&Outgoing {
        jsonrpc: VERSION,
        id: None,
        method,
        params,
    })
}

/// A request the server sends.
pub fn request(id: &Id, method: &str, params: &impl Serialize) -> Value {
    message(&Outgoing {
        jsonrpc: VERSION,
        id: Some(id),
        method,
        params,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn single(bytes: &[u8]) -> Parsed {
        match parse_body(bytes) {
            Body::Single(parsed) => parsed,
            Body::Batch(_) => panic!("expected one message"),
        }
    }

    fn error_code(parsed: &Parsed) -> (Option<Id>, i64) {
        match parsed {
            Err((id, error)) => (id.clone(), error.code),
            Ok(message) => panic!("expected an error, got {message:?}"),
        }
    }

    #[test]
    fn requests_notifications_and_responses_are_told_apart() {
        assert_eq!(
            single(br#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#),
            Ok(Incoming::Request {
                id: Id::Number(7),
                method: "ping".into(),
                params: Map::new()
            })
        );
        assert!(matches!(
            single(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#),
            Ok(Incoming::Notification { .. })
        ));
        assert!(matches!(
            single(br#"{"jsonrpc":"2.0","id":"a","result":{}}"#),
            Ok(Incoming::Response { outcome: Ok(_), .. })
        ));
        assert!(matches!(
            single(br#"{"jsonrpc":"2.0","id":"a","error":{"code":1,"message":"x"}}"#),
            Ok(Incoming::Response {
                outcome: Err(_),
                ..
            })
        ));
        // A "notification" that carries an id is a request (and gets a response).
        assert!(matches!(
            single(br#"{"jsonrpc":"2.0","id":1,"method":"notifications/initialized"}"#),
            Ok(Incoming::Request { .. })
        ));
    }

    #[test]
    fn malformed_json_is_a_parse_error_with_a_null_id() {
        for body in [
            &b""[..],
            b"{",
            br#"{"jsonrpc":"2.0","id":1,"method":"ping""#,
            b"\xff\xfe",
            b"nul",
        ] {
            assert_eq!(
                error_code(&single(body)),
                (None, code::PARSE_ERROR),
                "{body:?}"
            );
        }
        // Nesting past the parser's limit is refused, not a stack overflow.
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(error_code(&single(deep.as_bytes())).1, code::PARSE_ERROR);
        let deep_params = format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"a":{}1{}}}}}"#,
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        assert_eq!(
            error_code(&single(deep_params.as_bytes())).1,
            code::PARSE_ERROR
        );
    }

    #[test]
    fn wrong_types_are_invalid_requests() {
        for (body, id) in [
            (&br"[1]"[..], None),
            (br#""ping""#, None),
            (br#"{"id":1,"method":"ping"}"#, Some(Id::Number(1))),
            (
                br#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#,
                Some(Id::Number(1)),
            ),
            (
                br#"{"jsonrpc":"2.0","id":"x","method":5}"#,
                Some(Id::String("x".into())),
            ),
            (br#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#, None),
            (br#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#, None),
            (br#"{"jsonrpc":"2.0","id":{},"method":"ping"}"#, None),
            (br#"{"jsonrpc":"2.0","id":true,"method":"ping"}"#, None),
            (br#"{"jsonrpc":"2.0","id":1}"#, Some(Id::Number(1))),
            (br#"{"jsonrpc":"2.0","result":{}}"#, None),
            (
                br#"{"jsonrpc":"2.0","id":1,"result":1,"error":{}}"#,
                Some(Id::Number(1)),
            ),
        ] {
            let parsed = match parse_body(body) {
                Body::Single(parsed) => parsed,
                Body::Batch(mut items) => items.remove(0),
            };
            assert_eq!(
                error_code(&parsed),
                (id, code::INVALID_REQUEST),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        // Positional params are not MCP's: invalid params, with the id echoed.
        assert_eq!(
            error_code(&single(
                br#"{"jsonrpc":"2.0","id":2,"method":"ping","params":[1]}"#
            )),
            (Some(Id::Number(2)), code::INVALID_PARAMS)
        );
    }

    #[test]
    fn huge_ids_are_refused_not_mangled() {
        for body in [
            r#"{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"ping"}"#.to_owned(),
            r#"{"jsonrpc":"2.0","id":1e400,"method":"ping"}"#.to_owned(),
            format!(
                r#"{{"jsonrpc":"2.0","id":"{}","method":"ping"}}"#,
                "x".repeat(MAX_ID_BYTES + 1)
            ),
        ] {
            let parsed = single(body.as_bytes());
            let (id, code) = match &parsed {
                Err((id, error)) => (id.clone(), error.code),
                Ok(_) => panic!("accepted {body}"),
            };
            // 1e400 overflows the parser itself.
            assert!(
                code == code::INVALID_REQUEST || code == code::PARSE_ERROR,
                "{body}"
            );
            assert_eq!(id, None);
        }
        assert!(single(br#"{"jsonrpc":"2.0","id":-9223372036854775808,"method":"ping"}"#).is_ok());
    }

    #[test]
    fn batches_are_bounded_and_never_empty() {
        assert_eq!(error_code(&single(b"[]")), (None, code::INVALID_REQUEST));
        let many = format!(
            "[{}]",
            vec![r#"{"jsonrpc":"2.0","method":"x"}"#; MAX_BATCH + 1].join(",")
        );
        assert_eq!(
            error_code(&single(many.as_bytes())).1,
            code::INVALID_REQUEST
        );
        match parse_body(br#"[{"jsonrpc":"2.0","id":1,"method":"ping"}, 5]"#) {
            Body::Batch(items) => {
                assert!(items[0].is_ok());
                assert_eq!(error_code(&items[1]), (None, code::INVALID_REQUEST));
            }
            Body::Single(_) => panic!("expected a batch"),
        }
    }

    #[test]
    fn responses_echo_the_id_and_errors_carry_code_and_message() {
        assert_eq!(
            result(&Id::String("a".into()), json!({})),
            json!({"jsonrpc":"2.0","id":"a","result":{}})
        );
        assert_eq!(
            error(None, &RpcError::new(code::PARSE_ERROR, "bad")),
            json!({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"bad"}})
        );
        let with_data = RpcError::invalid_params("x").with_data(json!({"field": "uri"}));
        assert_eq!(
            error(Some(&Id::Number(3)), &with_data)["error"]["data"],
            json!({"field": "uri"})
        );
    }
}
