//! The Learner DNA catalogue over OAuth + MCP on the demo tenant: what a teacher, a
//! guardian, a student and an administrator see, under pseudonyms that differ per
//! client, with every decision in the audit trail.

use port_conformance::{access_grant_with, agent, base_url, ok};
use serde_json::{Value, json};

const ACCEPT: &str = "application/json, text/event-stream";
const SCOPES: &str = "learner.profile learner.behavioral";

fn seed_demo() {
    let mut response = agent()
        .post(format!("{}/__test/dna/seed", base_url()))
        .send_json(json!({"demo": true, "tenants": 0, "learners": 30}))
        .expect("reachable");
    assert_eq!(response.status(), 200);
    let _ = response.body_mut().read_to_string();
}

fn token(user: &str, role: &str) -> (String, String) {
    access_grant_with(
        &format!("demo:{user}"),
        SCOPES,
        json!({"tenant": "demo", "role": role}),
    )
}

fn rpc(
    token: &str,
    session: Option<&str>,
    method: &str,
    params: Value,
) -> (u16, Value, Option<String>) {
    let mut request = agent()
        .post(format!("{}/mcp", base_url()))
        .header("authorization", &format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header("accept", ACCEPT);
    if let Some(session) = session {
        request = request
            .header("mcp-session-id", session)
            .header("mcp-protocol-version", "2025-11-25");
    }
    let mut response = request
        .send(json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string())
        .expect("reachable");
    let status = response.status().as_u16();
    let session = response
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (
        status,
        response.body_mut().read_json().unwrap_or(Value::Null),
        session,
    )
}

fn open(token: &str) -> String {
    let (status, _, session) = rpc(
        token,
        None,
        "initialize",
        json!({
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "dna-tests", "version": "1"}}),
    );
    assert_eq!(status, 200);
    session.expect("a session")
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
        !body.to_string().contains("@"),
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

    // The guardian: two children; the younger (under 13, no parental consent) is refused.
    let (guardian, _) = token("guardian", "guardian");
    let guardian_session = open(&guardian);
    let children = learners(&guardian, &guardian_session);
    assert_eq!(children.len(), 2, "{children:?}");
    let answers: Vec<Value> = children
        .iter()
        .map(|id| profile(&guardian, &guardian_session, id))
        .collect();
    assert_eq!(
        answers.iter().filter(|a| a.get("result").is_some()).count(),
        1,
        "{answers:?}"
    );
    let refused = answers
        .iter()
        .find(|a| a.get("error").is_some())
        .expect("one refused");
    assert_eq!(refused["error"]["code"], -32003);
    assert!(
        refused["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("COPPA")),
        "{refused}"
    );

    // The student: only themself. The administrator: no single learner.
    let (student, _) = token("student", "student");
    let student_session = open(&student);
    assert_eq!(learners(&student, &student_session).len(), 1);
    let (admin, _) = token("admin", "tenant_admin");
    let admin_session = open(&admin);
    assert!(learners(&admin, &admin_session).is_empty());

    // Every decision is in the audit trail, with its reason.
    let entries = ok(json!({"port": "audit", "op": "read", "after": 0, "limit": 100000}));
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
    assert!(entries.iter().any(|e| {
        e["actor"] == "demo:guardian"
            && e["detail_json"]
                .as_str()
                .is_some_and(|d| d.contains("COPPA"))
    }));
}
