//! The port contract (`learner_conformance::contract`) in-process, against the
//! harness's driver: the shared storage semantics (`learner-storage`) over rusqlite,
//! with the same port routes (`learner_test_routes::ports`) the suites reach over HTTP
//! — no wasm, no HTTP. (The Spin and Durable Object drivers run only inside their
//! runtimes: the same contract reaches them over HTTP.)

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use learner_conformance::contract::{self, PortCaller};
use learner_core::executor::block_on;
use learner_core::ports;
use learner_storage::audit::AuditTrail;
use learner_storage::kv_protocol::{KvClient, Local};
use learner_storage::native::SqliteFile;
use learner_testkit::NoFetch;
use learner_wasmtime::native::audit::SqliteAudit;
use learner_wasmtime::native::config::HostConfig;
use learner_wasmtime::native::sql::SqliteSql;
use learner_wasmtime::native::{kv, sql as sql_port};
use serde_json::Value;

/// Blocks between looks while the key-value port waits: each call runs on its own
/// test thread.
fn thread_sleep(ms: u64) -> std::future::Ready<()> {
    std::thread::sleep(Duration::from_millis(ms));
    std::future::ready(())
}

type Sleep = fn(u64) -> std::future::Ready<()>;

/// The key-value port over the harness's store, waiting on the test's thread.
type Kv = KvClient<Local<SqliteFile, Sleep>>;

/// The harness's stores in a temporary directory, as one host.
struct InProcess {
    ports: ports::Ports<Kv, SqliteSql, AuditTrail<SqliteSql>, HostConfig, NoFetch, Clock, Random>,
    _dir: tempfile::TempDir,
}

impl InProcess {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut config = HostConfig::new([("host.name".to_owned(), "wasmtime".to_owned())]);
        // As the suites start every host (tests/hosts/with-host.sh).
        config.default_secret("conformance-secret", "conformance-secret-value".into());
        let kv = kv::open(&dir.path().join("kv.db")).expect("kv");
        let ports = ports::Ports {
            kv: KvClient(Local::new(kv, thread_sleep as Sleep)),
            sql: sql_port::open(&dir.path().join("app.db")).expect("sql"),
            audit: SqliteAudit::open(&dir.path().join("audit.db"))
                .expect("audit")
                .0,
            config,
            fetch: NoFetch,
            clock: Clock(Instant::now()),
            random: Random,
        };
        Self { ports, _dir: dir }
    }
}

/// Time and randomness as the harness gives them to the component through WASI.
struct Clock(Instant);
struct Random;

impl ports::Clock for Clock {
    fn now_ms(&self) -> u64 {
        learner_wasmtime::native::now_ms()
    }
    fn monotonic_ns(&self) -> u64 {
        u64::try_from(self.0.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
    async fn sleep_ms(&self, ms: u64) {
        std::thread::sleep(Duration::from_millis(ms));
    }
}

impl ports::Random for Random {
    fn fill(&self, buf: &mut [u8]) {
        rustls::crypto::ring::default_provider()
            .secure_random
            .fill(buf)
            .expect("system randomness");
    }
}

impl PortCaller for InProcess {
    fn call(&self, call: &Value) -> Value {
        let body = serde_json::to_vec(call).expect("a port call serializes");
        let response = block_on(learner_test_routes::ports::handle(&self.ports, &body))
            .expect("the in-process stores answer at once")
            .unwrap_or_else(|error| panic!("port call {call} refused: {error}"));
        assert_eq!(response.status(), 200, "port call {call}");
        serde_json::from_slice(response.body()).expect("a JSON answer")
    }
}

/// One in-process host for the whole binary, as one running host serves every test.
fn in_process() {
    static HOST: OnceLock<()> = OnceLock::new();
    HOST.get_or_init(|| contract::install(|| Box::new(InProcess::new())));
}

learner_conformance::port_contract!(crate::in_process);
