//! The core's port traits, implemented over the component's WIT imports.

use learner_core::ports::{
    self as core, AuditEntry, AuditError, AuditRecord, FetchError, KvError, OutboundRequest,
    OutboundResponse, QueryResult, SqlError, Statement,
};
use learner_storage::kv_protocol::{KvAnswer, KvClient, KvOp, KvTransport};

use crate::bindings::learner_dna::app::{audit, config, fetch, key_value, sql};
use crate::bindings::wasi::clocks::{monotonic_clock, wall_clock};
use crate::bindings::wasi::random::random;

learner_core::wit_conversions!(key_value, sql, audit, fetch);

/// The host as seen from inside the component: every port is a WIT import.
pub type WitHost = core::Ports<
    KvClient<WitKeyValue>,
    WitSql,
    WitAudit,
    WitConfig,
    WitFetch,
    WasiClock,
    WasiRandom,
>;

/// The component's one host.
pub const WIT_HOST: WitHost = core::Ports {
    kv: KvClient(WitKeyValue),
    sql: WitSql,
    audit: WitAudit,
    config: WitConfig,
    fetch: WitFetch,
    clock: WasiClock,
    random: WasiRandom,
};

/// `key-value` import (the port's operations, each as its WIT function).
pub struct WitKeyValue;
/// `sql` import.
pub struct WitSql;
/// `audit` import.
pub struct WitAudit;
/// `config` import.
pub struct WitConfig;
/// `fetch` import.
pub struct WitFetch;
/// `wasi:clocks`.
pub struct WasiClock;
/// `wasi:random`.
pub struct WasiRandom;

impl KvTransport for WitKeyValue {
    async fn send(&self, op: KvOp) -> KvAnswer {
        let answer = match op {
            KvOp::Get { key } => key_value::get(&key).map(entry),
            KvOp::Put { key, value, ttl_ms } => {
                key_value::put(&key, &value, ttl_ms).map(KvAnswer::Version)
            }
            KvOp::CompareAndSwap {
                key,
                expected,
                value,
                ttl_ms,
            } => key_value::compare_and_swap(&key, expected, &value, ttl_ms).map(KvAnswer::Version),
            KvOp::Take { key } => key_value::take(&key).map(entry),
            KvOp::Delete { key } => key_value::delete(&key).map(KvAnswer::Deleted),
            KvOp::Add { key, delta, ttl_ms } => {
                key_value::add(&key, delta, ttl_ms).map(KvAnswer::Count)
            }
            KvOp::Wait { key, timeout_ms } => key_value::wait(&key, timeout_ms).map(entry),
        };
        KvAnswer::from(answer.map_err(KvError::from))
    }
}

fn entry(found: Option<key_value::Entry>) -> KvAnswer {
    KvAnswer::from_entry(found.map(Into::into))
}

impl core::Sql for WitSql {
    async fn execute(&self, statement: &Statement) -> Result<QueryResult, SqlError> {
        Ok(sql::execute(&statement.clone().into())?.into())
    }
    async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>, SqlError> {
        let statements: Vec<sql::Statement> = statements.iter().cloned().map(Into::into).collect();
        Ok(sql::batch(&statements)?
            .into_iter()
            .map(Into::into)
            .collect())
    }
}

impl core::Audit for WitAudit {
    async fn append(&self, record: &AuditRecord) -> Result<u64, AuditError> {
        audit::append(&record.clone().into()).map_err(AuditError)
    }
    async fn read(&self, after: u64, limit: u32) -> Result<Vec<AuditEntry>, AuditError> {
        let entries = audit::read(after, limit).map_err(AuditError)?;
        Ok(entries.into_iter().map(Into::into).collect())
    }
}

impl core::Config for WitConfig {
    fn get(&self, name: &str) -> Option<String> {
        config::get(name)
    }
    fn secret(&self, name: &str) -> Option<String> {
        config::secret(name)
    }
}

impl core::Fetch for WitFetch {
    async fn send(&self, request: &OutboundRequest) -> Result<OutboundResponse, FetchError> {
        Ok(fetch::send(&request.clone().into())?.into())
    }
}

impl core::Clock for WasiClock {
    fn now_ms(&self) -> u64 {
        let now = wall_clock::now();
        now.seconds * 1_000 + u64::from(now.nanoseconds / 1_000_000)
    }
    fn monotonic_ns(&self) -> u64 {
        monotonic_clock::now()
    }
    async fn sleep_ms(&self, ms: u64) {
        // WIT imports are synchronous: the instance blocks until the time has passed.
        monotonic_clock::subscribe_duration(ms.saturating_mul(1_000_000)).block();
    }
}

impl core::Random for WasiRandom {
    fn fill(&self, buf: &mut [u8]) {
        let bytes = random::get_random_bytes(buf.len() as u64);
        buf.copy_from_slice(&bytes[..buf.len()]);
    }
}
