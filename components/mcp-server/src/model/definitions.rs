//! What a server offers, as `*/list` describes it. Each definition may name the scope
//! a caller needs to see and use it; that is the server's own business and never on
//! the wire.

use serde::Serialize;
use serde_json::Value;

use super::downlevel::Downlevel;

/// What the engine asks of every kind of definition: how `*/list` names its page, how
/// a request names one, and the scope that gates it.
pub trait Definition: Serialize + Downlevel {
    /// What it is, as an error message names it (`unknown tool "x"`).
    const KIND: &'static str;
    /// The key its `*/list` result holds the page under.
    const LIST_KEY: &'static str;
    /// What requests name it by: its name, URI or URI template.
    fn key(&self) -> &str;
    /// The scope a caller needs to see and use it; none: open to every caller.
    fn scope(&self) -> Option<&str>;
}

/// Implements [`Definition`] for each kind from one row of a table: the four differ
/// only in these constants and the field they are named by.
macro_rules! definitions {
    ($($kind:ty: $what:literal listed as $list:literal, named by $key:ident;)*) => {$(
        impl Definition for $kind {
            const KIND: &'static str = $what;
            const LIST_KEY: &'static str = $list;
            fn key(&self) -> &str {
                &self.$key
            }
            fn scope(&self) -> Option<&str> {
                self.scope.as_deref()
            }
        }
    )*};
}

definitions! {
    Tool: "tool" listed as "tools", named by name;
    Resource: "resource" listed as "resources", named by uri;
    ResourceTemplate: "resource template" listed as "resourceTemplates", named by uri_template;
    Prompt: "prompt" listed as "prompts", named by name;
}

/// A tool.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tool {
    /// Unique name.
    pub name: String,
    /// Display title (2025-06-18+).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What it does, for the model.
    pub description: String,
    /// JSON Schema of the arguments (`"type": "object"`).
    pub input_schema: Value,
    /// JSON Schema of `structuredContent` (2025-06-18+).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
    /// Behaviour hints (2025-03-26+).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<ToolAnnotations>,
    /// The scope a caller needs to see and call it (not on the wire).
    #[serde(skip)]
    pub scope: Option<String>,
}

impl Tool {
    /// A tool open to every caller, with nothing but its name, description and
    /// argument schema.
    pub fn new(name: &str, description: &str, input_schema: Value) -> Self {
        Self {
            name: name.into(),
            title: None,
            description: description.into(),
            input_schema,
            output_schema: None,
            annotations: None,
            scope: None,
        }
    }
}

/// How a tool behaves, as hints for the client (2025-03-26+).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolAnnotations {
    /// It changes nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_only_hint: Option<bool>,
    /// Its changes may destroy data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destructive_hint: Option<bool>,
    /// Calling it again with the same arguments changes nothing more.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotent_hint: Option<bool>,
    /// It reaches beyond the server's own data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_world_hint: Option<bool>,
}

/// A concrete resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    /// Its URI.
    pub uri: String,
    /// Short name.
    pub name: String,
    /// Display title (2025-06-18+).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Media type of its contents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// The scope a caller needs to see and read it (not on the wire).
    #[serde(skip)]
    pub scope: Option<String>,
}

/// A family of resources named by an RFC 6570 URI template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceTemplate {
    /// The template, e.g. `learner-dna://learners/{id}/profile`.
    pub uri_template: String,
    /// Short name.
    pub name: String,
    /// Display title (2025-06-18+).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Media type of the contents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// The scope a caller needs (not on the wire).
    #[serde(skip)]
    pub scope: Option<String>,
}

/// One argument a prompt takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PromptArgument {
    /// Its name.
    pub name: String,
    /// What it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether `prompts/get` must supply it.
    pub required: bool,
}

impl PromptArgument {
    /// An argument with a description.
    pub fn new(name: &str, description: &str, required: bool) -> Self {
        Self {
            name: name.into(),
            description: Some(description.into()),
            required,
        }
    }
}

/// A prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Prompt {
    /// Unique name.
    pub name: String,
    /// Display title (2025-06-18+).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What it is for.
    pub description: String,
    /// Its arguments.
    pub arguments: Vec<PromptArgument>,
    /// The scope a caller needs (not on the wire).
    #[serde(skip)]
    pub scope: Option<String>,
}
