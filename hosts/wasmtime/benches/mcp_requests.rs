//! MCP requests over HTTP against the harness serving the production gateway, on the
//! 10,000-learner demo set: a load generator on loopback that prints p50/p95/p99 of
//! `initialize`, `resources/list`, a profile read and `get_learner_dna` (each a fresh
//! component instance, token validation, the privacy decision and the audit append),
//! then criterion's statistics for the DNA fetch. The token comes from the real
//! sign-in and consent pages.
//!
//! Needs `build/gateway.wasm` (`just bench` builds it).

mod support;

use criterion::{Criterion, criterion_group, criterion_main};
use learner_wasmtime::native::config::HostConfig;
use learner_wasmtime::server;
use serde_json::{Value, json};
use support::percentiles;

const LEARNERS: u32 = 10_000;
const SAMPLES: usize = 1_000;
const PASSWORD: &str = "bench-password";

struct Client {
    base: String,
    token: String,
    agent: learner_conformance::ureq::Agent,
}

impl Client {
    /// One JSON-RPC request; the answer (JSON or the SSE message with an id) and the
    /// session id returned.
    fn call(&self, session: Option<&str>, method: &str, params: &Value) -> (Value, Option<String>) {
        let mut request = self
            .agent
            .post(format!("{}/mcp", self.base))
            .header("authorization", &format!("Bearer {}", self.token))
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream");
        if let Some(session) = session {
            request = request
                .header("mcp-session-id", session)
                .header("mcp-protocol-version", "2025-11-25");
        }
        let mut response = request
            .send(
                json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string(),
            )
            .expect("reachable");
        assert_eq!(response.status(), 200, "{method}");
        let session = response
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.body_mut().read_to_string().expect("body");
        let answer = serde_json::from_str(&body).unwrap_or_else(|_| {
            body.lines()
                .filter_map(|l| l.strip_prefix("data: "))
                .filter_map(|d| serde_json::from_str::<Value>(d).ok())
                .find(|m| m.get("id").is_some())
                .unwrap_or(Value::Null)
        });
        assert!(answer.get("result").is_some(), "{method}: {answer}");
        (answer, session)
    }

    fn initialize(&self) -> String {
        let (_, session) = self.call(
            None,
            "initialize",
            &json!({"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "bench", "version": "1"}}),
        );
        session.expect("session")
    }
}

fn mcp_requests(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let plan = learner_dna::seed::Plan {
        seed: 1,
        tenants: 0,
        learners: LEARNERS,
        demo: true,
        now_ms,
    };
    let sql = support::seeded(dir.path(), &plan);
    let mut config = HostConfig::new(vec![("host.name".into(), "wasmtime".into())]);
    config.default_secret("demo-password", PASSWORD.into());
    let app = support::harness(dir.path(), sql, config);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bound");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    runtime.spawn(server::serve(listener, app));

    let token = learner_conformance::sign_in::obtain_token(
        &base,
        "teacher",
        PASSWORD,
        "learner.profile learner.behavioral learner.assessment learner.struggles class.aggregates",
    )
    .expect("a token by the real flow");
    let client = Client {
        base,
        token,
        agent: learner_conformance::agent(),
    };
    let session = client.initialize();
    let (learners, _) = client.call(
        Some(&session),
        "resources/read",
        &json!({"uri": "learner-dna://learners"}),
    );
    let list: Value = serde_json::from_str(
        learners["result"]["contents"][0]["text"]
            .as_str()
            .expect("text"),
    )
    .expect("JSON");
    let ids = support::learner_ids(&list);
    eprintln!("the demo teacher may read {} learners", ids.len());

    percentiles("resources/list", SAMPLES, |_| {
        client.call(Some(&session), "resources/list", &json!({}));
    });
    percentiles("resources/read (a learner's profile)", SAMPLES, |i| {
        let uri = format!("learner-dna://learners/{}/profile", ids[i % ids.len()]);
        client.call(Some(&session), "resources/read", &json!({"uri": uri}));
    });
    percentiles("resources/read learner-dna://learners", SAMPLES, |_| {
        client.call(
            Some(&session),
            "resources/read",
            &json!({"uri": "learner-dna://learners"}),
        );
    });
    percentiles("tools/call class_insights", SAMPLES, |_| {
        client.call(
            Some(&session),
            "tools/call",
            &json!({"name": "class_insights", "arguments": {"class": "demo-cls0"}}),
        );
    });
    percentiles("tools/call get_learner_dna (all fields)", SAMPLES, |i| {
        client.call(
            Some(&session),
            "tools/call",
            &json!({"name": "get_learner_dna", "arguments": {"learner": ids[i % ids.len()]}}),
        );
    });
    // Last: a grant holds at most 64 sessions, so this ends the one used above.
    percentiles("initialize", SAMPLES, |_| {
        client.initialize();
    });
    let session = client.initialize();
    support::bench_indexed(
        c,
        "Learner DNA fetch over HTTP (resources/read profile, 10,000 learners)",
        |i| {
            let uri = format!("learner-dna://learners/{}/profile", ids[i % ids.len()]);
            client.call(Some(&session), "resources/read", &json!({"uri": uri}))
        },
    );
}

criterion_group!(benches, mcp_requests);
criterion_main!(benches);
