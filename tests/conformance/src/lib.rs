//! The suites that run unchanged against every host.
//!
//! The tests in `tests/` run against a live server whose base URL is given in
//! `LEARNER_BASE_URL`, a test build (with `learner-test-routes`). They are written
//! once and run unchanged against every host (`just test` starts each in turn), so
//! every host is held to the same contract. The port contract ([`contract`]) also runs
//! in-process against the harness's storage driver.

// The suites' helpers take JSON values by value, so a call reads as the request it makes
// (`ok(json!({…}))`).
#![allow(clippy::needless_pass_by_value)]

pub mod contract;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::Value;
/// The HTTP client the suites use, for code built on them (the over-HTTP benchmark).
pub use ureq;

/// The server under test, from `LEARNER_BASE_URL`.
pub fn base_url() -> String {
    std::env::var("LEARNER_BASE_URL")
        .map(|url| url.trim_end_matches('/').to_owned())
        .expect("LEARNER_BASE_URL must name the server under test (run through `just test`)")
}

/// The second instance of the host under test, from `LEARNER_STRICT_URL`: access
/// tokens live 3 s, MCP sessions idle out after 1 s, per-address limits are tight (30
/// OAuth requests a minute, 3 registrations an hour) and `public.url` is set to this
/// URL.
pub fn strict_url() -> String {
    std::env::var("LEARNER_STRICT_URL")
        .map(|url| url.trim_end_matches('/').to_owned())
        .expect("LEARNER_STRICT_URL must name the strict instance (run through `just test`)")
}

/// An HTTP agent that returns error statuses as responses rather than errors.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        // A bound on one exchange, generous for a busy machine (a cold workerd).
        .timeout_global(Some(Duration::from_mins(2)))
        .build()
        .into()
}

/// Makes one port call through the installed [`contract::PortCaller`], by default
/// `POST /__test/ports`, and returns the JSON answer (`{"ok": …}` or `{"err": …}`);
/// panics on any other status.
pub fn port_call(call: Value) -> Value {
    if let Some(caller) = contract::installed() {
        return caller.call(&call);
    }
    let mut response = agent()
        .post(format!("{}/__test/ports", base_url()))
        .send_json(&call)
        .expect("server reachable");
    let status = response.status().as_u16();
    let body: Value = response.body_mut().read_json().expect("JSON answer");
    assert_eq!(status, 200, "port call {call} answered {status}: {body}");
    body
}

/// The `ok` part of an answer; panics on `err`.
pub fn ok(call: Value) -> Value {
    let answer = port_call(call.clone());
    match answer.get("ok") {
        Some(value) => value.clone(),
        None => panic!("port call {call} failed: {answer}"),
    }
}

/// The `err` part of an answer; panics on `ok`.
pub fn err(call: Value) -> Value {
    let answer = port_call(call.clone());
    match answer.get("err") {
        Some(value) => value.clone(),
        None => panic!("port call {call} should have failed: {answer}"),
    }
}

/// A key or table name no other test run uses.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{prefix}_{}_{nanos:x}", std::process::id())
}

/// Percent-encodes a value for a query string or form body (unreserved characters
/// kept as they are).
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A response read by [`request_from`].
#[derive(Debug)]
pub struct RawResponse {
    /// Status code.
    pub status: u16,
    /// Header names (lower-case) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body (chunked transfer coding removed).
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The first value of header `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON (`Null` if it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// Sends one HTTP/1.1 request to `base` from the loopback source address `from`
/// (every 127.0.0.0/8 address is local on Linux), as a different client would. The
/// request also carries `CF-Connecting-IP: from`, which is how Cloudflare's edge tells
/// a worker the client address (local workerd keeps the value it is given). `extra`
/// headers are sent as they are, `Host` included.
pub fn request_from(
    from: Ipv4Addr,
    base: &str,
    method: &str,
    path: &str,
    extra: &[(&str, &str)],
    body: &[u8],
) -> RawResponse {
    let authority = base.trim_start_matches("http://");
    let target: SocketAddr = authority.parse().expect("base URL is http://ip:port");
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    socket
        .bind(&SocketAddr::from((from, 0)).into())
        .expect("bind the source address");
    socket
        .connect_timeout(&target.into(), Duration::from_secs(10))
        .expect("connect");
    let mut stream: TcpStream = socket.into();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut head = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !extra.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
        head.push_str(&format!("Host: {authority}\r\n"));
    }
    head.push_str(&format!("CF-Connecting-IP: {from}\r\n"));
    for (name, value) in extra {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(head.as_bytes()).expect("send head");
    stream.write_all(body).expect("send body");
    // Read until the response is complete by its own framing: some servers keep the
    // connection open for a while despite `Connection: close`.
    let mut raw = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    loop {
        if response_complete(&raw) {
            break;
        }
        let n = stream.read(&mut buffer).expect("read the response");
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buffer[..n]);
    }
    parse_response(&raw)
}

/// Whether `raw` holds a whole response: the head, then `Content-Length` bytes or a
/// chunked body's last chunk.
fn response_complete(raw: &[u8]) -> bool {
    let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let body = &raw[split + 4..];
    let length = head
        .split("\r\n")
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    if let Some(length) = length {
        return body.len() >= length;
    }
    if head.contains("transfer-encoding: chunked") {
        return body.ends_with(b"0\r\n\r\n");
    }
    // Neither: the body ends when the connection closes.
    false
}

fn parse_response(raw: &[u8]) -> RawResponse {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response head");
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .expect("a status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    RawResponse {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(end) = data.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size_text = String::from_utf8_lossy(&data[..end]);
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).expect("a chunk size");
        data = &data[end + 2..];
        if size == 0 || data.len() < size {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = data.get(size + 2..).unwrap_or_default();
    }
}

/// An access token for `scope`, issued to a fresh public client for `subject` through
/// the real authorization-request validation and code exchange (`/__test/oauth/code`
/// stands in for the sign-in and consent pages). Each call is a new grant.
pub fn access_token(subject: &str, scope: &str) -> String {
    access_grant(subject, scope).0
}

/// Like [`access_token`]: the access token and the client it was issued to.
pub fn access_grant(subject: &str, scope: &str) -> (String, String) {
    access_grant_with(subject, scope, serde_json::json!({}))
}

/// Like [`access_grant`], with grant properties as the sign-in page records them
/// (`tenant`, `role`).
pub fn access_grant_with(subject: &str, scope: &str, props: Value) -> (String, String) {
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    const REDIRECT: &str = "http://127.0.0.1:43210/callback";
    let base = base_url();
    let registered: Value = agent()
        .post(format!("{base}/oauth/register"))
        .header("content-type", "application/json")
        .send(
            serde_json::json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"})
                .to_string(),
        )
        .expect("reachable")
        .body_mut()
        .read_json()
        .expect("registration JSON");
    let client = registered["client_id"]
        .as_str()
        .expect("client_id")
        .to_owned();
    let query = format!(
        "response_type=code&client_id={client}&redirect_uri={}&code_challenge={CHALLENGE}\
         &code_challenge_method=S256&state=s&scope={}&resource={}",
        encode(REDIRECT),
        encode(scope),
        encode(&format!("{base}/mcp"))
    );
    let issued: Value = agent()
        .post(format!("{base}/__test/oauth/code"))
        .send_json(serde_json::json!({"query": query, "subject": subject, "props": props}))
        .expect("reachable")
        .body_mut()
        .read_json()
        .expect("code JSON");
    let code = issued["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no code: {issued}"));
    let tokens: Value = agent()
        .post(format!("{base}/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .send(format!(
            "grant_type=authorization_code&code={code}&redirect_uri={}&client_id={client}&code_verifier={VERIFIER}",
            encode(REDIRECT)
        ))
        .expect("reachable")
        .body_mut()
        .read_json()
        .expect("token JSON");
    let token = tokens["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token: {tokens}"))
        .to_owned();
    (token, client)
}

/// MCP over Streamable HTTP (2025-11-25) with a bearer token: enough for the Learner DNA
/// suites to open a session and call methods.
pub mod mcp {
    use serde_json::{Value, json};

    use super::{agent, base_url};

    const ACCEPT: &str = "application/json, text/event-stream";

    /// `POST /mcp` of one request: the status, the JSON answer (null when none) and the
    /// session id the server returned.
    pub fn rpc(
        token: &str,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> (u16, Value, Option<String>) {
        let mut request = agent()
            .post(format!("{}/mcp", base_url()))
            .header("authorization", &format!("Bearer {token}"))
            .header("content-type", "application/json")
            .header("accept", ACCEPT);
        if let Some(session) = session {
            request = request
                .header("mcp-session-id", session)
                .header("mcp-protocol-version", "2025-11-25");
        }
        let mut response = request
            .send(
                json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string(),
            )
            .expect("reachable");
        let status = response.status().as_u16();
        let session = response
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let streamed = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/event-stream"));
        let body = response.body_mut().read_to_string().unwrap_or_default();
        let answer = if streamed {
            // The response is the stream's message that carries the request's id.
            body.lines()
                .filter_map(|line| line.strip_prefix("data: "))
                .filter_map(|data| serde_json::from_str::<Value>(data).ok())
                .find(|message| message.get("id").is_some())
                .unwrap_or(Value::Null)
        } else {
            serde_json::from_str(&body).unwrap_or(Value::Null)
        };
        (status, answer, session)
    }

    /// Initializes a session (and says it is initialized); its id.
    pub fn open(token: &str) -> String {
        let (status, _, session) = rpc(
            token,
            None,
            "initialize",
            json!({"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "dna-tests", "version": "1"}}),
        );
        assert_eq!(status, 200);
        let session = session.expect("a session");
        let status = agent()
            .post(format!("{}/mcp", base_url()))
            .header("authorization", &format!("Bearer {token}"))
            .header("content-type", "application/json")
            .header("accept", ACCEPT)
            .header("mcp-session-id", &session)
            .header("mcp-protocol-version", "2025-11-25")
            .send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string())
            .expect("reachable")
            .status()
            .as_u16();
        assert_eq!(status, 202);
        session
    }

    /// Seeds the demo tenant (a no-op when it is there) through the test-only route.
    pub fn seed_demo() {
        let mut response = agent()
            .post(format!("{}/__test/dna/seed", base_url()))
            .send_json(json!({"demo": true, "tenants": 0, "learners": 30}))
            .expect("reachable");
        assert_eq!(response.status(), 200);
        let _ = response.body_mut().read_to_string();
    }

    /// `tools/call`: the result (panics on a JSON-RPC error).
    pub fn call_tool(token: &str, session: &str, name: &str, arguments: Value) -> Value {
        let (status, answer, _) = rpc(
            token,
            Some(session),
            "tools/call",
            json!({"name": name, "arguments": arguments}),
        );
        assert_eq!(status, 200, "{answer}");
        answer
            .get("result")
            .cloned()
            .unwrap_or_else(|| panic!("{name}: {answer}"))
    }

    /// `resources/read` of a JSON resource: its parsed body, or the JSON-RPC error.
    pub fn read_json(token: &str, session: &str, uri: &str) -> Result<Value, Value> {
        let (_, answer, _) = rpc(token, Some(session), "resources/read", json!({"uri": uri}));
        match answer["result"]["contents"][0]["text"].as_str() {
            Some(text) => Ok(serde_json::from_str(text).expect("JSON contents")),
            None => Err(answer["error"].clone()),
        }
    }
}

/// An access token by the server's real OAuth flow, as a person at the browser would
/// get one: discovery, registration, the sign-in and consent pages by form POST, and the
/// PKCE code exchange (no redirect is followed).
pub mod sign_in {
    use serde_json::{Value, json};

    use super::encode;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    const REDIRECT: &str = "http://127.0.0.1:9/callback";
    fn agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into()
    }

    fn hidden(html: &str, name: &str) -> Result<String, String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = html
            .find(&marker)
            .ok_or_else(|| format!("no {name} field in the page"))?
            + marker.len();
        Ok(html[start..]
            .split('"')
            .next()
            .unwrap_or_default()
            .to_owned())
    }

    /// The consent page's checkboxes that are ticked, as `(name, value)` — what a
    /// browser sends for them when the person clicks "Allow" without touching them.
    pub fn ticked_boxes(html: &str) -> Vec<(String, String)> {
        html.split("<input type=\"checkbox\" ")
            .skip(1)
            .filter_map(|rest| {
                let tag = rest.split('>').next()?;
                let attribute = |name: &str| {
                    let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
                    tag[start..].split('"').next().map(str::to_owned)
                };
                tag.ends_with(" checked")
                    .then(|| Some((attribute("name")?, attribute("value")?)))
                    .flatten()
            })
            .collect()
    }

    /// The consent form's fields for a person who ticks exactly `scope` (space-separated).
    pub fn ticking(scope: &str) -> Vec<(String, String)> {
        scope
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(|s| (format!("grant:{s}"), "yes".to_owned()))
            .collect()
    }

    fn post_form<K: AsRef<str>, V: AsRef<str>>(
        url: &str,
        form: &[(K, V)],
        cookie: Option<&str>,
    ) -> Result<ureq::http::Response<ureq::Body>, String> {
        let body: Vec<String> = form
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k.as_ref()), encode(v.as_ref())))
            .collect();
        let mut request = agent()
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded");
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send(body.join("&")).map_err(|e| e.to_string())
    }

    /// The real flow: discovery, registration, sign-in, consent (the person ticking
    /// every scope asked for), token.
    pub fn obtain_token(
        upstream: &str,
        username: &str,
        password: &str,
        scope: &str,
    ) -> Result<String, String> {
        let metadata: Value = agent()
            .get(format!("{upstream}/.well-known/oauth-authorization-server"))
            .call()
            .map_err(|e| e.to_string())?
            .body_mut()
            .read_json()
            .map_err(|e| e.to_string())?;
        let endpoint = |name: &str| {
            metadata[name]
                .as_str()
                .map(str::to_owned)
                .ok_or(format!("no {name}"))
        };
        let resource = format!("{}/mcp", metadata["issuer"].as_str().unwrap_or(upstream));
        let registered: Value = agent()
            .post(endpoint("registration_endpoint")?)
            .header("content-type", "application/json")
            .send(
                json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none",
                       "client_name": "Learner DNA test client"})
                .to_string(),
            )
            .map_err(|e| e.to_string())?
            .body_mut()
            .read_json()
            .map_err(|e| e.to_string())?;
        let client = registered["client_id"]
            .as_str()
            .ok_or("registration failed")?
            .to_owned();
        let authorize = endpoint("authorization_endpoint")?;
        let url = format!(
            "{authorize}?response_type=code&client_id={client}&redirect_uri={}&code_challenge={CHALLENGE}\
             &code_challenge_method=S256&state=proxy&scope={}&resource={}",
            encode(REDIRECT),
            encode(scope),
            encode(&resource)
        );
        let page = agent()
            .get(&url)
            .call()
            .map_err(|e| e.to_string())?
            .body_mut()
            .read_to_string()
            .map_err(|e| e.to_string())?;
        let signed_in = post_form(
            &authorize,
            &[
                ("request_id", hidden(&page, "request_id")?.as_str()),
                ("csrf", hidden(&page, "csrf")?.as_str()),
                ("action", "sign_in"),
                ("username", username),
                ("password", password),
            ],
            None,
        )?;
        let cookie = signed_in
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .ok_or("sign-in failed (no session cookie)")?
            .to_owned();
        let consent = signed_in
            .into_body()
            .read_to_string()
            .map_err(|e| e.to_string())?;
        let mut answer = vec![
            ("request_id".to_owned(), hidden(&consent, "request_id")?),
            ("csrf".to_owned(), hidden(&consent, "csrf")?),
            ("action".to_owned(), "approve".to_owned()),
        ];
        answer.extend(ticking(scope));
        let approved = post_form(&authorize, &answer, Some(&cookie))?;
        let location = approved
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .ok_or("consent did not redirect")?;
        let code = location
            .split(['?', '&'])
            .find_map(|pair| pair.strip_prefix("code="))
            .ok_or("no code in the redirect")?
            .to_owned();
        let tokens: Value = post_form(
            &endpoint("token_endpoint")?,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("client_id", &client),
                ("code_verifier", VERIFIER),
            ],
            None,
        )?
        .body_mut()
        .read_json()
        .map_err(|e| e.to_string())?;
        tokens["access_token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("token exchange failed: {tokens}"))
    }
}
