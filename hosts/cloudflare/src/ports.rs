//! The core's ports over Cloudflare bindings.
//!
//! | port      | binding                                                        |
//! |-----------|----------------------------------------------------------------|
//! | key-value | Durable Object `KV_OBJECT` (strong: CAS and take are atomic)    |
//! | sql       | D1 `DB` (`batch` is one transaction)                            |
//! | audit     | D1 `DB`, table `audit_log` (append-only by trigger)             |
//! | config    | var `LEARNER_CONFIG` (a JSON object); secrets are other bindings |
//! | fetch     | `fetch()`, limited by the config's `outbound.allow` list        |
//! | clock     | `Date.now()`                                                    |
//! | random    | `crypto.getRandomValues`                                        |

use std::collections::BTreeMap;

use futures_util::future::{Either, select};
use learner_core::outbound::{self, AllowedHost};
use learner_core::ports::{
    self as core, AuditEntry, AuditError, AuditRecord, FetchError, OutboundRequest,
    OutboundResponse, QueryResult, SqlError, SqlValue, Statement,
};
use serde::Deserialize;
use wasm_bindgen::{JsCast, JsValue};
use worker::{D1Database, Date, Env, Fetch, Headers, Method, Request, RequestInit};

use learner_storage::kv_protocol::{KvAnswer, KvClient, KvOp, KvTransport};

/// Durable Objects the key space is spread over.
const KV_SHARDS: u64 = 64;

/// The ports of one request.
pub struct CfHost {
    kv: CfKeyValue,
    sql: CfSql,
    config: CfConfig,
    fetch: CfFetch,
}

impl CfHost {
    /// Ports over the worker's bindings.
    pub fn new(env: Env) -> Self {
        let config = CfConfig::new(env.clone());
        let allowed = core::Config::get(&config, "outbound.allow")
            .map_or_else(|| Ok(vec![]), |list| outbound::parse_list(&list));
        Self {
            kv: KvClient(ObjectTransport { env: env.clone() }),
            sql: CfSql { env },
            fetch: CfFetch {
                allowed: allowed.map_err(|e| format!("outbound.allow: {e}")),
            },
            config,
        }
    }
}

/// Carries key-value operations to the Durable Objects that hold them.
pub struct ObjectTransport {
    env: Env,
}
/// Key-value over the `KvObject` and `McpSession` Durable Objects.
pub type CfKeyValue = KvClient<ObjectTransport>;
/// SQL and audit over D1.
pub struct CfSql {
    env: Env,
}
/// Config from vars, secrets from secret bindings.
pub struct CfConfig {
    env: Env,
    values: BTreeMap<String, String>,
}
/// Outbound fetch.
pub struct CfFetch {
    allowed: Result<Vec<AllowedHost>, String>,
}
/// `Date.now()`.
pub struct CfClock;
/// Web Crypto.
pub struct CfRandom;

impl core::Host for CfHost {
    type KeyValue = CfKeyValue;
    type Sql = CfSql;
    type Audit = CfSql;
    type Config = CfConfig;
    type Fetch = CfFetch;
    type Clock = CfClock;
    type Random = CfRandom;

    fn key_value(&self) -> &CfKeyValue {
        &self.kv
    }
    fn sql(&self) -> &CfSql {
        &self.sql
    }
    fn audit(&self) -> &CfSql {
        &self.sql
    }
    fn config(&self) -> &CfConfig {
        &self.config
    }
    fn fetch(&self) -> &CfFetch {
        &self.fetch
    }
    fn clock(&self) -> &CfClock {
        &CfClock
    }
    fn random(&self) -> &CfRandom {
        &CfRandom
    }
}

fn shard(key: &str) -> u64 {
    // FNV-1a: stable across deployments, so a key always lands on the same object.
    key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    }) % KV_SHARDS
}

impl KvTransport for ObjectTransport {
    async fn send(&self, op: KvOp) -> KvAnswer {
        self.deliver(&op)
            .await
            .unwrap_or_else(|error| KvAnswer::Backend(error.to_string()))
    }
}

impl ObjectTransport {
    /// Sends `op` to the object that holds its key (a waiting `op` parks there until a
    /// write to the key wakes it).
    async fn deliver(&self, op: &KvOp) -> worker::Result<KvAnswer> {
        // A partition's keys live in its own object; the rest spread over the shards.
        let (binding, name) = match core::kv_partition(op.key()) {
            Some(partition) => ("MCP_SESSION", partition.to_owned()),
            None => ("KV_OBJECT", format!("kv-{}", shard(op.key()))),
        };
        let stub = self
            .env
            .durable_object(binding)?
            .id_from_name(&name)?
            .get_stub()?;
        let body = serde_json::to_string(op)?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_body(Some(JsValue::from_str(&body)));
        let request = Request::new_with_init("https://kv-object/op", &init)?;
        stub.fetch_with_request(request).await?.json().await
    }
}

/// The largest integer D1 keeps exact.
use learner_storage::driver::MAX_PORTABLE_INTEGER as MAX_SAFE_INTEGER;

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

impl core::Audit for CfSql {
    /// The shared hash-chained append (`learner_storage::audit`): D1 has no
    /// read-then-write transaction, so it is the primary key on the sequence, and the
    /// append's retry after losing it, that keep the chain linear.
    async fn append(&self, record: &AuditRecord) -> Result<u64, AuditError> {
        learner_storage::audit::append(self, record).await
    }

    async fn read(&self, after: u64, limit: u32) -> Result<Vec<AuditEntry>, AuditError> {
        learner_storage::audit::read(self, after, limit).await
    }
}

impl CfConfig {
    fn new(env: Env) -> Self {
        let values = env
            .var("LEARNER_CONFIG")
            .ok()
            .and_then(|v| serde_json::from_str(&v.to_string()).ok())
            .unwrap_or_default();
        Self { env, values }
    }
}

impl core::Config for CfConfig {
    fn get(&self, name: &str) -> Option<String> {
        self.values.get(name).cloned()
    }
    fn secret(&self, name: &str) -> Option<String> {
        let binding = core::secret_binding_name(name);
        // Only secret bindings count: a plain var of the same name is not a secret.
        if binding == "LEARNER_CONFIG" {
            return None;
        }
        self.env.secret(&binding).ok().map(|s| s.to_string())
    }
}

impl core::Fetch for CfFetch {
    async fn send(&self, request: &OutboundRequest) -> Result<OutboundResponse, FetchError> {
        let allowed = self
            .allowed
            .as_ref()
            .map_err(|e| FetchError::Denied(e.clone()))?;
        outbound::check_url(allowed, &request.url).map_err(FetchError::Denied)?;
        let transport = |e: worker::Error| FetchError::Transport(e.to_string());
        let headers = Headers::new();
        for (name, value) in &request.headers {
            headers
                .append(name, value)
                .map_err(|e| FetchError::Denied(e.to_string()))?;
        }
        let method = Method::from(request.method.to_ascii_uppercase());
        let mut init = RequestInit::new();
        // The port never follows redirects (`wit/ports.wit`): a followed redirect would
        // reach a destination the allow-list was never asked about.
        init.with_method(method)
            .with_headers(headers)
            .with_redirect(worker::RequestRedirect::Manual);
        if !request.body.is_empty() {
            init.with_body(Some(js_sys::Uint8Array::from(&request.body[..]).into()));
        }
        let outgoing = Request::new_with_init(&request.url, &init).map_err(transport)?;
        let limit = request.max_response_bytes as usize;
        let exchange = async move {
            let mut response = Fetch::Request(outgoing).send().await.map_err(transport)?;
            if let Ok(Some(length)) = response.headers().get("content-length")
                && length.parse::<usize>().is_ok_and(|n| n > limit)
            {
                return Err(FetchError::TooLarge);
            }
            let body = response.bytes().await.map_err(transport)?;
            if body.len() > limit {
                return Err(FetchError::TooLarge);
            }
            Ok(OutboundResponse {
                status: response.status_code(),
                headers: response.headers().entries().collect(),
                body,
            })
        };
        let deadline = worker::Delay::from(std::time::Duration::from_millis(u64::from(
            request.timeout_ms,
        )));
        match select(Box::pin(exchange), deadline).await {
            Either::Left((outcome, _)) => outcome,
            Either::Right(((), _)) => Err(FetchError::Timeout),
        }
    }
}

impl core::Clock for CfClock {
    fn now_ms(&self) -> u64 {
        Date::now().as_millis()
    }
    fn monotonic_ns(&self) -> u64 {
        // Workers expose no finer clock to code; Date.now() only advances across I/O.
        Date::now().as_millis().saturating_mul(1_000_000)
    }
    async fn sleep_ms(&self, ms: u64) {
        worker::Delay::from(std::time::Duration::from_millis(ms)).await;
    }
}

impl core::Random for CfRandom {
    fn fill(&self, buf: &mut [u8]) {
        // getrandom's wasm_js backend calls crypto.getRandomValues in chunks within
        // its 65,536-byte limit; it fails only if that global is missing, and workerd
        // always provides it. Never fall back to weak bytes.
        getrandom::fill(buf).expect("workerd provides crypto.getRandomValues");
    }
}
