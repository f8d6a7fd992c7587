//! The MCP engine over the conformance fixtures: paging, each revision's view of the
//! definitions, and the errors bad params get.

use std::cell::RefCell;

use learner_mcp_server::catalogue::{Catalogue, Outbox};
use learner_mcp_server::engine::{Answer, Dispatch, RESOURCE_NOT_FOUND, Refusal};
use learner_mcp_server::revision::Revision;
use learner_test_routes::fixtures::Fixtures;
use learner_testkit::{memberless, run};
use serde_json::{Value, json};

fn ask(
    method: &str,
    params: Value,
    revision: Revision,
    page_size: usize,
) -> Result<Answer, Refusal> {
    let caller = memberless(&["learner.profile"]);
    let capabilities = json!({});
    let dispatch = Dispatch {
        catalogue: &Fixtures,
        caller: &caller,
        revision,
        client_capabilities: &capabilities,
        log_level: None,
        page_size,
        client: None,
        notifications: Outbox::default(),
        updated: RefCell::default(),
        state_key: Some([1; 32]),
    };
    let Value::Object(params) = params else {
        panic!("params must be an object")
    };
    run(dispatch.request(method, &params))
}

fn code(outcome: Result<Answer, Refusal>) -> i64 {
    match outcome {
        Err(Refusal::Rpc(error)) => error.code,
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn lists_page_with_opaque_cursors_and_refuse_bad_ones() {
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let params = cursor.as_ref().map_or(json!({}), |c| json!({"cursor": c}));
        let answer = ask("tools/list", params, Revision::V2025_11_25, 5).expect("a page");
        let tools = answer.result["tools"].as_array().expect("tools").clone();
        assert!(tools.len() <= 5);
        names.extend(
            tools
                .iter()
                .map(|t| t["name"].as_str().unwrap_or_default().to_owned()),
        );
        match answer.result.get("nextCursor").and_then(Value::as_str) {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(names.len(), Fixtures.tools().len());
    for bad in [
        json!({"cursor": "offset:999"}),
        json!({"cursor": "x"}),
        json!({"cursor": 3}),
    ] {
        assert_eq!(
            code(ask("tools/list", bad, Revision::V2025_11_25, 5)),
            -32602
        );
    }
}

#[test]
fn definitions_follow_the_revision() {
    let find = |revision| {
        let answer = ask("tools/list", json!({}), revision, 100).expect("tools");
        answer.result["tools"]
            .as_array()
            .expect("tools")
            .iter()
            .find(|t| t["name"] == "test_structured_output")
            .cloned()
            .expect("listed")
    };
    let new = find(Revision::V2025_11_25);
    assert!(new.get("outputSchema").is_some() && new.get("title").is_some());
    assert!(new.get("annotations").is_some());
    let old = find(Revision::V2024_11_05);
    assert!(old.get("outputSchema").is_none() && old.get("title").is_none());
    assert!(old.get("annotations").is_none());
    let called = ask(
        "tools/call",
        json!({"name": "test_structured_output"}),
        Revision::V2025_03_26,
        100,
    )
    .expect("called");
    assert!(called.result.get("structuredContent").is_none());
    // completion/complete does not exist before 2025-03-26.
    let complete = json!({"ref": {"type": "ref/prompt", "name": "test_prompt_with_arguments"},
                          "argument": {"name": "arg1", "value": "pa"}});
    assert_eq!(
        code(ask(
            "completion/complete",
            complete.clone(),
            Revision::V2024_11_05,
            10
        )),
        -32601
    );
    let values = ask("completion/complete", complete, Revision::V2025_11_25, 10).expect("values");
    assert_eq!(
        values.result["completion"]["values"],
        json!(["paris", "park", "party"])
    );
    assert_eq!(values.result["completion"]["hasMore"], false);
}

#[test]
fn bad_params_are_invalid_params_and_unknown_things_say_so() {
    let r = Revision::V2025_11_25;
    for (method, params) in [
        ("tools/call", json!({})),
        ("tools/call", json!({"name": 1})),
        ("tools/call", json!({"name": "nope"})),
        (
            "tools/call",
            json!({"name": "test_sampling", "arguments": []}),
        ),
        (
            "tools/call",
            json!({"name": "test_sampling", "arguments": {}}),
        ),
        (
            "tools/call",
            json!({"name": "test_sampling", "arguments": {"prompt": 5}}),
        ),
        (
            "tools/call",
            json!({"name": "json_schema_2020_12_tool", "arguments": {"extra": 1}}),
        ),
        (
            "prompts/get",
            json!({"name": "test_prompt_with_arguments", "arguments": {"arg1": "x"}}),
        ),
        (
            "prompts/get",
            json!({"name": "test_prompt_with_arguments", "arguments": {"arg1": "x", "arg2": 2}}),
        ),
        ("prompts/get", json!({"name": "nope"})),
        ("logging/setLevel", json!({"level": "loud"})),
        (
            "completion/complete",
            json!({"ref": {"type": "ref/other"}, "argument": {"name": "a", "value": ""}}),
        ),
        (
            "completion/complete",
            json!({"ref": {"type": "ref/prompt", "name": "test_simple_prompt"},
                                       "argument": {"name": "nope", "value": ""}}),
        ),
        ("resources/read", json!({"uri": 5})),
    ] {
        assert_eq!(
            code(ask(method, params.clone(), r, 10)),
            -32602,
            "{method} {params}"
        );
    }
    assert_eq!(
        code(ask("resources/read", json!({"uri": "test://nope"}), r, 10)),
        RESOURCE_NOT_FOUND
    );
    assert_eq!(
        code(ask(
            "resources/subscribe",
            json!({"uri": "test://nope"}),
            r,
            10
        )),
        RESOURCE_NOT_FOUND
    );
    assert_eq!(
        code(ask("sampling/createMessage", json!({}), r, 10)),
        -32601
    );
    // A tool failure is a result with isError, not a protocol error.
    let failed = ask("tools/call", json!({"name": "test_error_handling"}), r, 10).expect("result");
    assert_eq!(failed.result["isError"], true);
    // Asking the client without a channel to it is the tool's failure to report.
    let sampling = ask(
        "tools/call",
        json!({"name": "test_sampling", "arguments": {"prompt": "p"}}),
        r,
        10,
    )
    .expect("result");
    assert_eq!(sampling.result["isError"], true);
}
