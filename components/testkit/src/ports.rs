//! The key-value, clock, random and audit ports in memory, and a whole host over any
//! SQL port.

use std::cell::{Cell, RefCell};
use std::future::Future;

use learner_core::ports::{
    Audit, AuditEntry, AuditError, AuditRecord, Clock, Config, Fetch, FetchError, OutboundRequest,
    OutboundResponse, Ports, Random, Sql, SqlValue,
};
use learner_storage::kv::KvStore;
use learner_storage::kv_protocol::{KvAnswer, KvClient, KvOp, KvTransport};
use learner_storage::native::SqliteFile;
use learner_storage::{Connection, Driver};

/// Drives a future whose every await is ready at once (the in-memory ports never wait).
pub fn run<F: Future>(future: F) -> F::Output {
    learner_core::executor::block_on(future).expect("in-memory ports never wait")
}

/// A clock that moves only when told to (or when something sleeps on it).
#[derive(Default)]
pub struct TestClock(pub Cell<u64>);

impl Clock for TestClock {
    fn now_ms(&self) -> u64 {
        self.0.get()
    }
    fn monotonic_ns(&self) -> u64 {
        self.0.get() * 1_000_000
    }
    async fn sleep_ms(&self, ms: u64) {
        // Test time moves only when told to: sleeping advances it.
        self.0.set(self.0.get() + ms);
    }
}

/// Distinct, deterministic bytes (not random: these tests check logic, not entropy).
#[derive(Default)]
pub struct Counter(Cell<u8>);

impl Random for Counter {
    fn fill(&self, buf: &mut [u8]) {
        for byte in buf.iter_mut() {
            self.0.set(self.0.get().wrapping_add(1));
            *byte = self.0.get().wrapping_mul(167);
        }
        // Make every call unique even after the counter wraps.
        if let Some(first) = buf.first_mut() {
            *first ^= self.0.get() % 251;
        }
    }
}

/// The key-value port in memory: the shared store (`learner_storage::kv`) — the very
/// CAS, take-once and expiry every host runs — over an in-memory SQLite database,
/// its expiry following a [`TestClock`]. `MemoryKv::new(&clock)`.
pub type MemoryKv<'c> = KvClient<MemoryStore<'c>>;

/// The store behind [`MemoryKv`].
pub struct MemoryStore<'c> {
    store: KvStore<SqliteFile, Box<dyn Fn() -> u64 + 'c>>,
}

impl<'c> From<&'c TestClock> for MemoryStore<'c> {
    fn from(clock: &'c TestClock) -> Self {
        let database = SqliteFile::open_in_memory().expect("an in-memory database opens");
        let store = KvStore::new(
            database,
            Box::new(move || clock.now_ms()) as Box<dyn Fn() -> u64>,
        );
        store.prepare().expect("the key-value tables are created");
        Self { store }
    }
}

impl MemoryStore<'_> {
    /// Everything stored, keys and values, as text (for leak checks).
    pub fn dump(&self) -> String {
        let rows = self
            .store
            .driver()
            .autocommit(|db| db.query("SELECT key, value FROM kv ORDER BY key", &[]))
            .expect("the store is readable");
        rows.rows.iter().fold(String::new(), |mut out, row| {
            if let [SqlValue::Text(key), value] = row.as_slice() {
                let bytes = match value {
                    SqlValue::Blob(bytes) => bytes.as_slice(),
                    _ => &[],
                };
                out.push_str(&format!("{key}={}\n", String::from_utf8_lossy(bytes)));
            }
            out
        })
    }
}

impl KvTransport for MemoryStore<'_> {
    async fn send(&self, op: KvOp) -> KvAnswer {
        // Nothing else runs while a test waits: what is there now is all there is
        // (`apply` answers a wait at once).
        self.store.apply(op)
    }
}

/// The audit trail as a list of the records appended.
#[derive(Default)]
pub struct MemoryAudit(pub RefCell<Vec<AuditRecord>>);

impl Audit for MemoryAudit {
    async fn append(&self, record: &AuditRecord) -> Result<u64, AuditError> {
        self.0.borrow_mut().push(record.clone());
        Ok(self.0.borrow().len() as u64)
    }
    async fn read(&self, _after: u64, _limit: u32) -> Result<Vec<AuditEntry>, AuditError> {
        Err(AuditError(
            "the in-memory trail is read through its field".into(),
        ))
    }
}

/// No settings and no secrets.
pub struct NoConfig;

impl Config for NoConfig {
    fn get(&self, _name: &str) -> Option<String> {
        None
    }
    fn secret(&self, _name: &str) -> Option<String> {
        None
    }
}

/// No outbound HTTP: every request is denied.
pub struct NoFetch;

impl Fetch for NoFetch {
    async fn send(&self, _request: &OutboundRequest) -> Result<OutboundResponse, FetchError> {
        Err(FetchError::Denied("no outbound HTTP here".into()))
    }
}

/// A whole host in memory over the SQL port `S`: key-value, clock, randomness and the
/// audit trail in memory, no configuration, no outbound HTTP — the core's [`Ports`]
/// like every real host, made by [`memory_host`].
pub type MemoryHost<'c, S> =
    Ports<MemoryKv<'c>, S, MemoryAudit, NoConfig, NoFetch, &'c TestClock, Counter>;

/// A host over `sql` at `clock`'s time (the key-value port reads the same clock).
pub fn memory_host<S: Sql>(clock: &TestClock, sql: S) -> MemoryHost<'_, S> {
    Ports {
        kv: MemoryKv::new(clock),
        sql,
        audit: MemoryAudit::default(),
        config: NoConfig,
        fetch: NoFetch,
        clock,
        random: Counter::default(),
    }
}
