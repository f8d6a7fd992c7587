//! Each session's event log, in the key-value store: every message a session's SSE
//! streams carry is recorded under its stream and number, so a client that lost a
//! stream resumes it with `Last-Event-ID`, and the session's standalone stream (GET)
//! carries messages that other requests produce (resource updates).
//!
//! Appending takes the lowest free number by create-only writes, so concurrent writers
//! never overwrite each other and readers never meet a gap.

use std::collections::VecDeque;
use std::rc::Rc;
use std::task::{Context, Poll};

use learner_core::BodyStream;
use learner_core::ports::{Clock, Host, KeyValue, KvError};
use serde_json::Value;

use learner_mcp_server::session::partition;

use super::stream::BoxedFuture;

/// The session's standalone stream (GET `/mcp`, or the legacy `/sse`).
pub const STANDALONE: &str = "0";
/// How long events stay available for resumption.
pub const EVENT_TTL_MS: u64 = 10 * 60_000;
/// Quiet time after which a stream sends a keep-alive comment.
const HEARTBEAT_MS: u64 = 15_000;
/// Longest stream id accepted in `Last-Event-ID`.
const MAX_STREAM_ID: usize = 32;

fn event_key(session: &str, stream: &str, n: u64) -> String {
    format!("{}ev/{stream}/{n}", partition(session))
}

fn hint_key(session: &str, stream: &str) -> String {
    format!("{}evnext/{stream}", partition(session))
}

/// The SSE event id of event `n` of `stream`.
pub fn event_id(stream: &str, n: u64) -> String {
    format!("{stream}.{n}")
}

/// `stream` and number from an SSE event id this server issued.
pub fn parse_event_id(text: &str) -> Option<(String, u64)> {
    let (stream, n) = text.trim().rsplit_once('.')?;
    let valid = !stream.is_empty()
        && stream.len() <= MAX_STREAM_ID
        && stream.bytes().all(|b| b.is_ascii_hexdigit());
    valid.then_some(())?;
    Some((stream.to_owned(), n.parse().ok()?))
}

/// One SSE event: id, type and one JSON message on one `data:` line.
pub fn sse_frame(id: Option<&str>, message: &Value) -> Vec<u8> {
    let mut frame = String::new();
    if let Some(id) = id {
        frame.push_str("id: ");
        frame.push_str(id);
        frame.push('\n');
    }
    frame.push_str("event: message\ndata: ");
    frame.push_str(&message.to_string());
    frame.push_str("\n\n");
    frame.into_bytes()
}

/// The first frame of a resumable stream (SEP-1699): an id the client can resume from
/// before any message arrives, and how long to wait before reconnecting.
pub fn priming_frame(id: &str, retry_ms: u64) -> Vec<u8> {
    format!("id: {id}\nretry: {retry_ms}\ndata: \n\n").into_bytes()
}

/// The marker that ends a session's standalone stream (never sent to the client).
const CLOSED: &str = "closed";

/// Ends the standalone stream of `session` (a GET stream or a legacy `/sse` stream):
/// its follower stops at the marker instead of waiting out its lifetime.
pub async fn close<K: KeyValue>(kv: &K, session: &str) -> Result<(), KvError> {
    append(
        kv,
        session,
        STANDALONE,
        &serde_json::json!({ CLOSED: true }),
    )
    .await
    .map(|_| ())
}

/// Ends the standalone streams of `sessions` (ended elsewhere); a failure leaves that
/// stream to run out its lifetime.
pub async fn close_all<K: KeyValue>(kv: &K, sessions: &[String]) {
    for session in sessions {
        let _ = close(kv, session).await;
    }
}

/// Appends `message` to `stream` of `session`; its number.
pub async fn append<K: KeyValue>(
    kv: &K,
    session: &str,
    stream: &str,
    message: &Value,
) -> Result<u64, KvError> {
    let hint = kv
        .get(&hint_key(session, stream))
        .await?
        .and_then(|e| std::str::from_utf8(&e.value).ok()?.parse::<u64>().ok())
        .unwrap_or(1);
    let bytes = message.to_string().into_bytes();
    let mut n = hint.max(1);
    loop {
        match kv
            .compare_and_swap(
                &event_key(session, stream, n),
                None,
                &bytes,
                Some(EVENT_TTL_MS),
            )
            .await
        {
            Ok(_) => break,
            Err(KvError::Conflict(_)) => n += 1,
            Err(other) => return Err(other),
        }
    }
    // Only a hint for the next writer: a stale one costs a few extra attempts.
    let _ = kv
        .put(
            &hint_key(session, stream),
            (n + 1).to_string().as_bytes(),
            Some(EVENT_TTL_MS),
        )
        .await;
    Ok(n)
}

/// Appends `message` as event `n` of a stream that only its creator writes (the
/// stream a POST answers on, under a fresh random id): the writer counts for itself,
/// so this is one create-only write, with no hint to read or leave. Should `n` be
/// taken all the same, it falls back to [`append`]. The number written.
pub async fn append_owned<K: KeyValue>(
    kv: &K,
    session: &str,
    stream: &str,
    n: u64,
    message: &Value,
) -> Result<u64, KvError> {
    let bytes = message.to_string().into_bytes();
    let key = event_key(session, stream, n.max(1));
    match kv
        .compare_and_swap(&key, None, &bytes, Some(EVENT_TTL_MS))
        .await
    {
        Ok(_) => Ok(n.max(1)),
        Err(KvError::Conflict(_)) => append(kv, session, stream, message).await,
        Err(other) => Err(other),
    }
}

/// The next event of `stream` after `after`, if it exists yet.
pub async fn read<K: KeyValue>(
    kv: &K,
    session: &str,
    stream: &str,
    after: u64,
) -> Result<Option<Value>, KvError> {
    Ok(kv
        .get(&event_key(session, stream, after + 1))
        .await?
        .and_then(|e| serde_json::from_slice(&e.value).ok()))
}

/// The number of the last event of `stream` so far (0 when none).
pub async fn last<K: KeyValue>(kv: &K, session: &str, stream: &str) -> Result<u64, KvError> {
    let mut n = kv
        .get(&hint_key(session, stream))
        .await?
        .and_then(|e| std::str::from_utf8(&e.value).ok()?.parse::<u64>().ok())
        .unwrap_or(1)
        .saturating_sub(1);
    // The hint may trail a writer that has not updated it yet.
    while read(kv, session, stream, n).await?.is_some() {
        n += 1;
    }
    Ok(n)
}

/// A stream that follows `stream` of a session after an event: each event as it
/// appears, until the stream's request is answered (request streams) or `max_ms` has
/// passed (the standalone stream; the client then reconnects).
pub struct Follower<H> {
    host: Rc<H>,
    state: Option<FollowState>,
    pending: Option<BoxedFuture<(FollowState, Option<Vec<u8>>)>>,
}

/// Where a follower is.
struct FollowState {
    session: String,
    stream: String,
    after: u64,
    deadline_ms: u64,
    ended: bool,
    prefix: VecDeque<Vec<u8>>,
}

impl<H: Host + 'static> Follower<H> {
    /// Follows `stream` of `session` after event `after`, for at most `max_ms`; the
    /// frames in `prefix` go first.
    pub fn new(
        host: Rc<H>,
        session: String,
        stream: String,
        after: u64,
        max_ms: u64,
        prefix: Vec<Vec<u8>>,
    ) -> Self {
        let deadline_ms = host.clock().now_ms().saturating_add(max_ms);
        Self {
            host,
            state: Some(FollowState {
                session,
                stream,
                after,
                deadline_ms,
                ended: false,
                prefix: prefix.into(),
            }),
            pending: None,
        }
    }
}

async fn next_frame<H: Host>(
    host: Rc<H>,
    mut state: FollowState,
) -> (FollowState, Option<Vec<u8>>) {
    if let Some(frame) = state.prefix.pop_front() {
        return (state, Some(frame));
    }
    let now = host.clock().now_ms();
    if state.ended || now >= state.deadline_ms {
        state.ended = true;
        return (state, None);
    }
    let key = event_key(&state.session, &state.stream, state.after + 1);
    // The store wakes the wait when the event is written; a quiet stream gets a
    // comment now and then, which keeps proxies from closing it and shows the server
    // when the client has gone.
    let wait_ms = (state.deadline_ms - now).min(HEARTBEAT_MS);
    let waited = host
        .key_value()
        .wait(&key, u32::try_from(wait_ms).unwrap_or(u32::MAX))
        .await;
    match waited {
        Ok(Some(entry)) => {
            let Ok(message) = serde_json::from_slice::<Value>(&entry.value) else {
                state.ended = true;
                return (state, None);
            };
            state.after += 1;
            if message.get(CLOSED).is_some() && message.get("jsonrpc").is_none() {
                state.ended = true;
                return (state, None);
            }
            // A request's stream ends with its response.
            if state.stream != STANDALONE && message.get("method").is_none() {
                state.ended = true;
            }
            let frame = sse_frame(Some(&event_id(&state.stream, state.after)), &message);
            (state, Some(frame))
        }
        Ok(None) if host.clock().now_ms() < state.deadline_ms => {
            (state, Some(b": keep-alive\n\n".to_vec()))
        }
        _ => {
            state.ended = true;
            (state, None)
        }
    }
}

impl<H: Host + 'static> BodyStream for Follower<H> {
    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Vec<u8>>> {
        if self.pending.is_none() {
            let Some(state) = self.state.take() else {
                return Poll::Ready(None);
            };
            self.pending = Some(Box::pin(next_frame(Rc::clone(&self.host), state)));
        }
        let Some(pending) = self.pending.as_mut() else {
            return Poll::Ready(None);
        };
        match pending.as_mut().poll(cx) {
            Poll::Ready((state, frame)) => {
                self.pending = None;
                self.state = Some(state);
                Poll::Ready(frame)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use learner_testkit::{MemoryKv, TestClock, run};
    use serde_json::json;

    use super::*;

    #[test]
    fn events_are_numbered_in_order_and_read_back_after_a_position() {
        let clock = TestClock::default();
        let kv = MemoryKv::new(&clock);
        assert_eq!(run(last(&kv, "s", "0")), Ok(0));
        for n in 1..=3 {
            assert_eq!(run(append(&kv, "s", "0", &json!({"n": n}))), Ok(n));
        }
        assert_eq!(run(read(&kv, "s", "0", 1)), Ok(Some(json!({"n": 2}))));
        assert_eq!(run(read(&kv, "s", "0", 3)), Ok(None));
        assert_eq!(run(last(&kv, "s", "0")), Ok(3));
        // Streams and sessions are apart.
        assert_eq!(run(read(&kv, "s", "ab", 0)), Ok(None));
        assert_eq!(run(read(&kv, "t", "0", 0)), Ok(None));
        // A stale hint only costs attempts.
        run(kv.put(&hint_key("s", "0"), b"1", None)).expect("put");
        assert_eq!(run(append(&kv, "s", "0", &json!({"n": 4}))), Ok(4));
    }

    #[test]
    fn event_ids_round_trip_and_foreign_ones_are_refused() {
        assert_eq!(parse_event_id(&event_id("0", 7)), Some(("0".into(), 7)));
        assert_eq!(parse_event_id("ab12.3"), Some(("ab12".into(), 3)));
        for bad in [
            "",
            "7",
            "x.1",
            "ab.",
            ".1",
            "ab.-1",
            "../x.1",
            &format!("{}.1", "a".repeat(33)),
        ] {
            assert_eq!(parse_event_id(bad), None, "{bad}");
        }
    }
}
