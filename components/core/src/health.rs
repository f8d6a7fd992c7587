//! `GET /healthz`: the build version and a real round trip through the storage ports.

use http::StatusCode;
use serde_json::{Value, json};

use crate::http_util::{Response, json_response};
use crate::ports::{Clock, Config, Host, KeyValue, Random, Sql, SqlValue, Statement};

/// How long the probe key lives if a round trip is interrupted before `take`.
const PROBE_TTL_MS: u64 = 60_000;

/// Runs the checks; 200 when all pass, 503 with the failing check's reason otherwise.
pub async fn check<H: Host>(host: &H) -> Response {
    let key_value = key_value_round_trip(host).await;
    let sql = sql_round_trip(host).await;
    let healthy = key_value["ok"] == true && sql["ok"] == true;
    let body = json!({
        "status": if healthy { "ok" } else { "degraded" },
        "service": "learner-dna-mcp",
        "version": crate::VERSION,
        "host": host.config().get("host.name"),
        "time_ms": host.clock().now_ms(),
        "ports": { "key_value": key_value, "sql": sql },
    });
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    json_response(status, &body)
}

/// put → get → take → get on a fresh random key: proves writes, reads, the atomic
/// take and that a taken key is gone.
async fn key_value_round_trip<H: Host>(host: &H) -> Value {
    let started = host.clock().monotonic_ns();
    let mut nonce = [0u8; 16];
    host.random().fill(&mut nonce);
    let key = format!("healthz:{}", crate::hex(&nonce));
    let kv = host.key_value();
    let outcome: Result<u64, String> = async {
        let version = kv
            .put(&key, &nonce, Some(PROBE_TTL_MS))
            .await
            .map_err(|e| e.to_string())?;
        let read = kv.get(&key).await.map_err(|e| e.to_string())?;
        if read.as_ref().map(|e| (&e.value[..], e.version)) != Some((&nonce[..], version)) {
            return Err(format!("get returned {read:?} after put"));
        }
        let taken = kv.take(&key).await.map_err(|e| e.to_string())?;
        if taken.map(|e| e.value) != Some(nonce.to_vec()) {
            return Err("take did not return the value".into());
        }
        if let Some(left) = kv.get(&key).await.map_err(|e| e.to_string())? {
            return Err(format!("key still present after take: {left:?}"));
        }
        Ok(version)
    }
    .await;
    let micros = host.clock().monotonic_ns().saturating_sub(started) / 1_000;
    match outcome {
        Ok(version) => {
            json!({ "ok": true, "round_trip": "put,get,take,get", "version": version, "micros": micros })
        }
        Err(reason) => json!({ "ok": false, "error": reason, "micros": micros }),
    }
}

/// A parameterised `select` through the SQL port.
async fn sql_round_trip<H: Host>(host: &H) -> Value {
    let started = host.clock().monotonic_ns();
    let statement = Statement::new("SELECT ?1 + 1 AS answer", vec![SqlValue::Integer(41)]);
    let outcome = host.sql().execute(&statement).await;
    let micros = host.clock().monotonic_ns().saturating_sub(started) / 1_000;
    match outcome {
        Ok(result) => match result.rows.first().and_then(|row| row.first()) {
            Some(SqlValue::Integer(42)) => {
                json!({ "ok": true, "select": 42, "micros": micros })
            }
            other => {
                json!({ "ok": false, "error": format!("select returned {other:?}"), "micros": micros })
            }
        },
        Err(error) => json!({ "ok": false, "error": error.to_string(), "micros": micros }),
    }
}
