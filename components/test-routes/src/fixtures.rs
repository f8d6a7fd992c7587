//! The fixture catalogue the official MCP conformance suite calls (`test_simple_text`,
//! `test://static-text`, …), served beside the Learner DNA catalogue in test builds
//! only. It exercises every engine feature: every content type, logging and progress
//! during a call, sampling and elicitation, subscriptions, templates and completion.
//!
//! The catalogue is cut by job: `tools` lists the tools and runs the plain ones,
//! `client_requests` the ones that ask the client for a sampling or an elicitation,
//! `stateless` the 2026-07-28 ones that take input across rounds, `prompts` and
//! `resources` the rest. The suite checks every name, text and schema here verbatim.

mod client_requests;
mod prompts;
mod resources;
mod stateless;
mod tools;

use learner_core::identity::Principal;
use learner_mcp_server::catalogue::{
    Catalogue, CompleteOutcome, PromptOutcome, ReadOutcome, ToolContext, ToolOutcome,
};
use learner_mcp_server::model::params::{
    CallToolParams, CompleteParams, CompletionRef, GetPromptParams,
};
use learner_mcp_server::model::{Prompt, Resource, ResourceTemplate, Tool};
use serde_json::{Map, Value};

/// A 1×1 red PNG.
pub const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
/// A tiny WAV file.
pub const WAV: &str = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";

/// The conformance fixtures.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fixtures;

/// The string argument `name`, empty when it is absent or not a string.
fn string_argument(arguments: &Map<String, Value>, name: &str) -> String {
    arguments
        .get(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

impl Catalogue for Fixtures {
    fn tools(&self) -> Vec<Tool> {
        tools::list()
    }

    fn resources(&self) -> Vec<Resource> {
        resources::list()
    }

    fn templates(&self) -> Vec<ResourceTemplate> {
        resources::templates()
    }

    fn prompts(&self) -> Vec<Prompt> {
        prompts::list()
    }

    async fn call_tool(&self, call: &CallToolParams, context: &ToolContext<'_>) -> ToolOutcome {
        tools::call(&call.name, &call.arguments, context).await
    }

    async fn read_resource(&self, uri: &str, _caller: &Principal) -> ReadOutcome {
        Ok(resources::read(uri))
    }

    async fn get_prompt(&self, get: &GetPromptParams, context: &ToolContext<'_>) -> PromptOutcome {
        prompts::get(&get.name, &get.arguments, context).await
    }

    async fn complete(&self, request: &CompleteParams, _caller: &Principal) -> CompleteOutcome {
        let value = request.value.as_str();
        let candidates: &[&str] = match (&request.reference, request.argument.as_str()) {
            (CompletionRef::Prompt(_), "arg1") => &["paris", "park", "party", "test-value"],
            (CompletionRef::Prompt(_), "arg2") => &["alpha", "beta"],
            (CompletionRef::Template(_), "id") => &["123", "124", "200"],
            _ => &[],
        };
        Ok(candidates
            .iter()
            .filter(|c| c.starts_with(value))
            .map(|c| (*c).to_owned())
            .collect())
    }
}
