//! Key-value: each operation goes to the Durable Object that holds its key.
//!
//! By RPC (`op(json) -> json`, a method of the object) for every op but `wait`: an
//! RPC call is a plain method call into the object, where a fetch builds, sends and
//! parses an HTTP exchange on both sides. `wait` parks in the object until a write
//! wakes it, which a synchronous method cannot, so it goes by fetch.

use learner_core::ports as core;
use learner_storage::kv_protocol::{KvAnswer, KvClient, KvOp, KvTransport};
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen_futures::JsFuture;
use worker::{Env, Method, Request, RequestInit, Stub};

#[wasm_bindgen]
extern "C" {
    /// A key-value object's RPC surface, as its stub offers it.
    #[wasm_bindgen(extends = js_sys::Object)]
    type KvRpc;

    /// One op in JSON; the promise resolves to its answer in JSON.
    #[wasm_bindgen(method, catch, js_name = op)]
    fn op(this: &KvRpc, op: &str) -> Result<js_sys::Promise, JsValue>;
}

/// Durable Objects the key space is spread over.
const KV_SHARDS: u64 = 64;

/// Carries key-value operations to the Durable Objects that hold them.
pub struct ObjectTransport {
    env: Env,
}
/// Key-value over the `KvObject` and `McpSession` Durable Objects.
pub type CfKeyValue = KvClient<ObjectTransport>;

impl ObjectTransport {
    /// Operations go to `env`'s Durable Object bindings.
    pub fn new(env: Env) -> Self {
        Self { env }
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
        if !matches!(op, KvOp::Wait { .. }) {
            return call(stub, &body).await;
        }
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_body(Some(JsValue::from_str(&body)));
        let request = Request::new_with_init("https://kv-object/op", &init)?;
        stub.fetch_with_request(request).await?.json().await
    }
}

/// Calls the object's `op` method.
async fn call(stub: Stub, op: &str) -> worker::Result<KvAnswer> {
    let rpc: KvRpc = stub.into_rpc();
    let answer = JsFuture::from(rpc.op(op)?).await?;
    let answer = answer
        .as_string()
        .ok_or_else(|| worker::Error::RustError("a key-value answer that is not text".into()))?;
    Ok(serde_json::from_str(&answer)?)
}
