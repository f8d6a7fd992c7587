//! A local proxy that lets clients which cannot send a token — the official MCP
//! conformance suite — test the protected `/mcp` endpoint with authorization on.
//!
//! It forwards every connection to the server, streaming the response back unchanged
//! (SSE included). Like any reverse proxy it presents its own address as the server's:
//! a `Host` or `Origin` naming the proxy is rewritten to name the server; any other
//! value passes through untouched, so the server's own DNS-rebinding defence is what
//! the suite tests. At start it obtains an access token by the server's real OAuth flow
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

use learner_conformance::sign_in::obtain_token;

/// Longest request head forwarded.
const MAX_HEAD: usize = 64 * 1024;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
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

/// The lower-case name of a head's header `line` (the whole line, trimmed, if it has no
/// colon: the request or status line, which matches no header the proxy looks for).
fn header_name(line: &str) -> String {
    line.split(':')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// The proxy's and the server's authorities (`host:port`).
struct Addresses {
    own: String,
    upstream: String,
}

fn forward(mut client: TcpStream, addresses: &Addresses, token: Option<String>) {
    let upstream = addresses.upstream.as_str();
    let Some((head, rest)) = read_head(&mut client) else {
        return;
    };
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_owned();
    let mut out = format!("{request_line}\r\n");
    for line in lines {
        let name = header_name(line);
        // The proxy's own credentials replace any the client sent; one request per
        // connection keeps the framing simple.
        if name == "authorization" || name == "connection" || name == "keep-alive" {
            continue;
        }
        let value = line.split_once(':').map_or("", |(_, v)| v.trim());
        if name == "host" && value.eq_ignore_ascii_case(&addresses.own) {
            out.push_str(&format!("Host: {}\r\n", addresses.upstream));
        } else if name == "origin"
            && value.eq_ignore_ascii_case(&format!("http://{}", addresses.own))
        {
            out.push_str(&format!("Origin: http://{}\r\n", addresses.upstream));
        } else {
            out.push_str(line);
            out.push_str("\r\n");
        }
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
    // Exactly the declared body: one request per connection, both ways.
    let length = head
        .split("\r\n")
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = rest;
    while body.len() < length {
        let mut chunk = vec![0u8; (length - body.len()).min(64 * 1024)];
        match client.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    body.truncate(length);
    if server.write_all(out.as_bytes()).is_err() || server.write_all(&body).is_err() {
        return;
    }
    // The response head says the connection closes after it, so the client opens a
    // new one (and gets the token added) for its next request.
    let Some((response_head, response_rest)) = read_head(&mut server) else {
        return;
    };
    let mut head_out = String::new();
    for line in response_head.split("\r\n") {
        let name = header_name(line);
        if name != "connection" && name != "keep-alive" {
            head_out.push_str(line);
            head_out.push_str("\r\n");
        }
    }
    head_out.push_str("Connection: close\r\n\r\n");
    if client.write_all(head_out.as_bytes()).is_err() || client.write_all(&response_rest).is_err() {
        return;
    }
    let _ = client.flush();
    // Stream the rest (an SSE body may run for a while) as it arrives.
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match server.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if client.write_all(&chunk[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = client.shutdown(Shutdown::Both);
    let _ = server.shutdown(Shutdown::Both);
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
    let addresses = Arc::new(Addresses {
        own: own.to_string(),
        upstream: upstream_addr,
    });
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let addresses = Arc::clone(&addresses);
            let token = shared.read().ok().and_then(|t| t.clone());
            thread::spawn(move || forward(stream, &addresses, token));
        }
    });
    // Through the server directly: its metadata names its own address.
    match obtain_token(
        upstream.trim_end_matches('/'),
        &username,
        &password,
        "learner.profile",
    ) {
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
