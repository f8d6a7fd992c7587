//! The application's ports as the harness provides them to the component: the shared
//! storage semantics (`learner-storage`) over SQLite files, configuration, and
//! outbound HTTP over hyper. Each submodule is testable on its own; this module only
//! binds them to the WIT interfaces the gateway component imports.

pub mod audit;
pub mod config;
pub mod fetch;
pub mod kv;
pub mod sql;

use std::time::{SystemTime, UNIX_EPOCH};

use learner_storage::kv_protocol::{KvAnswer, KvOp};

use crate::state::RequestState;

pub use learner_storage::native::open_database;

/// The host side of the `gateway` world, as wasmtime's bindgen generates it.
#[allow(missing_docs, clippy::pedantic)]
pub mod bindings {
    wasmtime::component::bindgen!({
        world: "gateway",
        path: "../../wit",
        imports: {
            "learner-dna:app/fetch.send": async,
            "learner-dna:app/key-value.wait": async,
            default: tracing,
        },
        with: {
            "wasi:http": wasmtime_wasi_http::p2::bindings::http,
            "wasi:io": wasmtime_wasi::p2::bindings::io,
            "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
            "wasi:random": wasmtime_wasi::p2::bindings::random,
        },
    });
}

use bindings::learner_dna::app::{audit as wit_audit, config as wit_config, fetch as wit_fetch};
use bindings::learner_dna::app::{key_value as wit_kv, sql as wit_sql};

learner_core::wit_conversions!(wit_kv, wit_sql, wit_audit, wit_fetch);

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Adds the application ports (not WASI) to a linker.
pub fn add_to_linker(
    linker: &mut wasmtime::component::Linker<RequestState>,
) -> wasmtime::Result<()> {
    type Data = wasmtime::component::HasSelf<RequestState>;
    wit_kv::add_to_linker::<RequestState, Data>(linker, |s| s)?;
    wit_sql::add_to_linker::<RequestState, Data>(linker, |s| s)?;
    wit_audit::add_to_linker::<RequestState, Data>(linker, |s| s)?;
    wit_config::add_to_linker::<RequestState, Data>(linker, |s| s)?;
    wit_fetch::add_to_linker::<RequestState, Data>(linker, |s| s)?;
    Ok(())
}

type KvResult<T> = Result<T, wit_kv::KvError>;

impl RequestState {
    fn kv(&self, op: KvOp) -> KvAnswer {
        self.ports().kv.apply(op)
    }
}

impl wit_kv::Host for RequestState {
    learner_storage::wit_key_value_functions!(wit_kv, [&mut self,], |op| self.kv(op));

    async fn wait(&mut self, key: String, timeout_ms: u32) -> KvResult<Option<wit_kv::Entry>> {
        // SQLite cannot notify: look again every few milliseconds without a thread.
        let sleep = |ms| tokio::time::sleep(std::time::Duration::from_millis(ms));
        let kv = &self.ports().kv;
        let found = kv.wait_polling(&key, timeout_ms, sleep).await?;
        Ok(found.map(Into::into))
    }
}

impl wit_sql::Host for RequestState {
    fn execute(
        &mut self,
        statement: wit_sql::Statement,
    ) -> Result<wit_sql::QueryResult, wit_sql::SqlError> {
        Ok(self.ports().sql.execute(&statement.into())?.into())
    }
    fn batch(
        &mut self,
        statements: Vec<wit_sql::Statement>,
    ) -> Result<Vec<wit_sql::QueryResult>, wit_sql::SqlError> {
        let statements: Vec<_> = statements.into_iter().map(Into::into).collect();
        let results = self.ports().sql.batch(&statements)?;
        Ok(results.into_iter().map(Into::into).collect())
    }
}

impl wit_audit::Host for RequestState {
    fn append(&mut self, record: wit_audit::AuditRecord) -> Result<u64, String> {
        self.ports().audit.append(&record.into())
    }
    fn read(&mut self, after: u64, limit: u32) -> Result<Vec<wit_audit::AuditEntry>, String> {
        let entries = self.ports().audit.read(after, limit)?;
        Ok(entries.into_iter().map(Into::into).collect())
    }
}

impl wit_config::Host for RequestState {
    fn get(&mut self, name: String) -> Option<String> {
        self.ports().config.get(&name)
    }
    fn secret(&mut self, name: String) -> Option<String> {
        self.ports().config.secret(&name)
    }
}

impl wit_fetch::Host for RequestState {
    async fn send(
        &mut self,
        request: wit_fetch::OutboundRequest,
    ) -> Result<wit_fetch::OutboundResponse, wit_fetch::FetchError> {
        let ports = self.ports_arc();
        Ok(ports.fetch.send(request.into()).await?.into())
    }
}

/// A port opened on a file `name` in a fresh temporary directory (which lives as long
/// as the returned guard), for the ports' unit tests.
#[cfg(test)]
fn in_temp_dir<T>(
    name: &str,
    open: impl FnOnce(&std::path::Path) -> wasmtime::Result<T>,
) -> (tempfile::TempDir, T) {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = open(&dir.path().join(name)).expect("open");
    (dir, port)
}
