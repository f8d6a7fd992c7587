//! The Learner DNA catalogue on the MCP server's registry: the resources, tools and
//! prompts, each a thin shell over the service (`service.rs`), which applies the
//! privacy rules and writes the audit trail. This module only maps arguments in and
//! answers out.

use learner_core::ports::{Clock, Host};
use learner_mcp_server::catalogue::{
    Caller, Catalogue, CompletionRef, PromptArgument, PromptDef, PromptOutput, ResourceDef,
    TemplateDef, ToolContext, ToolDef, ToolOutput, content,
};
use learner_mcp_server::engine::match_template;
use learner_mcp_server::jsonrpc::RpcError;
use serde_json::{Map, Value, json};

use crate::gdpr::AccessRevocation;
use crate::privacy::{Category, Requester, Role};
use crate::service::{FIELDS, Failure, Service, Window};

/// The learners the caller may see.
pub const LEARNERS: &str = "learner-dna://learners";
/// The classes whose aggregates the caller may see.
pub const CLASSES: &str = "learner-dna://classes";
/// One learner's profile.
pub const PROFILE: &str = "learner-dna://learners/{id}/profile";
/// One learner's struggle patterns (misconceptions per concept).
pub const STRUGGLES: &str = "learner-dna://learners/{id}/struggles";
/// One learner's concept mastery.
pub const MASTERY: &str = "learner-dna://learners/{id}/mastery";
/// A class's insights (aggregates, k-anonymous).
pub const CLASS_INSIGHTS: &str = "learner-dna://classes/{id}/insights";
/// The implementation-defined JSON-RPC error for a read the privacy rules refuse.
pub const ACCESS_DENIED: i64 = -32003;

const JSON: &str = "application/json";

/// The catalogue over a host's ports, ending access through `revocation`.
pub struct LearnerCatalogue<'a, H, R> {
    host: &'a H,
    revocation: R,
}

/// Who the caller is in the tenant, from the grant (never from the request).
fn requester(caller: &Caller) -> Result<Requester, RpcError> {
    let field = |name: &str| caller.props.get(name).and_then(Value::as_str);
    match (field("tenant"), field("role").and_then(Role::parse)) {
        (Some(tenant), Some(role)) => Ok(Requester {
            tenant: tenant.to_owned(),
            subject: caller.subject.clone(),
            role,
            client_id: caller.client_id.clone(),
            scopes: caller.scopes.clone(),
        }),
        _ => Err(RpcError::new(
            ACCESS_DENIED,
            "access denied: the token names no tenant role",
        )),
    }
}

/// A failure as a `resources/read` error.
fn resource_error(failure: Failure) -> RpcError {
    match failure {
        Failure::Refused(reason) => {
            RpcError::new(ACCESS_DENIED, format!("access denied: {reason}"))
                .with_data(json!({"reason": reason}))
        }
        Failure::Invalid(message) => RpcError::invalid_params(message),
        Failure::NotFound(_) | Failure::Storage => RpcError::internal(),
    }
}

/// A failure as a tool result the model can read (`isError`), or a protocol error
/// when storage failed.
fn tool_failure(failure: Failure) -> Result<ToolOutput, RpcError> {
    match failure {
        Failure::Storage => Err(RpcError::internal()),
        other => Ok(ToolOutput::error(other.to_string())),
    }
}

fn tool_result(text: String, structured: Value) -> ToolOutput {
    ToolOutput {
        content: vec![content::text(text)],
        structured: Some(structured),
        is_error: false,
    }
}

fn string_arg<'v>(
    arguments: &'v Map<String, Value>,
    name: &str,
) -> Result<Option<&'v str>, Failure> {
    match arguments.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Failure::Invalid(format!("{name} must be a string"))),
    }
}

fn required<'v>(arguments: &'v Map<String, Value>, name: &str) -> Result<&'v str, Failure> {
    string_arg(arguments, name)?.ok_or_else(|| Failure::Invalid(format!("{name} is required")))
}

fn string_list(arguments: &Map<String, Value>, name: &str) -> Result<Option<Vec<String>>, Failure> {
    match arguments.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| Failure::Invalid(format!("{name} must be a list of strings")))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(Failure::Invalid(format!(
            "{name} must be a list of strings"
        ))),
    }
}

fn learner_arg() -> Value {
    json!({"type": "string", "description": "The learner's id as listed by learner-dna://learners (lp_…); for a tenant administrator, the school's record id"})
}

fn class_arg() -> Value {
    json!({"type": "string", "description": "The class id, as listed by learner-dna://classes"})
}

fn entry_schema() -> Value {
    json!({"type": "object", "properties": {
        "value": {"anyOf": [{"type": "object", "additionalProperties": true}, {"type": "null"}],
                  "description": "The trait's measures (null if the stored value cannot be read)"},
        "confidence": {"type": "number"}, "sample_count": {"type": "integer"},
        "computed_at_ms": {"type": "integer"}}})
}

fn tool(
    name: &str,
    title: &str,
    description: &str,
    input: Value,
    output: Value,
    scope: Option<&str>,
    annotations: Value,
) -> ToolDef {
    ToolDef {
        name: name.into(),
        title: Some(title.into()),
        description: description.into(),
        input_schema: input,
        output_schema: Some(output),
        annotations: Some(annotations),
        scope: scope.map(str::to_owned),
    }
}

fn read_only() -> Value {
    json!({"readOnlyHint": true, "openWorldHint": false})
}

impl<'a, H: Host, R: AccessRevocation> LearnerCatalogue<'a, H, R> {
    /// The catalogue of `host`.
    pub fn new(host: &'a H, revocation: R) -> Self {
        Self { host, revocation }
    }

    async fn service(&self, caller: &Caller) -> Result<Service<'_, H, R>, RpcError> {
        let requester = requester(caller)?;
        Service::open(self.host, &self.revocation, requester)
            .await
            .map_err(|_| RpcError::internal())
    }

    async fn run_tool(
        &self,
        name: &str,
        arguments: &Map<String, Value>,
        service: &Service<'_, H, R>,
    ) -> Result<(String, Value), Failure> {
        match name {
            "get_learner_dna" => {
                let learner = required(arguments, "learner")?;
                let fields = string_list(arguments, "fields")?;
                let (since, until) = (
                    string_arg(arguments, "since")?,
                    string_arg(arguments, "until")?,
                );
                let window = if since.is_some() || until.is_some() {
                    Some(Window::parse(since, until, self.host.clock().now_ms())?)
                } else {
                    None
                };
                let body = service
                    .dna(
                        "dna.tool.get_learner_dna",
                        learner,
                        fields.as_deref(),
                        window.as_ref(),
                    )
                    .await?;
                Ok((summarize_dna(&body), body))
            }
            "find_struggling_learners" => {
                let class = required(arguments, "class")?;
                let concept = required(arguments, "concept")?;
                let body = service.struggling(class, concept).await?;
                let count = body["learners"].as_array().map_or(0, Vec::len);
                let text = format!(
                    "{count} of the {} learners whose consent allows it struggle with {concept} in {class}: {}",
                    body["learners_considered"],
                    body["learners"]
                        .as_array()
                        .map(|l| l
                            .iter()
                            .map(|x| {
                                let who = x
                                    .get("name")
                                    .and_then(Value::as_str)
                                    .or_else(|| x["learner"].as_str())
                                    .unwrap_or_default()
                                    .to_owned();
                                let what: Vec<&str> = x["misconceptions"]
                                    .as_array()
                                    .map(|m| {
                                        m.iter()
                                            .filter_map(|m| m["misconception"].as_str())
                                            .collect()
                                    })
                                    .unwrap_or_default();
                                format!("{who} ({})", what.join(", "))
                            })
                            .collect::<Vec<_>>()
                            .join("; "))
                        .unwrap_or_default()
                );
                Ok((text, body))
            }
            "class_insights" => {
                let class = required(arguments, "class")?;
                let body = service.class_insights(class).await?;
                Ok((summarize_insights(&body), body))
            }
            "recommend_next_steps" => {
                let learner = required(arguments, "learner")?;
                let body = service.next_steps(learner).await?;
                let steps: Vec<String> = body["steps"]
                    .as_array()
                    .map(|s| {
                        s.iter()
                            .filter_map(|s| s["action"].as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                let text = if steps.is_empty() {
                    format!("No concept of {learner} needs attention now.")
                } else {
                    format!("Next steps for {learner}:\n- {}", steps.join("\n- "))
                };
                Ok((text, body))
            }
            "export_learner_record" => {
                let learner = required(arguments, "learner")?;
                let body = service.export(learner).await?;
                let events = body["record"]["learning_events"]
                    .as_array()
                    .map_or(0, Vec::len);
                Ok((
                    format!(
                        "The full record of {learner}: identity, enrollments, guardians, consents, {events} learning events and the derived DNA."
                    ),
                    body,
                ))
            }
            "withdraw_consent" => {
                let learner = required(arguments, "learner")?;
                let categories = match string_list(arguments, "categories")? {
                    None => Vec::new(),
                    Some(names) => names
                        .iter()
                        .map(|n| {
                            Category::ALL
                                .into_iter()
                                .find(|c| c.consent_name() == n)
                                .ok_or_else(|| Failure::Invalid(format!("unknown category {n:?}")))
                        })
                        .collect::<Result<_, _>>()?,
                };
                let body = service.withdraw(learner, &categories).await?;
                Ok((
                    format!(
                        "Consent withdrawn for {learner} ({}): {} grants revoked, {} sessions ended.",
                        body["categories"]
                            .as_array()
                            .map(|c| c
                                .iter()
                                .filter_map(Value::as_str)
                                .collect::<Vec<_>>()
                                .join(", "))
                            .unwrap_or_default(),
                        body["grants_revoked"],
                        body["sessions_ended"]
                    ),
                    body,
                ))
            }
            "erase_learner" => {
                let learner = required(arguments, "learner")?;
                if string_arg(arguments, "confirm")? != Some(learner) {
                    return Err(Failure::Invalid(
                        "confirm must repeat the learner's id: erasure cannot be undone".into(),
                    ));
                }
                let body = service.erase(learner).await?;
                Ok((
                    format!(
                        "The record of {learner} was erased: {} grants revoked, {} sessions ended; tombstone {} kept in the audit trail.",
                        body["grants_revoked"],
                        body["sessions_ended"],
                        body["tombstone"].as_str().unwrap_or_default()
                    ),
                    body,
                ))
            }
            other => Err(Failure::Invalid(format!("unknown tool {other:?}"))),
        }
    }
}

fn summarize_dna(body: &Value) -> String {
    let mut lines = vec![format!(
        "Learner DNA of {}",
        body["learner"].as_str().unwrap_or_default()
    )];
    if let Some(window) = body.get("window") {
        lines.push(format!(
            "derived from {} events between {} and {}",
            window["events"],
            window["since"].as_str().unwrap_or_default(),
            window["until"].as_str().unwrap_or_default()
        ));
    }
    if let Some(traits) = body.get("traits").and_then(Value::as_object) {
        for (name, t) in traits {
            lines.push(format!(
                "- {name}: {} (confidence {})",
                t["value"], t["confidence"]
            ));
        }
    }
    if let Some(mastery) = body.get("mastery").and_then(Value::as_array) {
        let items: Vec<String> = mastery
            .iter()
            .map(|m| {
                format!(
                    "{} {}",
                    m["concept"].as_str().unwrap_or_default(),
                    m["mastery"]
                )
            })
            .collect();
        lines.push(format!("- mastery: {}", items.join(", ")));
    }
    if let Some(struggles) = body.get("struggles").and_then(Value::as_array) {
        let items: Vec<String> = struggles
            .iter()
            .map(|s| {
                format!(
                    "{} ({})",
                    s["concept"].as_str().unwrap_or_default(),
                    s["misconception"].as_str().unwrap_or_default()
                )
            })
            .collect();
        lines.push(format!(
            "- struggles: {}",
            if items.is_empty() {
                "none".to_owned()
            } else {
                items.join(", ")
            }
        ));
    }
    if let Some(withheld) = body
        .get("withheld")
        .and_then(Value::as_array)
        .filter(|w| !w.is_empty())
    {
        let items: Vec<&str> = withheld
            .iter()
            .filter_map(|w| w["field"].as_str())
            .collect();
        lines.push(format!(
            "- withheld (no scope or consent): {}",
            items.join(", ")
        ));
    }
    lines.join("\n")
}

fn summarize_insights(body: &Value) -> String {
    let name = body["name"].as_str().unwrap_or_default();
    if body.get("suppressed").is_some() {
        return format!(
            "{name}: fewer than {} learners' consent allows class insights; nothing is shown.",
            body["min_group"]
        );
    }
    let mut lines = vec![format!(
        "{name}: insights over {} learners",
        body["learners_included"]
    )];
    for concept in body["concepts"].as_array().into_iter().flatten() {
        let misconceptions: Vec<String> = concept["common_misconceptions"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| {
                format!(
                    "{} ({} learners)",
                    m["misconception"].as_str().unwrap_or_default(),
                    m["learners"]
                )
            })
            .collect();
        lines.push(format!(
            "- {}: mean mastery {}{}",
            concept["concept"].as_str().unwrap_or_default(),
            concept
                .get("mean_mastery")
                .map_or("suppressed".to_owned(), Value::to_string),
            if misconceptions.is_empty() {
                String::new()
            } else {
                format!("; common misconceptions: {}", misconceptions.join(", "))
            }
        ));
    }
    if body["suppressed_concepts"].as_u64().is_some_and(|n| n > 0) {
        lines.push(format!(
            "({} concepts suppressed: fewer than {} learners)",
            body["suppressed_concepts"], body["min_group"]
        ));
    }
    lines.join("\n")
}

impl<H: Host, R: AccessRevocation> Catalogue for LearnerCatalogue<'_, H, R> {
    fn resources(&self) -> Vec<ResourceDef> {
        let resource = |uri: &str, name: &str, title: &str, description: &str| ResourceDef {
            uri: uri.into(),
            name: name.into(),
            title: Some(title.into()),
            description: Some(description.into()),
            mime_type: Some(JSON.into()),
            scope: None,
        };
        vec![
            resource(
                LEARNERS,
                "learners",
                "Your learners",
                "The learners you may see, under this client's pseudonyms",
            ),
            resource(
                CLASSES,
                "classes",
                "Your classes",
                "The classes whose insights you may see",
            ),
        ]
    }

    fn templates(&self) -> Vec<TemplateDef> {
        let template =
            |uri: &str, name: &str, title: &str, description: &str, scope: Option<&str>| {
                TemplateDef {
                    uri_template: uri.into(),
                    name: name.into(),
                    title: Some(title.into()),
                    description: Some(description.into()),
                    mime_type: Some(JSON.into()),
                    scope: scope.map(str::to_owned),
                }
            };
        vec![
            template(
                PROFILE,
                "learner-profile",
                "A learner's DNA profile",
                "Learning velocity, retention, comprehension style, timing and engagement, as far as scope and consent allow",
                None,
            ),
            template(
                STRUGGLES,
                "learner-struggles",
                "A learner's struggles",
                "Concepts the learner struggles with and the misconceptions behind them (learner.struggles)",
                None,
            ),
            template(
                MASTERY,
                "learner-mastery",
                "A learner's concept mastery",
                "Mastery per concept, with confidence (learner.assessment)",
                None,
            ),
            template(
                CLASS_INSIGHTS,
                "class-insights",
                "A class's insights",
                "Per concept: mean mastery and common misconceptions, over groups of at least five learners (class.aggregates)",
                Some("class.aggregates"),
            ),
        ]
    }

    fn tools(&self) -> Vec<ToolDef> {
        let fields: Vec<&str> = FIELDS.iter().map(|(f, _)| *f).collect();
        let categories: Vec<&str> = Category::ALL.iter().map(|c| c.consent_name()).collect();
        vec![
            tool(
                "get_learner_dna",
                "Get a learner's DNA",
                "A learner's Learner DNA: the chosen fields (default: all that scope and consent allow), from the stored profile or derived afresh from the learning events in a time window.",
                json!({"type": "object", "properties": {
                    "learner": learner_arg(),
                    "fields": {"type": "array", "items": {"type": "string", "enum": fields}, "description": "Which parts to return"},
                    "since": {"type": "string", "format": "date", "description": "Derive from events on or after this date (YYYY-MM-DD)"},
                    "until": {"type": "string", "format": "date", "description": "Derive from events before this date (YYYY-MM-DD)"}},
                    "required": ["learner"], "additionalProperties": false}),
                json!({"type": "object", "properties": {
                    "learner": {"type": "string"},
                    "traits": {"type": "object", "additionalProperties": entry_schema()},
                    "mastery": {"type": "array", "items": {"type": "object"}},
                    "struggles": {"type": "array", "items": {"type": "object"}},
                    "identity": {"type": "object"},
                    "window": {"type": "object", "properties": {"since": {"type": "string"}, "until": {"type": "string"}, "events": {"type": "integer"}}},
                    "withheld": {"type": "array", "items": {"type": "object", "properties": {"field": {"type": "string"}, "reason": {"type": "string"}}}}},
                    "required": ["learner"]}),
                None,
                read_only(),
            ),
            tool(
                "find_struggling_learners",
                "Find learners struggling with a concept",
                "The learners of one of your classes who struggle with a concept, with the misconceptions seen (only learners whose consent allows struggles to be read).",
                json!({"type": "object", "properties": {
                    "class": class_arg(),
                    "concept": {"type": "string", "description": "The concept, e.g. fractions"}},
                    "required": ["class", "concept"], "additionalProperties": false}),
                json!({"type": "object", "properties": {
                    "class": {"type": "string"}, "concept": {"type": "string"}, "learners_considered": {"type": "integer"},
                    "learners": {"type": "array", "items": {"type": "object", "properties": {
                        "learner": {"type": "string"}, "name": {"type": "string"}, "mastery": {"type": "number"},
                        "misconceptions": {"type": "array", "items": {"type": "object"}}}, "required": ["learner", "misconceptions"]}}},
                    "required": ["class", "concept", "learners", "learners_considered"]}),
                Some("learner.struggles"),
                read_only(),
            ),
            tool(
                "class_insights",
                "Class insights",
                "Per concept for a class: mean mastery and the common misconceptions, never over fewer than five learners.",
                json!({"type": "object", "properties": {"class": class_arg()}, "required": ["class"], "additionalProperties": false}),
                json!({"type": "object", "properties": {
                    "class": {"type": "string"}, "name": {"type": "string"}, "subject_area": {"type": "string"},
                    "learners_included": {"type": "integer"}, "suppressed": {"type": "boolean"},
                    "suppressed_concepts": {"type": "integer"}, "min_group": {"type": "integer"},
                    "concepts": {"type": "array", "items": {"type": "object", "properties": {
                        "concept": {"type": "string"}, "learners": {"type": "integer"}, "mean_mastery": {"type": "number"},
                        "common_misconceptions": {"type": "array"}}, "required": ["concept"]}}},
                    "required": ["class", "concepts", "min_group"]}),
                Some("class.aggregates"),
                read_only(),
            ),
            tool(
                "recommend_next_steps",
                "Recommend next steps",
                "Recommended next steps for a learner, derived from their mastery, struggles and learning profile.",
                json!({"type": "object", "properties": {"learner": learner_arg()}, "required": ["learner"], "additionalProperties": false}),
                json!({"type": "object", "properties": {
                    "learner": {"type": "string"}, "based_on": {"type": "array", "items": {"type": "string"}},
                    "steps": {"type": "array", "items": {"type": "object", "properties": {
                        "concept": {"type": "string"},
                        "mastery": {"anyOf": [{"type": "number"}, {"type": "null"}]},
                        "misconception": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                        "action": {"type": "string"}}, "required": ["concept", "action"]}}},
                    "required": ["learner", "steps", "based_on"]}),
                None,
                read_only(),
            ),
            tool(
                "export_learner_record",
                "Export a learner's record",
                "Everything held about a learner, as JSON (GDPR access and portability): for the learner, their guardian or the tenant administrator.",
                json!({"type": "object", "properties": {"learner": learner_arg()}, "required": ["learner"], "additionalProperties": false}),
                json!({"type": "object", "properties": {
                    "learner": {"type": "string"}, "exported_at": {"type": "string"},
                    "record": {"type": "object", "properties": {
                        "learner": {"type": "object"}, "enrollments": {"type": "array"}, "guardians": {"type": "array"},
                        "consents": {"type": "array"}, "learning_events": {"type": "array"}, "dna_traits": {"type": "array"},
                        "concept_mastery": {"type": "array"}, "struggles": {"type": "array"}}}},
                    "required": ["learner", "exported_at", "record"]}),
                Some("learner.export"),
                read_only(),
            ),
            tool(
                "withdraw_consent",
                "Withdraw consent",
                "Withdraws consent to AI access for a learner (some categories, or all): by the learner, their guardian, or the tenant administrator. Takes effect at once; grants that asked for those categories are revoked.",
                json!({"type": "object", "properties": {
                    "learner": learner_arg(),
                    "categories": {"type": "array", "items": {"type": "string", "enum": categories}, "description": "Default: every category"}},
                    "required": ["learner"], "additionalProperties": false}),
                json!({"type": "object", "properties": {
                    "learner": {"type": "string"}, "categories": {"type": "array", "items": {"type": "string"}},
                    "consents_withdrawn": {"type": "integer"}, "grants_revoked": {"type": "integer"}, "sessions_ended": {"type": "integer"}},
                    "required": ["learner", "categories", "consents_withdrawn", "grants_revoked", "sessions_ended"]}),
                None,
                json!({"readOnlyHint": false, "destructiveHint": true, "idempotentHint": true, "openWorldHint": false}),
            ),
            tool(
                "erase_learner",
                "Erase a learner's record",
                "Erases everything held about a learner (GDPR erasure): the tenant administrator only. Revokes every grant of the learner's and their guardians' accounts and ends their sessions. Cannot be undone.",
                json!({"type": "object", "properties": {
                    "learner": learner_arg(),
                    "confirm": {"type": "string", "description": "The learner's id again, to confirm"}},
                    "required": ["learner", "confirm"], "additionalProperties": false}),
                json!({"type": "object", "properties": {
                    "erased": {"type": "boolean"}, "tombstone": {"type": "string"}, "deleted": {"type": "object"},
                    "grants_revoked": {"type": "integer"}, "sessions_ended": {"type": "integer"}},
                    "required": ["erased", "tombstone", "deleted", "grants_revoked", "sessions_ended"]}),
                Some("privacy.admin"),
                json!({"readOnlyHint": false, "destructiveHint": true, "idempotentHint": false, "openWorldHint": false}),
            ),
        ]
    }

    fn prompts(&self) -> Vec<PromptDef> {
        let argument = |name: &str, description: &str, required: bool| PromptArgument {
            name: name.into(),
            description: Some(description.into()),
            required,
        };
        vec![
            PromptDef {
                name: "explain_profile_to_parent".into(),
                title: Some("Explain a learner's profile to a parent".into()),
                description: "A plain-language explanation of a learner's DNA for their parent or guardian".into(),
                arguments: vec![argument("learner", "The learner's id (lp_…)", true)],
                scope: None,
            },
            PromptDef {
                name: "plan_class_intervention".into(),
                title: Some("Plan an intervention for a class".into()),
                description: "A teaching plan from a class's insights (and, for one concept, the learners struggling with it)".into(),
                arguments: vec![
                    argument("class", "The class id", true),
                    argument("concept", "Focus on this concept (optional)", false),
                ],
                scope: Some("class.aggregates".into()),
            },
        ]
    }

    async fn call_tool(
        &self,
        name: &str,
        arguments: &Map<String, Value>,
        context: &ToolContext<'_>,
    ) -> Result<ToolOutput, RpcError> {
        let service = match self.service(context.caller).await {
            Ok(service) => service,
            Err(error) if error.code == ACCESS_DENIED => {
                return Ok(ToolOutput::error(error.message));
            }
            Err(error) => return Err(error),
        };
        match self.run_tool(name, arguments, &service).await {
            Ok((text, body)) => Ok(tool_result(text, body)),
            Err(failure) => tool_failure(failure),
        }
    }

    async fn read_resource(
        &self,
        uri: &str,
        caller: &Caller,
    ) -> Result<Option<Vec<Value>>, RpcError> {
        let contents = |body: Value| {
            Ok(Some(vec![content::text_contents(
                uri,
                JSON,
                &body.to_string(),
            )]))
        };
        if uri == LEARNERS {
            let service = self.service(caller).await?;
            return contents(service.learners().await.map_err(resource_error)?);
        }
        if uri == CLASSES {
            let service = self.service(caller).await?;
            let classes = service.classes().await.map_err(resource_error)?;
            let list: Vec<Value> = classes
                .iter()
                .map(|c| {
                    json!({"id": c.id, "name": c.name, "subject_area": c.subject_area,
                                "insights": format!("learner-dna://classes/{}/insights", c.id)})
                })
                .collect();
            return contents(json!({"classes": list}));
        }
        if let Some(values) = match_template(CLASS_INSIGHTS, uri) {
            let service = self.service(caller).await?;
            let class = values.get("id").and_then(Value::as_str).unwrap_or_default();
            return match service.class_insights(class).await {
                Ok(body) => contents(body),
                Err(Failure::NotFound(_)) => Ok(None),
                Err(other) => Err(resource_error(other)),
            };
        }
        let Some((kind, fields, values)) = [
            (
                "profile",
                &[
                    "learning_velocity",
                    "retention_curve",
                    "comprehension_style",
                    "interaction_timing",
                    "engagement",
                ][..],
                PROFILE,
            ),
            ("struggles", &["struggles"][..], STRUGGLES),
            ("mastery", &["mastery"][..], MASTERY),
        ]
        .into_iter()
        .find_map(|(kind, fields, template)| {
            match_template(template, uri).map(|v| (kind, fields, v))
        }) else {
            return Ok(None);
        };
        let service = self.service(caller).await?;
        let learner = values.get("id").and_then(Value::as_str).unwrap_or_default();
        let fields: Vec<String> = fields.iter().map(|f| (*f).to_owned()).collect();
        let mut result = service
            .dna(&format!("dna.{kind}.read"), learner, Some(&fields), None)
            .await;
        // A profile shows whichever traits are allowed, so what it leaves out is no news;
        // struggles and mastery are one field each, refused when not allowed.
        if kind == "profile"
            && let Ok(Value::Object(body)) = &mut result
        {
            body.remove("withheld");
        }
        match result {
            Ok(body) => contents(body),
            Err(Failure::NotFound(_)) => Ok(None),
            Err(other) => Err(resource_error(other)),
        }
    }

    async fn get_prompt(
        &self,
        name: &str,
        arguments: &Map<String, Value>,
        context: &ToolContext<'_>,
    ) -> Result<Option<PromptOutput>, RpcError> {
        let service = self.service(context.caller).await?;
        let invalid = |failure: Failure| match failure {
            Failure::Invalid(message) => RpcError::invalid_params(message),
            Failure::NotFound(message) => RpcError::invalid_params(message),
            other => resource_error(other),
        };
        match name {
            "explain_profile_to_parent" => {
                let learner = required(arguments, "learner").map_err(invalid)?;
                let body = service
                    .dna("dna.prompt.explain_profile", learner, None, None)
                    .await
                    .map_err(invalid)?;
                let uri = format!("learner-dna://learners/{learner}/profile");
                Ok(Some(PromptOutput {
                    description: Some(format!("Explain the Learner DNA of {learner} to a parent")),
                    messages: vec![
                        content::message(
                            "user",
                            content::text(
                                "Explain this learner's profile to their parent or guardian in plain, warm language: \
                             what the learner does well, where they are working to improve, and two or three ways \
                             to support them at home. Avoid jargon and scores without context; say how sure each \
                             finding is (its confidence) and never speculate beyond the data.",
                            ),
                        ),
                        content::message(
                            "user",
                            content::text_resource(&uri, JSON, &body.to_string()),
                        ),
                    ],
                }))
            }
            "plan_class_intervention" => {
                let class = required(arguments, "class").map_err(invalid)?;
                let concept = string_arg(arguments, "concept").map_err(invalid)?;
                let insights = service.class_insights(class).await.map_err(invalid)?;
                let mut messages = vec![
                    content::message(
                        "user",
                        content::text(format!(
                            "Plan a two-week intervention for class {class}{}: group the learners by need, pick activities that address \
                         the common misconceptions, and say how progress will be checked. Use only the insights given; they are \
                         aggregates over at least five learners.",
                            concept
                                .map(|c| format!(" focused on {c}"))
                                .unwrap_or_default()
                        )),
                    ),
                    content::message(
                        "user",
                        content::text_resource(
                            &format!("learner-dna://classes/{class}/insights"),
                            JSON,
                            &insights.to_string(),
                        ),
                    ),
                ];
                if let Some(concept) = concept
                    && service.requester().role == Role::Teacher
                    && service.requester().has_scope("learner.struggles")
                {
                    let struggling = service.struggling(class, concept).await.map_err(invalid)?;
                    messages.push(content::message(
                        "user",
                        content::text(format!("Learners struggling with {concept}: {struggling}")),
                    ));
                }
                Ok(Some(PromptOutput {
                    description: Some(format!("An intervention plan for {class}")),
                    messages,
                }))
            }
            other => Err(RpcError::invalid_params(format!(
                "unknown prompt {other:?}"
            ))),
        }
    }

    async fn complete(
        &self,
        reference: &CompletionRef,
        argument: &str,
        value: &str,
        _context: &Map<String, Value>,
        caller: &Caller,
    ) -> Result<Vec<String>, RpcError> {
        let wants_learner = match reference {
            CompletionRef::Template(uri)
                if [PROFILE, STRUGGLES, MASTERY].contains(&uri.as_str()) =>
            {
                argument == "id"
            }
            CompletionRef::Prompt(name) if name == "explain_profile_to_parent" => {
                argument == "learner"
            }
            _ => false,
        };
        let wants_class = match reference {
            CompletionRef::Template(uri) if uri == CLASS_INSIGHTS => argument == "id",
            CompletionRef::Prompt(name) if name == "plan_class_intervention" => argument == "class",
            _ => false,
        };
        if !wants_learner && !wants_class {
            return Ok(Vec::new());
        }
        let service = self.service(caller).await?;
        if wants_learner {
            return service
                .complete_learners(value)
                .await
                .map_err(resource_error);
        }
        Ok(service
            .classes()
            .await
            .map_err(resource_error)?
            .into_iter()
            .map(|c| c.id)
            .filter(|id| id.starts_with(value))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use learner_testkit::{MemoryHost, TestClock};
    use learner_mcp_server::catalogue::Catalogue;
    use serde_json::Value;

    use super::LearnerCatalogue;
    use crate::test_host::Revocations;

    /// Why `schema` (at `path`) would not carry over to a client that maps tool schemas
    /// onto a narrower dialect (one `type` per schema, as in function declarations for
    /// some model providers), or accepts anything at all.
    fn unportable(schema: &Value, path: &str, found: &mut Vec<String>) {
        let Some(node) = schema.as_object() else {
            return;
        };
        if node.get("type").is_some_and(Value::is_array) {
            found.push(format!("{path}: `type` is an array"));
        }
        let constrains = [
            "type", "anyOf", "oneOf", "allOf", "enum", "const", "$ref", "not",
        ]
        .iter()
        .any(|k| node.contains_key(*k));
        if !constrains {
            found.push(format!("{path}: no validation keyword"));
        }
        for (keyword, child) in node {
            match keyword.as_str() {
                "properties" => {
                    for (name, property) in child.as_object().into_iter().flatten() {
                        unportable(property, &format!("{path}/{name}"), found);
                    }
                }
                "items" | "additionalProperties" => {
                    unportable(child, &format!("{path}/{keyword}"), found);
                }
                "anyOf" | "oneOf" | "allOf" => {
                    for (i, branch) in child.as_array().into_iter().flatten().enumerate() {
                        unportable(branch, &format!("{path}/{keyword}/{i}"), found);
                    }
                }
                _ => {}
            }
        }
    }

    #[test]
    fn every_tool_schema_is_portable() {
        let clock = TestClock(0.into());
        let host = MemoryHost::new(&clock, learner_testkit::MemorySql::new());
        let catalogue = LearnerCatalogue::new(&host, Revocations::default());
        let mut found = Vec::new();
        let tools = catalogue.tools();
        assert!(tools.len() >= 7);
        for tool in &tools {
            unportable(
                &tool.input_schema,
                &format!("{}/input", tool.name),
                &mut found,
            );
            if let Some(output) = &tool.output_schema {
                unportable(output, &format!("{}/output", tool.name), &mut found);
            }
        }
        assert_eq!(found, Vec::<String>::new());
    }
}
