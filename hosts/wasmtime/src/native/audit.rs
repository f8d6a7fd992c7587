//! The audit port: the shared hash-chained append and read (`learner_storage::audit`)
//! over their own SQLite file, apart from the application's database.

use std::path::Path;

use learner_core::executor::block_on;
use learner_core::ports::{Audit, AuditEntry, AuditRecord};
use learner_storage::audit::AuditTrail;
use learner_storage::sql_port::SqlPort;
use learner_storage::{Connection, Driver, schema};

use learner_storage::native::SqliteFile;

/// The audit trail in one SQLite file.
pub struct SqliteAudit(pub AuditTrail<SqlPort<SqliteFile>>);

/// The native store answers at once; a future that did not is a bug, not a wait.
fn now<T>(
    future: impl Future<Output = Result<T, learner_core::ports::AuditError>>,
) -> Result<T, String> {
    match block_on(future) {
        Some(outcome) => outcome.map_err(|e| e.0),
        None => Err("the audit store did not answer at once".into()),
    }
}

impl SqliteAudit {
    /// Opens (creating if needed) the trail at `path`.
    pub fn open(path: &Path) -> wasmtime::Result<Self> {
        let file = SqliteFile::open(path)?;
        file.autocommit(|db| {
            schema::statements(schema::AUDIT_SCHEMA).try_for_each(|s| db.query(&s, &[]).map(drop))
        })?;
        Ok(Self(AuditTrail(SqlPort(file))))
    }

    /// Opens an existing trail for reading only (`audit verify`, `audit export`): a
    /// missing file or table is an error rather than a new empty trail.
    pub fn open_read_only(path: &Path) -> wasmtime::Result<Self> {
        let file = SqliteFile::open_read_only(path)?;
        file.autocommit(|db| db.query("SELECT COUNT(*) FROM audit_log", &[]))?;
        Ok(Self(AuditTrail(SqlPort(file))))
    }

    /// Appends at the chain's head; returns the sequence number.
    pub fn append(&self, record: &AuditRecord) -> Result<u64, String> {
        now(self.0.append(record))
    }

    /// Entries after `after`, oldest first.
    pub fn read(&self, after: u64, limit: u32) -> Result<Vec<AuditEntry>, String> {
        now(self.0.read(after, limit))
    }
}
