//! The engine's own tests, over small catalogues of their own. (The conformance
//! fixtures are exercised through the engine in `learner-test-routes`' tests.)

use std::cell::RefCell;

use learner_testkit::{memberless, run};
use serde_json::{Value, json};

use super::*;
use crate::catalogue::{ToolContext, ToolOutcome};
use crate::model::params::CallToolParams;
use crate::model::{CallToolResult, Tool};
use crate::uri_template::match_template;

#[test]
fn templates_match_whole_segments() {
    let t = "test://template/{id}/data";
    assert_eq!(
        match_template(t, "test://template/123/data"),
        Some(
            json!({"id": "123"})
                .as_object()
                .cloned()
                .unwrap_or_default()
        )
    );
    for no in [
        "test://template//data",
        "test://template/1/2/data",
        "test://template/1/datax",
        "test://other/1/data",
    ] {
        assert_eq!(match_template(t, no), None, "{no}");
    }
}

#[test]
fn scopes_gate_what_is_listed_and_called() {
    struct Gated;
    impl Catalogue for Gated {
        fn tools(&self) -> Vec<Tool> {
            vec![Tool {
                scope: Some("learner.audit".into()),
                ..Tool::new(
                    "audit_read",
                    "needs learner.audit",
                    json!({"type": "object"}),
                )
            }]
        }
        async fn call_tool(&self, _: &CallToolParams, _: &ToolContext<'_>) -> ToolOutcome {
            Ok(CallToolResult::text("ok"))
        }
    }
    let run_as = |scopes: &[&str], method: &str, params: Value| {
        let caller = memberless(scopes);
        let capabilities = json!({});
        let dispatch = Dispatch {
            catalogue: &Gated,
            caller: &caller,
            revision: Revision::V2025_11_25,
            client_capabilities: &capabilities,
            log_level: None,
            page_size: 10,
            client: None,
            notifications: Outbox::default(),
            updated: RefCell::default(),
            state_key: Some([1; 32]),
        };
        let Value::Object(params) = params else {
            panic!()
        };
        run(dispatch.request(method, &params))
    };
    let listed = run_as(&["learner.profile"], "tools/list", json!({})).expect("list");
    assert_eq!(listed.result["tools"], json!([]));
    assert_eq!(
        run_as(
            &["learner.profile"],
            "tools/call",
            json!({"name": "audit_read"})
        ),
        Err(Refusal::InsufficientScope("learner.audit".into()))
    );
    let allowed = run_as(
        &["learner.audit"],
        "tools/call",
        json!({"name": "audit_read"}),
    )
    .expect("called");
    assert_eq!(allowed.result["content"][0]["text"], "ok");
}
