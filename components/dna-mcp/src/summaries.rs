//! The text a model reads beside each tool's structured result: the same facts,
//! briefly.

use serde_json::Value;

/// Who of a class struggles with a concept, and with which misconceptions.
pub fn struggling(body: &Value, class: &str, concept: &str) -> String {
    let count = body["learners"].as_array().map_or(0, Vec::len);
    format!(
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
    )
}

/// A learner's next steps, one a line.
pub fn next_steps(body: &Value, learner: &str) -> String {
    let steps: Vec<String> = body["steps"]
        .as_array()
        .map(|s| {
            s.iter()
                .filter_map(|s| s["action"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if steps.is_empty() {
        format!("No concept of {learner} needs attention now.")
    } else {
        format!("Next steps for {learner}:\n- {}", steps.join("\n- "))
    }
}

/// A learner's DNA, line by line.
pub fn dna(body: &Value) -> String {
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
    let text = |item: &Value, key: &str| item[key].as_str().unwrap_or_default().to_owned();
    if let Some(items) = each(body, "mastery", |m| {
        format!("{} {}", text(m, "concept"), m["mastery"])
    }) {
        lines.push(format!("- mastery: {}", items.join(", ")));
    }
    if let Some(items) = each(body, "struggles", |s| {
        format!("{} ({})", text(s, "concept"), text(s, "misconception"))
    }) {
        let items = if items.is_empty() {
            "none".to_owned()
        } else {
            items.join(", ")
        };
        lines.push(format!("- struggles: {items}"));
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

/// A class's insights, concept by concept.
pub fn insights(body: &Value) -> String {
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

/// Each item of the array `body[key]` as `line` renders it; `None` when there is no
/// such array.
fn each(body: &Value, key: &str, line: impl Fn(&Value) -> String) -> Option<Vec<String>> {
    let items = body.get(key).and_then(Value::as_array)?;
    Some(items.iter().map(line).collect())
}
