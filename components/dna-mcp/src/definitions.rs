//! What the Learner DNA offers MCP clients: resources, templates, tools with their
//! input and output schemas, and prompts. Each says which scope it needs; the engine
//! shows a caller only what their token admits.

use learner_dna::privacy::Category;
use learner_dna::service::FIELDS;
use learner_mcp_server::model::{
    Prompt, PromptArgument, Resource, ResourceTemplate, Tool, ToolAnnotations,
};
use serde_json::{Value, json};

use crate::{CLASS_INSIGHTS, CLASSES, JSON, LEARNERS, MASTERY, PROFILE, STRUGGLES};

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
    annotations: ToolAnnotations,
) -> Tool {
    Tool {
        title: Some(title.into()),
        output_schema: Some(output),
        annotations: Some(annotations),
        scope: scope.map(str::to_owned),
        ..Tool::new(name, description, input)
    }
}

/// Reads, and nothing outside the school's records.
fn read_only() -> ToolAnnotations {
    ToolAnnotations {
        read_only_hint: Some(true),
        open_world_hint: Some(false),
        ..ToolAnnotations::default()
    }
}

/// Changes that cannot be taken back; `idempotent` when doing it twice is doing it once.
fn destructive(idempotent: bool) -> ToolAnnotations {
    ToolAnnotations {
        read_only_hint: Some(false),
        destructive_hint: Some(true),
        idempotent_hint: Some(idempotent),
        open_world_hint: Some(false),
    }
}

/// The resources.
pub fn resources() -> Vec<Resource> {
    let resource = |uri: &str, name: &str, title: &str, description: &str| Resource {
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

/// The resource templates.
pub fn templates() -> Vec<ResourceTemplate> {
    let template = |uri: &str, name: &str, title: &str, description: &str, scope: Option<&str>| {
        ResourceTemplate {
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

/// The tools.
pub fn tools() -> Vec<Tool> {
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
            destructive(true),
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
            destructive(false),
        ),
    ]
}

/// The prompts.
pub fn prompts() -> Vec<Prompt> {
    let argument = PromptArgument::new;
    vec![
        Prompt {
            name: "explain_profile_to_parent".into(),
            title: Some("Explain a learner's profile to a parent".into()),
            description: "A plain-language explanation of a learner's DNA for their parent or guardian".into(),
            arguments: vec![argument("learner", "The learner's id (lp_…)", true)],
            scope: None,
        },
        Prompt {
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

#[cfg(test)]
mod tests {
    use learner_mcp_server::catalogue::Catalogue;
    use learner_testkit::{TestClock, memory_host};
    use serde_json::Value;

    use crate::LearnerCatalogue;
    use crate::revocations::Revocations;

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
        let host = memory_host(&clock, learner_testkit::MemorySql::new());
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
