//! The Learner DNA catalogue over OAuth + MCP on the demo tenant: what a teacher, a
//! guardian, a student and an administrator see, under pseudonyms that differ per
//! client, with every decision in the audit trail.

use learner_conformance::mcp::{open, rpc, seed_demo};
use learner_conformance::{access_grant_with, ok};
use serde_json::{Value, json};

const SCOPES: &str = "learner.profile learner.behavioral";

fn token(user: &str, role: &str) -> (String, String) {
    access_grant_with(
        &format!("demo:{user}"),
        SCOPES,
        json!({"tenant": "demo", "role": role}),
    )
}

fn read(token: &str, session: &str, uri: &str) -> Value {
    rpc(token, Some(session), "resources/read", json!({"uri": uri})).1
}

/// The learners listed to a token: their pseudonyms.
fn learners(token: &str, session: &str) -> Vec<String> {
    let answer = read(token, session, "learner-dna://learners");
    let text = answer["result"]["contents"][0]["text"]
        .as_str()
        .expect("contents")
        .to_owned();
    let body: Value = serde_json::from_str(&text).expect("JSON");
    body["learners"]
        .as_array()
        .expect("learners")
        .iter()
        .map(|l| l["id"].as_str().expect("id").to_owned())
        .collect()
}

fn profile(token: &str, session: &str, id: &str) -> Value {
    read(
        token,
        session,
        &format!("learner-dna://learners/{id}/profile"),
    )
}

#[test]
fn each_role_sees_what_its_relationships_and_the_consents_allow() {
    seed_demo();
    // The teacher: the whole class, under pseudonyms, profile and behaviour traits.
    let (teacher, _) = token("teacher", "teacher");
    let session = open(&teacher);
    let ids = learners(&teacher, &session);
    assert!(ids.len() >= 5, "{ids:?}");
    assert!(ids.iter().all(|id| id.starts_with("lp_")), "{ids:?}");
    let readable: Vec<Value> = ids
        .iter()
        .map(|id| profile(&teacher, &session, id))
        .filter(|answer| answer.get("result").is_some())
        .collect();
    assert!(!readable.is_empty());
    let body: Value = serde_json::from_str(
        readable[0]["result"]["contents"][0]["text"]
            .as_str()
            .expect("text"),
    )
    .expect("JSON");
    let traits = body["traits"].as_object().expect("traits");
    assert!(
        traits.contains_key("learning_velocity") && traits.contains_key("engagement"),
        "{body}"
    );
    assert!(
        !body.to_string().contains('@'),
        "no email without the identity scope: {body}"
    );

    // Struggles and mastery need their own scopes: without them, a refusal that says so.
    let readable_id = ids
        .iter()
        .find(|id| profile(&teacher, &session, id).get("result").is_some())
        .expect("a readable learner")
        .clone();
    let unscoped = read(
        &teacher,
        &session,
        &format!("learner-dna://learners/{readable_id}/struggles"),
    );
    assert_eq!(unscoped["error"]["code"], -32003, "{unscoped}");
    assert!(
        unscoped["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("struggles"))
    );
    let (scoped, _) = access_grant_with(
        "demo:teacher",
        "learner.profile learner.struggles learner.assessment",
        json!({"tenant": "demo", "role": "teacher"}),
    );
    let scoped_session = open(&scoped);
    let scoped_ids = learners(&scoped, &scoped_session);
    let details: Vec<(Value, Value)> = scoped_ids
        .iter()
        .map(|id| {
            (
                read(
                    &scoped,
                    &scoped_session,
                    &format!("learner-dna://learners/{id}/struggles"),
                ),
                read(
                    &scoped,
                    &scoped_session,
                    &format!("learner-dna://learners/{id}/mastery"),
                ),
            )
        })
        .filter(|(s, m)| s.get("result").is_some() && m.get("result").is_some())
        .collect();
    assert!(
        !details.is_empty(),
        "no learner with struggles and mastery consented"
    );
    let body = |answer: &Value| -> Value {
        serde_json::from_str(
            answer["result"]["contents"][0]["text"]
                .as_str()
                .expect("text"),
        )
        .expect("JSON")
    };
    let mastery = body(&details[0].1);
    let first = &mastery["mastery"][0];
    assert!(
        first["concept"].is_string() && first["mastery"].is_number(),
        "{mastery}"
    );
    assert!(body(&details[0].0)["struggles"].is_array());

    // Another client of the same teacher sees other pseudonyms, and the first client's
    // ids mean nothing to it.
    let (other, _) = token("teacher", "teacher");
    let other_session = open(&other);
    let other_ids = learners(&other, &other_session);
    assert_eq!(other_ids.len(), ids.len());
    assert!(ids.iter().all(|id| !other_ids.contains(id)));
    assert_eq!(
        profile(&other, &other_session, &ids[0])["error"]["code"],
        -32002
    );

    // The guardian: of two children only the elder is listed — the younger is under
    // 13 with no parental consent on file, so to an AI client they do not exist (COPPA).
    let (guardian, _) = token("guardian", "guardian");
    let guardian_session = open(&guardian);
    let children = learners(&guardian, &guardian_session);
    assert_eq!(children.len(), 1, "{children:?}");
    assert!(
        profile(&guardian, &guardian_session, &children[0])
            .get("result")
            .is_some()
    );

    // The student: only themself. The administrator: no single learner.
    let (student, _) = token("student", "student");
    let student_session = open(&student);
    assert_eq!(learners(&student, &student_session).len(), 1);
    let (admin, _) = token("admin", "tenant_admin");
    let admin_session = open(&admin);
    assert!(learners(&admin, &admin_session).is_empty());

    // Every decision is in the audit trail, with its reason.
    let entries = ok(json!({"port": "audit", "op": "read", "after": 0, "limit": 100_000}));
    let entries = entries.as_array().expect("entries");
    let kinds: Vec<(&str, &str)> = entries
        .iter()
        .filter(|e| e["kind"].as_str().is_some_and(|k| k.starts_with("dna.")))
        .map(|e| {
            (
                e["kind"].as_str().unwrap_or_default(),
                e["outcome"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert!(
        kinds.contains(&("dna.profile.read", "allowed")),
        "{kinds:?}"
    );
    assert!(kinds.contains(&("dna.profile.read", "denied")), "{kinds:?}");
    // Decisions carry the tenant, the client and the role; refusals their reason.
    assert!(entries.iter().any(|e| {
        e["actor"] == "demo:teacher"
            && e["outcome"] == "denied"
            && e["detail_json"].as_str().is_some_and(|d| {
                d.contains("no relationship to this learner") && d.contains("\"tenant\":\"demo\"")
            })
    }));
}
