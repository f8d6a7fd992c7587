//! The key-value port over SQLite.
//!
//! Linearizability: every operation runs under one connection mutex inside an
//! immediate transaction, so compare-and-swap and take are atomic against every other
//! caller of this process; SQLite's file lock covers other processes.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::{now_ms, open_database};

/// Why a key-value operation failed (mirrors the WIT `kv-error`).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KvError {
    /// Key or value out of bounds.
    #[error("{0}")]
    InvalidArgument(String),
    /// Compare-and-swap found another version.
    #[error("conflict")]
    Conflict(Option<u64>),
    /// SQLite failed.
    #[error("{0}")]
    Backend(String),
}

impl From<rusqlite::Error> for KvError {
    fn from(error: rusqlite::Error) -> Self {
        Self::Backend(error.to_string())
    }
}

/// Largest key, in bytes (the WIT contract).
pub const MAX_KEY_BYTES: usize = 512;
/// Largest value, in bytes (the WIT contract).
pub const MAX_VALUE_BYTES: usize = 1024 * 1024;

/// A live entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Stored bytes.
    pub value: Vec<u8>,
    /// Version of the write that stored them.
    pub version: u64,
}

/// Key-value store in one SQLite file.
pub struct SqliteKv {
    conn: Mutex<Connection>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL,
    version INTEGER NOT NULL,
    expires_at_ms INTEGER
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS kv_expiry ON kv (expires_at_ms) WHERE expires_at_ms IS NOT NULL;
-- One counter for all keys: a key that is deleted and written again never reuses a
-- version, so a stale compare-and-swap cannot succeed (no ABA).
CREATE TABLE IF NOT EXISTS kv_version (id INTEGER PRIMARY KEY CHECK (id = 1), last INTEGER NOT NULL);
INSERT OR IGNORE INTO kv_version (id, last) VALUES (1, 0);
";

fn check(key: &str, value: Option<&[u8]>) -> Result<(), KvError> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES {
        return Err(KvError::InvalidArgument(format!(
            "key must be 1..={MAX_KEY_BYTES} bytes, got {}",
            key.len()
        )));
    }
    match value {
        Some(v) if v.len() > MAX_VALUE_BYTES => Err(KvError::InvalidArgument(format!(
            "value must be at most {MAX_VALUE_BYTES} bytes, got {}",
            v.len()
        ))),
        _ => Ok(()),
    }
}

fn expiry(ttl_ms: Option<u64>) -> Option<i64> {
    ttl_ms.map(|ttl| i64::try_from(now_ms().saturating_add(ttl)).unwrap_or(i64::MAX))
}

fn live_entry(tx: &Connection, key: &str) -> rusqlite::Result<Option<Entry>> {
    tx.query_row(
        "SELECT value, version FROM kv WHERE key = ?1 AND (expires_at_ms IS NULL OR expires_at_ms > ?2)",
        params![key, now_ms() as i64],
        |row| {
            Ok(Entry {
                value: row.get(0)?,
                version: row.get::<_, i64>(1)? as u64,
            })
        },
    )
    .optional()
}

fn write(tx: &Connection, key: &str, value: &[u8], ttl_ms: Option<u64>) -> rusqlite::Result<u64> {
    let version: i64 = tx.query_row(
        "UPDATE kv_version SET last = last + 1 WHERE id = 1 RETURNING last",
        [],
        |row| row.get(0),
    )?;
    tx.execute(
        "INSERT INTO kv (key, value, version, expires_at_ms) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = excluded.version,
         expires_at_ms = excluded.expires_at_ms",
        params![key, value, version, expiry(ttl_ms)],
    )?;
    Ok(version as u64)
}

impl SqliteKv {
    /// Opens (creating if needed) the store at `path`.
    pub fn open(path: &Path) -> wasmtime::Result<Self> {
        let conn = open_database(path)?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn with_tx<T>(&self, f: impl FnOnce(&Connection) -> Result<T, KvError>) -> Result<T, KvError> {
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| KvError::Backend("key-value connection poisoned".into()))?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Reads a live entry.
    pub fn get(&self, key: &str) -> Result<Option<Entry>, KvError> {
        check(key, None)?;
        self.with_tx(|tx| Ok(live_entry(tx, key)?))
    }

    /// Writes unconditionally.
    pub fn put(&self, key: &str, value: &[u8], ttl_ms: Option<u64>) -> Result<u64, KvError> {
        check(key, Some(value))?;
        self.with_tx(|tx| Ok(write(tx, key, value, ttl_ms)?))
    }

    /// Writes only at `expected` (None: only if absent).
    pub fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<u64>,
        value: &[u8],
        ttl_ms: Option<u64>,
    ) -> Result<u64, KvError> {
        check(key, Some(value))?;
        self.with_tx(|tx| {
            let current = live_entry(tx, key)?.map(|e| e.version);
            if current != expected {
                return Err(KvError::Conflict(current));
            }
            Ok(write(tx, key, value, ttl_ms)?)
        })
    }

    /// Reads and deletes atomically.
    pub fn take(&self, key: &str) -> Result<Option<Entry>, KvError> {
        check(key, None)?;
        self.with_tx(|tx| {
            let entry = live_entry(tx, key)?;
            tx.execute("DELETE FROM kv WHERE key = ?1", params![key])?;
            Ok(entry)
        })
    }

    /// Deletes; returns whether a live entry was there.
    pub fn delete(&self, key: &str) -> Result<bool, KvError> {
        check(key, None)?;
        self.with_tx(|tx| {
            let existed = live_entry(tx, key)?.is_some();
            tx.execute("DELETE FROM kv WHERE key = ?1", params![key])?;
            Ok(existed)
        })
    }

    /// Removes expired entries; returns how many.
    pub fn purge_expired(&self) -> Result<usize, KvError> {
        self.with_tx(|tx| {
            Ok(tx.execute(
                "DELETE FROM kv WHERE expires_at_ms IS NOT NULL AND expires_at_ms <= ?1",
                params![now_ms() as i64],
            )?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, SqliteKv) {
        let dir = tempfile::tempdir().expect("temp dir");
        let kv = SqliteKv::open(&dir.path().join("kv.db")).expect("open");
        (dir, kv)
    }

    #[test]
    fn versions_never_repeat_after_delete_and_rewrite() {
        let (_dir, kv) = store();
        let v1 = kv.put("k", b"a", None).unwrap();
        assert!(kv.delete("k").unwrap());
        let v2 = kv.put("k", b"b", None).unwrap();
        assert!(v2 > v1);
        assert_eq!(
            kv.compare_and_swap("k", Some(v1), b"c", None),
            Err(KvError::Conflict(Some(v2)))
        );
    }

    #[test]
    fn zero_ttl_is_absent_at_once() {
        let (_dir, kv) = store();
        kv.put("k", b"a", Some(0)).unwrap();
        assert_eq!(kv.get("k").unwrap(), None);
        assert_eq!(
            kv.compare_and_swap("k", None, b"b", None).map(|_| ()),
            Ok(())
        );
        assert_eq!(kv.purge_expired().unwrap(), 0);
    }
}
