//! The fixture catalogue the official MCP conformance suite calls (`test_simple_text`,
//! `test://static-text`, …), served beside the Learner DNA catalogue in test builds
//! only. It exercises every engine feature: every content type, logging and progress
//! during a call, sampling and elicitation, subscriptions, templates and completion.

use learner_core::identity::Principal;
use learner_mcp_server::catalogue::{Catalogue, MISSING_CAPABILITY, ToolContext};
use learner_mcp_server::jsonrpc::RpcError;
use learner_mcp_server::model::params::CompletionRef;
use learner_mcp_server::model::{
    CallToolResult, Content, GetPromptResult, Prompt, PromptArgument, PromptMessage, Resource,
    ResourceContents, ResourceTemplate, Tool, ToolAnnotations,
};
use learner_mcp_server::session::LogLevel;
use learner_mcp_server::uri_template::match_template;
use serde_json::{Map, Value, json};

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

fn tool(name: &str, description: &str, input_schema: Value) -> Tool {
    Tool::new(name, description, input_schema)
}

fn argument(name: &str, description: &str) -> PromptArgument {
    PromptArgument::new(name, description, true)
}

fn prompt(name: &str, description: &str, arguments: Vec<PromptArgument>) -> Prompt {
    Prompt {
        name: name.into(),
        title: None,
        description: description.into(),
        arguments,
        scope: None,
    }
}

fn resource(uri: &str, name: &str, mime_type: &str) -> Resource {
    Resource {
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
    fn tools(&self) -> Vec<Tool> {
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
                    "$defs": {"address": {
                        "$anchor": "addressDef",
                        "type": "object",
                        "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
                    }},
                    "properties": {
                        "name": {"type": "string"},
                        "address": {"$ref": "#/$defs/address"},
                        "contactMethod": {"type": "string", "enum": ["phone", "email"]},
                        "phone": {"type": "string"},
                        "email": {"type": "string"},
                    },
                    "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
                    "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
                    "then": {"required": ["phone"]},
                    "else": {"required": ["email"]},
                    "additionalProperties": false,
                }),
            ),
            tool(
                "test_missing_capability",
                "Needs the client's sampling capability",
                no_arguments(),
            ),
            tool(
                "test_streaming_elicitation",
                "Asks the user to confirm before it answers",
                no_arguments(),
            ),
            tool(
                "test_logging_tool",
                "Logs one message, at the level the client asked for",
                no_arguments(),
            ),
            tool(
                "test_input_required_result_elicitation",
                "Asks the user for their name, then greets them",
                no_arguments(),
            ),
            tool(
                "test_input_required_result_sampling",
                "Asks the client's model a question",
                no_arguments(),
            ),
            tool(
                "test_input_required_result_list_roots",
                "Asks the client for its roots",
                no_arguments(),
            ),
            tool(
                "test_input_required_result_request_state",
                "Asks for confirmation, keeping state across rounds",
                no_arguments(),
            ),
            tool(
                "test_input_required_result_multiple_inputs",
                "Asks for a name, a greeting and the roots in one round",
                no_arguments(),
            ),
            tool(
                "test_input_required_result_multi_round",
                "Asks for a name, then a colour, in two rounds",
                no_arguments(),
            ),
            tool(
                "test_input_required_result_tampered_state",
                "Asks for confirmation; a tampered state is refused",
                no_arguments(),
            ),
            tool(
                "test_input_required_result_capabilities",
                "Asks only with the capabilities the client declared",
                no_arguments(),
            ),
            tool(
                "test_header_param",
                "Echoes a region that the client also sends in the Mcp-Param-Region header",
                json!({"type": "object", "properties": {"region": {
                    "type": "string",
                    "description": "A region name",
                    "x-mcp-header": "Region",
                }}, "required": ["region"]}),
            ),
            tool(
                "test_trigger_resource_update",
                "Marks test://watched-resource as changed, so its subscribers are notified",
                no_arguments(),
            ),
            Tool {
                title: Some("Structured weather".into()),
                output_schema: Some(json!({
                    "type": "object",
                    "properties": {"temperature": {"type": "number"}, "conditions": {"type": "string"}},
                    "required": ["temperature", "conditions"],
                })),
                annotations: Some(ToolAnnotations {
                    read_only_hint: Some(true),
                    open_world_hint: Some(false),
                    ..ToolAnnotations::default()
                }),
                ..tool(
                    "test_structured_output",
                    "Returns structured content matching its output schema",
                    no_arguments(),
                )
            },
        ]
    }

    fn resources(&self) -> Vec<Resource> {
        vec![
            resource("test://static-text", "static-text", "text/plain"),
            resource("test://static-binary", "static-binary", "image/png"),
            resource("test://watched-resource", "watched-resource", "text/plain"),
        ]
    }

    fn templates(&self) -> Vec<ResourceTemplate> {
        vec![ResourceTemplate {
            uri_template: "test://template/{id}/data".into(),
            name: "template-data".into(),
            title: None,
            description: Some("Data for an id".into()),
            mime_type: Some("application/json".into()),
            scope: None,
        }]
    }

    fn prompts(&self) -> Vec<Prompt> {
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
            prompt(
                "test_input_required_result_prompt",
                "Asks the user for context before it renders (input across rounds)",
                vec![],
            ),
        ]
    }

    async fn call_tool(
        &self,
        name: &str,
        arguments: &Map<String, Value>,
        context: &ToolContext<'_>,
    ) -> Result<CallToolResult, RpcError> {
        Ok(match name {
            "test_simple_text" => {
                CallToolResult::text("This is a simple text response for testing.")
            }
            "test_image_content" => CallToolResult {
                content: vec![Content::image(PNG, "image/png")],
                ..CallToolResult::default()
            },
            "test_audio_content" => CallToolResult {
                content: vec![Content::audio(WAV, "audio/wav")],
                ..CallToolResult::default()
            },
            "test_embedded_resource" => CallToolResult {
                content: vec![Content::text_resource(
                    "test://embedded-resource",
                    "text/plain",
                    "This is an embedded resource content.",
                )],
                ..CallToolResult::default()
            },
            "test_multiple_content_types" => CallToolResult {
                content: vec![
                    Content::text("Multiple content types test:"),
                    Content::image(PNG, "image/png"),
                    Content::text_resource(
                        "test://mixed-content-resource",
                        "application/json",
                        r#"{"test":"data","value":123}"#,
                    ),
                ],
                ..CallToolResult::default()
            },
            "test_tool_with_logging" => {
                for message in [
                    "Tool execution started",
                    "Tool processing data",
                    "Tool execution completed",
                ] {
                    context.log(LogLevel::Info, None, json!(message));
                }
                CallToolResult::text("Tool with logging executed successfully")
            }
            "test_error_handling" => {
                CallToolResult::error("This tool intentionally returns an error for testing")
            }
            "test_tool_with_progress" => {
                for step in [0.0, 50.0, 100.0] {
                    context.progress(
                        step,
                        Some(100.0),
                        Some(&format!("Completed step {step} of 100")),
                    );
                }
                CallToolResult::text("Progress test completed")
            }
            "test_sampling" => {
                let prompt = string_argument(arguments, "prompt");
                let reply = context
                    .input(
                        "sampling",
                        "sampling/createMessage",
                        json!({
                            "messages": [{"role": "user", "content": Content::text(prompt)}],
                            "maxTokens": 100,
                        }),
                    )
                    .await;
                match reply {
                    Ok(Some(result)) => {
                        let text = result["content"]["text"].as_str().unwrap_or_default();
                        CallToolResult::text(format!("LLM response: {text}"))
                    }
                    Ok(None) => CallToolResult::awaiting_input(),
                    Err(error) if error.code == MISSING_CAPABILITY => return Err(error),
                    Err(error) => {
                        CallToolResult::error(format!("Sampling failed: {}", error.message))
                    }
                }
            }
            "test_elicitation" => {
                let message = string_argument(arguments, "message");
                let reply = context
                    .input(
                        "elicitation",
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
                elicitation_output("User response", reply)?
            }
            "test_elicitation_sep1034_defaults" => {
                let reply = context
                    .input(
                        "elicitation",
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
                elicitation_output("Elicitation completed", reply)?
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
                    .input(
                        "elicitation",
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
                elicitation_output("Elicitation completed", reply)?
            }
            "test_header_param" => {
                CallToolResult::text(format!("Region: {}", string_argument(arguments, "region")))
            }
            "test_trigger_resource_update" => {
                context.resource_updated("test://watched-resource");
                CallToolResult::text("test://watched-resource was updated")
            }
            "json_schema_2020_12_tool" => {
                CallToolResult::text(format!("Received: {}", Value::Object(arguments.clone())))
            }
            "test_structured_output" => {
                let structured = json!({"temperature": 21.5, "conditions": "sunny"});
                CallToolResult::structured(structured.to_string(), structured)
            }
            other => match self.call_stateless_fixture(other, context).await? {
                Some(output) => output,
                None => return Err(RpcError::invalid_params(format!("unknown tool {other:?}"))),
            },
        })
    }

    async fn read_resource(
        &self,
        uri: &str,
        _caller: &Principal,
    ) -> Result<Option<Vec<ResourceContents>>, RpcError> {
        Ok(match uri {
            "test://static-text" => Some(vec![ResourceContents::text(
                uri,
                "text/plain",
                "This is the content of the static text resource.",
            )]),
            "test://static-binary" => Some(vec![ResourceContents::blob(uri, "image/png", PNG)]),
            "test://watched-resource" => Some(vec![ResourceContents::text(
                uri,
                "text/plain",
                "Watched resource content",
            )]),
            _ => match_template("test://template/{id}/data", uri).map(|values| {
                let id = values.get("id").and_then(Value::as_str).unwrap_or_default();
                let data =
                    json!({"id": id, "templateTest": true, "data": format!("Data for ID: {id}")});
                vec![ResourceContents::text(
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
        context: &ToolContext<'_>,
    ) -> Result<Option<GetPromptResult>, RpcError> {
        let user = PromptMessage::user;
        let messages = match name {
            "test_input_required_result_prompt" => {
                let Some(answer) = context
                    .input(
                        "user_context",
                        "elicitation/create",
                        ask_for("What context should the prompt use?", "context", "string"),
                    )
                    .await?
                else {
                    return Ok(None);
                };
                vec![user(Content::text(format!(
                    "Use this context: {}",
                    field(&answer, "context")
                )))]
            }
            "test_simple_prompt" => {
                vec![user(Content::text("This is a simple prompt for testing."))]
            }
            "test_prompt_with_arguments" => vec![user(Content::text(format!(
                "Prompt with arguments: arg1='{}', arg2='{}'",
                string_argument(arguments, "arg1"),
                string_argument(arguments, "arg2")
            )))],
            "test_prompt_with_embedded_resource" => vec![
                user(Content::text_resource(
                    &string_argument(arguments, "resourceUri"),
                    "text/plain",
                    "Embedded resource content for testing.",
                )),
                user(Content::text("Please process the embedded resource above.")),
            ],
            "test_prompt_with_image" => vec![
                user(Content::image(PNG, "image/png")),
                user(Content::text("Please analyze the image above.")),
            ],
            other => {
                return Err(RpcError::invalid_params(format!(
                    "unknown prompt {other:?}"
                )));
            }
        };
        Ok(Some(GetPromptResult {
            description: None,
            messages,
        }))
    }

    async fn complete(
        &self,
        reference: &CompletionRef,
        argument: &str,
        value: &str,
        _context: &Map<String, Value>,
        _caller: &Principal,
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

fn elicitation_output(
    label: &str,
    reply: Result<Option<Value>, RpcError>,
) -> Result<CallToolResult, RpcError> {
    Ok(match reply {
        Ok(Some(result)) => CallToolResult::text(format!(
            "{label}: action={}, content={}",
            result["action"].as_str().unwrap_or("unknown"),
            result.get("content").cloned().unwrap_or(json!({}))
        )),
        Ok(None) => CallToolResult::awaiting_input(),
        Err(error) if error.code == MISSING_CAPABILITY => return Err(error),
        Err(error) => CallToolResult::error(format!("Elicitation failed: {}", error.message)),
    })
}

/// An elicitation of one string (or boolean) field.
fn ask_for(message: &str, field: &str, kind: &str) -> Value {
    json!({
        "message": message,
        "requestedSchema": {
            "type": "object",
            "properties": {field: {"type": kind}},
            "required": [field],
        },
    })
}

fn sampling_of(text: &str, max_tokens: u32) -> Value {
    json!({"messages": [{"role": "user", "content": Content::text(text)}], "maxTokens": max_tokens})
}

/// A field of an accepted elicitation, or of a sampling answer's text.
fn field(answer: &Value, name: &str) -> String {
    match &answer["content"][name] {
        Value::String(text) => text.clone(),
        Value::Null => answer["content"]["text"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        other => other.to_string(),
    }
}

impl Fixtures {
    /// The 2026-07-28 fixtures: input across rounds (`InputRequiredResult`), and the
    /// stateless diagnostics. `None` for names that are not among them.
    async fn call_stateless_fixture(
        &self,
        name: &str,
        context: &ToolContext<'_>,
    ) -> Result<Option<CallToolResult>, RpcError> {
        let output = match name {
            "test_missing_capability" => {
                match context
                    .input(
                        "sampling",
                        "sampling/createMessage",
                        sampling_of("Say hello", 20),
                    )
                    .await?
                {
                    Some(answer) => {
                        CallToolResult::text(format!("Sampled: {}", field(&answer, "text")))
                    }
                    None => CallToolResult::awaiting_input(),
                }
            }
            "test_streaming_elicitation" => {
                match context
                    .input(
                        "confirmation",
                        "elicitation/create",
                        ask_for("Continue?", "ok", "boolean"),
                    )
                    .await?
                {
                    Some(answer) => {
                        CallToolResult::text(format!("Confirmed: {}", field(&answer, "ok")))
                    }
                    None => CallToolResult::awaiting_input(),
                }
            }
            "test_logging_tool" => {
                context.log(
                    LogLevel::Info,
                    Some("fixtures"),
                    json!("The logging tool ran"),
                );
                CallToolResult::text("Logging tool completed")
            }
            "test_input_required_result_elicitation" => {
                match context
                    .input(
                        "user_name",
                        "elicitation/create",
                        ask_for("What is your name?", "name", "string"),
                    )
                    .await?
                {
                    Some(answer) => {
                        CallToolResult::text(format!("Hello, {}!", field(&answer, "name")))
                    }
                    None => CallToolResult::awaiting_input(),
                }
            }
            "test_input_required_result_sampling" => {
                match context
                    .input(
                        "capital_question",
                        "sampling/createMessage",
                        sampling_of("What is the capital of France?", 100),
                    )
                    .await?
                {
                    Some(answer) => {
                        CallToolResult::text(format!("The model said: {}", field(&answer, "text")))
                    }
                    None => CallToolResult::awaiting_input(),
                }
            }
            "test_input_required_result_list_roots" => {
                match context
                    .input("client_roots", "roots/list", json!({}))
                    .await?
                {
                    Some(answer) => CallToolResult::text(format!("Roots: {}", answer["roots"])),
                    None => CallToolResult::awaiting_input(),
                }
            }
            "test_input_required_result_request_state"
            | "test_input_required_result_tampered_state" => {
                match context
                    .input(
                        "confirm",
                        "elicitation/create",
                        ask_for("Please confirm", "ok", "boolean"),
                    )
                    .await?
                {
                    Some(answer) => CallToolResult::text(format!(
                        "state-ok: confirmed={}",
                        field(&answer, "ok")
                    )),
                    None => CallToolResult::awaiting_input(),
                }
            }
            "test_input_required_result_multiple_inputs" => {
                // All three are asked for in one round.
                let name = context
                    .input(
                        "user_name",
                        "elicitation/create",
                        ask_for("What is your name?", "name", "string"),
                    )
                    .await?;
                let greeting = context
                    .input(
                        "greeting",
                        "sampling/createMessage",
                        sampling_of("Generate a greeting", 50),
                    )
                    .await?;
                let roots = context
                    .input("client_roots", "roots/list", json!({}))
                    .await?;
                match (name, greeting, roots) {
                    (Some(name), Some(greeting), Some(roots)) => CallToolResult::text(format!(
                        "{} {}; roots: {}",
                        field(&greeting, "text"),
                        field(&name, "name"),
                        roots["roots"]
                    )),
                    _ => CallToolResult::awaiting_input(),
                }
            }
            "test_input_required_result_multi_round" => {
                let Some(name) = context
                    .input(
                        "step1",
                        "elicitation/create",
                        ask_for("Step 1: What is your name?", "name", "string"),
                    )
                    .await?
                else {
                    return Ok(Some(CallToolResult::awaiting_input()));
                };
                let Some(color) = context
                    .input(
                        "step2",
                        "elicitation/create",
                        ask_for("Step 2: What is your favorite color?", "color", "string"),
                    )
                    .await?
                else {
                    return Ok(Some(CallToolResult::awaiting_input()));
                };
                CallToolResult::text(format!(
                    "{} likes {}",
                    field(&name, "name"),
                    field(&color, "color")
                ))
            }
            "test_input_required_result_capabilities" => {
                // Ask only with what the client declared.
                let answer = if context.client_can("elicitation") {
                    context
                        .input(
                            "user_name",
                            "elicitation/create",
                            ask_for("What is your name?", "name", "string"),
                        )
                        .await?
                } else if context.client_can("sampling") {
                    context
                        .input(
                            "capital_question",
                            "sampling/createMessage",
                            sampling_of("What is the capital of France?", 100),
                        )
                        .await?
                } else {
                    context
                        .input("client_roots", "roots/list", json!({}))
                        .await?
                };
                match answer {
                    Some(answer) => CallToolResult::text(format!("Answered: {answer}")),
                    None => CallToolResult::awaiting_input(),
                }
            }
            _ => return Ok(None),
        };
        Ok(Some(output))
    }
}
