//! Per-request cost of the harness's execution model: instantiating the gateway
//! component from its `InstancePre` in the pooling allocator (what every request pays
//! before any application code runs).
//!
//! Needs `build/gateway.wasm` (`just bench` builds it).

use std::path::PathBuf;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use learner_wasmtime::native::audit::SqliteAudit;
use learner_wasmtime::native::config::HostConfig;
use learner_wasmtime::native::fetch::HttpClient;
use learner_wasmtime::outbound::OutboundPolicy;
use learner_wasmtime::state::Ports;
use learner_wasmtime::{engine, server};

fn gateway_path() -> PathBuf {
    std::env::var_os("LEARNER_COMPONENT").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../build/gateway.wasm"),
        PathBuf::from,
    )
}

fn instantiate(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let ports = Arc::new(Ports {
        kv: learner_wasmtime::native::kv::open(&dir.path().join("kv.db")).expect("kv"),
        sql: learner_wasmtime::native::sql::open(&dir.path().join("app.db")).expect("sql"),
        audit: SqliteAudit::open(&dir.path().join("audit.db")).expect("audit"),
        config: HostConfig::new(Vec::new()),
        fetch: HttpClient::new(Vec::new()).expect("client"),
        outbound: OutboundPolicy::default(),
        spin: None,
    });
    let engine = engine::serving_engine().expect("engine");
    let component = engine::load_component(&engine, &gateway_path(), &dir.path().join("compiled"))
        .expect("build/gateway.wasm (run `just build-gateway`)");
    let app = server::App::new(&engine, &component, ports).expect("link");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    c.bench_function("instantiate gateway (pooling, InstancePre)", |b| {
        b.iter(|| {
            runtime
                .block_on(app.instantiate_once())
                .expect("instantiate");
        });
    });
}

criterion_group!(benches, instantiate);
criterion_main!(benches);
