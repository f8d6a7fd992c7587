//! The audit port over SQLite: an append-only table (enforced by triggers) whose
//! entries form a hash chain.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};

use learner_core::audit_chain;
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

    /// Opens an existing log for reading only (`audit verify`, `audit export`): a
    /// missing file or table is an error rather than a new empty log.
    pub fn open_read_only(path: &Path) -> wasmtime::Result<Self> {
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.query_row("SELECT COUNT(*) FROM audit_log", [], |_| Ok(()))?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Connection>, String> {
        self.conn
            .lock()
            .map_err(|_| "audit connection poisoned".to_string())
    }

    /// Appends at the chain's head; returns the sequence number. The connection's lock
    /// and an immediate transaction keep the head from moving between read and write.
    pub fn append(&self, record: &Record) -> Result<u64, String> {
        let mut conn = self.lock()?;
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| e.to_string())?;
        let head: Option<(i64, String)> = tx
            .query_row(sql::AUDIT_LAST, [], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()
            .map_err(|e| e.to_string())?;
        let (last, prev_hash) = head.unwrap_or((0, audit_chain::GENESIS.to_owned()));
        let sequence = last as u64 + 1;
        let hash = audit_chain::link(&prev_hash, sequence, record);
        tx.execute(
            sql::AUDIT_APPEND,
            params![
                last + 1,
                i64::try_from(record.at_ms).unwrap_or(i64::MAX),
                record.kind,
                record.actor,
                record.outcome,
                record.detail_json,
                prev_hash,
                hash
            ],
        )
        .map_err(|e| e.to_string())?;
        tx.commit().map_err(|e| e.to_string())?;
        Ok(sequence)
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
                        prev_hash: row.get(6)?,
                        hash: row.get(7)?,
                    })
                },
            )
            .map_err(|e| e.to_string())?;
        rows.collect::<Result<_, _>>().map_err(|e| e.to_string())
    }
}
