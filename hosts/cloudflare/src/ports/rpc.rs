//! The one way the ports call their Durable Objects: the object's RPC method
//! `call(json) -> json` (see `entry.js`), a request in JSON and its answer in JSON.

use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen_futures::JsFuture;
use worker::{Env, Stub};

#[wasm_bindgen]
extern "C" {
    /// An object's RPC surface, as its stub offers it.
    #[wasm_bindgen(extends = js_sys::Object)]
    type JsonRpc;

    /// One request in JSON; the promise resolves to the answer in JSON.
    #[wasm_bindgen(method, catch, js_name = call)]
    fn call(this: &JsonRpc, request: &str) -> Result<js_sys::Promise, JsValue>;
}

/// The stub of the object named `name` in `env`'s Durable Object binding `binding`.
pub fn stub(env: &Env, binding: &str, name: &str) -> worker::Result<Stub> {
    env.durable_object(binding)?.id_from_name(name)?.get_stub()
}

/// Calls the object behind `stub` with `request`; its answer, or why there is none
/// (the caller maps that to its port's backend failure).
pub async fn call<Q: Serialize, A: DeserializeOwned>(stub: Stub, request: &Q) -> Result<A, String> {
    let request = serde_json::to_string(request).map_err(|e| e.to_string())?;
    let rpc: JsonRpc = stub.into_rpc();
    let promise = rpc.call(&request).map_err(|e| format!("{e:?}"))?;
    let answer = JsFuture::from(promise)
        .await
        .map_err(|e| format!("{e:?}"))?
        .as_string()
        .ok_or("an answer that is not text")?;
    serde_json::from_str(&answer).map_err(|e| e.to_string())
}
