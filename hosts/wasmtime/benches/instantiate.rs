//! Per-request cost of the harness's execution model: instantiating the gateway
//! component from its `InstancePre` in the pooling allocator (what every request pays
//! before any application code runs).
//!
//! Needs `build/gateway.wasm` (`just bench` builds it).

mod support;

use criterion::{Criterion, criterion_group, criterion_main};
use learner_wasmtime::native::config::HostConfig;

fn instantiate(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let sql = learner_wasmtime::native::sql::open(&dir.path().join("app.db")).expect("sql");
    let app = support::harness(dir.path(), sql, HostConfig::new(Vec::new()));
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
