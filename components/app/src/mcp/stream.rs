//! Streamed MCP answers: a request whose handling sends the client messages before its
//! response (progress, log messages, requests such as sampling) is answered with an
//! SSE body that carries each message as soon as it exists; and requests to the
//! client, whose answers arrive in other HTTP requests, meet them in the key-value
//! store.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use learner_core::BodyStream;
use learner_core::ports::{Clock, Host, KeyValue, Random};
use learner_mcp_server::catalogue::{BoxFuture, ClientRequests, Outbox};
use learner_mcp_server::jsonrpc::{self, Id, RpcError};
use serde_json::{Value, json};

use learner_mcp_server::session::partition;

use super::events;

/// A boxed future that owns what it needs.
pub type BoxedFuture<T> = Pin<Box<dyn Future<Output = T>>>;

/// How long a request to the client may wait for its answer.
pub const ANSWER_TIMEOUT_MS: u64 = 60_000;
/// How long an unanswered request, or an unclaimed answer, is kept.
const PENDING_TTL_MS: u64 = 2 * ANSWER_TIMEOUT_MS;

/// Records a message in the event log; its event id, if recorded.
type Recorder = Box<dyn Fn(Value) -> BoxedFuture<Option<String>>>;

/// An SSE body fed by a handler: whatever the handler puts in the outbox is sent at
/// once; the body ends when the handler has finished and the outbox is empty. With a
/// log, each message is first recorded in the session's event log and sent with its
/// event id, so the client can resume the stream.
pub struct EventStream {
    outbox: Outbox,
    handler: Option<Pin<Box<dyn Future<Output = ()>>>>,
    log: Option<Recorder>,
    recording: Option<(Value, BoxedFuture<Option<String>>)>,
    prefix: Option<Vec<u8>>,
}

impl EventStream {
    /// A stream of what `handler` puts into `outbox`.
    pub fn new(outbox: Outbox, handler: impl Future<Output = ()> + 'static) -> Self {
        Self {
            outbox,
            handler: Some(Box::pin(handler)),
            log: None,
            recording: None,
            prefix: None,
        }
    }

    /// Records every message as `stream` of `session` (a stream only this body writes)
    /// before sending it; with
    /// `priming` (2025-11-25 and later), starts with a frame that gives the client an
    /// event id to resume from and the reconnection delay.
    pub fn recorded<H: Host + 'static>(
        mut self,
        host: Rc<H>,
        session: String,
        stream: String,
        priming: bool,
    ) -> Self {
        self.prefix =
            priming.then(|| events::priming_frame(&events::event_id(&stream, 0), RETRY_MS));
        // The stream is this request's own: it numbers its events itself.
        let next = Rc::new(std::cell::Cell::new(1));
        self.log = Some(Box::new(move |message: Value| {
            let (host, session, stream) = (Rc::clone(&host), session.clone(), stream.clone());
            let next = Rc::clone(&next);
            Box::pin(async move {
                let n =
                    events::append_owned(host.key_value(), &session, &stream, next.get(), &message)
                        .await
                        .ok()?;
                next.set(n + 1);
                Some(events::event_id(&stream, n))
            }) as BoxedFuture<Option<String>>
        }));
        self
    }
}

/// How long a client should wait before reconnecting to a stream that ended.
pub const RETRY_MS: u64 = 1_000;

impl BodyStream for EventStream {
    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Vec<u8>>> {
        if let Some(prefix) = self.prefix.take() {
            return Poll::Ready(Some(prefix));
        }
        loop {
            if let Some((message, recording)) = self.recording.as_mut() {
                let Poll::Ready(id) = recording.as_mut().poll(cx) else {
                    return Poll::Pending;
                };
                let frame = events::sse_frame(id.as_deref(), message);
                self.recording = None;
                return Poll::Ready(Some(frame));
            }
            let next = self.outbox.borrow_mut().pop_front();
            if let Some(message) = next {
                match &self.log {
                    Some(log) => {
                        let recording = log(message.clone());
                        self.recording = Some((message, recording));
                        continue;
                    }
                    None => return Poll::Ready(Some(events::sse_frame(None, &message))),
                }
            }
            let Some(handler) = self.handler.as_mut() else {
                return Poll::Ready(None);
            };
            match handler.as_mut().poll(cx) {
                Poll::Ready(()) => self.handler = None,
                Poll::Pending if self.outbox.borrow().is_empty() => return Poll::Pending,
                Poll::Pending => {}
            }
        }
    }
}

/// A future that is pending once, so a stream can send what was queued before it.
fn yield_now() -> impl Future<Output = ()> {
    let mut yielded = false;
    std::future::poll_fn(move |cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
}

fn awaiting_key(session: &str, id: &str) -> String {
    format!("{}awaiting/{id}", partition(session))
}

fn answer_key(session: &str, id: &str) -> String {
    format!("{}answer/{id}", partition(session))
}

/// Longest client-chosen id accepted for an answer (ours are 36 characters).
const MAX_ANSWER_ID: usize = 64;

/// Stores the client's answer to request `id` of `session`, if the server is waiting
/// for it; whether it was.
pub async fn deliver_answer<K: KeyValue>(
    kv: &K,
    session: &str,
    id: &Id,
    outcome: Result<Value, Value>,
) -> bool {
    let Id::String(id) = id else {
        return false;
    };
    if id.len() > MAX_ANSWER_ID {
        return false;
    }
    let Ok(Some(_)) = kv.take(&awaiting_key(session, id)).await else {
        return false;
    };
    let answer = match outcome {
        Ok(result) => json!({"result": result}),
        Err(error) => json!({"error": error}),
    };
    kv.put(
        &answer_key(session, id),
        answer.to_string().as_bytes(),
        Some(PENDING_TTL_MS),
    )
    .await
    .is_ok()
}

/// Requests to the client of one session, sent on the stream of the request being
/// handled; the answers come back through [`deliver_answer`].
pub struct SessionRequests<H> {
    host: Rc<H>,
    session: String,
    /// The stream being answered; `None`: the session's standalone stream (the
    /// legacy transport, where every message travels on it).
    outbox: Option<Outbox>,
}

impl<H: Host> SessionRequests<H> {
    /// Requests on `outbox` for `session`.
    pub fn new(host: Rc<H>, session: String, outbox: Outbox) -> Self {
        Self {
            host,
            session,
            outbox: Some(outbox),
        }
    }

    /// Requests on the session's standalone stream.
    pub fn on_standalone(host: Rc<H>, session: String) -> Self {
        Self {
            host,
            session,
            outbox: None,
        }
    }

    async fn ask_inner(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        let host = &*self.host;
        let mut raw = [0u8; 16];
        host.random().fill(&mut raw);
        let id = format!("srv-{}", learner_core::hex(&raw));
        host.key_value()
            .put(
                &awaiting_key(&self.session, &id),
                b"1",
                Some(PENDING_TTL_MS),
            )
            .await
            .map_err(|_| RpcError::internal())?;
        let message = jsonrpc::request(&Id::String(id.clone()), method, &params);
        match &self.outbox {
            Some(outbox) => outbox.borrow_mut().push_back(message),
            None => {
                events::append(
                    host.key_value(),
                    &self.session,
                    events::STANDALONE,
                    &message,
                )
                .await
                .map_err(|_| RpcError::internal())?;
            }
        }
        // Let the stream send the request before waiting for its answer (a request on
        // the standalone stream is already in the log, where its follower finds it).
        if self.outbox.is_some() {
            yield_now().await;
        }
        let deadline = host.clock().now_ms().saturating_add(ANSWER_TIMEOUT_MS);
        let kv = host.key_value();
        let answer_key = answer_key(&self.session, &id);
        loop {
            // Take, not get: of two requests racing for the answer, one has it.
            let answer = kv
                .take(&answer_key)
                .await
                .map_err(|_| RpcError::internal())?;
            if let Some(entry) = answer {
                let answer: Value =
                    serde_json::from_slice(&entry.value).map_err(|_| RpcError::internal())?;
                return match answer.get("result") {
                    Some(result) => Ok(result.clone()),
                    None => Err(RpcError::new(
                        answer["error"]["code"]
                            .as_i64()
                            .unwrap_or(jsonrpc::code::INTERNAL_ERROR),
                        answer["error"]["message"]
                            .as_str()
                            .unwrap_or("the client refused the request"),
                    )),
                };
            }
            let now = host.clock().now_ms();
            if now >= deadline {
                let _ = kv.delete(&awaiting_key(&self.session, &id)).await;
                return Err(RpcError::new(
                    jsonrpc::code::INTERNAL_ERROR,
                    format!("the client did not answer {method} in time"),
                ));
            }
            // The store wakes the wait when the answer is written.
            let remaining = u32::try_from(deadline - now).unwrap_or(u32::MAX);
            kv.wait(&answer_key, remaining)
                .await
                .map_err(|_| RpcError::internal())?;
        }
    }
}

impl<H: Host> ClientRequests for SessionRequests<H> {
    fn ask<'a>(
        &'a self,
        _key: &'a str,
        method: &'a str,
        params: Value,
    ) -> BoxFuture<'a, Result<Option<Value>, RpcError>> {
        // In a session the client is asked at once and the answer awaited.
        Box::pin(async move { self.ask_inner(method, params).await.map(Some) })
    }
}
