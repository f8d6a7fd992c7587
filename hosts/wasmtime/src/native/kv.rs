//! The key-value port: the shared store (`learner_storage::kv`) over a SQLite file.

use std::path::Path;

use learner_storage::kv::KvStore;

use super::now_ms;
use learner_storage::native::SqliteFile;

/// The harness's key-value store.
pub type SqliteKv = KvStore<SqliteFile>;

/// Opens (creating if needed) the store at `path`.
pub fn open(path: &Path) -> wasmtime::Result<SqliteKv> {
    let store = KvStore::new(SqliteFile::open(path)?, now_ms as fn() -> u64);
    store.prepare()?;
    Ok(store)
}

#[cfg(test)]
mod tests {
    use learner_core::ports::KvError;
    use learner_storage::kv_protocol::{KvAnswer, KvOp};

    use super::*;

    fn store() -> (tempfile::TempDir, SqliteKv) {
        super::super::in_temp_dir("kv.db", open)
    }

    fn put(kv: &SqliteKv, key: &str, value: &[u8], ttl_ms: Option<u64>) -> KvAnswer {
        kv.apply(KvOp::Put {
            key: key.into(),
            value: value.to_vec(),
            ttl_ms,
        })
    }

    fn swap(kv: &SqliteKv, key: &str, expected: Option<u64>, value: &[u8]) -> KvAnswer {
        let (key, value) = (key.into(), value.to_vec());
        kv.apply(KvOp::CompareAndSwap {
            key,
            expected,
            value,
            ttl_ms: None,
        })
    }

    #[test]
    fn versions_never_repeat_after_delete_and_rewrite() {
        let (_dir, kv) = store();
        let v1 = put(&kv, "k", b"a", None).version().unwrap();
        assert!(
            kv.apply(KvOp::Delete { key: "k".into() })
                .deleted()
                .unwrap()
        );
        let v2 = put(&kv, "k", b"b", None).version().unwrap();
        assert!(v2 > v1);
        assert_eq!(
            swap(&kv, "k", Some(v1), b"c").version(),
            Err(KvError::Conflict(Some(v2)))
        );
    }

    #[test]
    fn zero_ttl_is_absent_at_once() {
        let (_dir, kv) = store();
        put(&kv, "k", b"a", Some(0)).version().unwrap();
        assert_eq!(
            kv.apply(KvOp::Get { key: "k".into() }),
            KvAnswer::Entry(None)
        );
        assert!(matches!(swap(&kv, "k", None, b"b"), KvAnswer::Version(_)));
        assert_eq!(kv.purge_expired().unwrap(), 0);
    }
}
