//! The key-value port (`wit/ports.wit`, interface `key-value`) over a SQLite driver.
//!
//! Why it is linearizable: every operation that decides on what it read — put (the
//! version counter), compare-and-swap, take, delete — reads and writes inside one
//! [`Driver::immediate`] transaction, which holds the database's write lock from its
//! first statement. Of concurrent callers, one transaction runs to its end before the
//! next begins, so exactly one sees a given version and writes after it, and exactly
//! one takes a given entry. Reads (`get`) see the last committed write.
//!
//! Versions come from one counter per store (`kv_version`), so a key deleted and
//! written again never repeats a version: a stale compare-and-swap cannot succeed.
//! Expiry is decided on every read against the caller's clock; expired rows are
//! invisible at once and deleted by the next write.

use std::future::Future;

use learner_core::ports::{
    KvEntry, KvError, SqlValue, check_kv_args, counter_added, counter_bytes, counter_of,
};

use crate::driver::{Connection, Driver, as_u64, integer};
use crate::kv_protocol::{KvAnswer, KvOp};
use crate::schema;

/// How often a host that cannot be told of writes looks again while it waits for a key
/// ([`KvStore::wait_polling`]).
pub const WAIT_POLL_MS: u64 = 20;

/// A key-value store in one SQLite database, deciding expiry by the clock `N`.
pub struct KvStore<D, N = fn() -> u64> {
    driver: D,
    now_ms: N,
}

impl<D: Driver, N: Fn() -> u64> KvStore<D, N> {
    /// The store over `driver`'s database, deciding expiry by the host's wall clock
    /// `now_ms` (milliseconds since the Unix epoch); call [`KvStore::prepare`] once
    /// before use.
    pub fn new(driver: D, now_ms: N) -> Self {
        Self { driver, now_ms }
    }

    /// Creates the store's tables where they are missing.
    pub fn prepare(&self) -> Result<(), KvError> {
        self.driver.autocommit(|db| {
            for statement in schema::statements(schema::KV_SCHEMA) {
                db.query(&statement, &[])?;
            }
            Ok(())
        })
    }

    /// The driver underneath (hosts reach their database through it).
    pub fn driver(&self) -> &D {
        &self.driver
    }

    /// Applies one operation. `Wait` answers at once with what is there: waiting is
    /// the transport's ([`KvStore::wait_polling`], or a Durable Object's wakers).
    pub fn apply(&self, op: KvOp) -> KvAnswer {
        KvAnswer::from(self.run(op))
    }

    fn run(&self, op: KvOp) -> Result<KvAnswer, KvError> {
        check_kv_args(op.key(), op.value())?;
        let now_ms = (self.now_ms)();
        let db = &self.driver;
        match op {
            KvOp::Get { key } | KvOp::Wait { key, .. } => db
                .autocommit(|db| live(db, &key, now_ms))
                .map(KvAnswer::from_entry),
            KvOp::Put { key, value, ttl_ms } => db
                .immediate(|db| write(db, &key, &value, ttl_ms, now_ms))
                .map(KvAnswer::Version),
            KvOp::CompareAndSwap {
                key,
                expected,
                value,
                ttl_ms,
            } => db
                .immediate(|db| {
                    let current = live(db, &key, now_ms)?.map(|entry| entry.version);
                    if current != expected {
                        return Err(KvError::Conflict(current));
                    }
                    write(db, &key, &value, ttl_ms, now_ms)
                })
                .map(KvAnswer::Version),
            // Of concurrent takers, one reads the entry: the others find it deleted.
            KvOp::Take { key } => db
                .immediate(|db| {
                    let entry = live(db, &key, now_ms)?;
                    db.query(schema::KV_DELETE, &[text(&key)])?;
                    Ok(entry)
                })
                .map(KvAnswer::from_entry),
            KvOp::Delete { key } => db
                .immediate(|db| {
                    let existed = live(db, &key, now_ms)?.is_some();
                    db.query(schema::KV_DELETE, &[text(&key)])?;
                    Ok(existed)
                })
                .map(KvAnswer::Deleted),
            // Read and written in one transaction: concurrent adds each count.
            KvOp::Add { key, delta, ttl_ms } => db
                .immediate(|db| {
                    let count = live(db, &key, now_ms)?.map_or(0, |e| counter_of(&e.value));
                    let count = counter_added(count, delta);
                    write(db, &key, &counter_bytes(count), ttl_ms, now_ms)?;
                    Ok(count)
                })
                .map(KvAnswer::Count),
        }
    }

    /// Deletes the entries that have expired (already invisible); how many.
    pub fn purge_expired(&self) -> Result<usize, KvError> {
        let now_ms = (self.now_ms)();
        self.driver.immediate(|db| purge(db, now_ms))
    }

    /// Waits up to `timeout_ms` for a live entry at `key`, looking every
    /// [`WAIT_POLL_MS`]: for hosts that cannot be told when a key is written.
    /// `sleep_ms` waits (a host with nothing else to do may block in it).
    pub async fn wait_polling<S, F>(
        &self,
        key: &str,
        timeout_ms: u32,
        sleep_ms: S,
    ) -> Result<Option<KvEntry>, KvError>
    where
        S: Fn(u64) -> F,
        F: Future<Output = ()>,
    {
        let deadline = (self.now_ms)().saturating_add(u64::from(timeout_ms));
        loop {
            let now = (self.now_ms)();
            let key = key.to_owned();
            if let Some(entry) = self.apply(KvOp::Get { key }).entry()? {
                return Ok(Some(entry));
            }
            if now >= deadline {
                return Ok(None);
            }
            sleep_ms(WAIT_POLL_MS.min(deadline - now)).await;
        }
    }
}

fn text(value: &str) -> SqlValue {
    SqlValue::Text(value.to_owned())
}

/// The entry at `key` unless it has expired by `now_ms`.
fn live<C: Connection>(db: &C, key: &str, now_ms: u64) -> Result<Option<KvEntry>, KvError> {
    let found = db.query(schema::KV_GET_LIVE, &[text(key), integer(now_ms)])?;
    let Some(row) = found.rows.into_iter().next() else {
        return Ok(None);
    };
    let mut values = row.into_iter();
    let (value, version) = (values.next(), values.next());
    let value = match value {
        Some(SqlValue::Blob(bytes)) => bytes,
        // An empty BLOB may come back as NULL from some drivers.
        Some(SqlValue::Null) => Vec::new(),
        other => return Err(malformed("value", other.as_ref())),
    };
    let version = version
        .as_ref()
        .and_then(as_u64)
        .ok_or_else(|| malformed("version", version.as_ref()))?;
    Ok(Some(KvEntry { value, version }))
}

fn malformed(column: &str, found: Option<&SqlValue>) -> KvError {
    KvError::Backend(format!("malformed key-value {column}: {found:?}"))
}

fn purge<C: Connection>(db: &C, now_ms: u64) -> Result<usize, KvError> {
    Ok(db
        .query(schema::KV_PURGE_EXPIRED, &[integer(now_ms)])?
        .rows
        .len())
}

/// Writes `key` at the next version.
fn write<C: Connection>(
    db: &C,
    key: &str,
    value: &[u8],
    ttl_ms: Option<u64>,
    now_ms: u64,
) -> Result<u64, KvError> {
    // Expired rows are invisible already; deleting them here only frees their space
    // (an indexed range delete).
    purge(db, now_ms)?;
    let counter = db.query(schema::KV_NEXT_VERSION, &[])?;
    let next = counter.rows.first().and_then(|row| row.first());
    let version = next
        .and_then(as_u64)
        .ok_or_else(|| malformed("version counter", next))?;
    let expires = ttl_ms.map_or(SqlValue::Null, |ttl| integer(now_ms.saturating_add(ttl)));
    db.query(
        schema::KV_UPSERT,
        &[
            text(key),
            SqlValue::Blob(value.to_vec()),
            integer(version),
            expires,
        ],
    )?;
    Ok(version)
}
