//! What one request asks of its host: a count of the calls to each port that crosses
//! the component's boundary (key-value, SQL, audit, outbound HTTP) and the time spent
//! waiting on them.
//!
//! Every call to such a port is a round trip on some host (on Cloudflare each is an RPC
//! call to a Durable Object), so these counts
//! are what the performance issue holds steady: a request type's count must not grow
//! with the data. The application wraps its host in [`Counted`] for each request and,
//! when the operator turns on `diagnostics.server_timing`, reports the tally in a
//! `Server-Timing` header (W3C Server Timing), where browser tools and the load client
//! (`bench/load`) read it. Configuration, clock and randomness are in-process on every
//! host and are not counted.

use std::cell::Cell;
use std::fmt::Write;
use std::rc::Rc;

use crate::ports::{
    Audit, AuditEntry, AuditError, AuditRecord, Clock, Fetch, FetchError, Host, KeyValue, KvEntry,
    KvError, OutboundRequest, OutboundResponse, QueryResult, Sql, SqlError, Statement,
};

/// The ports counted, in the order the header lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Port {
    /// The key-value store.
    KeyValue,
    /// The SQL database (a batch is one call: one round trip).
    Sql,
    /// The audit trail.
    Audit,
    /// Outbound HTTP.
    Fetch,
}

impl Port {
    const ALL: [Self; 4] = [Self::KeyValue, Self::Sql, Self::Audit, Self::Fetch];

    /// The metric name in `Server-Timing`.
    pub fn name(self) -> &'static str {
        match self {
            Self::KeyValue => "kv",
            Self::Sql => "sql",
            Self::Audit => "audit",
            Self::Fetch => "fetch",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Calls and time per port since the last [`Tally::reset`].
#[derive(Debug, Default)]
pub struct Tally {
    calls: [Cell<u32>; 4],
    nanos: [Cell<u64>; 4],
}

impl Tally {
    /// Starts counting afresh (a new request).
    pub fn reset(&self) {
        for port in Port::ALL {
            self.calls[port.index()].set(0);
            self.nanos[port.index()].set(0);
        }
    }

    /// Calls made to `port`.
    pub fn calls(&self, port: Port) -> u32 {
        self.calls[port.index()].get()
    }

    fn record(&self, port: Port, nanos: u64) {
        let i = port.index();
        self.calls[i].set(self.calls[i].get().saturating_add(1));
        self.nanos[i].set(self.nanos[i].get().saturating_add(nanos));
    }

    /// The tally as a `Server-Timing` value: per port, `desc` is the number of calls
    /// and `dur` the milliseconds spent waiting on them, e.g.
    /// `kv;desc=3;dur=0.412, sql;desc=0;dur=0, audit;desc=1;dur=0.2, fetch;desc=0;dur=0`.
    pub fn server_timing(&self) -> String {
        let mut out = String::new();
        for port in Port::ALL {
            if !out.is_empty() {
                out.push_str(", ");
            }
            let i = port.index();
            let millis = self.nanos[i].get() as f64 / 1e6;
            // Writing to a String cannot fail.
            let _ = write!(
                out,
                "{};desc={};dur={millis:.3}",
                port.name(),
                self.calls[i].get()
            );
        }
        out
    }
}

/// A host whose key-value, SQL, audit and outbound calls are counted in one [`Tally`].
pub struct Counted<H> {
    kv: CountedKeyValue<H>,
    sql: CountedSql<H>,
    audit: CountedAudit<H>,
    fetch: CountedFetch<H>,
    tally: Rc<Tally>,
    host: Rc<H>,
}

impl<H: Host> Counted<H> {
    /// `host`, counted.
    pub fn new(host: H) -> Self {
        let host = Rc::new(host);
        let tally = Rc::new(Tally::default());
        let part = || Part {
            host: Rc::clone(&host),
            tally: Rc::clone(&tally),
        };
        Self {
            kv: CountedKeyValue(part()),
            sql: CountedSql(part()),
            audit: CountedAudit(part()),
            fetch: CountedFetch(part()),
            tally,
            host,
        }
    }

    /// The counts so far.
    pub fn tally(&self) -> &Tally {
        &self.tally
    }

    /// The host itself, uncounted.
    pub fn inner(&self) -> &H {
        &self.host
    }
}

/// What each counted port holds: the host whose port it forwards to, and the tally.
struct Part<H> {
    host: Rc<H>,
    tally: Rc<Tally>,
}

impl<H: Host> Part<H> {
    /// Runs `call` and records it against `port`.
    async fn count<T>(&self, port: Port, call: impl Future<Output = T>) -> T {
        let clock = self.host.clock();
        let started = clock.monotonic_ns();
        let answer = call.await;
        self.tally
            .record(port, clock.monotonic_ns().saturating_sub(started));
        answer
    }
}

/// The key-value port of a [`Counted`] host.
pub struct CountedKeyValue<H>(Part<H>);
/// The SQL port of a [`Counted`] host.
pub struct CountedSql<H>(Part<H>);
/// The audit port of a [`Counted`] host.
pub struct CountedAudit<H>(Part<H>);
/// The outbound HTTP port of a [`Counted`] host.
pub struct CountedFetch<H>(Part<H>);

impl<H: Host> KeyValue for CountedKeyValue<H> {
    async fn get(&self, key: &str) -> Result<Option<KvEntry>, KvError> {
        let kv = self.0.host.key_value();
        self.0.count(Port::KeyValue, kv.get(key)).await
    }
    async fn put(&self, key: &str, value: &[u8], ttl_ms: Option<u64>) -> Result<u64, KvError> {
        let kv = self.0.host.key_value();
        self.0
            .count(Port::KeyValue, kv.put(key, value, ttl_ms))
            .await
    }
    async fn compare_and_swap(
        &self,
        key: &str,
        expected_version: Option<u64>,
        value: &[u8],
        ttl_ms: Option<u64>,
    ) -> Result<u64, KvError> {
        let kv = self.0.host.key_value();
        let call = kv.compare_and_swap(key, expected_version, value, ttl_ms);
        self.0.count(Port::KeyValue, call).await
    }
    async fn take(&self, key: &str) -> Result<Option<KvEntry>, KvError> {
        let kv = self.0.host.key_value();
        self.0.count(Port::KeyValue, kv.take(key)).await
    }
    async fn delete(&self, key: &str) -> Result<bool, KvError> {
        let kv = self.0.host.key_value();
        self.0.count(Port::KeyValue, kv.delete(key)).await
    }
    async fn wait(&self, key: &str, timeout_ms: u32) -> Result<Option<KvEntry>, KvError> {
        let kv = self.0.host.key_value();
        self.0.count(Port::KeyValue, kv.wait(key, timeout_ms)).await
    }
    async fn add(&self, key: &str, delta: i64, ttl_ms: Option<u64>) -> Result<u64, KvError> {
        let kv = self.0.host.key_value();
        self.0
            .count(Port::KeyValue, kv.add(key, delta, ttl_ms))
            .await
    }
}

impl<H: Host> Sql for CountedSql<H> {
    async fn execute(&self, statement: &Statement) -> Result<QueryResult, SqlError> {
        let sql = self.0.host.sql();
        self.0.count(Port::Sql, sql.execute(statement)).await
    }
    async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>, SqlError> {
        let sql = self.0.host.sql();
        self.0.count(Port::Sql, sql.batch(statements)).await
    }
}

impl<H: Host> Audit for CountedAudit<H> {
    async fn append(&self, record: &AuditRecord) -> Result<u64, AuditError> {
        let audit = self.0.host.audit();
        self.0.count(Port::Audit, audit.append(record)).await
    }
    async fn read(&self, after: u64, limit: u32) -> Result<Vec<AuditEntry>, AuditError> {
        let audit = self.0.host.audit();
        self.0.count(Port::Audit, audit.read(after, limit)).await
    }
}

impl<H: Host> Fetch for CountedFetch<H> {
    async fn send(&self, request: &OutboundRequest) -> Result<OutboundResponse, FetchError> {
        let fetch = self.0.host.fetch();
        self.0.count(Port::Fetch, fetch.send(request)).await
    }
}

impl<H: Host> Host for Counted<H> {
    type KeyValue = CountedKeyValue<H>;
    type Sql = CountedSql<H>;
    type Audit = CountedAudit<H>;
    type Config = H::Config;
    type Fetch = CountedFetch<H>;
    type Clock = H::Clock;
    type Random = H::Random;

    fn key_value(&self) -> &Self::KeyValue {
        &self.kv
    }
    fn sql(&self) -> &Self::Sql {
        &self.sql
    }
    fn audit(&self) -> &Self::Audit {
        &self.audit
    }
    fn config(&self) -> &Self::Config {
        self.host.config()
    }
    fn fetch(&self) -> &Self::Fetch {
        &self.fetch
    }
    fn clock(&self) -> &Self::Clock {
        self.host.clock()
    }
    fn random(&self) -> &Self::Random {
        self.host.random()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_tally_lists_every_port_at_zero() {
        assert_eq!(
            Tally::default().server_timing(),
            "kv;desc=0;dur=0.000, sql;desc=0;dur=0.000, audit;desc=0;dur=0.000, fetch;desc=0;dur=0.000"
        );
    }

    #[test]
    fn records_add_up_and_reset_clears_them() {
        let tally = Tally::default();
        tally.record(Port::KeyValue, 1_500_000);
        tally.record(Port::KeyValue, 500_000);
        tally.record(Port::Audit, 250_000);
        assert_eq!(tally.calls(Port::KeyValue), 2);
        assert_eq!(tally.calls(Port::Sql), 0);
        assert_eq!(
            tally.server_timing(),
            "kv;desc=2;dur=2.000, sql;desc=0;dur=0.000, audit;desc=1;dur=0.250, fetch;desc=0;dur=0.000"
        );
        tally.reset();
        assert_eq!(tally.calls(Port::KeyValue), 0);
        assert_eq!(tally.calls(Port::Audit), 0);
    }
}
