//! SQL over D1 (`DB`). (The audit trail lives in a Durable Object: `audit_object`.)

use learner_core::ports::{self as core, QueryResult, SqlError, SqlValue, Statement};
use learner_storage::driver::MAX_PORTABLE_INTEGER as MAX_SAFE_INTEGER; // what D1 keeps exact
use serde::Deserialize;
use wasm_bindgen::{JsCast, JsValue};
use worker::{D1Database, Env};

/// SQL and audit over D1.
pub struct CfSql {
    env: Env,
}

fn to_js(value: &SqlValue) -> Result<JsValue, SqlError> {
    Ok(match value {
        SqlValue::Null => JsValue::NULL,
        SqlValue::Integer(i) if i.unsigned_abs() <= MAX_SAFE_INTEGER as u64 => {
            JsValue::from_f64(*i as f64)
        }
        SqlValue::Integer(i) => {
            return Err(SqlError::Statement(format!(
                "integer {i} is outside the portable range ±(2^53 − 1)"
            )));
        }
        SqlValue::Real(r) => JsValue::from_f64(*r),
        SqlValue::Text(t) => JsValue::from_str(t),
        SqlValue::Blob(b) => js_sys::Uint8Array::from(&b[..]).into(),
    })
}

fn from_js(value: &JsValue) -> SqlValue {
    if value.is_null() || value.is_undefined() {
        SqlValue::Null
    } else if let Some(n) = value.as_f64() {
        if n.fract() == 0.0 && n.abs() <= MAX_SAFE_INTEGER as f64 {
            // Integral and within ±2^53 (checked above): exact.
            #[allow(clippy::cast_possible_truncation)]
            SqlValue::Integer(n as i64)
        } else {
            SqlValue::Real(n)
        }
    } else if let Some(s) = value.as_string() {
        SqlValue::Text(s)
    } else if let Some(b) = value.as_bool() {
        SqlValue::Integer(i64::from(b))
    } else if value.is_instance_of::<js_sys::ArrayBuffer>() {
        SqlValue::Blob(js_sys::Uint8Array::new(value).to_vec())
    } else if let Some(array) = value.dyn_ref::<js_sys::Array>() {
        // D1 returns BLOBs as arrays of byte values.
        SqlValue::Blob(
            array
                .iter()
                // Bytes, as D1 hands them over: 0..=255.
                .map(|b| {
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    let byte = b.as_f64().unwrap_or(0.0).clamp(0.0, 255.0) as u8;
                    byte
                })
                .collect(),
        )
    } else if let Some(bytes) = value.dyn_ref::<js_sys::Uint8Array>() {
        SqlValue::Blob(bytes.to_vec())
    } else {
        SqlValue::Text(format!("{value:?}"))
    }
}

/// One row as D1 returns it: an object whose keys are in column order.
#[derive(Deserialize)]
struct RawRow(#[serde(with = "serde_wasm_bindgen::preserve")] JsValue);

#[allow(clippy::needless_pass_by_value)] // A `map_err` callback.
fn d1_error(error: worker::Error) -> SqlError {
    let message = error.to_string();
    // D1 prefixes what the database refused with D1_ERROR / D1_TYPE_ERROR; anything
    // else (network, internal) is the backend's failure.
    if message.contains("D1_ERROR")
        || message.contains("D1_TYPE_ERROR")
        || message.contains("SQLITE_")
    {
        SqlError::Statement(message)
    } else {
        SqlError::Backend(message)
    }
}

fn to_result(result: &worker::D1Result) -> Result<QueryResult, SqlError> {
    let rows: Vec<RawRow> = result.results().map_err(d1_error)?;
    let mut columns = Vec::new();
    let mut out = Vec::with_capacity(rows.len());
    for (index, RawRow(row)) in rows.iter().enumerate() {
        let object: &js_sys::Object = row.unchecked_ref();
        let entries = js_sys::Object::entries(object);
        let mut values = Vec::with_capacity(entries.length() as usize);
        for pair in entries.iter() {
            let pair: js_sys::Array = pair.unchecked_into();
            if index == 0 {
                columns.push(pair.get(0).as_string().unwrap_or_default());
            }
            values.push(from_js(&pair.get(1)));
        }
        out.push(values);
    }
    let meta = result.meta().map_err(d1_error)?;
    let rows_affected = meta.as_ref().and_then(|m| m.changes).unwrap_or(0) as u64;
    let last_insert_rowid = meta
        .and_then(|m| m.last_row_id)
        .filter(|id| rows_affected > 0 && *id != 0);
    Ok(QueryResult {
        columns,
        rows: out,
        rows_affected,
        last_insert_rowid,
    })
}

impl CfSql {
    /// SQL over `env`'s D1 binding `DB`.
    pub fn new(env: Env) -> Self {
        Self { env }
    }

    fn db(&self) -> Result<D1Database, SqlError> {
        self.env
            .d1("DB")
            .map_err(|e| SqlError::Backend(e.to_string()))
    }

    fn prepare(
        db: &D1Database,
        statement: &Statement,
    ) -> Result<worker::D1PreparedStatement, SqlError> {
        let params = statement
            .params
            .iter()
            .map(to_js)
            .collect::<Result<Vec<_>, _>>()?;
        db.prepare(statement.sql.as_str())
            .bind(&params)
            .map_err(d1_error)
    }
}

impl core::Sql for CfSql {
    async fn execute(&self, statement: &Statement) -> Result<QueryResult, SqlError> {
        let db = self.db()?;
        let prepared = Self::prepare(&db, statement)?;
        to_result(&prepared.all().await.map_err(d1_error)?)
    }
    async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>, SqlError> {
        let db = self.db()?;
        let prepared = statements
            .iter()
            .map(|s| Self::prepare(&db, s))
            .collect::<Result<Vec<_>, _>>()?;
        // D1 runs a batch as one transaction: a failing statement rolls back all.
        db.batch(prepared)
            .await
            .map_err(d1_error)?
            .into_iter()
            .map(|result| to_result(&result))
            .collect()
    }
}
