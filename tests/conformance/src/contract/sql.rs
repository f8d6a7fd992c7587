//! The SQL port contract: every value type round-tripped, result metadata, statement
//! errors, and batches that commit or roll back as a whole.

use crate::{err, ok, unique};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

/// The largest integer every host keeps exact (Durable Objects read numbers as doubles).
const MAX_PORTABLE_INTEGER: i64 = (1 << 53) - 1;

fn execute(sql: &str, params: Value) -> Value {
    ok(json!({"port": "sql", "op": "execute", "statement": {"sql": sql, "params": params}}))
}

fn execute_err(sql: &str, params: Value) -> Value {
    err(json!({"port": "sql", "op": "execute", "statement": {"sql": sql, "params": params}}))
}

fn batch_call(statements: Vec<(String, Value)>) -> Value {
    let statements: Vec<Value> = statements
        .into_iter()
        .map(|(sql, params)| json!({"sql": sql, "params": params}))
        .collect();
    json!({"port": "sql", "op": "batch", "statements": statements})
}

/// A new table of text keys (`k TEXT PRIMARY KEY`), holding `keys`: its name, which no
/// other run uses.
fn key_table(prefix: &str, keys: &[&str]) -> String {
    let table = unique(prefix);
    execute(
        &format!("CREATE TABLE {table} (k TEXT PRIMARY KEY)"),
        json!([]),
    );
    for key in keys {
        let (sql, params) = insert_key(&table, key);
        execute(&sql, params);
    }
    table
}

/// The statement (SQL and parameters) that inserts `key` into a [`key_table`].
fn insert_key(table: &str, key: &str) -> (String, Value) {
    (
        format!("INSERT INTO {table} VALUES (?)"),
        json!([{"text": key}]),
    )
}

fn count(table: &str) -> Value {
    execute(&format!("SELECT count(*) AS n FROM {table}"), json!([]))["rows"][0][0].clone()
}

/// A contract test (run by `port_contract!`).
pub fn every_value_type_round_trips_through_a_table() {
    let table = unique("sql_types");
    execute(
        &format!("CREATE TABLE {table} (id INTEGER PRIMARY KEY, v ANY)"),
        json!([]),
    );
    let blob: Vec<u8> = (0..=255u8).rev().collect();
    let values = vec![
        Value::Null,
        json!({"integer": 0}),
        json!({"integer": MAX_PORTABLE_INTEGER}),
        json!({"integer": -MAX_PORTABLE_INTEGER}),
        json!({"real": 3.25}),
        json!({"real": -1.5e300}),
        json!({"text": ""}),
        json!({"text": "héllo ✓ \"quoted\" 'single' \u{1F600}"}),
        json!({"blob": ""}),
        json!({"blob": B64.encode(&blob)}),
    ];
    for (id, value) in values.iter().enumerate() {
        execute(
            &format!("INSERT INTO {table} (id, v) VALUES (?, ?)"),
            json!([{"integer": id}, value]),
        );
    }
    let result = execute(&format!("SELECT id, v FROM {table} ORDER BY id"), json!([]));
    assert_eq!(result["columns"], json!(["id", "v"]));
    let rows = result["rows"].as_array().expect("rows").clone();
    assert_eq!(rows.len(), values.len());
    for (id, (row, value)) in rows.iter().zip(&values).enumerate() {
        assert_eq!(row, &json!([{"integer": id}, value]), "row {id}");
    }
}

/// A contract test (run by `port_contract!`).
pub fn parameters_round_trip_without_a_table() {
    let result = execute(
        "SELECT ? AS a, ? AS b, ? AS c, ? AS d, ? AS e",
        json!([null, {"integer": 42}, {"real": 0.5}, {"text": "t"}, {"blob": B64.encode([0u8, 1, 2])}]),
    );
    assert_eq!(result["columns"], json!(["a", "b", "c", "d", "e"]));
    assert_eq!(
        result["rows"],
        json!([[null, {"integer": 42}, {"real": 0.5}, {"text": "t"}, {"blob": B64.encode([0u8, 1, 2])}]])
    );
}

/// A contract test (run by `port_contract!`).
pub fn writes_report_rows_affected_and_last_insert_rowid() {
    let table = unique("sql_meta");
    execute(
        &format!("CREATE TABLE {table} (id INTEGER PRIMARY KEY, n INTEGER)"),
        json!([]),
    );
    let insert = execute(
        &format!("INSERT INTO {table} (n) VALUES (?), (?)"),
        json!([{"integer": 1}, {"integer": 2}]),
    );
    assert_eq!(insert["rows_affected"], json!(2));
    assert_eq!(insert["last_insert_rowid"], json!(2));
    let update = execute(&format!("UPDATE {table} SET n = n + 10"), json!([]));
    assert_eq!(update["rows_affected"], json!(2));
    let select = execute(&format!("SELECT n FROM {table} ORDER BY id"), json!([]));
    assert_eq!(
        select["rows"],
        json!([[{"integer": 11}], [{"integer": 12}]])
    );
    assert_eq!(select["rows_affected"], json!(0));
}

/// A contract test (run by `port_contract!`).
pub fn refused_statements_are_statement_errors_and_change_nothing() {
    assert_eq!(execute_err("SELEC 1", json!([]))["kind"], "statement");
    let table = key_table("sql_constraint", &["a"]);
    let (sql, params) = insert_key(&table, "a");
    let error = execute_err(&sql, params);
    assert_eq!(error["kind"], "statement", "{error}");
    assert_eq!(count(&table), json!({"integer": 1}));
}

/// A contract test (run by `port_contract!`).
pub fn a_batch_commits_all_its_statements() {
    let table = key_table("sql_batch_ok", &[]);
    let results = ok(batch_call(vec![
        insert_key(&table, "a"),
        insert_key(&table, "b"),
        (format!("SELECT k FROM {table} ORDER BY k"), json!([])),
    ]));
    let results = results.as_array().expect("one result per statement");
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["rows_affected"], json!(1));
    assert_eq!(
        results[2]["rows"],
        json!([[{"text": "a"}], [{"text": "b"}]])
    );
    assert_eq!(count(&table), json!({"integer": 2}));
}

/// A contract test (run by `port_contract!`).
pub fn a_failing_batch_rolls_back_every_statement() {
    let table = key_table("sql_batch_rollback", &["existing"]);
    let error = err(batch_call(vec![
        insert_key(&table, "new"),
        (
            format!("UPDATE {table} SET k = 'renamed' WHERE k = 'existing'"),
            json!([]),
        ),
        // Violates the primary key: the whole batch must roll back.
        insert_key(&table, "new"),
    ]));
    assert_eq!(error["kind"], "statement", "{error}");
    let rows = execute(&format!("SELECT k FROM {table}"), json!([]));
    assert_eq!(rows["rows"], json!([[{"text": "existing"}]]));
}
