//! The rows a tenant is written as, batched into multi-row `INSERT` statements.

use learner_core::ports::{SqlValue, Statement};

/// Rows to insert, batched.
pub(super) struct Rows {
    statements: Vec<Statement>,
    /// `table(columns)` of the last statement, which more rows of the same table join.
    last: String,
}

/// Most parameters one statement carries (Cloudflare D1 allows 100).
pub(super) const MAX_PARAMS: usize = 100;

impl Rows {
    /// No rows yet.
    pub(super) fn new() -> Self {
        Self {
            statements: Vec::new(),
            last: String::new(),
        }
    }

    /// Adds a row; consecutive rows of one table share a multi-row `INSERT` while its
    /// parameters fit, so a tenant takes about a tenth of the statements.
    pub(super) fn insert(&mut self, table: &str, columns: &[&str], values: Vec<SqlValue>) {
        let target = format!("{table} ({})", columns.join(", "));
        let tuple = format!("({})", vec!["?"; columns.len()].join(", "));
        if let Some(last) = self.statements.last_mut()
            && self.last == target
            && last.params.len() + values.len() <= MAX_PARAMS
        {
            last.sql.push_str(", ");
            last.sql.push_str(&tuple);
            last.params.extend(values);
            return;
        }
        self.statements.push(Statement::new(
            format!("INSERT INTO {target} VALUES {tuple}"),
            values,
        ));
        self.last = target;
    }

    /// Takes the statements written so far.
    pub(super) fn take(&mut self) -> Vec<Statement> {
        self.last.clear();
        std::mem::take(&mut self.statements)
    }
}
