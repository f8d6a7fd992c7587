//! Per-request store data, and the long-lived ports it reaches.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime::{StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::outbound::OutboundPolicy;
use crate::spin::host::SpinHost;

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
    /// Where the component may send requests through `wasi:http/outgoing-handler`.
    pub outbound: OutboundPolicy,
    /// The Spin interfaces' backends, when serving a Spin application.
    pub spin: Option<SpinHost>,
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
    outbound: OutboundPolicy,
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
            outbound: ports.outbound.clone(),
            ports,
        }
    }

    /// The port backends.
    pub fn ports(&self) -> &Ports {
        &self.ports
    }

    /// The Spin backends, if this is a Spin application.
    pub fn spin(&self) -> Option<&SpinHost> {
        self.ports.spin.as_ref()
    }

    /// The resource table (WASI, wasi:http and Spin resources).
    pub fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
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
            hooks: &mut self.outbound,
        }
    }
}
