//! Results, one type per method.

use serde::ser::SerializeMap as _;
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::content::{Content, PromptMessage, ResourceContents};
use super::definitions::Definition;

/// A result with nothing in it (`ping`, `logging/setLevel`, subscriptions).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Empty {}

/// A `*/list` result: a page of definitions under their list's key (`tools`,
/// `resources`, `resourceTemplates` or `prompts`), and where the next page starts.
#[derive(Debug, Clone, PartialEq)]
pub struct ListResult<T> {
    /// A page of definitions.
    pub items: Vec<T>,
    /// Where the next page starts.
    pub next_cursor: Option<String>,
}

// By hand: the key of the page depends on the kind of definition, which derive cannot
// express.
impl<T: Definition> Serialize for ListResult<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map =
            serializer.serialize_map(Some(1 + usize::from(self.next_cursor.is_some())))?;
        map.serialize_entry(T::LIST_KEY, &self.items)?;
        if let Some(cursor) = &self.next_cursor {
            map.serialize_entry("nextCursor", cursor)?;
        }
        map.end()
    }
}

/// `tools/call`: what a tool answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallToolResult {
    /// Content blocks.
    pub content: Vec<Content>,
    /// Structured result matching the tool's `outputSchema` (2025-06-18+).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub structured_content: Option<Value>,
    /// A tool-level failure the model should see (not a protocol error).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub is_error: bool,
}

impl CallToolResult {
    /// A result of one text block.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            content: vec![Content::text(text)],
            ..Self::default()
        }
    }

    /// A text summary for the model and the same facts as structured content.
    pub fn structured(text: impl Into<String>, structured: Value) -> Self {
        Self {
            content: vec![Content::text(text)],
            structured_content: Some(structured),
            is_error: false,
        }
    }

    /// The result of a handler that asked for input it does not have yet
    /// (`ToolContext::input`); the engine answers with what was asked for instead.
    pub fn awaiting_input() -> Self {
        Self::default()
    }

    /// A tool failure with a message for the model.
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            content: vec![Content::text(message)],
            is_error: true,
            ..Self::default()
        }
    }
}

/// `resources/read`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReadResourceResult {
    /// The contents.
    pub contents: Vec<ResourceContents>,
}

/// `prompts/get`: a prompt's messages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GetPromptResult {
    /// Description of this rendering.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The messages.
    pub messages: Vec<PromptMessage>,
}

/// `completion/complete`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompleteResult {
    /// The values.
    pub completion: Completion,
}

/// Completion values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Completion {
    /// At most 100 values.
    pub values: Vec<String>,
    /// How many there are in all.
    pub total: usize,
    /// Whether there are more than `values`.
    pub has_more: bool,
}

/// An implementation's name and version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Implementation {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
}

/// A capability with nothing to say beyond its presence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Present {}

/// Whether a list may change while a session lives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListChanges {
    /// It may, and the server says so.
    pub list_changed: bool,
}

/// The resources capability.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourcesCapability {
    /// Clients may subscribe to resources.
    pub subscribe: bool,
    /// The list may change.
    pub list_changed: bool,
}

/// What the server does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ServerCapabilities {
    /// Tools.
    pub tools: ListChanges,
    /// Resources.
    pub resources: ResourcesCapability,
    /// Prompts.
    pub prompts: ListChanges,
    /// Log messages.
    pub logging: Present,
    /// Argument completion (2025-03-26+).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completions: Option<Present>,
}

/// `initialize`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InitializeResult {
    /// The revision agreed.
    pub protocol_version: &'static str,
    /// What the server does.
    pub capabilities: ServerCapabilities,
    /// The server.
    pub server_info: Implementation,
    /// Guidance for the model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
}

/// `server/discover` (2026-07-28).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscoverResult {
    /// The revisions spoken, newest first.
    pub supported_versions: Vec<&'static str>,
    /// What the server does.
    pub capabilities: ServerCapabilities,
    /// Guidance for the model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
}

/// What every stateless (2026-07-28) result adds: whether it is complete, and for the
/// cacheable ones how long it keeps and for whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatelessFields {
    /// `complete` or `input_required`.
    pub result_type: &'static str,
    /// How long the result may be reused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl_ms: Option<u64>,
    /// Who may reuse it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_scope: Option<&'static str>,
}

/// `InputRequiredResult` (2026-07-28): what a request needs from the client, and the
/// state to send back with the answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InputRequiredResult {
    /// Always `input_required`.
    pub result_type: &'static str,
    /// The requests, by key.
    pub input_requests: serde_json::Map<String, Value>,
    /// The signed state.
    pub request_state: String,
}

/// A result as JSON. The model's types hold strings, numbers and JSON values only, so
/// this cannot fail.
pub fn to_json(result: &impl Serialize) -> Value {
    serde_json::to_value(result).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::{ResourceTemplate, Tool};

    #[test]
    fn a_list_holds_its_page_under_its_kinds_key_and_a_cursor_only_when_more_follow() {
        let tools = ListResult {
            items: vec![Tool::new("t", "d", json!({}))],
            next_cursor: None,
        };
        assert_eq!(
            to_json(&tools),
            json!({"tools": [{"name": "t", "description": "d", "inputSchema": {}}]})
        );
        let templates: ListResult<ResourceTemplate> = ListResult {
            items: Vec::new(),
            next_cursor: Some("offset:10".into()),
        };
        assert_eq!(
            to_json(&templates),
            json!({"resourceTemplates": [], "nextCursor": "offset:10"})
        );
    }
}
