//! `POST /__test/ports`: each port's raw operations, for the port conformance suite
//! (`tests/conformance`).
//!
//! Request: `{"port": "...", "op": "...", ...arguments}` (for the key-value port, the
//! store's own operations, `learner_storage::kv_protocol::KvOp`). Response: 200 with
//! `{"ok": result}` or `{"err": {"kind": ..., ...}}` for a port error; 400 for a request
//! this route cannot parse.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use http::StatusCode;
use learner_core::{ApiError, Response, json_response};
use learner_storage::kv_protocol::{KvAnswer, KvOp};
use serde::Deserialize;
use serde_json::{Value, json};

use learner_core::ports::{
    Audit, AuditEntry, AuditRecord, Config, Fetch, FetchError, Host, OutboundRequest, QueryResult,
    Sql, SqlError, SqlValue, Statement,
};

#[derive(Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
enum SqlOp {
    Execute { statement: WireStatement },
    Batch { statements: Vec<WireStatement> },
}

#[derive(Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
enum AuditOp {
    Append {
        at_ms: u64,
        kind: String,
        actor: String,
        outcome: String,
        detail_json: String,
    },
    Read {
        after: u64,
        limit: u32,
    },
}

#[derive(Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
enum ConfigOp {
    Get { name: String },
    Secret { name: String },
}

#[derive(Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
enum FetchOp {
    Send {
        method: String,
        url: String,
        #[serde(default)]
        headers: Vec<(String, String)>,
        #[serde(default)]
        body: String,
        timeout_ms: u32,
        max_response_bytes: u32,
    },
}

#[derive(Deserialize)]
#[serde(tag = "port", rename_all = "kebab-case")]
enum PortCall {
    KeyValue(KvOp),
    Sql(SqlOp),
    Audit(AuditOp),
    Config(ConfigOp),
    Fetch(FetchOp),
}

/// A non-null SQL value on the wire: `{"integer": 1}`, `{"real": 1.5}`,
/// `{"text": "x"}`, `{"blob": "<base64>"}`; NULL is JSON `null`.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum WireValue {
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireStatement {
    sql: String,
    #[serde(default)]
    params: Vec<Option<WireValue>>,
}

/// Runs one port call.
pub async fn handle<H: Host>(host: &H, body: &[u8]) -> Result<Response, ApiError> {
    let call: PortCall = serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("invalid port call: {e}")))?;
    let outcome = match call {
        PortCall::KeyValue(op) => key_value(op.apply_to(host.key_value()).await),
        PortCall::Sql(op) => sql(host.sql(), op).await?,
        PortCall::Audit(op) => audit(host.audit(), op).await,
        PortCall::Config(op) => Ok(match op {
            ConfigOp::Get { name } => json!(host.config().get(&name)),
            ConfigOp::Secret { name } => json!(host.config().secret(&name)),
        }),
        PortCall::Fetch(op) => fetch(host.fetch(), op).await?,
    };
    let body = match outcome {
        Ok(value) => json!({ "ok": value }),
        Err(error) => json!({ "err": error }),
    };
    Ok(json_response(StatusCode::OK, &body))
}

type Outcome = Result<Value, Value>;

fn decode_b64(field: &str, text: &str) -> Result<Vec<u8>, ApiError> {
    B64.decode(text)
        .map_err(|e| ApiError::BadRequest(format!("{field} is not base64: {e}")))
}

/// The key-value answer as this route reports it: `ok` with the entry, version or
/// deletion, `err` with the port error's kind.
fn key_value(answer: KvAnswer) -> Outcome {
    match answer {
        KvAnswer::Entry(entry) => Ok(json!(entry)),
        KvAnswer::Version(version) => Ok(json!(version)),
        KvAnswer::Deleted(existed) => Ok(json!(existed)),
        KvAnswer::Count(count) => Ok(json!(count)),
        KvAnswer::Conflict(current) => Err(json!({ "kind": "conflict", "current": current })),
        KvAnswer::Invalid(m) => Err(json!({ "kind": "invalid-argument", "message": m })),
        KvAnswer::Backend(m) => Err(json!({ "kind": "backend", "message": m })),
    }
}

fn to_statement(wire: WireStatement) -> Result<Statement, ApiError> {
    let params = wire
        .params
        .into_iter()
        .map(|p| {
            Ok(match p {
                None => SqlValue::Null,
                Some(WireValue::Integer(i)) => SqlValue::Integer(i),
                Some(WireValue::Real(r)) => SqlValue::Real(r),
                Some(WireValue::Text(t)) => SqlValue::Text(t),
                Some(WireValue::Blob(b)) => SqlValue::Blob(decode_b64("blob", &b)?),
            })
        })
        .collect::<Result<_, ApiError>>()?;
    Ok(Statement::new(wire.sql, params))
}

fn value_json(value: SqlValue) -> Value {
    match value {
        SqlValue::Null => Value::Null,
        SqlValue::Integer(i) => json!({ "integer": i }),
        SqlValue::Real(r) => json!({ "real": r }),
        SqlValue::Text(t) => json!({ "text": t }),
        SqlValue::Blob(b) => json!({ "blob": B64.encode(b) }),
    }
}

fn result_json(result: QueryResult) -> Value {
    let rows: Vec<Value> = result
        .rows
        .into_iter()
        .map(|row| Value::Array(row.into_iter().map(value_json).collect()))
        .collect();
    json!({
        "columns": result.columns,
        "rows": rows,
        "rows_affected": result.rows_affected,
        "last_insert_rowid": result.last_insert_rowid,
    })
}

fn sql_error_json(error: SqlError) -> Value {
    match error {
        SqlError::Statement(m) => json!({ "kind": "statement", "message": m }),
        SqlError::Backend(m) => json!({ "kind": "backend", "message": m }),
    }
}

async fn sql<S: Sql>(db: &S, op: SqlOp) -> Result<Outcome, ApiError> {
    Ok(match op {
        SqlOp::Execute { statement } => db
            .execute(&to_statement(statement)?)
            .await
            .map(result_json)
            .map_err(sql_error_json),
        SqlOp::Batch { statements } => {
            let statements = statements
                .into_iter()
                .map(to_statement)
                .collect::<Result<Vec<_>, _>>()?;
            db.batch(&statements)
                .await
                .map(|results| Value::Array(results.into_iter().map(result_json).collect()))
                .map_err(sql_error_json)
        }
    })
}

fn audit_entry_json(entry: AuditEntry) -> Value {
    let r = entry.record;
    json!({
        "sequence": entry.sequence,
        "at_ms": r.at_ms,
        "kind": r.kind,
        "actor": r.actor,
        "outcome": r.outcome,
        "detail_json": r.detail_json,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    })
}

async fn audit<A: Audit>(sink: &A, op: AuditOp) -> Outcome {
    match op {
        AuditOp::Append {
            at_ms,
            kind,
            actor,
            outcome,
            detail_json,
        } => {
            let record = AuditRecord {
                at_ms,
                kind,
                actor,
                outcome,
                detail_json,
            };
            sink.append(&record).await.map(|s| json!(s))
        }
        AuditOp::Read { after, limit } => sink
            .read(after, limit)
            .await
            .map(|entries| Value::Array(entries.into_iter().map(audit_entry_json).collect())),
    }
    .map_err(|e| json!({ "kind": "audit", "message": e.0 }))
}

async fn fetch<F: Fetch>(client: &F, op: FetchOp) -> Result<Outcome, ApiError> {
    let FetchOp::Send {
        method,
        url,
        headers,
        body,
        timeout_ms,
        max_response_bytes,
    } = op;
    let request = OutboundRequest {
        method,
        url,
        headers,
        body: decode_b64("body", &body)?,
        timeout_ms,
        max_response_bytes,
    };
    Ok(client
        .send(&request)
        .await
        .map(|r| json!({ "status": r.status, "headers": r.headers, "body": B64.encode(r.body) }))
        .map_err(|e| match e {
            FetchError::Denied(m) => json!({ "kind": "denied", "message": m }),
            FetchError::Timeout => json!({ "kind": "timeout" }),
            FetchError::TooLarge => json!({ "kind": "too-large" }),
            FetchError::Transport(m) => json!({ "kind": "transport", "message": m }),
        }))
}
