//! Checking a tool's arguments against its declared input schema.

use serde_json::{Map, Value};

use crate::jsonrpc::RpcError;

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
