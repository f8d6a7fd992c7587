//! A local proxy that lets clients which cannot send a token — the official MCP
//! conformance suite — test the protected `/mcp` endpoint with authorization on.
//!
//! It forwards every connection to the server, streaming the response back unchanged
//! (SSE included). At start — through itself, since the server may name this proxy as
//! its public URL — it obtains an access token by the server's real OAuth flow
//! (registration, sign-in and consent by form POST, code exchange with PKCE); from
//! then on every forwarded request carries `Authorization: Bearer <token>`. It prints
//! `ready` once it has the token.
//!
//!   mcp-auth-proxy --upstream http://127.0.0.1:8787 --listen 127.0.0.1:9000 \
//!                  [--username teacher] (password from LEARNER_DEMO_PASSWORD)

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, RwLock};
use std::thread;

use port_conformance::encode;
use serde_json::{Value, json};

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const REDIRECT: &str = "http://127.0.0.1:9/callback";
/// Longest request head forwarded.
const MAX_HEAD: usize = 64 * 1024;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

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

fn post_form(
    url: &str,
    form: &[(&str, &str)],
    cookie: Option<&str>,
) -> Result<ureq::http::Response<ureq::Body>, String> {
    let body: Vec<String> = form
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    let mut request = agent()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send(body.join("&")).map_err(|e| e.to_string())
}

/// The real flow: discovery, registration, sign-in, consent, token.
fn obtain_token(upstream: &str, username: &str, password: &str) -> Result<String, String> {
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
                   "client_name": "MCP conformance proxy"})
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
         &code_challenge_method=S256&state=proxy&scope=learner.profile&resource={}",
        encode(REDIRECT),
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
            ("request_id", &hidden(&page, "request_id")?),
            ("csrf", &hidden(&page, "csrf")?),
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
    let approved = post_form(
        &authorize,
        &[
            ("request_id", &hidden(&consent, "request_id")?),
            ("csrf", &hidden(&consent, "csrf")?),
            ("action", "approve"),
        ],
        Some(&cookie),
    )?;
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

/// Reads the request head; returns it and any body bytes read past it.
fn read_head(stream: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
            return Some((head, buffer[end + 4..].to_vec()));
        }
        if buffer.len() > MAX_HEAD {
            return None;
        }
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
}

fn forward(mut client: TcpStream, upstream: &str, token: Option<String>) {
    let Some((head, rest)) = read_head(&mut client) else {
        return;
    };
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_owned();
    let mut out = format!("{request_line}\r\n");
    for line in lines {
        let name = line
            .split(':')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        // The proxy's own credentials replace any the client sent; one request per
        // connection keeps the framing simple.
        if name == "authorization" || name == "connection" || name == "keep-alive" {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    if let Some(token) = token {
        out.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    out.push_str("Connection: close\r\n\r\n");
    let Ok(mut server) = TcpStream::connect(upstream) else {
        let _ = client.write_all(
            b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        );
        return;
    };
    if server.write_all(out.as_bytes()).is_err() || server.write_all(&rest).is_err() {
        return;
    }
    // The rest of the request body, then the response, flow through unchanged.
    let (Ok(mut client_reader), Ok(mut server_writer)) = (client.try_clone(), server.try_clone())
    else {
        return;
    };
    let upload = thread::spawn(move || {
        let _ = std::io::copy(&mut client_reader, &mut server_writer);
        let _ = server_writer.shutdown(Shutdown::Write);
    });
    let _ = std::io::copy(&mut server, &mut client);
    let _ = client.shutdown(Shutdown::Both);
    let _ = server.shutdown(Shutdown::Both);
    let _ = upload.join();
}

fn main() {
    let upstream = arg("--upstream").unwrap_or_else(|| "http://127.0.0.1:8787".into());
    let listen = arg("--listen").unwrap_or_else(|| "127.0.0.1:0".into());
    let username = arg("--username").unwrap_or_else(|| "teacher".into());
    let password = std::env::var("LEARNER_DEMO_PASSWORD").unwrap_or_default();
    let upstream_addr = upstream
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let listener = match TcpListener::bind(&listen) {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("mcp-auth-proxy: cannot listen on {listen}: {error}");
            std::process::exit(1);
        }
    };
    let Ok(own) = listener.local_addr() else {
        std::process::exit(1);
    };
    let token: Arc<RwLock<Option<String>>> = Arc::default();
    let shared = Arc::clone(&token);
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let upstream = upstream_addr.clone();
            let token = shared.read().ok().and_then(|t| t.clone());
            thread::spawn(move || forward(stream, &upstream, token));
        }
    });
    match obtain_token(&format!("http://{own}"), &username, &password) {
        Ok(obtained) => {
            if let Ok(mut slot) = token.write() {
                *slot = Some(obtained);
            }
        }
        Err(error) => {
            eprintln!("mcp-auth-proxy: could not obtain a token: {error}");
            std::process::exit(1);
        }
    }
    println!(
        "mcp-auth-proxy: ready on http://{own}, forwarding to {upstream} with a token for {username}"
    );
    loop {
        thread::park();
    }
}
