//! What the benchmarks share: the component they run, the harness's ports over SQLite
//! files in a temporary directory, a seeded Learner DNA database, and a percentile
//! report. (A module of each bench target, not a target of its own.)

#![allow(dead_code)] // Each bench uses its part.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use learner_core::ports::Sql;
use learner_testkit::run;
use learner_wasmtime::native::audit::SqliteAudit;
use learner_wasmtime::native::config::HostConfig;
use learner_wasmtime::native::fetch::HttpClient;
use learner_wasmtime::native::sql::SqliteSql;
use learner_wasmtime::outbound::OutboundPolicy;
use learner_wasmtime::state::Ports;
use learner_wasmtime::{engine, server};

/// The gateway component: `$LEARNER_COMPONENT`, or `build/gateway.wasm` (`just bench`
/// builds it).
pub fn gateway_path() -> PathBuf {
    std::env::var_os("LEARNER_COMPONENT").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../build/gateway.wasm"),
        PathBuf::from,
    )
}

/// The harness serving the gateway over `sql` and new key-value and audit files in
/// `dir`, with `config`.
pub fn harness(dir: &Path, sql: SqliteSql, config: HostConfig) -> server::App {
    let ports = Arc::new(Ports {
        kv: learner_wasmtime::native::kv::open(&dir.join("kv.db")).expect("kv"),
        sql,
        audit: SqliteAudit::open(&dir.join("audit.db")).expect("audit"),
        config,
        fetch: HttpClient::new(Vec::new()).expect("client"),
        outbound: OutboundPolicy::default(),
        spin: None,
    });
    let engine = engine::serving_engine().expect("engine");
    let component = engine::load_component(&engine, &gateway_path(), &dir.join("compiled"))
        .expect("build/gateway.wasm (run `just build-gateway`)");
    server::App::new(&engine, &component, ports).expect("link")
}

/// A new application database in `dir`, migrated and seeded by `plan` (reported on
/// stderr with how long seeding took).
pub fn seeded(dir: &Path, plan: &learner_dna::seed::Plan) -> SqliteSql {
    let sql = learner_wasmtime::native::sql::open(&dir.join("app.db")).expect("sql");
    run(learner_dna::migrations::migrate(&sql, plan.now_ms)).expect("migrated");
    let started = Instant::now();
    let report = run(learner_dna::seed::seed(&sql, plan)).expect("seeded");
    eprintln!(
        "seeded {} learners, {} events in {:.1} s",
        report.learners,
        report.events,
        started.elapsed().as_secs_f64()
    );
    sql
}

/// Runs `sample` `count` times (with the sample's index), timing each; prints the
/// 50th, 95th and 99th percentiles in milliseconds.
pub fn percentiles(name: &str, count: usize, mut sample: impl FnMut(usize)) {
    let mut samples: Vec<f64> = (0..count)
        .map(|i| {
            let started = Instant::now();
            sample(i);
            started.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    // The q-quantile's index: a fraction of the length, so the cast cannot truncate.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    eprintln!(
        "{name:<40} p50 {:.3} ms  p95 {:.3} ms  p99 {:.3} ms  ({count} samples)",
        at(0.50),
        at(0.95),
        at(0.99)
    );
}

/// Runs `statement` on `sql` (setup the seed does not do).
pub fn execute(sql: &SqliteSql, statement: &str) {
    let statement = learner_core::ports::Statement::new(statement, Vec::new());
    run(Sql::execute(sql, &statement)).expect("executed");
}

/// The learner ids in a `learners` listing (`{"learners": [{"id": ...}, ...]}`).
pub fn learner_ids(listing: &serde_json::Value) -> Vec<String> {
    listing["learners"]
        .as_array()
        .expect("learners")
        .iter()
        .map(|l| l["id"].as_str().expect("id").to_owned())
        .collect()
}

/// A criterion benchmark of `sample`, given a new index each iteration (to cycle
/// through learners).
pub fn bench_indexed<R>(
    c: &mut criterion::Criterion,
    name: &str,
    mut sample: impl FnMut(usize) -> R,
) {
    let mut i = 0;
    c.bench_function(name, |b| {
        b.iter(|| {
            i += 1;
            sample(i)
        });
    });
}
