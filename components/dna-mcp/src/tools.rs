//! The tools: each one's arguments in, the service's answer out, with a summary for
//! the model beside the structured result.

use learner_core::ports::{Clock, Host};
use learner_dna::gdpr::AccessRevocation;
use learner_dna::privacy::Category;
use learner_dna::service::{Failure, Service, Window};
use serde_json::{Map, Value};

use crate::summaries;

pub(crate) fn string_arg<'v>(
    arguments: &'v Map<String, Value>,
    name: &str,
) -> Result<Option<&'v str>, Failure> {
    match arguments.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Failure::Invalid(format!("{name} must be a string"))),
    }
}

pub(crate) fn required<'v>(
    arguments: &'v Map<String, Value>,
    name: &str,
) -> Result<&'v str, Failure> {
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

/// Runs tool `name` with `arguments` through `service`: the text for the model and the
/// structured result.
pub async fn run<H: Host, R: AccessRevocation>(
    name: &str,
    arguments: &Map<String, Value>,
    service: &Service<'_, H, R>,
    host: &H,
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
                Some(Window::parse(since, until, host.clock().now_ms())?)
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
            Ok((summaries::dna(&body), body))
        }
        "find_struggling_learners" => {
            let class = required(arguments, "class")?;
            let concept = required(arguments, "concept")?;
            let body = service.struggling(class, concept).await?;
            let text = summaries::struggling(&body, class, concept);
            Ok((text, body))
        }
        "class_insights" => {
            let class = required(arguments, "class")?;
            let body = service.class_insights(class).await?;
            Ok((summaries::insights(&body), body))
        }
        "recommend_next_steps" => {
            let learner = required(arguments, "learner")?;
            let body = service.next_steps(learner).await?;
            let text = summaries::next_steps(&body, learner);
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
                        Category::from_consent_name(n)
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
