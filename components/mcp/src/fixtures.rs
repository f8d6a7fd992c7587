//! The fixture catalogue the official MCP conformance suite calls (`test_simple_text`,
//! `test://static-text`, …), compiled only into test builds (feature `fixtures`). It
//! exercises every engine feature: every content type, logging and progress during a
//! call, sampling and elicitation, subscriptions, templates and completion.

use serde_json::{Map, Value, json};

use crate::catalogue::{
    Caller, Catalogue, CompletionRef, PromptArgument, PromptDef, PromptOutput, ResourceDef,
    TemplateDef, ToolContext, ToolDef, ToolOutput, content,
};
use crate::engine::match_template;
use crate::jsonrpc::RpcError;
use crate::session::LogLevel;

/// A 1×1 red PNG.
pub const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
/// A tiny WAV file.
pub const WAV: &str = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";

/// The conformance fixtures.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fixtures;

fn no_arguments() -> Value {
    json!({"type": "object", "properties": {}})
}

fn tool(name: &str, description: &str, input_schema: Value) -> ToolDef {
    ToolDef {
        name: name.into(),
        title: None,
        description: description.into(),
        input_schema,
        output_schema: None,
        annotations: None,
        scope: None,
    }
}

fn argument(name: &str, description: &str) -> PromptArgument {
    PromptArgument {
        name: name.into(),
        description: Some(description.into()),
        required: true,
    }
}

fn prompt(name: &str, description: &str, arguments: Vec<PromptArgument>) -> PromptDef {
    PromptDef {
        name: name.into(),
        title: None,
        description: description.into(),
        arguments,
        scope: None,
    }
}

fn resource(uri: &str, name: &str, mime_type: &str) -> ResourceDef {
    ResourceDef {
        uri: uri.into(),
        name: name.into(),
        title: None,
        description: Some(format!("Conformance fixture {name}")),
        mime_type: Some(mime_type.into()),
        scope: None,
    }
}

fn string_argument(arguments: &Map<String, Value>, name: &str) -> String {
    arguments
        .get(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

impl Catalogue for Fixtures {
    fn tools(&self) -> Vec<ToolDef> {
        let text_argument = |name: &str, description: &str| json!({"type": "object", "properties": {name: {"type": "string", "description": description}}, "required": [name]});
        vec![
            tool(
                "test_simple_text",
                "Returns a simple text response",
                no_arguments(),
            ),
            tool(
                "test_image_content",
                "Returns an image (a 1x1 red PNG)",
                no_arguments(),
            ),
            tool(
                "test_audio_content",
                "Returns audio (a short WAV)",
                no_arguments(),
            ),
            tool(
                "test_embedded_resource",
                "Returns an embedded text resource",
                no_arguments(),
            ),
            tool(
                "test_multiple_content_types",
                "Returns text, an image and an embedded resource",
                no_arguments(),
            ),
            tool(
                "test_tool_with_logging",
                "Sends three log messages while it runs",
                no_arguments(),
            ),
            tool(
                "test_error_handling",
                "Always fails, as a tool result",
                no_arguments(),
            ),
            tool(
                "test_tool_with_progress",
                "Reports progress 0, 50 and 100 of 100",
                no_arguments(),
            ),
            tool(
                "test_sampling",
                "Asks the client's model to answer a prompt",
                text_argument("prompt", "The prompt to send to the model"),
            ),
            tool(
                "test_elicitation",
                "Asks the user for a username and email address",
                text_argument("message", "The message to show the user"),
            ),
            tool(
                "test_elicitation_sep1034_defaults",
                "Asks the user to review fields that have defaults",
                no_arguments(),
            ),
            tool(
                "test_elicitation_sep1330_enums",
                "Asks the user to choose from enumerations of every shape",
                no_arguments(),
            ),
            tool(
                "json_schema_2020_12_tool",
                "Tool with JSON Schema 2020-12 features",
                json!({
                    "$schema": "https://json-schema.org/draft/2020-12/schema",
                    "type": "object",
                    "$defs": {"address": {"type": "object", "properties": {
                        "street": {"type": "string"}, "city": {"type": "string"}}}},
                    "properties": {"name": {"type": "string"}, "address": {"$ref": "#/$defs/address"}},
                    "additionalProperties": false,
                }),
            ),
            tool(
                "test_trigger_resource_update",
                "Marks test://watched-resource as changed, so its subscribers are notified",
                no_arguments(),
            ),
            ToolDef {
                title: Some("Structured weather".into()),
                output_schema: Some(json!({
                    "type": "object",
                    "properties": {"temperature": {"type": "number"}, "conditions": {"type": "string"}},
                    "required": ["temperature", "conditions"],
                })),
                annotations: Some(json!({"readOnlyHint": true, "openWorldHint": false})),
                ..tool(
                    "test_structured_output",
                    "Returns structured content matching its output schema",
                    no_arguments(),
                )
            },
        ]
    }

    fn resources(&self) -> Vec<ResourceDef> {
        vec![
            resource("test://static-text", "static-text", "text/plain"),
            resource("test://static-binary", "static-binary", "image/png"),
            resource("test://watched-resource", "watched-resource", "text/plain"),
        ]
    }

    fn templates(&self) -> Vec<TemplateDef> {
        vec![TemplateDef {
            uri_template: "test://template/{id}/data".into(),
            name: "template-data".into(),
            title: None,
            description: Some("Data for an id".into()),
            mime_type: Some("application/json".into()),
            scope: None,
        }]
    }

    fn prompts(&self) -> Vec<PromptDef> {
        vec![
            prompt(
                "test_simple_prompt",
                "A simple prompt without arguments",
                vec![],
            ),
            prompt(
                "test_prompt_with_arguments",
                "A prompt with two required arguments",
                vec![
                    argument("arg1", "First test argument"),
                    argument("arg2", "Second test argument"),
                ],
            ),
            prompt(
                "test_prompt_with_embedded_resource",
                "A prompt that embeds a resource",
                vec![argument("resourceUri", "URI of the resource to embed")],
            ),
            prompt("test_prompt_with_image", "A prompt with an image", vec![]),
        ]
    }

    async fn call_tool(
        &self,
        name: &str,
        arguments: &Map<String, Value>,
        context: &ToolContext<'_>,
    ) -> Result<ToolOutput, RpcError> {
        Ok(match name {
            "test_simple_text" => ToolOutput::text("This is a simple text response for testing."),
            "test_image_content" => ToolOutput {
                content: vec![content::image(PNG, "image/png")],
                ..ToolOutput::default()
            },
            "test_audio_content" => ToolOutput {
                content: vec![content::audio(WAV, "audio/wav")],
                ..ToolOutput::default()
            },
            "test_embedded_resource" => ToolOutput {
                content: vec![content::text_resource(
                    "test://embedded-resource",
                    "text/plain",
                    "This is an embedded resource content.",
                )],
                ..ToolOutput::default()
            },
            "test_multiple_content_types" => ToolOutput {
                content: vec![
                    content::text("Multiple content types test:"),
                    content::image(PNG, "image/png"),
                    content::text_resource(
                        "test://mixed-content-resource",
                        "application/json",
                        r#"{"test":"data","value":123}"#,
                    ),
                ],
                ..ToolOutput::default()
            },
            "test_tool_with_logging" => {
                for message in [
                    "Tool execution started",
                    "Tool processing data",
                    "Tool execution completed",
                ] {
                    context.log(LogLevel::Info, None, json!(message));
                }
                ToolOutput::text("Tool with logging executed successfully")
            }
            "test_error_handling" => {
                ToolOutput::error("This tool intentionally returns an error for testing")
            }
            "test_tool_with_progress" => {
                for step in [0.0, 50.0, 100.0] {
                    context.progress(
                        step,
                        Some(100.0),
                        Some(&format!("Completed step {step} of 100")),
                    );
                }
                ToolOutput::text("Progress test completed")
            }
            "test_sampling" => {
                let prompt = string_argument(arguments, "prompt");
                let reply = context
                    .ask_client(
                        "sampling/createMessage",
                        json!({
                            "messages": [{"role": "user", "content": content::text(prompt)}],
                            "maxTokens": 100,
                        }),
                    )
                    .await;
                match reply {
                    Ok(result) => {
                        let text = result["content"]["text"].as_str().unwrap_or_default();
                        ToolOutput::text(format!("LLM response: {text}"))
                    }
                    Err(error) => ToolOutput::error(format!("Sampling failed: {}", error.message)),
                }
            }
            "test_elicitation" => {
                let message = string_argument(arguments, "message");
                let reply = context
                    .ask_client(
                        "elicitation/create",
                        json!({
                            "message": message,
                            "requestedSchema": {
                                "type": "object",
                                "properties": {
                                    "username": {"type": "string", "description": "User's response"},
                                    "email": {"type": "string", "description": "User's email address"},
                                },
                                "required": ["username", "email"],
                            },
                        }),
                    )
                    .await;
                elicitation_output("User response", reply)
            }
            "test_elicitation_sep1034_defaults" => {
                let reply = context
                    .ask_client(
                        "elicitation/create",
                        json!({
                            "mode": "form",
                            "message": "Please review and update the form fields with defaults",
                            "requestedSchema": {
                                "type": "object",
                                "properties": {
                                    "name": {"type": "string", "description": "User name", "default": "John Doe"},
                                    "age": {"type": "integer", "description": "User age", "default": 30},
                                    "score": {"type": "number", "description": "User score", "default": 95.5},
                                    "status": {"type": "string", "description": "User status",
                                               "enum": ["active", "inactive", "pending"], "default": "active"},
                                    "verified": {"type": "boolean", "description": "Verification status", "default": true},
                                },
                                "required": [],
                            },
                        }),
                    )
                    .await;
                elicitation_output("Elicitation completed", reply)
            }
            "test_elicitation_sep1330_enums" => {
                let titled = |prefix: &str, label: &str| {
                    json!([
                        {"const": format!("{prefix}1"), "title": format!("First {label}")},
                        {"const": format!("{prefix}2"), "title": format!("Second {label}")},
                        {"const": format!("{prefix}3"), "title": format!("Third {label}")},
                    ])
                };
                let reply = context
                    .ask_client(
                        "elicitation/create",
                        json!({
                            "message": "Please select options from the enum fields",
                            "requestedSchema": {
                                "type": "object",
                                "properties": {
                                    "untitledSingle": {"type": "string", "description": "Select one option",
                                                       "enum": ["option1", "option2", "option3"]},
                                    "titledSingle": {"type": "string", "description": "Select one option with titles",
                                                     "oneOf": titled("value", "Option")},
                                    "legacyEnum": {"type": "string", "description": "Select one option (legacy)",
                                                   "enum": ["opt1", "opt2", "opt3"],
                                                   "enumNames": ["Option One", "Option Two", "Option Three"]},
                                    "untitledMulti": {"type": "array", "description": "Select multiple options",
                                                      "minItems": 1, "maxItems": 3,
                                                      "items": {"type": "string", "enum": ["option1", "option2", "option3"]}},
                                    "titledMulti": {"type": "array", "description": "Select multiple options with titles",
                                                    "minItems": 1, "maxItems": 3,
                                                    "items": {"anyOf": titled("value", "Choice")}},
                                },
                                "required": [],
                            },
                        }),
                    )
                    .await;
                elicitation_output("Elicitation completed", reply)
            }
            "test_trigger_resource_update" => {
                context.resource_updated("test://watched-resource");
                ToolOutput::text("test://watched-resource was updated")
            }
            "json_schema_2020_12_tool" => {
                ToolOutput::text(format!("Received: {}", Value::Object(arguments.clone())))
            }
            "test_structured_output" => {
                let structured = json!({"temperature": 21.5, "conditions": "sunny"});
                ToolOutput {
                    content: vec![content::text(structured.to_string())],
                    structured: Some(structured),
                    is_error: false,
                }
            }
            other => return Err(RpcError::invalid_params(format!("unknown tool {other:?}"))),
        })
    }

    async fn read_resource(
        &self,
        uri: &str,
        _caller: &Caller,
    ) -> Result<Option<Vec<Value>>, RpcError> {
        Ok(match uri {
            "test://static-text" => Some(vec![content::text_contents(
                uri,
                "text/plain",
                "This is the content of the static text resource.",
            )]),
            "test://static-binary" => Some(vec![content::blob_contents(uri, "image/png", PNG)]),
            "test://watched-resource" => Some(vec![content::text_contents(
                uri,
                "text/plain",
                "Watched resource content",
            )]),
            _ => match_template("test://template/{id}/data", uri).map(|values| {
                let id = values.get("id").and_then(Value::as_str).unwrap_or_default();
                let data =
                    json!({"id": id, "templateTest": true, "data": format!("Data for ID: {id}")});
                vec![content::text_contents(
                    uri,
                    "application/json",
                    &data.to_string(),
                )]
            }),
        })
    }

    async fn get_prompt(
        &self,
        name: &str,
        arguments: &Map<String, Value>,
        _caller: &Caller,
    ) -> Result<PromptOutput, RpcError> {
        let user = |content: Value| content::message("user", content);
        let messages = match name {
            "test_simple_prompt" => {
                vec![user(content::text("This is a simple prompt for testing."))]
            }
            "test_prompt_with_arguments" => vec![user(content::text(format!(
                "Prompt with arguments: arg1='{}', arg2='{}'",
                string_argument(arguments, "arg1"),
                string_argument(arguments, "arg2")
            )))],
            "test_prompt_with_embedded_resource" => vec![
                user(content::text_resource(
                    &string_argument(arguments, "resourceUri"),
                    "text/plain",
                    "Embedded resource content for testing.",
                )),
                user(content::text("Please process the embedded resource above.")),
            ],
            "test_prompt_with_image" => vec![
                user(content::image(PNG, "image/png")),
                user(content::text("Please analyze the image above.")),
            ],
            other => {
                return Err(RpcError::invalid_params(format!(
                    "unknown prompt {other:?}"
                )));
            }
        };
        Ok(PromptOutput {
            description: None,
            messages,
        })
    }

    async fn complete(
        &self,
        reference: &CompletionRef,
        argument: &str,
        value: &str,
        _context: &Map<String, Value>,
        _caller: &Caller,
    ) -> Result<Vec<String>, RpcError> {
        let candidates: &[&str] = match (reference, argument) {
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

fn elicitation_output(label: &str, reply: Result<Value, RpcError>) -> ToolOutput {
    match reply {
        Ok(result) => ToolOutput::text(format!(
            "{label}: action={}, content={}",
            result["action"].as_str().unwrap_or("unknown"),
            result.get("content").cloned().unwrap_or(json!({}))
        )),
        Err(error) => ToolOutput::error(format!("Elicitation failed: {}", error.message)),
    }
}
