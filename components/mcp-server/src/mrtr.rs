//! Multi-round-trip requests (2026-07-28): a stateless server cannot hold a call open
//! while the client answers, so a tool (or prompt) that needs input from the client
//! answers `InputRequiredResult` — what it needs, keyed, and an opaque `requestState` —
//! and the client repeats the request with `inputResponses`. The state carries the
//! answers of earlier rounds, bound to the method and name and signed (HMAC-SHA256), so
//! a tampered or transplanted state is refused.

use std::cell::RefCell;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::Sha256;

use crate::catalogue::{BoxFuture, ClientRequests};
use crate::jsonrpc::RpcError;
use crate::model::results::{InputRequiredResult, to_json};

/// One input a request needs: a request the client would otherwise be sent.
#[derive(Serialize)]
struct InputRequest<'a> {
    method: &'a str,
    params: Value,
}

/// Longest `requestState` accepted.
pub const MAX_STATE_BYTES: usize = 64 * 1024;
/// Most rounds one request may take.
pub const MAX_ROUNDS: u32 = 16;

/// What the signed state holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct State {
    /// The method (`tools/call`, `prompts/get`, `resources/read`).
    m: String,
    /// The tool or prompt name, or the URI.
    t: String,
    /// Rounds so far.
    r: u32,
    /// Answers received in earlier rounds.
    a: Map<String, Value>,
}

fn mac(key: &[u8; 32], payload: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length: this cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(payload);
    mac
}

fn seal(key: &[u8; 32], state: &State) -> String {
    // Strings, numbers and JSON values only: serialization cannot fail.
    let payload = B64.encode(serde_json::to_vec(state).unwrap_or_default());
    let tag = B64.encode(mac(key, payload.as_bytes()).finalize().into_bytes());
    format!("{payload}.{tag}")
}

fn open(key: &[u8; 32], text: &str) -> Option<State> {
    if text.len() > MAX_STATE_BYTES {
        return None;
    }
    let (payload, tag) = text.split_once('.')?;
    let tag = B64.decode(tag).ok()?;
    mac(key, payload.as_bytes()).verify_slice(&tag).ok()?;
    serde_json::from_slice(&B64.decode(payload).ok()?).ok()
}

/// A round of a multi-round request: the answers so far, and the inputs asked for.
pub struct Round {
    method: String,
    target: String,
    /// Rounds so far.
    number: u32,
    answers: Map<String, Value>,
    requested: RefCell<Map<String, Value>>,
}

impl Round {
    /// The round a request is in, from its `requestState` (verified) and
    /// `inputResponses`. A state that does not verify, or was issued for another
    /// method or target, is `-32602`.
    pub fn from_request(
        key: &[u8; 32],
        method: &str,
        target: &str,
        params: &Map<String, Value>,
    ) -> Result<Self, RpcError> {
        let (round, mut answers) = match params.get("requestState") {
            None | Some(Value::Null) => (0, Map::new()),
            Some(Value::String(text)) => {
                let state = open(key, text)
                    .filter(|s| s.m == method && s.t == target)
                    .ok_or_else(|| {
                        RpcError::invalid_params(
                            "requestState is not one this server issued for this request",
                        )
                    })?;
                (state.r, state.a)
            }
            Some(_) => return Err(RpcError::invalid_params("requestState must be a string")),
        };
        if let Some(Value::Object(responses)) = params.get("inputResponses") {
            for (key, value) in responses {
                answers.insert(key.clone(), value.clone());
            }
        }
        Ok(Self {
            method: method.to_owned(),
            target: target.to_owned(),
            number: round,
            answers,
            requested: RefCell::default(),
        })
    }

    /// Whether the handler asked for input it does not have yet.
    pub fn needs_input(&self) -> bool {
        !self.requested.borrow().is_empty()
    }

    /// The `InputRequiredResult`: the inputs asked for and the state to send back.
    pub fn input_required(&self, key: &[u8; 32]) -> Result<InputRequiredResult, RpcError> {
        if self.number + 1 > MAX_ROUNDS {
            return Err(RpcError::invalid_request(
                "too many rounds of input for one request",
            ));
        }
        let state = State {
            m: self.method.clone(),
            t: self.target.clone(),
            r: self.number + 1,
            a: self.answers.clone(),
        };
        Ok(InputRequiredResult {
            result_type: "input_required",
            input_requests: self.requested.borrow().clone(),
            request_state: seal(key, &state),
        })
    }
}

impl ClientRequests for Round {
    fn ask<'a>(
        &'a self,
        key: &'a str,
        method: &'a str,
        params: Value,
    ) -> BoxFuture<'a, Result<Option<Value>, RpcError>> {
        Box::pin(async move {
            // Only an object is an answer; anything else is asked again.
            if let Some(answer) = self.answers.get(key).filter(|a| a.is_object()) {
                return Ok(Some(answer.clone()));
            }
            let request = InputRequest { method, params };
            self.requested
                .borrow_mut()
                .insert(key.to_owned(), to_json(&request));
            Ok(None)
        })
    }
}

#[cfg(test)]
#[allow(clippy::needless_pass_by_value)] // Helpers take JSON by value, as a call writes it.
mod tests {
    use learner_testkit::run;
    use serde_json::json;

    use super::*;

    const KEY: [u8; 32] = [7; 32];

    fn params(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    /// The round of a `tools/call` of tool `t` with these parameters.
    fn tool_round(value: Value) -> Result<Round, RpcError> {
        Round::from_request(&KEY, "tools/call", "t", &params(value))
    }

    #[test]
    fn a_round_asks_then_answers_carry_over_in_the_signed_state() {
        let first = tool_round(json!({})).expect("round 1");
        assert_eq!(
            run(first.ask("name", "elicitation/create", json!({"message": "Name?"}))),
            Ok(None)
        );
        assert!(first.needs_input());
        let result = to_json(&first.input_required(&KEY).expect("input required"));
        assert_eq!(result["resultType"], "input_required");
        assert_eq!(
            result["inputRequests"]["name"]["method"],
            "elicitation/create"
        );
        let state = result["requestState"].as_str().expect("state").to_owned();

        let second = tool_round(json!({"requestState": state, "inputResponses": {"name": {"action": "accept", "content": {"name": "Alice"}}}}))
        .expect("round 2");
        assert_eq!(
            run(second.ask("name", "elicitation/create", json!({})))
                .expect("answered")
                .expect("some")["content"]["name"],
            "Alice"
        );
        assert_eq!(
            run(second.ask("color", "elicitation/create", json!({}))),
            Ok(None)
        );
        let again = to_json(&second.input_required(&KEY).expect("round 3 needed"));
        assert_ne!(again["requestState"], json!(state));
        // The third round still has the first answer, from the state alone.
        let third = tool_round(json!({"requestState": again["requestState"], "inputResponses": {"color": {"action": "accept", "content": {"color": "blue"}}}}))
        .expect("round 3");
        assert!(
            run(third.ask("name", "elicitation/create", json!({})))
                .expect("ok")
                .is_some()
        );
        assert!(
            run(third.ask("color", "elicitation/create", json!({})))
                .expect("ok")
                .is_some()
        );
        assert!(!third.needs_input());
    }

    #[test]
    fn tampered_or_transplanted_states_are_refused() {
        let first = tool_round(json!({})).expect("round 1");
        let _ = run(first.ask("k", "roots/list", json!({})));
        let state = to_json(&first.input_required(&KEY).expect("state"))["requestState"]
            .as_str()
            .expect("string")
            .to_owned();
        for bad in [
            format!("{state}-TAMPERED"),
            state.replace('.', ""),
            "x.y".to_owned(),
            String::new(),
        ] {
            let error = tool_round(json!({"requestState": bad}))
                .err()
                .expect("refused");
            assert_eq!(error.code, -32602);
        }
        // Another tool, another method, another key.
        for (key, method, target) in [
            (&KEY, "tools/call", "other"),
            (&KEY, "prompts/get", "t"),
            (&[8; 32], "tools/call", "t"),
        ] {
            assert!(
                Round::from_request(key, method, target, &params(json!({"requestState": state})))
                    .is_err()
            );
        }
        assert!(tool_round(json!({"requestState": 5})).is_err());
    }

    #[test]
    fn malformed_answers_are_asked_again() {
        for responses in [
            json!({"k": 12345}),
            json!({"k": null}),
            json!({"other": {"action": "accept"}}),
        ] {
            let round = tool_round(json!({"inputResponses": responses})).expect("round");
            assert_eq!(
                run(round.ask("k", "elicitation/create", json!({}))),
                Ok(None)
            );
        }
        let null = tool_round(json!({"inputResponses": null})).expect("round");
        assert_eq!(
            run(null.ask("k", "elicitation/create", json!({}))),
            Ok(None)
        );
    }
}
