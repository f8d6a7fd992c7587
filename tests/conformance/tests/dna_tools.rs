//! The Learner DNA tools, prompts and privacy operations end to end over OAuth + MCP:
//! a teacher's question, a guardian's view and export, nothing across tenants, and
//! consent withdrawal and erasure ending grants and live sessions at once.

use std::sync::mpsc;
use std::time::Duration;

use learner_conformance::mcp::{call_tool, open, read_json, rpc, seed_demo};
use learner_conformance::{access_grant_with, agent, base_url, ok, unique};
use serde_json::{Value, json};

fn token(subject: &str, scope: &str, tenant: &str, role: &str) -> String {
    access_grant_with(subject, scope, json!({"tenant": tenant, "role": role})).0
}

/// The demo tenant (seeded when it is not there), signed in to as its `role` account with
/// `scope`: the token and a new session.
fn sign_in_to_demo(role: &str, scope: &str) -> (String, String) {
    seed_demo();
    let token = token(&format!("demo:{role}"), scope, "demo", role);
    let session = open(&token);
    (token, session)
}

fn structured(result: &Value) -> &Value {
    // A successful call carries no isError flag.
    assert_eq!(result.get("isError"), None, "{result}");
    &result["structuredContent"]
}

fn refusal(result: &Value) -> String {
    assert_eq!(result["isError"], json!(true), "{result}");
    assert!(result.get("structuredContent").is_none(), "{result}");
    result["content"][0]["text"]
        .as_str()
        .expect("text")
        .to_owned()
}

fn tool_names(token: &str, session: &str) -> Vec<String> {
    let (_, answer, _) = rpc(token, Some(session), "tools/list", json!({}));
    let mut names: Vec<String> = answer["result"]["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        // Test builds also serve the conformance fixtures.
        .filter(|n| !n.starts_with("test_") && *n != "json_schema_2020_12_tool")
        .map(str::to_owned)
        .collect();
    names.sort();
    names
}

fn learner_ids(token: &str, session: &str) -> Vec<String> {
    read_json(token, session, "learner-dna://learners").expect("learners")["learners"]
        .as_array()
        .expect("learners")
        .iter()
        .map(|l| l["id"].as_str().expect("id").to_owned())
        .collect()
}

#[test]
fn a_teacher_asks_which_learners_struggle_with_fractions() {
    let (teacher, session) = sign_in_to_demo(
        "teacher",
        "learner.profile learner.assessment learner.struggles class.aggregates",
    );
    let call = |tool: &str, arguments: Value| call_tool(&teacher, &session, tool, arguments);
    assert_eq!(
        tool_names(&teacher, &session),
        [
            "class_insights",
            "find_struggling_learners",
            "get_learner_dna",
            "recommend_next_steps",
            "withdraw_consent"
        ],
        "export and erasure need their own scopes"
    );
    let classes = read_json(&teacher, &session, "learner-dna://classes").expect("classes");
    assert_eq!(classes["classes"][0]["id"], "demo-cls0", "{classes}");
    let (_, completion, _) = rpc(
        &teacher,
        Some(&session),
        "completion/complete",
        json!({"ref": {"type": "ref/resource", "uri": "learner-dna://classes/{id}/insights"},
               "argument": {"name": "id", "value": "demo-cls"}}),
    );
    assert_eq!(
        completion["result"]["completion"]["values"],
        json!(["demo-cls0", "demo-cls1"])
    );

    // The question.
    let answer = call(
        "find_struggling_learners",
        json!({"class": "demo-cls0", "concept": "fractions"}),
    );
    let found = structured(&answer);
    let learners = found["learners"].as_array().expect("learners");
    assert!(!learners.is_empty(), "{found}");
    for learner in learners {
        assert!(
            learner["learner"]
                .as_str()
                .is_some_and(|id| id.starts_with("lp_")),
            "{learner}"
        );
        assert!(
            learner.get("name").is_none(),
            "no names without the identity scope"
        );
        assert!(
            !learner["misconceptions"]
                .as_array()
                .expect("misconceptions")
                .is_empty()
        );
    }
    let text = answer["content"][0]["text"].as_str().expect("text");
    assert!(
        text.contains("struggle with fractions in demo-cls0"),
        "{text}"
    );

    // The class as a whole, k-anonymous.
    let insights = call("class_insights", json!({"class": "demo-cls0"}));
    let insights = structured(&insights);
    assert_eq!(insights["min_group"], 5);
    assert!(
        insights["concepts"]
            .as_array()
            .expect("concepts")
            .iter()
            .all(|c| c["learners"].as_u64().is_none_or(|n| n >= 5)),
        "{insights}"
    );
    assert_eq!(
        read_json(
            &teacher,
            &session,
            "learner-dna://classes/demo-cls0/insights"
        )
        .expect("insights")["concepts"],
        insights["concepts"]
    );

    // One learner: chosen fields over a window, then next steps.
    let first = learners[0]["learner"].as_str().expect("id");
    let dna = call(
        "get_learner_dna",
        json!({"learner": first, "fields": ["mastery", "struggles", "engagement"], "since": "2020-01-01"}),
    );
    let dna = structured(&dna);
    assert!(
        dna["mastery"].is_array() && dna["struggles"].is_array(),
        "{dna}"
    );
    assert!(
        dna.get("traits").is_none() && dna.get("identity").is_none(),
        "{dna}"
    );
    assert!(
        dna["window"]["events"].as_u64().is_some_and(|n| n > 0),
        "{dna}"
    );
    assert_eq!(
        dna["withheld"][0]["field"], "engagement",
        "no learner.behavioral scope: {dna}"
    );
    let steps = call("recommend_next_steps", json!({"learner": first}));
    assert!(
        !structured(&steps)["steps"]
            .as_array()
            .expect("steps")
            .is_empty()
    );

    // Bad input is the tool's error, not a crash; nothing visible is not found.
    let bad = call(
        "get_learner_dna",
        json!({"learner": first, "since": "2026-02-30"}),
    );
    assert!(refusal(&bad).contains("since must be a date"));
    let unknown = call(
        "get_learner_dna",
        json!({"learner": "lp_00000000000000000000000000000000"}),
    );
    assert!(refusal(&unknown).starts_with("not found"));

    // The intervention prompt embeds the class insights.
    let (_, prompt, _) = rpc(
        &teacher,
        Some(&session),
        "prompts/get",
        json!({"name": "plan_class_intervention", "arguments": {"class": "demo-cls0", "concept": "fractions"}}),
    );
    let messages = prompt["result"]["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 3, "{prompt}");
    assert_eq!(
        messages[1]["content"]["resource"]["uri"],
        "learner-dna://classes/demo-cls0/insights"
    );
}

#[test]
fn a_guardian_reads_their_child_and_exports_the_record() {
    let (guardian, session) = sign_in_to_demo(
        "guardian",
        "learner.profile learner.struggles learner.export",
    );
    let call = |tool: &str, arguments: Value| call_tool(&guardian, &session, tool, arguments);
    let children = learner_ids(&guardian, &session);
    assert_eq!(
        children.len(),
        1,
        "the under-13 sibling without parental consent is not listed"
    );
    let child = &children[0];
    let dna = call("get_learner_dna", json!({"learner": child}));
    let dna = structured(&dna);
    assert!(dna["traits"]["learning_velocity"].is_object(), "{dna}");
    assert!(dna.get("mastery").is_none(), "no learner.assessment scope");
    let (_, prompt, _) = rpc(
        &guardian,
        Some(&session),
        "prompts/get",
        json!({"name": "explain_profile_to_parent", "arguments": {"learner": child}}),
    );
    assert_eq!(
        prompt["result"]["messages"][1]["content"]["resource"]["uri"],
        format!("learner-dna://learners/{child}/profile")
    );
    let export = call("export_learner_record", json!({"learner": child}));
    let record = &structured(&export)["record"];
    assert_eq!(record["learner"]["given_name"], "Alex");
    assert!(
        !record["learning_events"]
            .as_array()
            .expect("events")
            .is_empty()
    );
    // Class tools are for teachers.
    let refused = call(
        "find_struggling_learners",
        json!({"class": "demo-cls0", "concept": "fractions"}),
    );
    assert!(refusal(&refused).contains("only a class's teacher"));
}

#[test]
fn nothing_crosses_tenants() {
    let (demo, demo_session) = sign_in_to_demo(
        "teacher",
        "learner.profile learner.struggles learner.assessment class.aggregates",
    );
    let demo_ids = learner_ids(&demo, &demo_session);
    // Every role of another tenant, with every scope, tries the demo tenant's ids.
    let (tenant, _) = private_tenant();
    let scopes = "learner.profile learner.behavioral learner.assessment learner.struggles identity class.aggregates learner.export privacy.admin";
    for (role, account) in [
        ("teacher", "teacher"),
        ("guardian", "guardian"),
        ("student", "student"),
        ("tenant_admin", "admin"),
    ] {
        let other = token(&format!("{tenant}:{account}"), scopes, &tenant, role);
        let session = open(&other);
        let own = learner_ids(&other, &session);
        assert!(own.iter().all(|id| !demo_ids.contains(id)), "{role}");
        for id in &demo_ids[..2] {
            for kind in ["profile", "struggles", "mastery"] {
                let read = read_json(
                    &other,
                    &session,
                    &format!("learner-dna://learners/{id}/{kind}"),
                );
                let code = read.expect_err("nothing")["code"].as_i64();
                assert!(
                    code == Some(-32002) || (role == "tenant_admin" && code == Some(-32003)),
                    "{role} {kind}: {code:?}"
                );
            }
            for (tool, args) in [
                ("get_learner_dna", json!({"learner": id})),
                ("recommend_next_steps", json!({"learner": id})),
                ("export_learner_record", json!({"learner": id})),
                ("withdraw_consent", json!({"learner": id})),
            ] {
                let result = call_tool(&other, &session, tool, args);
                assert_eq!(result["isError"], true, "{role} {tool}: {result}");
            }
        }
        for (tool, args) in [
            ("class_insights", json!({"class": "demo-cls0"})),
            (
                "find_struggling_learners",
                json!({"class": "demo-cls0", "concept": "fractions"}),
            ),
            ("export_learner_record", json!({"learner": "demo-lrn00000"})),
            (
                "erase_learner",
                json!({"learner": "demo-lrn00000", "confirm": "demo-lrn00000"}),
            ),
            ("withdraw_consent", json!({"learner": "demo-lrn00000"})),
        ] {
            let result = call_tool(&other, &session, tool, args);
            assert_eq!(result["isError"], true, "{role} {tool}: {result}");
        }
        let insights = read_json(&other, &session, "learner-dna://classes/demo-cls0/insights");
        assert_eq!(insights.expect_err("nothing")["code"], -32002, "{role}");
    }
    // And the demo tenant is as it was.
    assert_eq!(learner_ids(&demo, &demo_session), demo_ids);
}

/// A tenant of its own, so erasing and withdrawing disturb no other test: teacher,
/// administrator, a 14-year-old with an account, consenting to everything, and their
/// guardian.
fn private_tenant() -> (String, String) {
    let tenant = unique("tz");
    let t = tenant.as_str();
    let statements: Vec<Value> = [
        format!("INSERT INTO tenants VALUES ('{t}', 'Z', 0)"),
        format!("INSERT INTO schools VALUES ('{t}-s', '{t}', 'Z School')"),
        format!("INSERT INTO staff VALUES ('{t}-t', '{t}', '{t}-s', 'teacher', 'T', NULL, '{t}:teacher'), ('{t}-a', '{t}', NULL, 'admin', 'A', NULL, '{t}:admin')"),
        format!("INSERT INTO classes VALUES ('{t}-c', '{t}', '{t}-s', 'Math', 'math', 8)"),
        format!("INSERT INTO class_teachers VALUES ('{t}', '{t}-c', '{t}-t')"),
        format!("INSERT INTO learners VALUES ('{t}-l', '{t}', '{t}-s', 'Robin', 'Zed', NULL, '2012-01-01', '{t}:student')"),
        format!("INSERT INTO enrollments VALUES ('{t}-e', '{t}', '{t}-c', '{t}-l', '2026-01-01', NULL)"),
        format!("INSERT INTO guardians VALUES ('{t}-g', '{t}', 'G', NULL, '{t}:guardian')"),
        format!("INSERT INTO guardianships VALUES ('{t}', '{t}-g', '{t}-l', 'parent')"),
        format!("INSERT INTO dna_traits VALUES ('{t}', '{t}-l', 'learning_velocity', '{{}}', 0.5, 3, 1)"),
        format!("INSERT INTO struggles VALUES ('{t}', '{t}-l', 'fractions', 'adds-denominators', 0.5, 0.5, 2, 1)"),
        format!("INSERT INTO consents VALUES ('{t}-k1', '{t}', '{t}-l', 'profile', NULL, '{t}-l', 'school-record', 0, NULL, 'p'), \
                 ('{t}-k2', '{t}', '{t}-l', 'struggles', NULL, '{t}-l', 'school-record', 0, NULL, 'p')"),
    ]
    .into_iter()
    .map(|sql| json!({"sql": sql, "params": []}))
    .collect();
    ok(json!({"port": "sql", "op": "batch", "statements": statements}));
    let learner = format!("{tenant}-l");
    (tenant, learner)
}

/// Opens the standalone SSE stream of a session on another thread; the receiver gets
/// a message when the server ends the stream.
fn listen(token: &str, session: &str) -> mpsc::Receiver<u16> {
    let (sender, receiver) = mpsc::channel();
    let (token, session) = (token.to_owned(), session.to_owned());
    std::thread::spawn(move || {
        let mut response = agent()
            .get(format!("{}/mcp", base_url()))
            .header("authorization", &format!("Bearer {token}"))
            .header("accept", "text/event-stream")
            .header("mcp-session-id", &session)
            .header("mcp-protocol-version", "2025-11-25")
            .call()
            .expect("reachable");
        let status = response.status().as_u16();
        // Returns when the server closes the stream (or the agent's 30 s timeout).
        let _ = response.body_mut().read_to_string();
        let _ = sender.send(status);
    });
    receiver
}

fn status_of(token: &str, session: &str) -> u16 {
    rpc(token, Some(session), "ping", json!({})).0
}

#[test]
fn withdrawal_and_erasure_end_grants_and_sessions_at_once() {
    let (tenant, learner) = private_tenant();
    let student = token(
        &format!("{tenant}:student"),
        "learner.profile learner.struggles",
        &tenant,
        "student",
    );
    let guardian = token(
        &format!("{tenant}:guardian"),
        "learner.profile",
        &tenant,
        "guardian",
    );
    let teacher = token(
        &format!("{tenant}:teacher"),
        "learner.profile learner.struggles",
        &tenant,
        "teacher",
    );
    let admin = token(
        &format!("{tenant}:admin"),
        "privacy.admin",
        &tenant,
        "tenant_admin",
    );
    let (student_session, guardian_session, teacher_session, admin_session) = (
        open(&student),
        open(&guardian),
        open(&teacher),
        open(&admin),
    );
    let stream = listen(&student, &student_session);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        stream.try_recv().is_err(),
        "the stream stays open until something ends it"
    );
    let taught = learner_ids(&teacher, &teacher_session);
    assert_eq!(taught.len(), 1);
    assert!(
        read_json(
            &teacher,
            &teacher_session,
            &format!("learner-dna://learners/{}/struggles", taught[0])
        )
        .is_ok()
    );

    // The guardian withdraws consent for struggles: the student's grant asked for that
    // category and ends with its session; the guardian's own (profile only) does not.
    let child = learner_ids(&guardian, &guardian_session)[0].clone();
    let withdrawn = call_tool(
        &guardian,
        &guardian_session,
        "withdraw_consent",
        json!({"learner": child, "categories": ["struggles"]}),
    );
    let withdrawn = structured(&withdrawn);
    assert_eq!(withdrawn["consents_withdrawn"], 1, "{withdrawn}");
    assert_eq!(withdrawn["grants_revoked"], 1, "{withdrawn}");
    assert_eq!(withdrawn["sessions_ended"], 1, "{withdrawn}");
    assert_eq!(
        status_of(&student, &student_session),
        401,
        "the student's token is revoked"
    );
    assert_eq!(
        stream.recv_timeout(Duration::from_secs(10)),
        Ok(200),
        "the student's open stream ended"
    );
    assert_eq!(status_of(&guardian, &guardian_session), 200);
    // Reads follow at once, for every grant: the teacher's too.
    let struggles = read_json(
        &teacher,
        &teacher_session,
        &format!("learner-dna://learners/{}/struggles", taught[0]),
    );
    assert_eq!(struggles.expect_err("withdrawn")["code"], -32003);
    assert!(
        read_json(
            &teacher,
            &teacher_session,
            &format!("learner-dna://learners/{}/profile", taught[0])
        )
        .is_ok()
    );

    // The administrator erases the record: the guardian's grant and session end too.
    let guardian_stream = listen(&guardian, &guardian_session);
    std::thread::sleep(Duration::from_millis(300));
    let erase = |confirm: &str| {
        call_tool(
            &admin,
            &admin_session,
            "erase_learner",
            json!({"learner": learner, "confirm": confirm}),
        )
    };
    let wrong = erase("yes");
    assert!(refusal(&wrong).contains("confirm must repeat"));
    let erased = erase(&learner);
    let erased = structured(&erased);
    assert_eq!(erased["deleted"]["learners"], 1, "{erased}");
    assert_eq!(erased["deleted"]["struggles"], 1, "{erased}");
    assert_eq!(erased["grants_revoked"], 1, "{erased}");
    assert_eq!(erased["sessions_ended"], 1, "{erased}");
    assert_eq!(status_of(&guardian, &guardian_session), 401);
    assert_eq!(
        guardian_stream.recv_timeout(Duration::from_secs(10)),
        Ok(200)
    );
    assert_eq!(
        learner_ids(&teacher, &teacher_session),
        Vec::<String>::new()
    );
    assert_eq!(
        status_of(&teacher, &teacher_session),
        200,
        "the teacher's grant is not about this learner"
    );
    // Erasing again finds nothing.
    let again = erase(&learner);
    assert!(refusal(&again).starts_with("not found"));

    // The tombstone: the erasure is on record, the person is not.
    let tombstone = erased["tombstone"].as_str().expect("tombstone");
    let entries = ok(json!({"port": "audit", "op": "read", "after": 0, "limit": 100_000}));
    let entry = entries
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| {
            e["kind"] == "dna.erased"
                && e["detail_json"]
                    .as_str()
                    .is_some_and(|d| d.contains(tombstone))
        })
        .expect("tombstone entry");
    let detail = entry["detail_json"].as_str().expect("detail");
    assert!(
        !detail.contains("Robin") && !detail.contains(&learner),
        "{detail}"
    );
    assert_eq!(entry["actor"], format!("{tenant}:admin"));
}
