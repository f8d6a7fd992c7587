//! Per-request store data, and the long-lived ports it reaches.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime::{StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::native::audit::SqliteAudit;
use crate::native::config::HostConfig;
use crate::native::fetch::HttpClient;
use crate::native::kv::SqliteKv;
use crate::native::sql::SqliteSql;

/// The harness's port backends, shared by every request.
pub struct Ports {
    /// Key-value store.
    pub kv: SqliteKv,
    /// The application database.
    pub sql: SqliteSql,
    /// The audit log.
    pub audit: SqliteAudit,
    /// Configuration and secrets.
    pub config: HostConfig,
    /// Outbound HTTP.
    pub fetch: HttpClient,
}

/// Largest linear memory one request's instance may grow to.
pub const MAX_INSTANCE_MEMORY: usize = 64 * 1024 * 1024;

/// What a `Store` holds while one request runs.
pub struct RequestState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    /// Memory limits for this request's instance.
    pub limits: StoreLimits,
    ports: Arc<Ports>,
}

impl RequestState {
    /// Fresh state for one request.
    pub fn new(ports: Arc<Ports>) -> Self {
        Self {
            wasi: WasiCtx::builder().inherit_stderr().build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            limits: StoreLimitsBuilder::new()
                .memory_size(MAX_INSTANCE_MEMORY)
                .instances(16)
                .build(),
            ports,
        }
    }

    /// The port backends.
    pub fn ports(&self) -> &Ports {
        &self.ports
    }

    /// A shared handle to the port backends, for futures that outlive a borrow.
    pub fn ports_arc(&self) -> Arc<Ports> {
        Arc::clone(&self.ports)
    }
}

impl WasiView for RequestState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for RequestState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: Default::default(),
        }
    }
}
