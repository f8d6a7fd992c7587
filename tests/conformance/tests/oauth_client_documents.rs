//! Client ID Metadata Documents over HTTP: a client whose `client_id` is the URL of
//! its metadata, served by a small HTTP server this test runs on loopback. The main
//! instance accepts documents from `http://127.0.0.1:*` (test settings); the strict
//! instance accepts none.

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use learner_conformance::{agent, base_url, encode, request_from, strict_url};
use serde_json::{Value, json};

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const REDIRECT: &str = "http://127.0.0.1:43777/callback";

/// A document server: `base` is its URL, `good_fetches` counts fetches of
/// `/good.json`.
struct Documents {
    base: String,
    good_fetches: Arc<AtomicUsize>,
}

impl Documents {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

fn document(client_id: &str) -> Value {
    json!({
        "client_id": client_id,
        "client_name": "Doc Client",
        "client_uri": "https://doc-client.example",
        "redirect_uris": [REDIRECT],
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "none",
    })
}

fn serve_documents() -> Documents {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let good_fetches = Arc::new(AtomicUsize::new(0));
    let (count, root) = (Arc::clone(&good_fetches), base.clone());
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request_line = String::new();
            let _ = reader.read_line(&mut request_line);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
            }
            let path = request_line.split_whitespace().nth(1).unwrap_or_default();
            let url = format!("{root}{path}");
            let json = "application/json";
            let (status, content_type, extra, body) = match path {
                "/good.json" => {
                    count.fetch_add(1, Ordering::SeqCst);
                    (
                        200,
                        json,
                        "cache-control: max-age=600\r\n",
                        document(&url).to_string(),
                    )
                }
                "/other-id.json" => (
                    200,
                    json,
                    "",
                    document(&format!("{root}/good.json")).to_string(),
                ),
                "/secret.json" => {
                    let mut doc = document(&url);
                    doc["token_endpoint_auth_method"] = json!("client_secret_basic");
                    (200, json, "", doc.to_string())
                }
                "/big.json" => {
                    let mut doc = document(&url);
                    doc["padding"] = json!("x".repeat(6000));
                    (200, json, "", doc.to_string())
                }
                "/html.json" => (200, "text/html", "", document(&url).to_string()),
                "/moved.json" => (302, json, "location: /good.json\r\n", String::new()),
                _ => (404, json, "", "{}".to_owned()),
            };
            let mut stream = stream;
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\n{extra}content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    Documents { base, good_fetches }
}

fn authorize_query(client_id: &str, resource_base: &str) -> String {
    format!(
        "response_type=code&client_id={}&redirect_uri={}&code_challenge={CHALLENGE}\
         &code_challenge_method=S256&state=doc&scope=learner.profile&resource={}",
        encode(client_id),
        encode(REDIRECT),
        encode(&format!("{resource_base}/mcp"))
    )
}

/// `GET /oauth/authorize` for `client_id`: (status, Location, page).
fn authorize_page(base: &str, client_id: &str) -> (u16, Option<String>, String) {
    let response = request_from(
        Ipv4Addr::LOCALHOST,
        base,
        "GET",
        &format!("/oauth/authorize?{}", authorize_query(client_id, base)),
        &[],
        b"",
    );
    let location = response.header("location").map(str::to_owned);
    let page = String::from_utf8_lossy(&response.body).into_owned();
    (response.status, location, page)
}

fn token(form: &str) -> (u16, Value) {
    let mut response = agent()
        .post(format!("{}/oauth/token", base_url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .send(form)
        .expect("reachable");
    let status = response.status().as_u16();
    (
        status,
        response.body_mut().read_json().unwrap_or(Value::Null),
    )
}

#[test]
fn support_is_advertised_only_where_configured() {
    let metadata = |base: &str| {
        request_from(
            Ipv4Addr::LOCALHOST,
            base,
            "GET",
            "/.well-known/oauth-authorization-server",
            &[],
            b"",
        )
        .json()
    };
    assert_eq!(
        metadata(&base_url())["client_id_metadata_document_supported"],
        true
    );
    assert_eq!(
        metadata(&strict_url())["client_id_metadata_document_supported"],
        false
    );
}

#[test]
fn a_document_client_signs_in_and_gets_tokens_with_one_fetch() {
    let documents = serve_documents();
    let client_id = documents.url("/good.json");

    // The sign-in page names the client and the host that vouches for it.
    let (status, location, page) = authorize_page(&base_url(), &client_id);
    assert_eq!((status, location), (200, None), "{page}");
    assert!(page.contains("Doc Client (127.0.0.1)"), "{page}");

    let mut issued = agent()
        .post(format!("{}/__test/oauth/code", base_url()))
        .send_json(
            json!({"query": authorize_query(&client_id, &base_url()), "subject": "demo:teacher"}),
        )
        .expect("reachable");
    let issued: Value = issued.body_mut().read_json().expect("JSON");
    let code = issued["code"]
        .as_str()
        .unwrap_or_else(|| panic!("{issued}"));
    let (status, tokens) = token(&format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}&client_id={}&code_verifier={VERIFIER}",
        encode(REDIRECT),
        encode(&client_id)
    ));
    assert_eq!(status, 200, "{tokens}");
    let refresh = tokens["refresh_token"].as_str().expect("refresh token");
    let (status, rotated) = token(&format!(
        "grant_type=refresh_token&refresh_token={refresh}&client_id={}",
        encode(&client_id)
    ));
    assert_eq!(status, 200, "{rotated}");
    // The page, the code and both token requests were served from one fetch.
    assert_eq!(documents.good_fetches.load(Ordering::SeqCst), 1);

    // A document client has no secret to present.
    let mut basic = agent()
        .post(format!("{}/oauth/token", base_url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .header(
            "authorization",
            &format!(
                "Basic {}",
                base64::Engine::encode(
                    &base64::engine::general_purpose::STANDARD,
                    format!("{}:guess", encode(&client_id))
                )
            ),
        )
        .send(format!("grant_type=refresh_token&refresh_token={refresh}"))
        .expect("reachable");
    assert_eq!(basic.status(), 401);
    let body: Value = basic.body_mut().read_json().expect("JSON");
    assert_eq!(body["error"], "invalid_client");
}

#[test]
fn unacceptable_documents_are_refused_on_a_page_never_redirected() {
    let documents = serve_documents();
    for (path, reason) in [
        ("/other-id.json", "does not name this URL"),
        ("/secret.json", "token_endpoint_auth_method"),
        ("/big.json", "larger than"),
        ("/html.json", "application/json"),
        ("/moved.json", "answered 302"),
        ("/missing.json", "answered 404"),
    ] {
        let (status, location, page) = authorize_page(&base_url(), &documents.url(path));
        assert_eq!((status, location), (400, None), "{path}: {page}");
        assert!(page.contains(reason), "{path}: {page}");
    }
    // Hosts the operator did not list are never fetched from.
    let (status, location, page) =
        authorize_page(&base_url(), "https://client.example/oauth/metadata.json");
    assert_eq!((status, location), (400, None), "{page}");
    assert!(
        page.contains("does not accept clients from that host"),
        "{page}"
    );
    // And where documents are not accepted at all, a URL is no client.
    let (status, location, page) = authorize_page(&strict_url(), &documents.url("/good.json"));
    assert_eq!((status, location), (400, None), "{page}");
    assert!(
        page.contains("does not accept client metadata documents"),
        "{page}"
    );
    assert_eq!(documents.good_fetches.load(Ordering::SeqCst), 0);
}
