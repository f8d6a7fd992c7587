-- The key-value port's table (harness, Spin, Durable Object). Statements end with ';'
-- at the end of a line: that is where every host splits this script.
CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL,
    version INTEGER NOT NULL,
    expires_at_ms INTEGER
);
CREATE INDEX IF NOT EXISTS kv_expiry ON kv (expires_at_ms) WHERE expires_at_ms IS NOT NULL;
-- One counter for all keys: a key deleted and written again never reuses a version,
-- so a stale compare-and-swap cannot succeed (no ABA).
CREATE TABLE IF NOT EXISTS kv_version (id INTEGER PRIMARY KEY CHECK (id = 1), last INTEGER NOT NULL);
INSERT OR IGNORE INTO kv_version (id, last) VALUES (1, 0);
