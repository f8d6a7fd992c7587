//! A whole host in memory for this crate's unit tests: the SQL port over in-memory
//! SQLite, key-value in memory, an audit trail in a vector, no configuration, no
//! outbound HTTP.

use std::cell::RefCell;

use learner_core::ports::{
    Audit, AuditEntry, AuditError, AuditRecord, Config, Fetch, FetchError, Host, OutboundRequest,
    OutboundResponse,
};
use learner_core::testing::{Counter, MemoryKv, TestClock};

use crate::gdpr::{AccessRevocation, Revoked};
use crate::test_sql::Memory;

/// The audit trail as a list.
#[derive(Default)]
pub struct Trail(pub RefCell<Vec<AuditRecord>>);

impl Audit for Trail {
    async fn append(&self, record: &AuditRecord) -> Result<u64, AuditError> {
        self.0.borrow_mut().push(record.clone());
        Ok(self.0.borrow().len() as u64)
    }
    async fn read(&self, _after: u64, _limit: u32) -> Result<Vec<AuditEntry>, AuditError> {
        Err(AuditError("not read in these tests".into()))
    }
}

/// No settings.
pub struct NoConfig;

impl Config for NoConfig {
    fn get(&self, _name: &str) -> Option<String> {
        None
    }
    fn secret(&self, _name: &str) -> Option<String> {
        None
    }
}

/// No outbound HTTP.
pub struct NoFetch;

impl Fetch for NoFetch {
    async fn send(&self, _request: &OutboundRequest) -> Result<OutboundResponse, FetchError> {
        Err(FetchError::Denied("no outbound HTTP in these tests".into()))
    }
}

/// The host.
pub struct TestHost<'c> {
    pub sql: Memory,
    pub kv: MemoryKv<'c>,
    pub audit: Trail,
    pub clock: &'c TestClock,
    pub random: Counter,
}

impl<'c> TestHost<'c> {
    pub fn new(clock: &'c TestClock, sql: Memory) -> Self {
        Self {
            sql,
            kv: MemoryKv::new(clock),
            audit: Trail::default(),
            clock,
            random: Counter::default(),
        }
    }
}

impl<'c> Host for TestHost<'c> {
    type KeyValue = MemoryKv<'c>;
    type Sql = Memory;
    type Audit = Trail;
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

/// One revocation asked for: the accounts, and the scopes (all when `None`).
pub type Revocation = (Vec<String>, Option<Vec<String>>);

/// Records what it was asked to revoke.
#[derive(Default)]
pub struct Revocations(pub RefCell<Vec<Revocation>>);

impl AccessRevocation for Revocations {
    async fn revoke(
        &self,
        subjects: &[String],
        scopes: Option<&[&str]>,
    ) -> Result<Revoked, String> {
        self.0.borrow_mut().push((
            subjects.to_vec(),
            scopes.map(|s| s.iter().map(|x| (*x).to_owned()).collect()),
        ));
        Ok(Revoked {
            grants: subjects.len(),
            sessions: 0,
        })
    }
}
