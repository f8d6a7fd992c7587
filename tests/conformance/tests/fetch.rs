//! The fetch port contract, against a small HTTP server this test runs on loopback.
//! Hosts under test allow `http://127.0.0.1:*` and nothing else on loopback.

// Test helpers take JSON values by value, so a call reads as the request it makes.
#![allow(clippy::needless_pass_by_value)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::thread;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use learner_conformance::{err, ok};
use serde_json::json;

/// Serves one connection: reads the request head and body, then answers with
/// `respond(method, path, body)` after `delay`. Returns its URL, `http://127.0.0.1:PORT`.
fn one_shot_server(delay: Duration, respond: fn(&str, &str, &[u8]) -> Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().expect("addr").port();
    thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut request_line = String::new();
        let _ = reader.read_line(&mut request_line);
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0u8; length];
        let _ = std::io::Read::read_exact(&mut reader, &mut body);
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_owned();
        let path = parts.next().unwrap_or_default().to_owned();
        thread::sleep(delay);
        let payload = respond(&method, &path, &body);
        let mut stream = stream;
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nx-probe: yes\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            payload.len()
        );
        let _ = stream.write_all(&payload);
    });
    format!("http://127.0.0.1:{port}")
}

fn send(url: String, body: &[u8], timeout_ms: u32, max_response_bytes: u32) -> serde_json::Value {
    json!({"port": "fetch", "op": "send", "method": "POST", "url": url,
           "headers": [["content-type", "text/plain"]], "body": B64.encode(body),
           "timeout_ms": timeout_ms, "max_response_bytes": max_response_bytes})
}

#[test]
fn a_request_reaches_an_allowed_host_and_the_response_comes_back() {
    let server = one_shot_server(Duration::ZERO, |method, path, body| {
        format!("{method} {path} {}", String::from_utf8_lossy(body)).into_bytes()
    });
    let response = ok(send(format!("{server}/echo?x=1"), b"ping", 5_000, 4_096));
    assert_eq!(response["status"], json!(200));
    assert_eq!(response["body"], json!(B64.encode("POST /echo?x=1 ping")));
    let headers = response["headers"].as_array().expect("headers");
    assert!(headers.contains(&json!(["x-probe", "yes"])), "{headers:?}");
}

#[test]
fn a_host_not_on_the_allow_list_is_denied_without_a_connection() {
    // 127.0.0.2 is loopback but not on the allow-list: refused before connecting.
    let error = err(send("http://127.0.0.2:9/".into(), b"", 2_000, 1_024));
    assert_eq!(error["kind"], "denied", "{error}");
    let malformed = err(send("not a url".into(), b"", 2_000, 1_024));
    assert_eq!(malformed["kind"], "denied", "{malformed}");
}

#[test]
fn a_response_over_the_limit_is_too_large() {
    let server = one_shot_server(Duration::ZERO, |_, _, _| vec![b'x'; 5_000]);
    let error = err(send(format!("{server}/big"), b"", 5_000, 1_000));
    assert_eq!(error, json!({"kind": "too-large"}));
}

#[test]
fn a_slow_response_times_out() {
    let server = one_shot_server(Duration::from_secs(3), |_, _, _| b"late".to_vec());
    let error = err(send(format!("{server}/slow"), b"", 500, 1_000));
    assert_eq!(error, json!({"kind": "timeout"}));
}
