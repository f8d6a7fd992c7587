//! The port contract (`learner_conformance::contract`) in-process, against the
//! harness's driver: the shared storage semantics (`learner-storage`) over rusqlite,
//! with the same port routes (`learner_test_routes::ports`) the suites reach over HTTP
//! — no wasm, no HTTP. (The Spin and Durable Object drivers run only inside their
//! runtimes: the same contract reaches them over HTTP.)

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use learner_conformance::contract::{self, PortCaller};
use learner_core::executor::block_on;
use learner_core::ports::{
    self, AuditEntry, AuditError, AuditRecord, FetchError, OutboundRequest, OutboundResponse,
};
use learner_storage::kv_protocol::{KvClient, Local};
use learner_storage::native::SqliteFile;
use learner_wasmtime::native::audit::SqliteAudit;
use learner_wasmtime::native::config::HostConfig;
use learner_wasmtime::native::kv::SqliteKv;
use learner_wasmtime::native::sql::SqliteSql;
use learner_wasmtime::native::{kv, sql as sql_port};
use serde_json::Value;

/// The harness's stores in a temporary directory, as one host.
struct InProcess {
    kv: SqliteKv,
    sql: SqliteSql,
    audit: SqliteAudit,
    config: HostConfig,
    started: Instant,
    _dir: tempfile::TempDir,
}

impl InProcess {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut config = HostConfig::new([("host.name".to_owned(), "wasmtime".to_owned())]);
        // As the suites start every host (tests/hosts/with-host.sh).
        config.default_secret("conformance-secret", "conformance-secret-value".into());
        Self {
            kv: kv::open(&dir.path().join("kv.db")).expect("kv"),
            sql: sql_port::open(&dir.path().join("app.db")).expect("sql"),
            audit: SqliteAudit::open(&dir.path().join("audit.db")).expect("audit"),
            config,
            started: Instant::now(),
            _dir: dir,
        }
    }
}

/// Blocks between looks while the key-value port waits: each call runs on its own
/// test thread.
fn thread_sleep(ms: u64) -> std::future::Ready<()> {
    std::thread::sleep(Duration::from_millis(ms));
    std::future::ready(())
}

/// The port wrappers the routes call through the core's traits.
type Kv<'a> = KvClient<Local<'a, SqliteFile, fn(u64) -> std::future::Ready<()>>>;
struct Audit<'a>(&'a SqliteAudit);
struct Clock<'a>(&'a Instant);
struct NoFetch;
struct Random;
struct Host<'a>(&'a InProcess, Kv<'a>, Audit<'a>, Clock<'a>);

impl ports::Audit for Audit<'_> {
    async fn append(&self, record: &AuditRecord) -> Result<u64, AuditError> {
        self.0.append(record).map_err(AuditError)
    }
    async fn read(&self, after: u64, limit: u32) -> Result<Vec<AuditEntry>, AuditError> {
        self.0.read(after, limit).map_err(AuditError)
    }
}

impl ports::Fetch for NoFetch {
    async fn send(&self, _: &OutboundRequest) -> Result<OutboundResponse, FetchError> {
        Err(FetchError::Denied(
            "the in-process contract has no outbound HTTP".into(),
        ))
    }
}

impl ports::Clock for Clock<'_> {
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

impl<'a> ports::Host for Host<'a> {
    type KeyValue = Kv<'a>;
    type Sql = SqliteSql;
    type Audit = Audit<'a>;
    type Config = HostConfig;
    type Fetch = NoFetch;
    type Clock = Clock<'a>;
    type Random = Random;
    fn key_value(&self) -> &Kv<'a> {
        &self.1
    }
    fn sql(&self) -> &SqliteSql {
        &self.0.sql
    }
    fn audit(&self) -> &Audit<'a> {
        &self.2
    }
    fn config(&self) -> &HostConfig {
        &self.0.config
    }
    fn fetch(&self) -> &NoFetch {
        &NoFetch
    }
    fn clock(&self) -> &Clock<'a> {
        &self.3
    }
    fn random(&self) -> &Random {
        &Random
    }
}

impl PortCaller for InProcess {
    fn call(&self, call: &Value) -> Value {
        let kv = KvClient(Local::new(&self.kv, thread_sleep as fn(u64) -> _));
        let host = Host(self, kv, Audit(&self.audit), Clock(&self.started));
        let body = serde_json::to_vec(call).expect("a port call serializes");
        let response = block_on(learner_test_routes::ports::handle(&host, &body))
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
