//! The key-value port over SQLite.
//!
//! Linearizability: every operation runs under one connection mutex inside an
//! immediate transaction, so compare-and-swap and take are atomic against every other
//! caller of this process; SQLite's file lock covers other processes.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use learner_core::ports::{KvEntry, KvError, check_kv_args};
use learner_host_sql as sql;

use super::{now_ms, open_database};

fn backend(error: rusqlite::Error) -> KvError {
    KvError::Backend(error.to_string())
}

/// Key-value store in one SQLite file.
pub struct SqliteKv {
    conn: Mutex<Connection>,
}

fn expiry(ttl_ms: Option<u64>) -> Option<i64> {
    ttl_ms.map(|ttl| i64::try_from(now_ms().saturating_add(ttl)).unwrap_or(i64::MAX))
}

fn live_entry(tx: &Connection, key: &str) -> rusqlite::Result<Option<KvEntry>> {
    tx.query_row(sql::KV_GET_LIVE, params![key, now_ms() as i64], |row| {
        Ok(KvEntry {
            value: row.get(0)?,
            version: row.get::<_, i64>(1)? as u64,
        })
    })
    .optional()
}

fn write(tx: &Connection, key: &str, value: &[u8], ttl_ms: Option<u64>) -> rusqlite::Result<u64> {
    let version: i64 = tx.query_row(sql::KV_NEXT_VERSION, [], |row| row.get(0))?;
    tx.execute(sql::KV_UPSERT, params![key, value, version, expiry(ttl_ms)])?;
    Ok(version as u64)
}

impl SqliteKv {
    /// Opens (creating if needed) the store at `path`.
    pub fn open(path: &Path) -> wasmtime::Result<Self> {
        let conn = open_database(path)?;
        conn.execute_batch(sql::KV_SCHEMA)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn with_tx<T>(&self, f: impl FnOnce(&Connection) -> Result<T, KvError>) -> Result<T, KvError> {
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| KvError::Backend("key-value connection poisoned".into()))?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        let out = f(&tx)?;
        tx.commit().map_err(backend)?;
        Ok(out)
    }

    /// Reads a live entry.
    pub fn get(&self, key: &str) -> Result<Option<KvEntry>, KvError> {
        check_kv_args(key, None)?;
        self.with_tx(|tx| live_entry(tx, key).map_err(backend))
    }

    /// Writes unconditionally.
    pub fn put(&self, key: &str, value: &[u8], ttl_ms: Option<u64>) -> Result<u64, KvError> {
        check_kv_args(key, Some(value))?;
        self.with_tx(|tx| write(tx, key, value, ttl_ms).map_err(backend))
    }

    /// Writes only at `expected` (None: only if absent).
    pub fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<u64>,
        value: &[u8],
        ttl_ms: Option<u64>,
    ) -> Result<u64, KvError> {
        check_kv_args(key, Some(value))?;
        self.with_tx(|tx| {
            let current = live_entry(tx, key).map_err(backend)?.map(|e| e.version);
            if current != expected {
                return Err(KvError::Conflict(current));
            }
            write(tx, key, value, ttl_ms).map_err(backend)
        })
    }

    /// Reads and deletes atomically.
    pub fn take(&self, key: &str) -> Result<Option<KvEntry>, KvError> {
        check_kv_args(key, None)?;
        self.with_tx(|tx| {
            let entry = live_entry(tx, key).map_err(backend)?;
            tx.execute(sql::KV_DELETE, params![key]).map_err(backend)?;
            Ok(entry)
        })
    }

    /// Deletes; returns whether a live entry was there.
    pub fn delete(&self, key: &str) -> Result<bool, KvError> {
        check_kv_args(key, None)?;
        self.with_tx(|tx| {
            let existed = live_entry(tx, key).map_err(backend)?.is_some();
            tx.execute(sql::KV_DELETE, params![key]).map_err(backend)?;
            Ok(existed)
        })
    }

    /// Removes expired entries; returns how many.
    pub fn purge_expired(&self) -> Result<usize, KvError> {
        self.with_tx(|tx| {
            tx.execute(sql::KV_PURGE_EXPIRED, params![now_ms() as i64])
                .map_err(backend)
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
