//! The stateless revision (2026-07-28): no `initialize` and no session; every request
//! carries its protocol version and the client's capabilities in `_meta`, and its
//! method (and name) again in HTTP headers. This module decides, from the headers and
//! the parsed request alone, whether a request may be served, in the order the
//! revision's errors require.

use serde_json::{Map, Value, json};

use crate::engine::STATELESS_METHODS;
use crate::jsonrpc::{RpcError, code as rpc};
use crate::revision::Revision;
use crate::session::LogLevel;

/// `_meta` key of the protocol version.
pub const PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
/// `_meta` key of the client's capabilities.
pub const CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
/// `_meta` key of the client's name and version.
pub const CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";
/// `_meta` key of the log level wanted for this request.
pub const LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";
/// Result `_meta` key of the server's name and version.
pub const SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";
/// Notification `_meta` key naming the `subscriptions/listen` request.
pub const SUBSCRIPTION_ID: &str = "io.modelcontextprotocol/subscriptionId";

/// The revision's error codes.
pub mod code {
    /// Headers missing, malformed, or not matching the body.
    pub const HEADER_MISMATCH: i64 = -32020;
    /// The request needs a client capability that was not declared.
    pub const MISSING_CAPABILITY: i64 = crate::catalogue::MISSING_CAPABILITY;
    /// The protocol version is not one this server speaks statelessly.
    pub const UNSUPPORTED_VERSION: i64 = -32022;
}

/// The HTTP headers the revision defines, as received.
#[derive(Debug, Clone, Copy, Default)]
pub struct Headers<'a> {
    /// `MCP-Protocol-Version`.
    pub protocol_version: Option<&'a str>,
    /// `Mcp-Method`.
    pub method: Option<&'a str>,
    /// `Mcp-Name`.
    pub name: Option<&'a str>,
}

/// What a valid request's `_meta` says.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestMeta {
    /// The client's capabilities for this request.
    pub client_capabilities: Value,
    /// The least severe log level wanted; none: no log messages.
    pub log_level: Option<LogLevel>,
}

/// A refusal: the HTTP status and the JSON-RPC error.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    /// HTTP status.
    pub status: u16,
    /// The error.
    pub error: RpcError,
}

fn reject(status: u16, code: i64, message: impl Into<String>) -> Rejection {
    Rejection {
        status,
        error: RpcError::new(code, message),
    }
}

/// The body field `Mcp-Name` must repeat, for the methods that have one.
fn name_field(method: &str) -> Option<&'static str> {
    match method {
        "tools/call" | "prompts/get" => Some("name"),
        "resources/read" => Some("uri"),
        _ => None,
    }
}

/// Whether a method exists in the stateless revision.
pub fn is_method(method: &str) -> bool {
    STATELESS_METHODS.contains(&method)
        || method == "server/discover"
        || method == "subscriptions/listen"
}

/// Validates a stateless request, in the revision's order: the version header is
/// present; `_meta` holds the version and the capabilities (`-32602`); the header
/// matches `_meta` (`-32020`); the version is supported (`-32022`); `Mcp-Method` and
/// `Mcp-Name` match the body (`-32020`); the method exists (404, `-32601`).
pub fn validate(
    headers: &Headers<'_>,
    method: &str,
    params: &Map<String, Value>,
) -> Result<RequestMeta, Rejection> {
    let Some(header_version) = headers.protocol_version.map(str::trim) else {
        return Err(reject(
            400,
            code::HEADER_MISMATCH,
            "Missing MCP-Protocol-Version header",
        ));
    };
    let meta = params.get("_meta").and_then(Value::as_object);
    let missing: Vec<&str> = [PROTOCOL_VERSION, CLIENT_CAPABILITIES]
        .into_iter()
        .filter(|key| meta.and_then(|m| m.get(*key)).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(reject(
            400,
            rpc::INVALID_PARAMS,
            format!("Invalid params: missing _meta keys: {}", missing.join(", ")),
        ));
    }
    let meta = meta.cloned().unwrap_or_default();
    let Some(body_version) = meta.get(PROTOCOL_VERSION).and_then(Value::as_str) else {
        return Err(reject(
            400,
            rpc::INVALID_PARAMS,
            "Invalid params: _meta protocolVersion must be a string",
        ));
    };
    if body_version != header_version {
        return Err(reject(
            400,
            code::HEADER_MISMATCH,
            "MCP-Protocol-Version header does not match _meta protocolVersion",
        ));
    }
    if Revision::parse(body_version) != Some(Revision::V2026_07_28) {
        return Err(Rejection {
            status: 400,
            error: RpcError::new(code::UNSUPPORTED_VERSION, "Unsupported protocol version")
                .with_data(json!({
                    "supported": [Revision::V2026_07_28.as_str()],
                    "requested": body_version,
                })),
        });
    }
    let client_capabilities = match meta.get(CLIENT_CAPABILITIES) {
        Some(Value::Object(capabilities)) => Value::Object(capabilities.clone()),
        _ => {
            return Err(reject(
                400,
                rpc::INVALID_PARAMS,
                "Invalid params: _meta clientCapabilities must be an object",
            ));
        }
    };
    // Header values are compared exactly (case matters); surrounding spaces are not
    // part of a header value.
    if headers.method.map(str::trim) != Some(method) {
        return Err(reject(
            400,
            code::HEADER_MISMATCH,
            "the Mcp-Method header must equal the request's method",
        ));
    }
    if let Some(field) = name_field(method) {
        let body_name = params.get(field).and_then(Value::as_str);
        if body_name.is_none() || headers.name.map(str::trim) != body_name {
            return Err(reject(
                400,
                code::HEADER_MISMATCH,
                format!("the Mcp-Name header must equal params.{field}"),
            ));
        }
    }
    if !is_method(method) {
        return Err(Rejection {
            status: 404,
            error: RpcError::method_not_found(method),
        });
    }
    let log_level = meta
        .get(LOG_LEVEL)
        .and_then(Value::as_str)
        .and_then(LogLevel::parse);
    Ok(RequestMeta {
        client_capabilities,
        log_level,
    })
}

/// Checks the `Mcp-Param-<X>` headers of a `tools/call` against its arguments: every
/// primitive argument whose schema says `"x-mcp-header": "<X>"` and that has a value
/// must be repeated in that header — as it is, or as `=?base64?…?=` (which must
/// decode) — and be equal to it (`-32020` otherwise).
pub fn check_param_headers<'h>(
    input_schema: &Value,
    arguments: &Map<String, Value>,
    header: impl Fn(&str) -> Option<&'h str>,
) -> Result<(), Rejection> {
    let Some(properties) = input_schema.get("properties").and_then(Value::as_object) else {
        return Ok(());
    };
    for (name, schema) in properties {
        let Some(suffix) = schema.get("x-mcp-header").and_then(Value::as_str) else {
            continue;
        };
        let expected = match arguments.get(name) {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::Bool(b)) => b.to_string(),
            // Absent, null, or not a value a header can carry.
            _ => continue,
        };
        let mismatch = || {
            reject(
                400,
                code::HEADER_MISMATCH,
                format!("the Mcp-Param-{suffix} header must equal argument {name:?}"),
            )
        };
        let raw =
            header(&format!("mcp-param-{}", suffix.to_ascii_lowercase())).ok_or_else(mismatch)?;
        let value = decode_header_value(raw.trim()).ok_or_else(|| {
            reject(
                400,
                code::HEADER_MISMATCH,
                format!("the Mcp-Param-{suffix} header is not valid base64"),
            )
        })?;
        let equal = match arguments.get(name) {
            Some(Value::Number(n)) => value.parse::<f64>().ok() == n.as_f64(),
            _ => value == expected,
        };
        if !equal {
            return Err(mismatch());
        }
    }
    Ok(())
}

/// A header value as sent: `=?base64?<standard base64>?=` is decoded (and must be
/// valid, UTF-8 included); anything else is literal.
fn decode_header_value(raw: &str) -> Option<String> {
    use base64::Engine as _;
    match raw
        .strip_prefix("=?base64?")
        .and_then(|rest| rest.strip_suffix("?="))
    {
        Some(encoded) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .ok()?;
            String::from_utf8(bytes).ok()
        }
        None => Some(raw.to_owned()),
    }
}

#[cfg(test)]
#[allow(clippy::needless_pass_by_value)] // Helpers take JSON by value, as a call writes it.
mod tests {
    #[test]
    fn param_headers_are_decoded_and_compared() {
        let schema = json!({"type": "object", "properties": {
            "region": {"type": "string", "x-mcp-header": "Region"},
            "count": {"type": "integer", "x-mcp-header": "Count"},
            "note": {"type": "string"},
        }});
        let check = |args: Value, headers: &[(&str, &str)]| {
            let args = args.as_object().cloned().unwrap_or_default();
            check_param_headers(&schema, &args, |name| {
                headers.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
            })
            .map_err(|r| (r.status, r.error.code))
        };
        for (args, headers) in [
            (
                json!({"region": "Hello"}),
                vec![("mcp-param-region", "=?base64?SGVsbG8=?=")],
            ),
            (
                json!({"region": "us west 1"}),
                vec![("mcp-param-region", "us west 1")],
            ),
            (
                json!({"region": "SGVsbG8="}),
                vec![("mcp-param-region", "SGVsbG8=")],
            ),
            (
                json!({"region": "=?base64?SGVsbG8="}),
                vec![("mcp-param-region", "=?base64?SGVsbG8=")],
            ),
            (json!({"count": 3}), vec![("mcp-param-count", "3")]),
            (json!({"note": "x"}), vec![]),
        ] {
            assert_eq!(check(args, &headers), Ok(()));
        }
        for (args, headers) in [
            (
                json!({"region": "Hello"}),
                vec![("mcp-param-region", "=?base64?SGVsbG8?=")],
            ),
            (
                json!({"region": "Hello"}),
                vec![("mcp-param-region", "=?base64?SGVs!!!bG8=?=")],
            ),
            (json!({"region": "test-value"}), vec![]),
            (json!({"region": "a"}), vec![("mcp-param-region", "b")]),
            (json!({"count": 3}), vec![("mcp-param-count", "4")]),
        ] {
            assert_eq!(check(args, &headers), Err((400, -32020)));
        }
    }

    use super::*;

    fn params(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    fn meta(version: &str) -> Value {
        json!({PROTOCOL_VERSION: version, CLIENT_CAPABILITIES: {"sampling": {}}, LOG_LEVEL: "info"})
    }

    fn headers<'a>(
        version: Option<&'a str>,
        method: Option<&'a str>,
        name: Option<&'a str>,
    ) -> Headers<'a> {
        Headers {
            protocol_version: version,
            method,
            name,
        }
    }

    fn rejected(result: Result<RequestMeta, Rejection>) -> (u16, i64) {
        let rejection = result.expect_err("refused");
        (rejection.status, rejection.error.code)
    }

    #[test]
    fn a_valid_request_yields_its_capabilities_and_log_level() {
        let ok = validate(
            &headers(Some("2026-07-28"), Some("tools/call"), Some("  echo ")),
            "tools/call",
            &params(json!({"name": "echo", "_meta": meta("2026-07-28")})),
        )
        .expect("valid");
        assert_eq!(ok.client_capabilities, json!({"sampling": {}}));
        assert_eq!(ok.log_level, Some(LogLevel::Info));
    }

    #[test]
    fn refusals_come_in_the_revisions_order() {
        let v = Some("2026-07-28");
        let list = |h: Headers<'_>, p: Value| rejected(validate(&h, "tools/list", &params(p)));
        assert_eq!(
            list(
                headers(None, Some("tools/list"), None),
                json!({"_meta": meta("2026-07-28")})
            ),
            (400, -32020)
        );
        // Missing _meta keys come before the header comparison.
        assert_eq!(
            list(headers(v, Some("tools/list"), None), json!({})),
            (400, -32602)
        );
        assert_eq!(
            list(
                headers(v, Some("tools/list"), None),
                json!({"_meta": {PROTOCOL_VERSION: "2026-07-28"}})
            ),
            (400, -32602)
        );
        // A mismatch comes before the version check.
        assert_eq!(
            list(
                headers(v, Some("tools/list"), None),
                json!({"_meta": meta("v999.0.0")})
            ),
            (400, -32020)
        );
        let unsupported = validate(
            &headers(Some("v999.0.0"), Some("tools/list"), None),
            "tools/list",
            &params(json!({"_meta": meta("v999.0.0")})),
        )
        .expect_err("unsupported");
        assert_eq!((unsupported.status, unsupported.error.code), (400, -32022));
        assert_eq!(
            unsupported.error.data,
            Some(json!({"supported": ["2026-07-28"], "requested": "v999.0.0"}))
        );
        assert_eq!(
            list(
                headers(Some("2025-11-25"), Some("tools/list"), None),
                json!({"_meta": meta("2025-11-25")})
            )
            .1,
            -32022
        );
        // Method and name headers.
        let good = json!({"_meta": meta("2026-07-28")});
        assert_eq!(list(headers(v, None, None), good.clone()), (400, -32020));
        assert_eq!(
            list(headers(v, Some("prompts/list"), None), good.clone()),
            (400, -32020)
        );
        assert_eq!(
            list(headers(v, Some("TOOLS/LIST"), None), good.clone()),
            (400, -32020)
        );
        let call = |name: Option<&str>| {
            rejected(validate(
                &headers(v, Some("tools/call"), name),
                "tools/call",
                &params(json!({"name": "echo", "_meta": meta("2026-07-28")})),
            ))
        };
        assert_eq!(call(None), (400, -32020));
        assert_eq!(call(Some("wrong_tool_name")), (400, -32020));
        let read = validate(
            &headers(v, Some("resources/read"), Some("test://x")),
            "resources/read",
            &params(json!({"uri": "test://x", "_meta": meta("2026-07-28")})),
        );
        assert!(read.is_ok());
        // Methods of the session era are gone.
        for gone in [
            "initialize",
            "ping",
            "logging/setLevel",
            "resources/subscribe",
            "resources/unsubscribe",
            "unknown/method",
        ] {
            assert_eq!(
                rejected(validate(
                    &headers(v, Some(gone), None),
                    gone,
                    &params(good.clone())
                )),
                (404, -32601),
                "{gone}"
            );
        }
    }
}
