//! The SQL text every host runs for its SQLite-backed ports. Parameters are positional
//! `?`; each constant says what it takes and returns.

/// Creates the key-value table, its expiry index and the version counter.
pub const KV_SCHEMA: &str = include_str!("../sql/kv.sql");

/// Creates the append-only audit table.
pub const AUDIT_SCHEMA: &str = include_str!("../sql/audit_log.sql");

/// The live entry for a key: params (key, now_ms) → rows of (value, version).
pub const KV_GET_LIVE: &str =
    "SELECT value, version FROM kv WHERE key = ? AND (expires_at_ms IS NULL OR expires_at_ms > ?)";

/// Takes the next version: no params → one row (version).
pub const KV_NEXT_VERSION: &str =
    "UPDATE kv_version SET last = last + 1 WHERE id = 1 RETURNING last";

/// Writes a key: params (key, value, version, expires_at_ms or NULL).
pub const KV_UPSERT: &str = "INSERT INTO kv (key, value, version, expires_at_ms) VALUES (?, ?, ?, ?) \
     ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = excluded.version, \
     expires_at_ms = excluded.expires_at_ms";

/// Deletes a key: params (key).
pub const KV_DELETE: &str = "DELETE FROM kv WHERE key = ?";

/// Frees expired entries (they are already invisible to reads): params (now_ms) → a
/// row per entry freed.
pub const KV_PURGE_EXPIRED: &str =
    "DELETE FROM kv WHERE expires_at_ms IS NOT NULL AND expires_at_ms <= ? RETURNING 1";

/// The chain's head: no params → zero rows (empty log) or one row of (sequence, hash).
pub const AUDIT_LAST: &str = "SELECT sequence, hash FROM audit_log ORDER BY sequence DESC LIMIT 1";

/// Appends an audit entry: params (sequence, at_ms, kind, actor, outcome, detail_json,
/// prev_hash, hash). Fails on a taken sequence (another append won the race).
pub const AUDIT_APPEND: &str = "INSERT INTO audit_log \
     (sequence, at_ms, kind, actor, outcome, detail_json, prev_hash, hash) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)";

/// Reads audit entries: params (after, limit) → rows of (sequence, at_ms, kind,
/// actor, outcome, detail_json, prev_hash, hash).
pub const AUDIT_READ: &str = "SELECT sequence, at_ms, kind, actor, outcome, detail_json, \
     prev_hash, hash FROM audit_log WHERE sequence > ? ORDER BY sequence LIMIT ?";

/// Splits a schema script into statements (the core's splitter, which migrations use
/// too).
pub use learner_core::ports::sql_statements as statements;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_split_into_whole_statements() {
        let kv: Vec<String> = statements(KV_SCHEMA).collect();
        assert_eq!(kv.len(), 4, "{kv:#?}");
        assert!(kv[0].starts_with("CREATE TABLE IF NOT EXISTS kv ("));
        let audit: Vec<String> = statements(AUDIT_SCHEMA).collect();
        assert_eq!(audit.len(), 3, "{audit:#?}");
        assert!(audit[1].contains("RAISE(ABORT") && audit[1].trim_end().ends_with("END"));
    }
}
