//! What a host supplies: a SQLite connection that runs statements, and a way to run
//! work inside an immediate transaction.

use learner_core::ports::{SqlError, SqlValue};

/// What a statement returned.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rows {
    /// Column names, in order (empty for statements without a result set).
    pub columns: Vec<String>,
    /// Rows, one value per column.
    pub rows: Vec<Vec<SqlValue>>,
}

/// One SQLite connection as a host reaches it.
pub trait Connection {
    /// Runs one statement with positional parameters.
    fn query(&self, sql: &str, params: &[SqlValue]) -> Result<Rows, SqlError>;
}

/// SQLite's change counters, which the SQL port reports from
/// ([`crate::sql_port::execute`]).
pub trait Counters: Connection {
    /// Rows changed on this connection since it was opened (`total_changes()`).
    fn total_changes(&self) -> Result<u64, SqlError>;
    /// The rowid of the last row inserted on this connection.
    fn last_insert_rowid(&self) -> Result<i64, SqlError>;
}

/// A SQLite database as a host opens it.
pub trait Driver {
    /// The connection work runs on.
    type Connection: Connection;

    /// Whether one call's work is atomic without a transaction: true of a Durable
    /// Object, which runs one event at a time and whose storage takes no transaction
    /// statements (see `hosts/cloudflare/src/kv_object.rs`).
    const ATOMIC_WITHOUT_TRANSACTION: bool = false;

    /// Runs `work` on the connection without an explicit transaction (each statement
    /// commits by itself).
    fn autocommit<T, E: From<SqlError>>(
        &self,
        work: impl FnOnce(&Self::Connection) -> Result<T, E>,
    ) -> Result<T, E>;

    /// Runs `work` inside an immediate transaction: the write lock is held from the
    /// first statement, so nothing else writes between the reads and writes `work`
    /// makes. Committed when `work` returns `Ok`, rolled back otherwise. The key-value
    /// port's compare-and-swap and take are linearizable because of this promise.
    fn immediate<T, E: From<SqlError>>(
        &self,
        work: impl FnOnce(&Self::Connection) -> Result<T, E>,
    ) -> Result<T, E> {
        if Self::ATOMIC_WITHOUT_TRANSACTION {
            self.autocommit(work)
        } else {
            self.autocommit(|db| in_immediate_transaction(db, work))
        }
    }
}

/// A value read back as a non-negative integer: versions, sequences and times. Durable
/// Objects hand numbers over as JavaScript numbers, which may come back as REAL; an
/// integral one counts.
pub(crate) fn as_u64(value: &SqlValue) -> Option<u64> {
    match value {
        SqlValue::Integer(i) => u64::try_from(*i).ok(),
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // checked: integral, ≥ 0
        SqlValue::Real(r) if r.fract() == 0.0 && *r >= 0.0 => Some(*r as u64),
        _ => None,
    }
}

/// The largest integer every backend keeps exact (Durable Objects pass numbers through
/// JavaScript).
pub const MAX_PORTABLE_INTEGER: i64 = (1 << 53) - 1;

/// A time, version or sequence as a SQL integer, saturating at
/// [`MAX_PORTABLE_INTEGER`] (milliseconds reach it in the year 287,000; a time to live
/// of "forever" is clamped there).
pub(crate) fn integer(value: u64) -> SqlValue {
    SqlValue::Integer(
        i64::try_from(value).map_or(MAX_PORTABLE_INTEGER, |v| v.min(MAX_PORTABLE_INTEGER)),
    )
}

/// Runs `work` between `BEGIN IMMEDIATE` and `COMMIT` — or `ROLLBACK` when it fails —
/// on a connection that takes transaction statements (every SQLite driver's but the
/// Durable Object's, whose single-threaded events make its work atomic instead).
fn in_immediate_transaction<C: Connection, T, E: From<SqlError>>(
    db: &C,
    work: impl FnOnce(&C) -> Result<T, E>,
) -> Result<T, E> {
    db.query("BEGIN IMMEDIATE", &[])?;
    let outcome = work(db);
    let end = if outcome.is_ok() {
        "COMMIT"
    } else {
        "ROLLBACK"
    };
    if let Err(error) = db.query(end, &[]) {
        // A failed COMMIT leaves the transaction open: end it, and report.
        let _ = db.query("ROLLBACK", &[]);
        return Err(error.into());
    }
    outcome
}

/// Writes a driver's value conversions for a native value enum with one variant per
/// SQLite storage class: `to_native(&SqlValue)` and `from_native(native)`. Variants
/// beyond the five (a JavaScript boolean, say) are read as the class given.
#[macro_export]
macro_rules! native_values {
    ($native:path { $null:ident, $int:ident, $real:ident, $text:ident, $blob:ident }
     $(, $extra:ident($x:ident) => $read:expr)* $(,)?) => {
        fn to_native(value: &$crate::SqlValue) -> $native {
            use $native as N;
            match value {
                $crate::SqlValue::Null => N::$null,
                $crate::SqlValue::Integer(i) => N::$int(*i),
                $crate::SqlValue::Real(r) => N::$real(*r),
                $crate::SqlValue::Text(t) => N::$text(t.clone()),
                $crate::SqlValue::Blob(b) => N::$blob(b.clone()),
            }
        }

        // A driver may read its values another way (rusqlite lends them).
        #[allow(dead_code)]
        fn from_native(value: $native) -> $crate::SqlValue {
            use $native as N;
            match value {
                N::$null => $crate::SqlValue::Null,
                N::$int(i) => $crate::SqlValue::Integer(i),
                N::$real(r) => $crate::SqlValue::Real(r),
                N::$text(t) => $crate::SqlValue::Text(t),
                N::$blob(b) => $crate::SqlValue::Blob(b),
                $(N::$extra($x) => $read,)*
            }
        }
    };
}
