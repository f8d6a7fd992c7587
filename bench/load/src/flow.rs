//! One client's whole flow against a server, each step timed: dynamic client
//! registration, authorization (with and without a sign-in), code exchange, refresh,
//! then MCP `initialize`, `tools/list`, `resources/read` and `tools/call`.
//!
//! Two kinds of server are driven the same way: this project ([`Stack::Learner`]: a
//! person signs in and approves on the consent page; the MCP calls read the Learner
//! DNA) and the reference stack ([`Stack::Reference`]: `/authorize` approves at once;
//! the MCP calls are `echo` and a static resource).

use std::time::{Duration, Instant};

use learner_conformance::sign_in::{hidden, ticking};
use learner_conformance::{CHALLENGE, VERIFIER, encode};
use serde_json::{Value, json};

/// The redirect URI of the load client's registrations (never followed).
const REDIRECT: &str = "http://127.0.0.1:9/callback";
/// The MCP revision the client speaks.
const PROTOCOL: &str = "2025-11-25";

/// Which server is under test.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
pub enum Stack {
    /// This project, on any host.
    Learner,
    /// `bench/reference-stack`: Cloudflare's OAuth provider and agents' MCP handler.
    Reference,
}

/// The steps of one flow, in order; each one's time covers every request it makes.
pub const STEPS: [&str; 9] = [
    "register",
    "sign-in + authorize",
    "authorize",
    "code exchange",
    "refresh",
    "initialize",
    "tools/list",
    "resources/read",
    "tools/call",
];

/// The port calls a server reported for a step (`Server-Timing`): key-value, SQL,
/// audit, outbound HTTP.
pub type Calls = [u32; 4];

/// One step's measurement: wall time and, where the server reports them, port calls.
#[derive(Debug, Clone, Copy, Default)]
pub struct Measured {
    /// Milliseconds from the first request sent to the last answer read.
    pub ms: f64,
    /// The port calls of all the step's requests; `None` if the server reports none.
    pub calls: Option<Calls>,
}

impl Measured {
    fn add(&mut self, answer: &Answer) {
        self.ms += answer.ms;
        if let Some(calls) = answer.calls {
            let total = self.calls.get_or_insert([0; 4]);
            for (sum, n) in total.iter_mut().zip(calls) {
                *sum += n;
            }
        }
    }
}

/// An HTTP answer as the flow needs it.
struct Answer {
    status: u16,
    location: Option<String>,
    cookie: Option<String>,
    session: Option<String>,
    body: String,
    ms: f64,
    calls: Option<Calls>,
}

/// The port calls in a `Server-Timing` value (`kv;desc=3;dur=…, sql;desc=…`).
pub fn parse_server_timing(value: &str) -> Option<Calls> {
    let mut calls = [0; 4];
    for metric in value.split(',') {
        let mut parts = metric.trim().split(';');
        let index = match parts.next()? {
            "kv" => 0,
            "sql" => 1,
            "audit" => 2,
            "fetch" => 3,
            _ => continue,
        };
        calls[index] = parts.find_map(|p| p.strip_prefix("desc="))?.parse().ok()?;
    }
    Some(calls)
}

/// What a flow needs to know about the server: its endpoints and what to ask for.
#[derive(Debug, Clone)]
pub struct Target {
    /// Which kind of server.
    pub stack: Stack,
    /// The registration endpoint.
    pub register: String,
    /// The authorization endpoint.
    pub authorize: String,
    /// The token endpoint.
    pub token: String,
    /// The MCP endpoint (the protected resource).
    pub mcp: String,
    /// The scope asked for.
    pub scope: String,
    /// Who signs in (this project only).
    pub username: String,
    /// Their password.
    pub password: String,
}

impl Target {
    /// Reads the server's authorization server metadata at `base`.
    pub fn discover(
        stack: Stack,
        base: &str,
        username: &str,
        password: &str,
    ) -> Result<Self, String> {
        let client = Client::new();
        let answer = client.send(
            "GET",
            &format!("{base}/.well-known/oauth-authorization-server"),
            &[],
            "",
        )?;
        let metadata: Value =
            serde_json::from_str(&answer.body).map_err(|e| format!("metadata: {e}"))?;
        let endpoint = |name: &str| {
            metadata[name]
                .as_str()
                .map(str::to_owned)
                .ok_or(format!("the metadata has no {name}"))
        };
        let scope = match stack {
            Stack::Learner => {
                "learner.profile learner.behavioral learner.assessment learner.struggles"
            }
            Stack::Reference => "mcp",
        };
        Ok(Self {
            stack,
            register: endpoint("registration_endpoint")?,
            authorize: endpoint("authorization_endpoint")?,
            token: endpoint("token_endpoint")?,
            mcp: format!("{base}/mcp"),
            scope: scope.to_owned(),
            username: username.to_owned(),
            password: password.to_owned(),
        })
    }
}

/// One client: one connection (kept alive), as one MCP client would hold.
pub struct Client {
    agent: ureq::Agent,
}

/// What a flow leaves a client with: tokens and an MCP session to go on with.
#[derive(Debug, Clone, Default)]
pub struct Session {
    /// The browser's session cookie on the sign-in pages (this project).
    pub cookie: Option<String>,
    /// The access token.
    pub access: String,
    /// The MCP session id, where the server keeps sessions.
    pub mcp_id: Option<String>,
}

impl Default for Client {
    fn default() -> Self {
        Self::new()
    }
}

impl Client {
    /// A client on a connection of its own.
    pub fn new() -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_mins(2)))
            .max_idle_connections_per_host(1)
            .build()
            .into();
        Self { agent }
    }

    fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Result<Answer, String> {
        let started = Instant::now();
        let mut request = ureq::http::Request::builder().method(method).uri(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(body.to_owned()).map_err(|e| e.to_string())?;
        let mut response = self
            .agent
            .run(request)
            .map_err(|e| format!("{method} {url}: {e}"))?;
        let text = response
            .body_mut()
            .with_config()
            .limit(16 * 1024 * 1024)
            .read_to_string()
            .map_err(|e| e.to_string())?;
        let ms = started.elapsed().as_secs_f64() * 1e3;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        // A streamed answer ends with the whole request's tally as an SSE comment; the
        // header counted only what came before the stream.
        let streamed = text
            .lines()
            .rev()
            .find_map(|line| line.strip_prefix(": server-timing "))
            .and_then(parse_server_timing);
        Ok(Answer {
            status: response.status().as_u16(),
            location: header("location"),
            cookie: header("set-cookie").and_then(|c| c.split(';').next().map(str::to_owned)),
            session: header("mcp-session-id"),
            calls: streamed.or_else(|| {
                header("server-timing")
                    .as_deref()
                    .and_then(parse_server_timing)
            }),
            body: text,
            ms,
        })
    }

    fn form(
        &self,
        url: &str,
        cookie: Option<&str>,
        fields: &[(String, String)],
    ) -> Result<Answer, String> {
        let body: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        let mut headers = vec![("content-type", "application/x-www-form-urlencoded")];
        if let Some(cookie) = cookie {
            headers.push(("cookie", cookie));
        }
        self.send("POST", url, &headers, &body.join("&"))
    }

    /// One whole flow, every step timed. `cookie`: a signed-in browser session to
    /// authorize with (the sign-in step signs in afresh either way and returns the new
    /// cookie in the [`Session`]). `pick`: which of the learners listed the tool call
    /// reads (learner ids are pseudonyms per client, so each flow lists its own).
    pub fn flow(
        &self,
        target: &Target,
        cookie: Option<&str>,
        pick: usize,
    ) -> Result<([Measured; 9], Session), String> {
        let mut steps = [Measured::default(); 9];
        let client_id = self.register(target, &mut steps[0])?;
        let mut session = Session::default();
        if target.stack == Stack::Learner {
            session.cookie = Some(
                self.sign_in_and_authorize(target, &client_id, &mut steps[1])?
                    .0,
            );
        }
        let cookie = cookie.or(session.cookie.as_deref());
        let code = self.authorize(target, &client_id, cookie, &mut steps[2])?;
        let refresh = self.exchange(target, &client_id, &code, &mut steps[3])?;
        session.access = self.refresh(target, &client_id, &refresh, &mut steps[4])?;
        session.mcp_id = self.initialize(target, &session.access, &mut steps[5])?;
        self.mcp(target, &session, "tools/list", &json!({}), &mut steps[6])?;
        let listed = self.mcp(
            target,
            &session,
            "resources/read",
            &read_params(target.stack),
            &mut steps[7],
        )?;
        let learners = learner_ids(target.stack, &listed)?;
        let learner = &learners[pick % learners.len()];
        self.mcp(
            target,
            &session,
            "tools/call",
            &call_params(target.stack, learner),
            &mut steps[8],
        )?;
        Ok((steps, session))
    }

    /// The learners `session` may read, as its client sees them (untimed).
    pub fn learners(&self, target: &Target, session: &Session) -> Result<Vec<String>, String> {
        let listed = self.mcp(
            target,
            session,
            "resources/read",
            &read_params(target.stack),
            &mut Measured::default(),
        )?;
        learner_ids(target.stack, &listed)
    }

    /// A flow without sign-in or timing: a token and an MCP session, for load that
    /// follows.
    pub fn connect(&self, target: &Target, cookie: Option<&str>) -> Result<Session, String> {
        let mut ignored = Measured::default();
        let client_id = self.register(target, &mut ignored)?;
        let code = self.authorize(target, &client_id, cookie, &mut ignored)?;
        let refresh = self.exchange(target, &client_id, &code, &mut ignored)?;
        let access = self.refresh(target, &client_id, &refresh, &mut ignored)?;
        let mcp_id = self.initialize(target, &access, &mut ignored)?;
        Ok(Session {
            cookie: cookie.map(str::to_owned),
            access,
            mcp_id,
        })
    }

    /// A browser session on this project's sign-in pages (the reference has none).
    pub fn sign_in(&self, target: &Target) -> Result<Option<String>, String> {
        if target.stack == Stack::Reference {
            return Ok(None);
        }
        let mut ignored = Measured::default();
        let client_id = self.register(target, &mut ignored)?;
        Ok(Some(
            self.sign_in_and_authorize(target, &client_id, &mut ignored)?
                .0,
        ))
    }

    fn register(&self, target: &Target, step: &mut Measured) -> Result<String, String> {
        let body = json!({
            "redirect_uris": [REDIRECT],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "client_name": "learner-load",
        });
        let answer = self.send(
            "POST",
            &target.register,
            &[("content-type", "application/json")],
            &body.to_string(),
        )?;
        step.add(&answer);
        expect(&answer, 201, "register")?;
        let registered: Value = serde_json::from_str(&answer.body).map_err(|e| e.to_string())?;
        registered["client_id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("no client_id: {}", answer.body))
    }

    fn authorization_url(target: &Target, client_id: &str) -> String {
        format!(
            "{}?response_type=code&client_id={}&redirect_uri={}&code_challenge={CHALLENGE}\
             &code_challenge_method=S256&state=load&scope={}&resource={}",
            target.authorize,
            encode(client_id),
            encode(REDIRECT),
            encode(&target.scope),
            encode(&target.mcp)
        )
    }

    /// The sign-in page, signing in, and the approval: the new cookie and the code.
    fn sign_in_and_authorize(
        &self,
        target: &Target,
        client_id: &str,
        step: &mut Measured,
    ) -> Result<(String, String), String> {
        let page = self.send("GET", &Self::authorization_url(target, client_id), &[], "")?;
        step.add(&page);
        expect(&page, 200, "the sign-in page")?;
        let fields = vec![
            ("request_id".to_owned(), hidden(&page.body, "request_id")?),
            ("csrf".to_owned(), hidden(&page.body, "csrf")?),
            ("action".to_owned(), "sign_in".to_owned()),
            ("username".to_owned(), target.username.clone()),
            ("password".to_owned(), target.password.clone()),
        ];
        let consent = self.form(&target.authorize, None, &fields)?;
        step.add(&consent);
        expect(&consent, 200, "sign-in")?;
        let cookie = consent
            .cookie
            .clone()
            .ok_or("sign-in set no cookie (wrong password?)")?;
        let code = self.approve(target, &consent, &cookie, step)?;
        Ok((cookie, code))
    }

    /// Authorization by a person already signed in (`cookie`); at once on the
    /// reference stack. The code.
    fn authorize(
        &self,
        target: &Target,
        client_id: &str,
        cookie: Option<&str>,
        step: &mut Measured,
    ) -> Result<String, String> {
        let url = Self::authorization_url(target, client_id);
        let headers: Vec<(&str, &str)> = cookie.map(|c| ("cookie", c)).into_iter().collect();
        let page = self.send("GET", &url, &headers, "")?;
        step.add(&page);
        match target.stack {
            Stack::Reference => {
                expect(&page, 302, "authorize")?;
                code_in(page.location.as_deref())
            }
            Stack::Learner => {
                expect(&page, 200, "the consent page")?;
                let cookie = cookie.ok_or("authorize needs a signed-in session")?;
                self.approve(target, &page, cookie, step)
            }
        }
    }

    /// "Allow" on the consent page `page`, every scope ticked; the code.
    fn approve(
        &self,
        target: &Target,
        page: &Answer,
        cookie: &str,
        step: &mut Measured,
    ) -> Result<String, String> {
        let mut fields = vec![
            ("request_id".to_owned(), hidden(&page.body, "request_id")?),
            ("csrf".to_owned(), hidden(&page.body, "csrf")?),
            ("action".to_owned(), "approve".to_owned()),
        ];
        fields.extend(ticking(&target.scope));
        let approved = self.form(&target.authorize, Some(cookie), &fields)?;
        step.add(&approved);
        expect(&approved, 303, "approve")?;
        code_in(approved.location.as_deref())
    }

    /// The code exchange; the refresh token.
    fn exchange(
        &self,
        target: &Target,
        client_id: &str,
        code: &str,
        step: &mut Measured,
    ) -> Result<String, String> {
        let fields = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("client_id", client_id),
            ("code_verifier", VERIFIER),
            ("resource", &target.mcp),
        ];
        let tokens = self.token(target, &fields, step, "code exchange")?;
        tokens["refresh_token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("no refresh token: {tokens}"))
    }

    /// The refresh; the new access token.
    fn refresh(
        &self,
        target: &Target,
        client_id: &str,
        refresh: &str,
        step: &mut Measured,
    ) -> Result<String, String> {
        let fields = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", client_id),
        ];
        let tokens = self.token(target, &fields, step, "refresh")?;
        tokens["access_token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("no access token: {tokens}"))
    }

    fn token(
        &self,
        target: &Target,
        fields: &[(&str, &str)],
        step: &mut Measured,
        what: &str,
    ) -> Result<Value, String> {
        let fields: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let answer = self.form(&target.token, None, &fields)?;
        step.add(&answer);
        expect(&answer, 200, what)?;
        serde_json::from_str(&answer.body).map_err(|e| e.to_string())
    }

    fn initialize(
        &self,
        target: &Target,
        access: &str,
        step: &mut Measured,
    ) -> Result<Option<String>, String> {
        let params = json!({"protocolVersion": PROTOCOL, "capabilities": {},
                            "clientInfo": {"name": "learner-load", "version": "1"}});
        let session = Session {
            cookie: None,
            access: access.to_owned(),
            mcp_id: None,
        };
        let answer = self.rpc(target, &session, "initialize", &params)?;
        step.add(&answer);
        expect_result(&answer, "initialize")?;
        Ok(answer.session)
    }

    /// One MCP request on `session`; its result.
    pub fn mcp(
        &self,
        target: &Target,
        session: &Session,
        method: &str,
        params: &Value,
        step: &mut Measured,
    ) -> Result<Value, String> {
        let answer = self.rpc(target, session, method, params)?;
        step.add(&answer);
        let result = expect_result(&answer, method)?;
        // A tool that failed answers with a result too: it must not count as served.
        if result["isError"] == json!(true) {
            return Err(format!("{method}: the tool failed: {result}"));
        }
        Ok(result)
    }

    fn rpc(
        &self,
        target: &Target,
        session: &Session,
        method: &str,
        params: &Value,
    ) -> Result<Answer, String> {
        let bearer = format!("Bearer {}", session.access);
        let mut headers = vec![
            ("authorization", bearer.as_str()),
            ("content-type", "application/json"),
            ("accept", "application/json, text/event-stream"),
        ];
        if method != "initialize" {
            headers.push(("mcp-protocol-version", PROTOCOL));
        }
        if let Some(id) = &session.mcp_id {
            headers.push(("mcp-session-id", id));
        }
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        self.send("POST", &target.mcp, &headers, &body.to_string())
    }
}

/// The `resources/read` of a flow: the learners the person may read (this project).
fn read_params(stack: Stack) -> Value {
    match stack {
        Stack::Learner => json!({"uri": "learner-dna://learners"}),
        Stack::Reference => json!({"uri": "ref://about"}),
    }
}

/// The learner ids in the answer to [`read_params`] (one empty id on the reference
/// stack, whose tool takes none).
fn learner_ids(stack: Stack, listed: &Value) -> Result<Vec<String>, String> {
    if stack == Stack::Reference {
        return Ok(vec![String::new()]);
    }
    let text = listed["contents"][0]["text"]
        .as_str()
        .ok_or("the learners list has no text")?;
    let list: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let ids: Vec<String> = list["learners"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["id"].as_str().map(str::to_owned))
        .collect();
    if ids.is_empty() {
        return Err("the signed-in person may read no learner".into());
    }
    Ok(ids)
}

/// The `tools/call` parameters of a flow.
pub fn call_params(stack: Stack, learner: &str) -> Value {
    match stack {
        Stack::Learner => json!({"name": "get_learner_dna", "arguments": {"learner": learner}}),
        Stack::Reference => json!({"name": "echo", "arguments": {"text": "hello"}}),
    }
}

fn expect(answer: &Answer, status: u16, what: &str) -> Result<(), String> {
    if answer.status == status {
        Ok(())
    } else {
        let body: String = answer.body.chars().take(300).collect();
        Err(format!(
            "{what}: {} (expected {status}): {body}",
            answer.status
        ))
    }
}

/// The JSON-RPC result of an MCP answer (plain JSON, or the SSE event that carries it).
fn expect_result(answer: &Answer, method: &str) -> Result<Value, String> {
    expect(answer, 200, method)?;
    let message = serde_json::from_str::<Value>(&answer.body)
        .ok()
        .or_else(|| {
            answer
                .body
                .lines()
                .filter_map(|line| line.strip_prefix("data:"))
                .filter_map(|data| serde_json::from_str::<Value>(data.trim()).ok())
                .find(|m| m.get("id").is_some())
        });
    match message {
        Some(mut message) if message.get("result").is_some() => Ok(message["result"].take()),
        _ => Err(format!(
            "{method}: no result: {}",
            answer.body.chars().take(300).collect::<String>()
        )),
    }
}

fn code_in(location: Option<&str>) -> Result<String, String> {
    let location = location.ok_or("no redirect")?;
    location
        .split(['?', '&'])
        .find_map(|pair| pair.strip_prefix("code="))
        .map(percent_decoded)
        .ok_or_else(|| format!("no code in {location}"))
}

/// A query value with its `%XX` escapes decoded (codes may carry `:`, sent as `%3A`).
fn percent_decoded(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| value.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        if let Some(byte) = escaped {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_timing_gives_the_four_counts() {
        assert_eq!(
            parse_server_timing(
                "kv;desc=4;dur=0.1, sql;desc=1;dur=0.2, audit;desc=0;dur=0, fetch;desc=2;dur=1"
            ),
            Some([4, 1, 0, 2])
        );
        assert_eq!(
            parse_server_timing("cache;desc=hit, kv;desc=3"),
            Some([3, 0, 0, 0])
        );
        assert_eq!(parse_server_timing("kv;desc=many"), None);
    }

    #[test]
    fn the_code_is_read_from_the_redirect() {
        assert_eq!(
            code_in(Some("http://127.0.0.1:9/callback?code=abc&state=load")),
            Ok("abc".to_owned())
        );
        assert!(code_in(Some("http://127.0.0.1:9/callback?error=access_denied")).is_err());
        assert!(code_in(None).is_err());
        assert_eq!(
            code_in(Some("https://a.example/cb?code=u%3Ag%3As&state=x")),
            Ok("u:g:s".to_owned())
        );
        assert_eq!(percent_decoded("100%"), "100%");
    }
}
