//! The audit port (`wit/ports.wit`, interface `audit`) over any SQL port: the
//! hash-chained append and the read, for every host.
//!
//! Why the chain stays whole under concurrent appends: an append names the sequence
//! after the head it read (`last + 1`) and links to the head's hash; the table's
//! primary key lets only one append take a sequence. The loser's insert is refused, it
//! reads the new head and links after it. The head is read and the entry inserted as
//! two statements on every host, so this race, not a transaction, is what keeps the
//! chain linear everywhere. (On Cloudflare both run in one event of the trail's Durable
//! Object, where nothing interleaves: the race never starts there.)

use learner_core::audit_chain;
use learner_core::ports::{
    Audit, AuditEntry, AuditError, AuditRecord, Sql, SqlError, SqlValue, Statement,
};

use crate::driver::{as_u64, integer};
use crate::schema;

/// How many times an append tries again after losing the race for the next sequence.
pub const APPEND_ATTEMPTS: usize = 16;

/// The head of the chain: the last sequence (0 when empty) and its hash.
async fn head<S: Sql>(db: &S) -> Result<(u64, String), AuditError> {
    let found = db
        .execute(&Statement::new(schema::AUDIT_LAST, Vec::new()))
        .await
        .map_err(|e| failed(&e))?;
    match found.rows.first().map(Vec::as_slice) {
        None => Ok((0, audit_chain::GENESIS.to_owned())),
        Some([sequence, SqlValue::Text(hash)]) => as_u64(sequence)
            .map(|sequence| (sequence, hash.clone()))
            .ok_or_else(|| AuditError(format!("malformed audit head {sequence:?}"))),
        Some(other) => Err(AuditError(format!("malformed audit head {other:?}"))),
    }
}

fn failed(error: &SqlError) -> AuditError {
    AuditError(error.to_string())
}

/// Appends `record` at the head of the chain; its sequence number.
pub async fn append<S: Sql>(db: &S, record: &AuditRecord) -> Result<u64, AuditError> {
    let (mut last, mut prev_hash) = head(db).await?;
    for _ in 0..APPEND_ATTEMPTS {
        let sequence = last + 1;
        let hash = audit_chain::link(&prev_hash, sequence, record);
        let insert = Statement::new(
            schema::AUDIT_APPEND,
            vec![
                integer(sequence),
                integer(record.at_ms),
                SqlValue::Text(record.kind.clone()),
                SqlValue::Text(record.actor.clone()),
                SqlValue::Text(record.outcome.clone()),
                SqlValue::Text(record.detail_json.clone()),
                SqlValue::Text(prev_hash),
                SqlValue::Text(hash),
            ],
        );
        match db.execute(&insert).await {
            Ok(_) => return Ok(sequence),
            Err(SqlError::Statement(refused)) => {
                // Another append took the sequence (the head moved: link after it), or
                // the database refused the entry itself (it did not: give up).
                let moved = head(db).await?;
                if moved.0 == last {
                    return Err(AuditError(format!(
                        "the audit entry was refused: {refused}"
                    )));
                }
                (last, prev_hash) = moved;
            }
            Err(backend) => return Err(failed(&backend)),
        }
    }
    Err(AuditError(format!(
        "the append lost the race for the next sequence {APPEND_ATTEMPTS} times"
    )))
}

/// Entries with `sequence > after`, oldest first, at most `limit` of them.
pub async fn read<S: Sql>(db: &S, after: u64, limit: u32) -> Result<Vec<AuditEntry>, AuditError> {
    let found = db
        .execute(&Statement::new(
            schema::AUDIT_READ,
            vec![integer(after), SqlValue::Integer(i64::from(limit))],
        ))
        .await
        .map_err(|e| failed(&e))?;
    found.rows.iter().map(|row| entry(row)).collect()
}

fn entry(row: &[SqlValue]) -> Result<AuditEntry, AuditError> {
    let malformed = |row: &[SqlValue]| AuditError(format!("malformed audit row {row:?}"));
    let [
        sequence,
        at_ms,
        kind,
        actor,
        outcome,
        detail_json,
        prev_hash,
        hash,
    ] = row
    else {
        return Err(malformed(row));
    };
    let text = |value: &SqlValue| match value {
        SqlValue::Text(text) => Some(text.clone()),
        _ => None,
    };
    let parsed = (|| {
        Some(AuditEntry {
            sequence: as_u64(sequence)?,
            record: AuditRecord {
                at_ms: as_u64(at_ms)?,
                kind: text(kind)?,
                actor: text(actor)?,
                outcome: text(outcome)?,
                detail_json: text(detail_json)?,
            },
            prev_hash: text(prev_hash)?,
            hash: text(hash)?,
        })
    })();
    parsed.ok_or_else(|| malformed(row))
}

/// The audit port over the SQL port `S`: the trail lives in `S`'s table `audit_log`.
pub struct AuditTrail<S>(pub S);

impl<S: Sql> Audit for AuditTrail<S> {
    async fn append(&self, record: &AuditRecord) -> Result<u64, AuditError> {
        append(&self.0, record).await
    }
    async fn read(&self, after: u64, limit: u32) -> Result<Vec<AuditEntry>, AuditError> {
        read(&self.0, after, limit).await
    }
}
