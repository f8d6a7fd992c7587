//! The key-value, clock, random and audit ports in memory, and a whole host over any
//! SQL port.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::future::Future;

use learner_core::ports::{
    Audit, AuditEntry, AuditError, AuditRecord, Clock, Config, Fetch, FetchError, Host, KeyValue,
    KvEntry, KvError, OutboundRequest, OutboundResponse, Random, Sql,
};

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

/// A stored value, its version and when it expires.
type Stored = (Vec<u8>, u64, Option<u64>);

/// The key-value port's contract in memory: versions, expiry, CAS, take.
pub struct MemoryKv<'c> {
    clock: &'c TestClock,
    entries: RefCell<BTreeMap<String, Stored>>,
    version: Cell<u64>,
}

impl<'c> MemoryKv<'c> {
    /// An empty store whose expiry follows `clock`.
    pub fn new(clock: &'c TestClock) -> Self {
        Self {
            clock,
            entries: RefCell::default(),
            version: Cell::new(0),
        }
    }

    fn live(&self, key: &str) -> Option<KvEntry> {
        let now = self.clock.now_ms();
        self.entries
            .borrow()
            .get(key)
            .and_then(|(value, version, expires)| {
                expires.is_none_or(|at| at > now).then(|| KvEntry {
                    value: value.clone(),
                    version: *version,
                })
            })
    }

    fn write(&self, key: &str, value: &[u8], ttl_ms: Option<u64>) -> u64 {
        self.version.set(self.version.get() + 1);
        let expires = ttl_ms.map(|ttl| self.clock.now_ms() + ttl);
        self.entries.borrow_mut().insert(
            key.to_owned(),
            (value.to_vec(), self.version.get(), expires),
        );
        self.version.get()
    }

    /// Everything stored, keys and values, as text (for leak checks).
    pub fn dump(&self) -> String {
        self.entries
            .borrow()
            .iter()
            .fold(String::new(), |mut out, (k, (v, _, _))| {
                out.push_str(&format!("{k}={}\n", String::from_utf8_lossy(v)));
                out
            })
    }
}

impl KeyValue for MemoryKv<'_> {
    async fn get(&self, key: &str) -> Result<Option<KvEntry>, KvError> {
        Ok(self.live(key))
    }
    async fn put(&self, key: &str, value: &[u8], ttl_ms: Option<u64>) -> Result<u64, KvError> {
        Ok(self.write(key, value, ttl_ms))
    }
    async fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<u64>,
        value: &[u8],
        ttl_ms: Option<u64>,
    ) -> Result<u64, KvError> {
        let current = self.live(key).map(|e| e.version);
        if current != expected {
            return Err(KvError::Conflict(current));
        }
        Ok(self.write(key, value, ttl_ms))
    }
    async fn take(&self, key: &str) -> Result<Option<KvEntry>, KvError> {
        let entry = self.live(key);
        self.entries.borrow_mut().remove(key);
        Ok(entry)
    }
    async fn delete(&self, key: &str) -> Result<bool, KvError> {
        let existed = self.live(key).is_some();
        self.entries.borrow_mut().remove(key);
        Ok(existed)
    }
    async fn wait(&self, key: &str, _timeout_ms: u32) -> Result<Option<KvEntry>, KvError> {
        // Nothing else runs while a test waits: what is there now is all there is.
        self.get(key).await
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
/// audit trail in memory, no configuration, no outbound HTTP.
pub struct MemoryHost<'c, S> {
    /// The SQL port.
    pub sql: S,
    /// The key-value port.
    pub kv: MemoryKv<'c>,
    /// The audit trail.
    pub audit: MemoryAudit,
    /// The clock the key-value port reads too.
    pub clock: &'c TestClock,
    /// The randomness.
    pub random: Counter,
}

impl<'c, S: Sql> MemoryHost<'c, S> {
    /// A host over `sql` at `clock`'s time.
    pub fn new(clock: &'c TestClock, sql: S) -> Self {
        Self {
            sql,
            kv: MemoryKv::new(clock),
            audit: MemoryAudit::default(),
            clock,
            random: Counter::default(),
        }
    }
}

impl<'c, S: Sql> Host for MemoryHost<'c, S> {
    type KeyValue = MemoryKv<'c>;
    type Sql = S;
    type Audit = MemoryAudit;
    type Config = NoConfig;
    type Fetch = NoFetch;
    type Clock = TestClock;
    type Random = Counter;
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
        &NoConfig
    }
    fn fetch(&self) -> &Self::Fetch {
        &NoFetch
    }
    fn clock(&self) -> &Self::Clock {
        self.clock
    }
    fn random(&self) -> &Self::Random {
        &self.random
    }
}
