//! The MCP model: what travels in requests, results and notifications, as serde types.
//! Definitions and results are built as types and turned into JSON once, at the
//! transport; each revision's view of them is made in one pass ([`downlevel`]).
//! JSON Schemas, `structuredContent` and what a tool asks of the client stay JSON: they
//! are data whose shape the tool defines, not the protocol's.

pub mod content;
pub mod definitions;
pub mod downlevel;
pub mod notifications;
pub mod params;
pub mod results;

pub use content::{Content, PromptMessage, ResourceContents, Speaker};
pub use definitions::{Prompt, PromptArgument, Resource, ResourceTemplate, Tool, ToolAnnotations};
pub use downlevel::Downlevel;
pub use results::{CallToolResult, GetPromptResult};
