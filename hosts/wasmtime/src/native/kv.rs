//! The key-value port: the shared store (`learner_storage::kv`) over a SQLite file.

use std::path::Path;

use learner_storage::kv::KvStore;

use super::now_ms;
use learner_storage::native::SqliteFile;

/// The harness's key-value store.
pub type SqliteKv = KvStore<SqliteFile>;

/// Opens (creating if needed) the store at `path`.
pub fn open(path: &Path) -> wasmtime::Result<SqliteKv> {
    let store = KvStore::new(SqliteFile::open(path)?, now_ms);
    store.prepare()?;
    Ok(store)
}

#[cfg(test)]
mod tests {
    use learner_core::ports::KvError;

    use super::*;

    fn store() -> (tempfile::TempDir, SqliteKv) {
        let dir = tempfile::tempdir().expect("temp dir");
        let kv = open(&dir.path().join("kv.db")).expect("open");
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
