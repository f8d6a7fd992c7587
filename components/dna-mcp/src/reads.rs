//! Resources, prompts and completion: the service's answers as MCP contents and
//! messages.

use learner_core::ports::Host;
use learner_dna::gdpr::AccessRevocation;
use learner_dna::privacy::Role;
use learner_dna::service::{Failure, Service, TRAITS};
use learner_mcp_server::jsonrpc::RpcError;
use learner_mcp_server::model::params::CompletionRef;
use learner_mcp_server::model::{Content, GetPromptResult, PromptMessage, ResourceContents};
use learner_mcp_server::uri_template::match_template;
use serde_json::{Map, Value, json};

use crate::tools::{required, string_arg};
use crate::{CLASS_INSIGHTS, CLASSES, JSON, LEARNERS, MASTERY, PROFILE, STRUGGLES, resource_error};

/// The contents of `uri` for the service's requester; `None` when there is no such
/// resource (or none this requester may know of).
pub async fn resource<H: Host, R: AccessRevocation>(
    service: &Service<'_, H, R>,
    uri: &str,
) -> Result<Option<Vec<ResourceContents>>, RpcError> {
    let contents = |body: Value| {
        Ok(Some(vec![ResourceContents::text(
            uri,
            JSON,
            &body.to_string(),
        )]))
    };
    if uri == LEARNERS {
        return contents(service.learners().await.map_err(resource_error)?);
    }
    if uri == CLASSES {
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
        let class = values.get("id").and_then(Value::as_str).unwrap_or_default();
        return match service.class_insights(class).await {
            Ok(body) => contents(body),
            Err(Failure::NotFound(_)) => Ok(None),
            Err(other) => Err(resource_error(other)),
        };
    }
    let Some((kind, fields, values)) = [
        ("profile", &TRAITS[..], PROFILE),
        ("struggles", &["struggles"][..], STRUGGLES),
        ("mastery", &["mastery"][..], MASTERY),
    ]
    .into_iter()
    .find_map(|(kind, fields, template)| match_template(template, uri).map(|v| (kind, fields, v))) else {
        return Ok(None);
    };
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

/// Prompt `name` rendered for the service's requester.
pub async fn prompt<H: Host, R: AccessRevocation>(
    service: &Service<'_, H, R>,
    name: &str,
    arguments: &Map<String, Value>,
) -> Result<Option<GetPromptResult>, RpcError> {
    let invalid = |failure: Failure| match failure {
        Failure::Invalid(message) | Failure::NotFound(message) => RpcError::invalid_params(message),
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
            Ok(Some(GetPromptResult {
                description: Some(format!("Explain the Learner DNA of {learner} to a parent")),
                messages: vec![
                    PromptMessage::user(Content::text(
                        "Explain this learner's profile to their parent or guardian in plain, warm language: \
                         what the learner does well, where they are working to improve, and two or three ways \
                         to support them at home. Avoid jargon and scores without context; say how sure each \
                         finding is (its confidence) and never speculate beyond the data.",
                    )),
                    PromptMessage::user(Content::text_resource(&uri, JSON, &body.to_string())),
                ],
            }))
        }
        "plan_class_intervention" => {
            let class = required(arguments, "class").map_err(invalid)?;
            let concept = string_arg(arguments, "concept").map_err(invalid)?;
            let insights = service.class_insights(class).await.map_err(invalid)?;
            let mut messages = vec![
                PromptMessage::user(Content::text(format!(
                    "Plan a two-week intervention for class {class}{}: group the learners by need, pick activities that address \
                     the common misconceptions, and say how progress will be checked. Use only the insights given; they are \
                     aggregates over at least five learners.",
                    concept
                        .map(|c| format!(" focused on {c}"))
                        .unwrap_or_default()
                ))),
                PromptMessage::user(Content::text_resource(
                    &format!("learner-dna://classes/{class}/insights"),
                    JSON,
                    &insights.to_string(),
                )),
            ];
            if let Some(concept) = concept
                && service.requester().role() == Role::Teacher
                && service.requester().has_scope("learner.struggles")
            {
                let struggling = service.struggling(class, concept).await.map_err(invalid)?;
                messages.push(PromptMessage::user(Content::text(format!(
                    "Learners struggling with {concept}: {struggling}"
                ))));
            }
            Ok(Some(GetPromptResult {
                description: Some(format!("An intervention plan for {class}")),
                messages,
            }))
        }
        other => Err(RpcError::invalid_params(format!(
            "unknown prompt {other:?}"
        ))),
    }
}

/// What a completion asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completes {
    /// A learner's id.
    Learner,
    /// A class's id.
    Class,
}

/// What `argument` of `reference` completes to, if it is one of ours.
pub fn completes(reference: &CompletionRef, argument: &str) -> Option<Completes> {
    let learner = match reference {
        CompletionRef::Template(uri) if [PROFILE, STRUGGLES, MASTERY].contains(&uri.as_str()) => {
            argument == "id"
        }
        CompletionRef::Prompt(name) if name == "explain_profile_to_parent" => argument == "learner",
        _ => false,
    };
    let class = match reference {
        CompletionRef::Template(uri) if uri == CLASS_INSIGHTS => argument == "id",
        CompletionRef::Prompt(name) if name == "plan_class_intervention" => argument == "class",
        _ => false,
    };
    if learner {
        Some(Completes::Learner)
    } else if class {
        Some(Completes::Class)
    } else {
        None
    }
}

/// The ids of what `wanted` names, visible to the service's requester, starting with
/// `value`.
pub async fn complete<H: Host, R: AccessRevocation>(
    service: &Service<'_, H, R>,
    wanted: Completes,
    value: &str,
) -> Result<Vec<String>, RpcError> {
    if wanted == Completes::Learner {
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
