//! Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document, the
//! way MCP clients identify themselves without registering): a `client_id` that is a
//! URL names a JSON document, served there, that holds the client's metadata.
//!
//! The server fetches it through the outbound-HTTP port, checks that it describes the
//! very URL it came from and a public client, validates it like a registration, and
//! caches it in the key-value port for as long as the document allows within fixed
//! bounds. Which URLs are accepted at all is the operator's choice (a list of
//! `scheme://host[:port]` patterns); fetching a URL anyone may choose is otherwise a
//! request-forgery risk.

use learner_core::outbound::{AllowedHost, check_url};
use learner_core::ports::{Fetch, FetchError, KeyValue, KvError, OutboundRequest};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::clients::Client;
use crate::error::{ErrorCode, OAuthError};
use crate::registration::{AuthMethod, ClientMetadata};

/// Longest document accepted (the draft suggests 5 KB).
pub const MAX_DOCUMENT_BYTES: u32 = 5 * 1024;
/// Longest accepted `client_id` URL.
pub const MAX_URL_BYTES: usize = 2048;
/// How long a fetch may take.
pub const FETCH_TIMEOUT_MS: u32 = 5_000;
/// A document is cached at least this long, whatever it says: it bounds how often one
/// client id makes this server fetch.
pub const MIN_CACHE_MS: u64 = 60_000;
/// Cache lifetime when the response gives none.
pub const DEFAULT_CACHE_MS: u64 = 60 * 60_000;
/// A document is refetched at least this often.
pub const MAX_CACHE_MS: u64 = 24 * 60 * 60_000;

/// Whether `client_id` names a metadata document rather than a registered client.
pub fn is_document_url(client_id: &str) -> bool {
    client_id.starts_with("https://") || client_id.starts_with("http://")
}

fn refused(message: impl Into<String>) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidClient, message)
}

/// Checks a `client_id` URL's form (draft §3: https, a path, no fragment, no
/// credentials, no dot segments) and that `allowed` admits it. Plain http is accepted
/// only for loopback hosts, and only when a pattern names http (local development).
pub fn check_client_id(client_id: &str, allowed: &[AllowedHost]) -> Result<(), OAuthError> {
    if client_id.len() > MAX_URL_BYTES {
        return Err(refused("the client_id URL is too long"));
    }
    if client_id.contains('#') {
        return Err(refused("a client_id URL must not have a fragment"));
    }
    let uri: http::Uri = client_id
        .parse()
        .map_err(|_| refused("the client_id is not a valid URL"))?;
    let authority = uri
        .authority()
        .ok_or_else(|| refused("the client_id URL has no host"))?;
    if authority.as_str().contains('@') {
        return Err(refused("a client_id URL must not contain credentials"));
    }
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let ip = host.parse::<std::net::IpAddr>().ok();
    match uri.scheme_str() {
        Some("https") if ip.is_none() => {}
        Some("https") => return Err(refused("a client_id URL must name a host, not an address")),
        Some("http") if ip.is_some_and(|ip| ip.is_loopback()) || host == "localhost" => {}
        _ => return Err(refused("a client_id URL must be https")),
    }
    let path = uri.path();
    if path.is_empty() || path == "/" {
        return Err(refused("a client_id URL must have a path"));
    }
    if path
        .split('/')
        .any(|segment| segment == "." || segment == "..")
    {
        return Err(refused("a client_id URL must not have dot segments"));
    }
    check_url(allowed, client_id)
        .map(|_| ())
        .map_err(|_| refused("this server does not accept clients from that host"))
}

/// Validates a fetched document for `client_id`: a JSON object whose `client_id` is
/// exactly the URL, describing a public client (no secret; `token_endpoint_auth_method`
/// `none`, which is also what an omitted method means here, since a document cannot
/// carry a shared secret), with metadata valid as a registration.
pub fn parse_document(client_id: &str, body: &[u8]) -> Result<ClientMetadata, OAuthError> {
    let invalid = |message: String| refused(format!("the client's metadata document {message}"));
    let mut document: Value =
        serde_json::from_slice(body).map_err(|e| invalid(format!("is not valid JSON: {e}")))?;
    let Value::Object(members) = &mut document else {
        return Err(invalid("is not a JSON object".into()));
    };
    if members.get("client_id").and_then(Value::as_str) != Some(client_id) {
        return Err(invalid("does not name this URL as its client_id".into()));
    }
    if members.contains_key("client_secret") || members.contains_key("client_secret_expires_at") {
        return Err(invalid("must not contain a client secret".into()));
    }
    let method = members
        .entry("token_endpoint_auth_method")
        .or_insert_with(|| Value::String("none".into()));
    if method != "none" {
        return Err(invalid(
            "must use token_endpoint_auth_method \"none\" (the only method this server supports for such clients)".into(),
        ));
    }
    let metadata = ClientMetadata::from_request(document.to_string().as_bytes())
        .map_err(|e| invalid(format!("is not valid client metadata: {}", e.description)))?;
    debug_assert_eq!(metadata.auth_method, AuthMethod::None);
    Ok(metadata)
}

/// How long to cache a document fetched with this `Cache-Control` value: its
/// `max-age`, else an hour, always within [`MIN_CACHE_MS`]..=[`MAX_CACHE_MS`].
pub fn cache_lifetime_ms(cache_control: Option<&str>) -> u64 {
    let max_age_ms = cache_control.and_then(|value| {
        value.split(',').find_map(|directive| {
            let (name, seconds) = directive.trim().split_once('=')?;
            name.trim()
                .eq_ignore_ascii_case("max-age")
                .then(|| seconds.trim().trim_matches('"').parse::<u64>().ok())?
                .map(|s| s.saturating_mul(1_000))
        })
    });
    let no_store = cache_control.is_some_and(|v| {
        v.split(',').any(|d| {
            matches!(
                d.trim().to_ascii_lowercase().as_str(),
                "no-store" | "no-cache"
            )
        })
    });
    let wanted = if no_store {
        MIN_CACHE_MS
    } else {
        max_age_ms.unwrap_or(DEFAULT_CACHE_MS)
    };
    wanted.clamp(MIN_CACHE_MS, MAX_CACHE_MS)
}

/// Why a document client could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentFailure {
    /// The URL or the document is not acceptable, or could not be fetched.
    Refused(OAuthError),
    /// The key-value port failed.
    Storage(KvError),
}

#[derive(Serialize, Deserialize)]
struct CachedDocument {
    /// The validated metadata (validated again when read).
    metadata: Value,
    fetched_at_s: u64,
}

fn cache_key(client_id: &str) -> String {
    format!(
        "oauth:client-document:{}",
        learner_core::hex(&Sha256::digest(client_id.as_bytes()))
    )
}

/// Resolves document clients over the key-value and fetch ports.
pub struct ClientDocuments<'a, K, F> {
    kv: &'a K,
    fetch: &'a F,
    allowed: &'a [AllowedHost],
}

impl<'a, K: KeyValue, F: Fetch> ClientDocuments<'a, K, F> {
    /// A resolver that accepts URLs `allowed` admits.
    pub fn new(kv: &'a K, fetch: &'a F, allowed: &'a [AllowedHost]) -> Self {
        Self { kv, fetch, allowed }
    }

    /// The client `client_id` names: from the cache, else fetched and validated.
    pub async fn resolve(&self, client_id: &str, now_ms: u64) -> Result<Client, DocumentFailure> {
        check_client_id(client_id, self.allowed).map_err(DocumentFailure::Refused)?;
        let key = cache_key(client_id);
        if let Some(entry) = self.kv.get(&key).await.map_err(DocumentFailure::Storage)?
            && let Ok(cached) = serde_json::from_slice::<CachedDocument>(&entry.value)
            && let Ok(metadata) =
                ClientMetadata::from_request(cached.metadata.to_string().as_bytes())
        {
            return Ok(Client {
                client_id: client_id.to_owned(),
                metadata,
                issued_at: cached.fetched_at_s,
            });
        }
        let (metadata, lifetime_ms) = self.fetch_document(client_id).await?;
        let cached = CachedDocument {
            metadata: metadata.to_json(),
            fetched_at_s: now_ms / 1_000,
        };
        // JSON values only: serialization cannot fail.
        let bytes = serde_json::to_vec(&cached).unwrap_or_default();
        // A failed cache write costs a refetch next time, nothing more.
        let _ = self.kv.put(&key, &bytes, Some(lifetime_ms)).await;
        Ok(Client {
            client_id: client_id.to_owned(),
            metadata,
            issued_at: cached.fetched_at_s,
        })
    }

    async fn fetch_document(
        &self,
        client_id: &str,
    ) -> Result<(ClientMetadata, u64), DocumentFailure> {
        let unreachable = |why: String| {
            DocumentFailure::Refused(refused(format!(
                "the client's metadata document could not be fetched: {why}"
            )))
        };
        let request = OutboundRequest {
            method: "GET".into(),
            url: client_id.to_owned(),
            headers: vec![("accept".into(), "application/json".into())],
            body: Vec::new(),
            timeout_ms: FETCH_TIMEOUT_MS,
            max_response_bytes: MAX_DOCUMENT_BYTES,
        };
        let response = self.fetch.send(&request).await.map_err(|e| match e {
            FetchError::TooLarge => {
                unreachable(format!("it is larger than {MAX_DOCUMENT_BYTES} bytes"))
            }
            FetchError::Timeout => unreachable("the request timed out".into()),
            FetchError::Denied(_) => {
                unreachable("the host is not reachable from this server".into())
            }
            FetchError::Transport(_) => unreachable("the connection failed".into()),
        })?;
        // Redirects are not followed: the document must live at the client_id itself.
        if response.status != 200 {
            return Err(unreachable(format!(
                "the server answered {}",
                response.status
            )));
        }
        let header = |name: &str| {
            response
                .headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let is_json = header("content-type")
            .and_then(|v| v.split(';').next())
            .map(|t| t.trim().to_ascii_lowercase())
            .is_some_and(|t| t == "application/json" || t.ends_with("+json"));
        if !is_json {
            return Err(unreachable("it is not served as application/json".into()));
        }
        let metadata =
            parse_document(client_id, &response.body).map_err(DocumentFailure::Refused)?;
        Ok((metadata, cache_lifetime_ms(header("cache-control"))))
    }
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};

    use learner_core::outbound::parse_list;
    use learner_core::ports::OutboundResponse;
    use serde_json::json;

    use super::*;
    use learner_testkit::{MemoryKv, TestClock, run};

    const URL: &str = "https://app.example/oauth/client.json";

    fn allowed() -> Vec<AllowedHost> {
        parse_list("https://*, http://127.0.0.1:*").expect("valid patterns")
    }

    fn document() -> Value {
        json!({
            "client_id": URL,
            "client_name": "Example",
            "redirect_uris": ["http://127.0.0.1/callback"],
            "grant_types": ["authorization_code", "refresh_token"],
        })
    }

    #[test]
    fn client_id_urls_are_checked_before_anything_is_fetched() {
        let allowed = allowed();
        assert_eq!(check_client_id(URL, &allowed), Ok(()));
        assert_eq!(
            check_client_id("http://127.0.0.1:8080/c.json", &allowed),
            Ok(())
        );
        for bad in [
            "http://app.example/client.json",
            "https://app.example",
            "https://app.example/",
            "https://app.example/a#frag",
            "https://user:pw@app.example/client.json",
            "https://app.example/a/../client.json",
            "https://app.example/./client.json",
            "https://10.0.0.5/client.json",
            "https://[::1]/client.json",
            "http://localhost:8080/client.json",
            "ftp://app.example/client.json",
            "not a url",
        ] {
            let error = check_client_id(bad, &allowed).expect_err(bad);
            assert_eq!(error.code, ErrorCode::InvalidClient, "{bad}");
        }
        let long = format!("https://app.example/{}", "a".repeat(MAX_URL_BYTES));
        assert!(check_client_id(&long, &allowed).is_err());
        // Only the operator's patterns are fetched from.
        let only_one = parse_list("https://trusted.example").expect("valid");
        assert!(check_client_id(URL, &only_one).is_err());
        assert!(check_client_id("https://trusted.example/c.json", &only_one).is_ok());
        assert!(check_client_id(URL, &[]).is_err());
    }

    #[test]
    fn documents_must_describe_their_own_url_and_a_public_client() {
        let metadata =
            parse_document(URL, document().to_string().as_bytes()).expect("valid document");
        assert_eq!(metadata.auth_method, AuthMethod::None);
        assert!(metadata.refresh_token_grant);
        assert_eq!(metadata.client_name.as_deref(), Some("Example"));

        let with = |key: &str, value: Value| {
            let mut doc = document();
            doc[key] = value;
            parse_document(URL, doc.to_string().as_bytes())
        };
        assert!(with("token_endpoint_auth_method", json!("none")).is_ok());
        for (key, value) in [
            ("client_id", json!("https://app.example/other.json")),
            ("client_id", json!(null)),
            ("client_secret", json!("s3cret")),
            ("client_secret_expires_at", json!(0)),
            ("token_endpoint_auth_method", json!("client_secret_basic")),
            ("token_endpoint_auth_method", json!("private_key_jwt")),
            ("redirect_uris", json!(["https://app.example/cb#frag"])),
            ("redirect_uris", json!([])),
            ("grant_types", json!(["implicit"])),
        ] {
            let error = with(key, value.clone()).expect_err(key);
            assert_eq!(error.code, ErrorCode::InvalidClient, "{key}: {value}");
        }
        for body in [&b"[]"[..], b"not json", b""] {
            assert!(parse_document(URL, body).is_err());
        }
    }

    #[test]
    fn cache_lifetimes_follow_max_age_within_bounds() {
        assert_eq!(cache_lifetime_ms(None), DEFAULT_CACHE_MS);
        assert_eq!(cache_lifetime_ms(Some("public, max-age=600")), 600_000);
        assert_eq!(cache_lifetime_ms(Some("max-age=1")), MIN_CACHE_MS);
        assert_eq!(cache_lifetime_ms(Some("max-age=99999999")), MAX_CACHE_MS);
        assert_eq!(cache_lifetime_ms(Some("no-store")), MIN_CACHE_MS);
        assert_eq!(cache_lifetime_ms(Some("max-age=abc")), DEFAULT_CACHE_MS);
    }

    /// A fetch port that answers from a script and counts calls.
    struct ScriptedFetch {
        response: RefCell<Result<OutboundResponse, FetchError>>,
        calls: Cell<usize>,
        last_limit: Cell<u32>,
    }

    impl ScriptedFetch {
        fn answering(status: u16, content_type: &str, body: &Value) -> Self {
            Self {
                response: RefCell::new(Ok(OutboundResponse {
                    status,
                    headers: vec![
                        ("Content-Type".into(), content_type.into()),
                        ("Cache-Control".into(), "max-age=120".into()),
                    ],
                    body: body.to_string().into_bytes(),
                })),
                calls: Cell::new(0),
                last_limit: Cell::new(0),
            }
        }
    }

    impl Fetch for ScriptedFetch {
        async fn send(&self, request: &OutboundRequest) -> Result<OutboundResponse, FetchError> {
            self.calls.set(self.calls.get() + 1);
            self.last_limit.set(request.max_response_bytes);
            self.response.borrow().clone()
        }
    }

    #[test]
    fn a_document_is_fetched_once_then_served_from_the_cache() {
        let clock = TestClock(Cell::new(10_000));
        let kv = MemoryKv::new(&clock);
        let fetch = ScriptedFetch::answering(200, "application/json; charset=utf-8", &document());
        let allowed = allowed();
        let documents = ClientDocuments::new(&kv, &fetch, &allowed);
        let client = run(documents.resolve(URL, 10_000)).expect("resolved");
        assert_eq!(client.client_id, URL);
        assert_eq!(client.issued_at, 10);
        assert_eq!(fetch.last_limit.get(), MAX_DOCUMENT_BYTES);
        let again = run(documents.resolve(URL, 20_000)).expect("cached");
        assert_eq!(again, client);
        assert_eq!(fetch.calls.get(), 1);
        // Past the document's max-age (120 s) it is fetched again.
        clock.0.set(131_001);
        run(documents.resolve(URL, 131_001)).expect("refetched");
        assert_eq!(fetch.calls.get(), 2);
    }

    #[test]
    fn bad_answers_are_refused_and_not_cached() {
        let clock = TestClock(Cell::new(0));
        let kv = MemoryKv::new(&clock);
        let allowed = allowed();
        for fetch in [
            ScriptedFetch::answering(302, "application/json", &document()),
            ScriptedFetch::answering(404, "application/json", &document()),
            ScriptedFetch::answering(200, "text/html", &document()),
            ScriptedFetch::answering(200, "application/json", &json!({"client_id": "x"})),
        ] {
            let documents = ClientDocuments::new(&kv, &fetch, &allowed);
            match run(documents.resolve(URL, 0)) {
                Err(DocumentFailure::Refused(error)) => {
                    assert_eq!(error.code, ErrorCode::InvalidClient);
                }
                other => panic!("{other:?}"),
            }
        }
        for failure in [
            FetchError::TooLarge,
            FetchError::Timeout,
            FetchError::Transport("x".into()),
        ] {
            let fetch = ScriptedFetch::answering(200, "application/json", &document());
            *fetch.response.borrow_mut() = Err(failure);
            let documents = ClientDocuments::new(&kv, &fetch, &allowed);
            assert!(matches!(
                run(documents.resolve(URL, 0)),
                Err(DocumentFailure::Refused(_))
            ));
        }
        // A refused URL is never fetched.
        let fetch = ScriptedFetch::answering(200, "application/json", &document());
        let documents = ClientDocuments::new(&kv, &fetch, &allowed);
        assert!(run(documents.resolve("https://10.1.2.3/c.json", 0)).is_err());
        assert_eq!(fetch.calls.get(), 0);
    }
}
