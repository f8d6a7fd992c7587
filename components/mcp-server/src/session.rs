//! Session-era sessions (2024-11-05 … 2025-11-25): what the server remembers between
//! requests, stored in the key-value port so any instance of any host can serve the
//! next request. A session is bound to the grant, subject and client of the token that
//! opened it; it expires when idle and ends with an explicit DELETE.

use learner_core::ports::{KeyValue, KvError, Random};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::revision::Revision;

/// Bytes of randomness in a session id (hex on the wire: 64 visible ASCII characters,
/// as `Mcp-Session-Id` requires).
pub const SESSION_ID_BYTES: usize = 32;
/// Attempts at writing a session changed concurrently by other requests.
const UPDATE_ATTEMPTS: usize = 8;
/// Most resource subscriptions one session may hold.
pub const MAX_SUBSCRIPTIONS: usize = 100;

/// Who a session belongs to: the token that opened it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    /// The person who authorized the grant.
    pub subject: String,
    /// The client it was issued to.
    pub client_id: String,
    /// The grant: re-authorizing makes a new one, and so needs a new session.
    pub grant_id: String,
}

/// Log severities (RFC 5424), least severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Debug.
    Debug,
    /// Info.
    Info,
    /// Notice.
    Notice,
    /// Warning.
    Warning,
    /// Error.
    Error,
    /// Critical.
    Critical,
    /// Alert.
    Alert,
    /// Emergency.
    Emergency,
}

impl LogLevel {
    /// The level named `text` on the wire.
    pub fn parse(text: &str) -> Option<Self> {
        serde_json::from_value(Value::String(text.to_owned())).ok()
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Notice => "notice",
            Self::Warning => "warning",
            Self::Error => "error",
            Self::Critical => "critical",
            Self::Alert => "alert",
            Self::Emergency => "emergency",
        }
    }
}

/// A session's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// Whose it is.
    pub owner: Owner,
    /// The negotiated revision (as on the wire).
    pub revision: String,
    /// The client's declared capabilities.
    pub client_capabilities: Value,
    /// The client's name and version, as it gave them.
    pub client_info: Value,
    /// Whether `notifications/initialized` has arrived.
    pub initialized: bool,
    /// The least severe log level the client wants (`logging/setLevel`); none until set.
    pub log_level: Option<LogLevel>,
    /// Resource URIs subscribed to.
    pub subscriptions: Vec<String>,
    /// When its idle lifetime was last renewed (ms since the Unix epoch; 0: never
    /// since it was created, or by a store that does not say).
    #[serde(default)]
    pub renewed_at_ms: u64,
}

impl Session {
    /// The negotiated revision (a stored session always holds a valid one; the newest
    /// session revision otherwise).
    pub fn revision(&self) -> Revision {
        Revision::parse(&self.revision).unwrap_or(Revision::NEWEST_SESSION)
    }

    /// Whether the client declared capability `name` (e.g. `sampling`).
    pub fn client_can(&self, name: &str) -> bool {
        self.client_capabilities
            .get(name)
            .is_some_and(Value::is_object)
    }
}

/// A session as loaded, with the version to write it back at.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    /// Its id.
    pub id: String,
    /// Its state.
    pub session: Session,
    version: u64,
}

/// Why a session could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionError {
    /// No such session: never issued, expired, or ended (HTTP 404).
    NotFound,
    /// The session belongs to another grant, subject or client (HTTP 403).
    WrongOwner,
    /// Storage failed.
    Storage(KvError),
}

impl From<KvError> for SessionError {
    fn from(error: KvError) -> Self {
        Self::Storage(error)
    }
}

/// The key partition of session `id`: its state, event log and pending requests are
/// kept together (on Cloudflare, in one Durable Object).
pub fn partition(id: &str) -> String {
    format!("@mcp-{id}/")
}

fn key(id: &str) -> String {
    format!("{}state", partition(id))
}

/// The ids of the sessions opened under a grant (so revoking the grant can end them).
fn grant_key(grant_id: &str) -> String {
    format!("mcp:grant-sessions:{grant_id}")
}
/// How long a grant's session list is kept after its last new session: as long as a
/// grant can live without refresh (the OAuth default refresh lifetime).
const GRANT_INDEX_TTL_MS: u64 = 30 * 24 * 3_600_000;
/// Most sessions one grant holds: opening one more ends the oldest. A client uses a
/// session per connection; this bounds what a runaway or hostile client can hold, and
/// keeps the grant's session list (read when the grant is revoked) short.
pub const MAX_SESSIONS_PER_GRANT: usize = 64;

fn is_session_id(id: &str) -> bool {
    id.len() == SESSION_ID_BYTES * 2 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A new session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// Its id.
    pub id: String,
    /// Sessions of the same grant ended to make room (see [`MAX_SESSIONS_PER_GRANT`]).
    pub evicted: Vec<String>,
}

/// An unchanged session's lifetime is renewed at most once per this fraction of it:
/// every request would otherwise cost a write. A session so ends between 90% and 100%
/// of its idle lifetime after its last use.
const RENEW_FRACTION: u64 = 10;

/// Sessions over the key-value port.
pub struct Sessions<'a, K, R> {
    kv: &'a K,
    random: &'a R,
    idle_ms: u64,
    now_ms: Option<u64>,
}

impl<'a, K: KeyValue, R: Random> Sessions<'a, K, R> {
    /// A store whose sessions expire after `idle_ms` without use.
    pub fn new(kv: &'a K, random: &'a R, idle_ms: u64) -> Self {
        Self {
            kv,
            random,
            idle_ms,
            now_ms: None,
        }
    }

    /// The store as of `now_ms`: renewals are recorded, and an unchanged session
    /// renewed within the last tenth of its lifetime is not written again (without
    /// a time, every [`Sessions::touch`] writes).
    pub fn renewing_at(mut self, now_ms: u64) -> Self {
        self.now_ms = Some(now_ms);
        self
    }

    /// Stores a new session: its id, and the sessions of the same grant it ended to stay
    /// within [`MAX_SESSIONS_PER_GRANT`] (whose open streams the caller closes).
    pub async fn create(&self, session: &Session) -> Result<Created, KvError> {
        let mut bytes = [0u8; SESSION_ID_BYTES];
        self.random.fill(&mut bytes);
        let id = learner_core::hex(&bytes);
        let mut session = session.clone();
        if let Some(now_ms) = self.now_ms {
            session.renewed_at_ms = now_ms;
        }
        // Create-only: a colliding id (2^-256) is refused rather than overwritten.
        self.kv
            .compare_and_swap(&key(&id), None, &encode(&session), Some(self.idle_ms))
            .await?;
        let evicted = self.index_under_grant(&session.owner.grant_id, &id).await?;
        for old in &evicted {
            self.end(old).await?;
        }
        Ok(Created { id, evicted })
    }

    /// Adds `id` to the grant's session list, dropping the oldest beyond the limit;
    /// the dropped ids.
    async fn index_under_grant(&self, grant_id: &str, id: &str) -> Result<Vec<String>, KvError> {
        let index = grant_key(grant_id);
        for _ in 0..UPDATE_ATTEMPTS {
            let current = self.kv.get(&index).await?;
            let version = current.as_ref().map(|e| e.version);
            let mut ids: Vec<String> = current
                .and_then(|e| serde_json::from_slice(&e.value).ok())
                .unwrap_or_default();
            let excess = (ids.len() + 1).saturating_sub(MAX_SESSIONS_PER_GRANT);
            let evicted: Vec<String> = ids.drain(..excess).collect();
            ids.push(id.to_owned());
            // A list of hex ids: serialization cannot fail.
            let value = serde_json::to_vec(&ids).unwrap_or_default();
            match self
                .kv
                .compare_and_swap(&index, version, &value, Some(GRANT_INDEX_TTL_MS))
                .await
            {
                Err(KvError::Conflict(_)) => {}
                Err(other) => return Err(other),
                Ok(_) => return Ok(evicted),
            }
        }
        Err(KvError::Conflict(None))
    }

    /// The sessions opened under `grant_id` that are still live.
    pub async fn of_grant(&self, grant_id: &str) -> Result<Vec<String>, KvError> {
        let Some(entry) = self.kv.get(&grant_key(grant_id)).await? else {
            return Ok(Vec::new());
        };
        let ids: Vec<String> = serde_json::from_slice(&entry.value).unwrap_or_default();
        let mut live = Vec::new();
        for id in ids {
            if is_session_id(&id) && self.kv.get(&key(&id)).await?.is_some() {
                live.push(id);
            }
        }
        Ok(live)
    }

    /// Loads session `id` for `owner`.
    pub async fn open(&self, id: &str, owner: &Owner) -> Result<Stored, SessionError> {
        if !is_session_id(id) {
            return Err(SessionError::NotFound);
        }
        let entry = self.kv.get(&key(id)).await?.ok_or(SessionError::NotFound)?;
        let session: Session =
            serde_json::from_slice(&entry.value).map_err(|_| SessionError::NotFound)?;
        if &session.owner != owner {
            return Err(SessionError::WrongOwner);
        }
        Ok(Stored {
            id: id.to_owned(),
            session,
            version: entry.version,
        })
    }

    /// Session `id` whoever owns it (for delivering notifications, never for serving
    /// a request).
    pub async fn peek(&self, id: &str) -> Result<Option<Session>, KvError> {
        if !is_session_id(id) {
            return Ok(None);
        }
        Ok(self
            .kv
            .get(&key(id))
            .await?
            .and_then(|entry| serde_json::from_slice(&entry.value).ok()))
    }

    /// Writes a changed session back (and so renews its idle lifetime). A concurrent
    /// change or end wins: the caller's change is dropped with `Conflict`.
    pub async fn save(&self, stored: &Stored) -> Result<(), KvError> {
        let mut session = stored.session.clone();
        if let Some(now_ms) = self.now_ms {
            session.renewed_at_ms = now_ms;
        }
        self.kv
            .compare_and_swap(
                &key(&stored.id),
                Some(stored.version),
                &encode(&session),
                Some(self.idle_ms),
            )
            .await
            .map(|_| ())
    }

    /// Applies `change` to the session and writes it back; under a concurrent write
    /// the session is read again and `change` applied to the fresh copy, so no
    /// change is lost. `change` says whether it changed anything (if not, the
    /// session's idle lifetime is only renewed).
    pub async fn update(
        &self,
        stored: &mut Stored,
        change: impl Fn(&mut Session) -> bool,
    ) -> Result<(), KvError> {
        for _ in 0..UPDATE_ATTEMPTS {
            if !change(&mut stored.session) {
                return self.touch(stored).await;
            }
            match self.save(stored).await {
                Err(KvError::Conflict(_)) => {
                    let fresh = self.open(&stored.id, &stored.session.owner).await;
                    match fresh {
                        Ok(fresh) => *stored = fresh,
                        Err(SessionError::Storage(error)) => return Err(error),
                        // Ended meanwhile: nothing left to change.
                        Err(_) => return Ok(()),
                    }
                }
                other => return other,
            }
        }
        Err(KvError::Conflict(None))
    }

    /// Renews an unchanged session's idle lifetime. Losing a race to a concurrent
    /// change is fine: that change renewed it too.
    pub async fn touch(&self, stored: &Stored) -> Result<(), KvError> {
        let renewed_lately = self.now_ms.is_some_and(|now_ms| {
            now_ms.saturating_sub(stored.session.renewed_at_ms) < self.idle_ms / RENEW_FRACTION
        });
        if renewed_lately {
            return Ok(());
        }
        match self.save(stored).await {
            Err(KvError::Conflict(_)) => Ok(()),
            other => other,
        }
    }

    /// Ends a session; whether it existed.
    pub async fn end(&self, id: &str) -> Result<bool, KvError> {
        if !is_session_id(id) {
            return Ok(false);
        }
        self.kv.delete(&key(id)).await
    }
}

fn encode(session: &Session) -> Vec<u8> {
    // Strings, JSON values and enums only: serialization cannot fail.
    serde_json::to_vec(session).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use learner_testkit::{Counter, MemoryKv, TestClock, run};
    use serde_json::json;

    use super::*;

    fn owner(grant: &str) -> Owner {
        Owner {
            subject: "demo:teacher".into(),
            client_id: "client-1".into(),
            grant_id: grant.into(),
        }
    }

    fn session() -> Session {
        Session {
            owner: owner("g1"),
            revision: "2025-06-18".into(),
            client_capabilities: json!({"sampling": {}}),
            client_info: json!({"name": "test", "version": "1"}),
            initialized: false,
            log_level: None,
            subscriptions: Vec::new(),
            renewed_at_ms: 0,
        }
    }

    /// Runs `test` over a store of sessions that expire after a minute idle, and the
    /// clock that ages them.
    fn with_sessions<R: Random>(
        random: &R,
        test: impl FnOnce(&TestClock, &Sessions<'_, MemoryKv<'_>, R>),
    ) {
        let clock = TestClock::default();
        let kv = MemoryKv::new(&clock);
        test(&clock, &Sessions::new(&kv, random, 60_000));
    }

    #[test]
    fn an_unchanged_session_is_written_back_at_most_once_a_tenth_of_its_lifetime() {
        let clock = TestClock::default();
        clock.0.set(1_000_000);
        let kv = MemoryKv::new(&clock);
        let random = Counter::default();
        let at = |now_ms: u64| Sessions::new(&kv, &random, 60_000).renewing_at(now_ms);
        let id = run(at(1_000_000).create(&session())).expect("created").id;
        let version = |now_ms: u64| {
            run(at(now_ms).open(&id, &owner("g1")))
                .expect("open")
                .version
        };
        // Creation counts as a renewal: used at once, the session is not written again.
        let renewed = run(at(1_000_000).open(&id, &owner("g1"))).expect("open");
        assert_eq!(renewed.session.renewed_at_ms, 1_000_000);
        run(at(1_000_000).touch(&renewed)).expect("touched");
        assert_eq!(version(1_000_000), renewed.version);
        // Within a tenth of the lifetime (6 s): no write.
        clock.0.set(1_005_999);
        run(at(1_005_999).touch(&renewed)).expect("touched");
        assert_eq!(version(1_005_999), renewed.version);
        // Past it: written again, and the session lives a whole lifetime from now.
        clock.0.set(1_006_000);
        run(at(1_006_000).touch(&renewed)).expect("touched");
        assert_ne!(version(1_006_000), renewed.version);
        clock.0.set(1_006_000 + 59_999);
        assert!(run(at(1_065_999).open(&id, &owner("g1"))).is_ok());
        // Without a time, every touch writes (the behaviour other callers rely on).
        let stored = run(at(1_065_999).open(&id, &owner("g1"))).expect("open");
        run(Sessions::new(&kv, &random, 60_000).touch(&stored)).expect("touched");
        assert_ne!(version(1_065_999), stored.version);
    }

    #[test]
    fn a_session_opens_only_for_its_owner_and_ends_for_good() {
        with_sessions(&Counter::default(), |_, sessions| {
            let id = run(sessions.create(&session())).expect("created").id;
            assert_eq!(id.len(), 64);
            let mut stored = run(sessions.open(&id, &owner("g1"))).expect("opens");
            assert!(stored.session.client_can("sampling"));
            assert!(!stored.session.client_can("elicitation"));
            assert_eq!(stored.session.revision(), Revision::V2025_06_18);
            for other in [
                owner("g2"),
                Owner {
                    subject: "demo:guardian".into(),
                    ..owner("g1")
                },
                Owner {
                    client_id: "client-2".into(),
                    ..owner("g1")
                },
            ] {
                assert_eq!(
                    run(sessions.open(&id, &other)),
                    Err(SessionError::WrongOwner)
                );
            }
            stored.session.initialized = true;
            run(sessions.save(&stored)).expect("saved");
            // Saving from a stale copy loses to the newer write.
            assert!(matches!(
                run(sessions.save(&stored)),
                Err(KvError::Conflict(_))
            ));
            assert!(
                run(sessions.open(&id, &owner("g1")))
                    .expect("opens")
                    .session
                    .initialized
            );
            assert_eq!(run(sessions.end(&id)), Ok(true));
            assert_eq!(
                run(sessions.open(&id, &owner("g1"))),
                Err(SessionError::NotFound)
            );
            assert_eq!(run(sessions.end(&id)), Ok(false));
        });
    }

    #[test]
    fn sessions_expire_when_idle_and_use_renews_them() {
        with_sessions(&Counter::default(), |clock, sessions| {
            let id = run(sessions.create(&session())).expect("created").id;
            clock.0.set(50_000);
            let stored = run(sessions.open(&id, &owner("g1"))).expect("still live");
            run(sessions.touch(&stored)).expect("renewed");
            clock.0.set(100_000);
            assert!(run(sessions.open(&id, &owner("g1"))).is_ok());
            clock.0.set(200_000);
            assert_eq!(
                run(sessions.open(&id, &owner("g1"))),
                Err(SessionError::NotFound)
            );
        });
    }

    #[test]
    fn a_change_survives_a_concurrent_write() {
        with_sessions(&Counter::default(), |_, sessions| {
            let id = run(sessions.create(&session())).expect("created").id;
            let mut mine = run(sessions.open(&id, &owner("g1"))).expect("opens");
            // Another request subscribes meanwhile.
            let mut theirs = run(sessions.open(&id, &owner("g1"))).expect("opens");
            theirs.session.subscriptions.push("test://a".into());
            run(sessions.save(&theirs)).expect("saved");
            run(sessions.update(&mut mine, |s| {
                s.log_level = Some(LogLevel::Debug);
                true
            }))
            .expect("updated on the fresh copy");
            let now = run(sessions.open(&id, &owner("g1")))
                .expect("opens")
                .session;
            assert_eq!(now.log_level, Some(LogLevel::Debug));
            assert_eq!(now.subscriptions, vec!["test://a".to_owned()]);
        });
    }

    #[test]
    fn malformed_ids_are_unknown_sessions() {
        with_sessions(&Counter::default(), |_, sessions| {
            for id in ["", "abc", &"g".repeat(64), &"a".repeat(65), "../../etc"] {
                assert_eq!(
                    run(sessions.open(id, &owner("g1"))),
                    Err(SessionError::NotFound)
                );
            }
        });
    }

    #[test]
    fn log_levels_are_ordered_by_severity() {
        assert!(LogLevel::Debug < LogLevel::Warning);
        assert_eq!(LogLevel::parse("emergency"), Some(LogLevel::Emergency));
        assert_eq!(LogLevel::parse("verbose"), None);
        assert_eq!(LogLevel::Notice.as_str(), "notice");
    }

    #[test]
    fn a_grant_holds_a_bounded_number_of_sessions_and_its_list_names_them() {
        // Ids from a counter: the byte counter of the other tests repeats within 65
        // sessions.
        struct Sequence(std::cell::Cell<u64>);
        impl learner_core::ports::Random for Sequence {
            fn fill(&self, buf: &mut [u8]) {
                self.0.set(self.0.get() + 1);
                for (i, byte) in buf.iter_mut().enumerate() {
                    *byte = self.0.get().to_le_bytes()[i % 8];
                }
            }
        }
        with_sessions(&Sequence(0.into()), |_, sessions| {
            let mut ids = Vec::new();
            for _ in 0..MAX_SESSIONS_PER_GRANT {
                let created = run(sessions.create(&session())).expect("created");
                assert!(created.evicted.is_empty());
                ids.push(created.id);
            }
            let grant = session().owner.grant_id;
            assert_eq!(run(sessions.of_grant(&grant)).expect("listed"), ids);
            // One more ends the oldest.
            let created = run(sessions.create(&session())).expect("created");
            assert_eq!(created.evicted, vec![ids[0].clone()]);
            assert_eq!(run(sessions.peek(&ids[0])).expect("read"), None);
            let listed = run(sessions.of_grant(&grant)).expect("listed");
            assert_eq!(listed.len(), MAX_SESSIONS_PER_GRANT);
            assert_eq!(listed.last(), Some(&created.id));
            // Ended sessions drop out of the list.
            run(sessions.end(&ids[1])).expect("ended");
            assert!(
                !run(sessions.of_grant(&grant))
                    .expect("listed")
                    .contains(&ids[1])
            );
            assert_eq!(
                run(sessions.of_grant("no-such-grant")).expect("listed"),
                Vec::<String>::new()
            );
        });
    }
}
