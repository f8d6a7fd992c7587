//! Key-value: each operation goes to the Durable Object that holds its key.
//!
//! By RPC (`call(json) -> json`, a method of the object) for every op but `wait`: an
//! RPC call is a plain method call into the object, where a fetch builds, sends and
//! parses an HTTP exchange on both sides. `wait` parks in the object until a write
//! wakes it, which a synchronous method cannot, so it goes by fetch.

use learner_core::ports as core;
use learner_storage::kv_protocol::{KvAnswer, KvClient, KvOp, KvTransport};
use wasm_bindgen::JsValue;
use worker::{Env, Method, Request, RequestInit};

use super::rpc;

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
        let stub = rpc::stub(&self.env, binding, &name)?;
        if !matches!(op, KvOp::Wait { .. }) {
            return rpc::call(stub, op).await.map_err(worker::Error::RustError);
        }
        let body = serde_json::to_string(op)?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_body(Some(JsValue::from_str(&body)));
        let request = Request::new_with_init("https://kv-object/op", &init)?;
        stub.fetch_with_request(request).await?.json().await
    }
}
