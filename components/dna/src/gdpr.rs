//! GDPR operations on one learner's record: erasure (the data deleted in one
//! transaction) and consent withdrawal (effective from this instant for every read).
//! Ending the access people hold — grants and live sessions — is the host
//! application's, behind [`AccessRevocation`].

use learner_core::ports::{Sql, SqlError, SqlValue, Statement};
use serde_json::{Map, Value, json};

use crate::privacy::Category;
use crate::text;

/// What ending access did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Revoked {
    /// Grants revoked (with every token issued from them).
    pub grants: usize,
    /// Live MCP sessions ended (their open streams close).
    pub sessions: usize,
}

/// Ends the access that people hold through OAuth grants.
#[allow(async_fn_in_trait)]
pub trait AccessRevocation {
    /// Revokes the grants of `subjects` whose scope names any of `scopes` (every grant
    /// when `None`), and ends the sessions opened under them.
    async fn revoke(&self, subjects: &[String], scopes: Option<&[&str]>)
    -> Result<Revoked, String>;
}

/// The tables holding a learner's record, children first (the order deletion needs).
const RECORD_TABLES: [(&str, &str); 8] = [
    ("learning_events", "learner_id"),
    ("dna_traits", "learner_id"),
    ("concept_mastery", "learner_id"),
    ("struggles", "learner_id"),
    ("consents", "learner_id"),
    ("enrollments", "learner_id"),
    ("guardianships", "learner_id"),
    ("learners", "id"),
];

/// Deletes everything held about `learner` in `tenant`, in one transaction; the rows
/// deleted per table.
pub async fn erase<S: Sql>(
    sql: &S,
    tenant: &str,
    learner: &str,
) -> Result<Map<String, Value>, SqlError> {
    let statements: Vec<Statement> = RECORD_TABLES
        .iter()
        .map(|(table, column)| {
            Statement::new(
                format!("DELETE FROM {table} WHERE {column} = ? AND tenant_id = ?"),
                vec![text(learner), text(tenant)],
            )
        })
        .collect();
    let results = sql.batch(&statements).await?;
    Ok(RECORD_TABLES
        .iter()
        .zip(results)
        .map(|((table, _), result)| ((*table).to_owned(), json!(result.rows_affected)))
        .collect())
}

/// Withdraws, at `now_ms`, every live consent of `learner` in `categories` (for every
/// recipient); the number of consent records withdrawn.
pub async fn withdraw<S: Sql>(
    sql: &S,
    tenant: &str,
    learner: &str,
    categories: &[Category],
    now_ms: u64,
) -> Result<u64, SqlError> {
    let marks = vec!["?"; categories.len()].join(", ");
    let mut params = vec![
        SqlValue::Integer(i64::try_from(now_ms).unwrap_or(i64::MAX)),
        text(learner),
        text(tenant),
    ];
    params.extend(categories.iter().map(|c| text(c.consent_name())));
    let result = sql
        .execute(&Statement::new(
            format!(
                "UPDATE consents SET withdrawn_at_ms = ? WHERE learner_id = ? AND tenant_id = ? \
                 AND withdrawn_at_ms IS NULL AND data_category IN ({marks})"
            ),
            params,
        ))
        .await?;
    Ok(result.rows_affected)
}

#[cfg(test)]
mod tests {
    use learner_testkit::run;

    use super::*;

    #[test]
    fn erasure_deletes_one_learner_and_nothing_else() {
        let (sql, _, _) = crate::seed::seeded_in_memory(3, 1, 20, 1_795_000_000_000);
        let before = sql.count("SELECT COUNT(*) FROM learning_events");
        let own =
            sql.count("SELECT COUNT(*) FROM learning_events WHERE learner_id = 'demo-lrn00000'");
        assert!(own > 0);
        // Another tenant's id does not reach across.
        let deleted = run(erase(&sql, "t001", "demo-lrn00000")).expect("erased");
        assert!(deleted.values().all(|n| n == 0), "{deleted:?}");
        let deleted = run(erase(&sql, "demo", "demo-lrn00000")).expect("erased");
        assert_eq!(deleted["learners"], 1);
        assert_eq!(deleted["learning_events"], own);
        for (table, column) in RECORD_TABLES {
            assert_eq!(
                sql.count(&format!(
                    "SELECT COUNT(*) FROM {table} WHERE {column} = 'demo-lrn00000'"
                )),
                0,
                "{table}"
            );
        }
        assert_eq!(
            sql.count("SELECT COUNT(*) FROM learning_events"),
            before - own
        );
    }

    #[test]
    fn withdrawal_stamps_live_consents_of_the_chosen_categories_only() {
        let (sql, _, _) = crate::seed::seeded_in_memory(3, 0, 10, 1_795_000_000_000);
        let live = |category: &str| {
            sql.count(&format!(
                "SELECT COUNT(*) FROM consents WHERE learner_id = 'demo-lrn00000' \
                     AND data_category = '{category}' AND withdrawn_at_ms IS NULL"
            ))
        };
        assert!(live("struggles") > 0 && live("profile") > 0);
        let n = run(withdraw(
            &sql,
            "demo",
            "demo-lrn00000",
            &[Category::Struggles],
            42,
        ))
        .expect("withdrawn");
        assert_eq!(n, 1);
        assert_eq!(live("struggles"), 0);
        assert!(live("profile") > 0);
        assert_eq!(
            sql.count("SELECT COUNT(*) FROM consents WHERE withdrawn_at_ms = 42"),
            1
        );
    }
}
