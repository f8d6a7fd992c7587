//! The audit port over SQLite: an append-only table, enforced by triggers.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, params};

use learner_core::ports::{AuditEntry, AuditRecord as Record};
use learner_host_sql as sql;

use super::open_database;

/// Append-only audit log in one SQLite file.
pub struct SqliteAudit {
    conn: Mutex<Connection>,
}

impl SqliteAudit {
    /// Opens (creating if needed) the log at `path`.
    pub fn open(path: &Path) -> wasmtime::Result<Self> {
        let conn = open_database(path)?;
        conn.execute_batch(sql::AUDIT_SCHEMA)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Connection>, String> {
        self.conn
            .lock()
            .map_err(|_| "audit connection poisoned".to_string())
    }

    /// Appends; returns the sequence number (the rowid: gapless, as nothing is deleted).
    pub fn append(&self, record: &Record) -> Result<u64, String> {
        let conn = self.lock()?;
        conn.execute(
            sql::AUDIT_APPEND,
            params![
                i64::try_from(record.at_ms).unwrap_or(i64::MAX),
                record.kind,
                record.actor,
                record.outcome,
                record.detail_json
            ],
        )
        .map_err(|e| e.to_string())?;
        Ok(conn.last_insert_rowid() as u64)
    }

    /// Entries after `after`, oldest first.
    pub fn read(&self, after: u64, limit: u32) -> Result<Vec<AuditEntry>, String> {
        let conn = self.lock()?;
        let mut statement = conn
            .prepare_cached(sql::AUDIT_READ)
            .map_err(|e| e.to_string())?;
        let rows = statement
            .query_map(
                params![i64::try_from(after).unwrap_or(i64::MAX), limit],
                |row| {
                    Ok(AuditEntry {
                        sequence: row.get::<_, i64>(0)? as u64,
                        record: Record {
                            at_ms: row.get::<_, i64>(1)? as u64,
                            kind: row.get(2)?,
                            actor: row.get(3)?,
                            outcome: row.get(4)?,
                            detail_json: row.get(5)?,
                        },
                    })
                },
            )
            .map_err(|e| e.to_string())?;
        rows.collect::<Result<_, _>>().map_err(|e| e.to_string())
    }
}
