//! The key-value port as data: an operation ([`KvOp`]) and its answer ([`KvAnswer`]).
//! A [`KvStore`](crate::kv::KvStore) applies operations; a [`KvTransport`] carries
//! them to one (in process, or to a Durable Object over `fetch`); and [`KvClient`] is
//! the port's trait (`learner_core::ports::KeyValue`) over any transport — written
//! once for every host. Values travel as base64 in JSON.

use base64::engine::general_purpose::STANDARD as B64;
use learner_core::ports::{KeyValue, KvEntry, KvError, check_kv_args};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::driver::Driver;
use crate::kv::KvStore;

/// Bytes as base64 text on the wire.
mod base64_bytes {
    use base64::Engine as _;

    use super::{B64, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&B64.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        B64.decode(text).map_err(serde::de::Error::custom)
    }
}

/// One key-value operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum KvOp {
    /// Read.
    Get {
        /// The key.
        key: String,
    },
    /// Unconditional write.
    Put {
        /// The key.
        key: String,
        /// The bytes.
        #[serde(with = "base64_bytes")]
        value: Vec<u8>,
        /// Time to live.
        ttl_ms: Option<u64>,
    },
    /// Write only at `expected` (`None`: only if absent).
    CompareAndSwap {
        /// The key.
        key: String,
        /// The version it must be at.
        expected: Option<u64>,
        /// The bytes.
        #[serde(with = "base64_bytes")]
        value: Vec<u8>,
        /// Time to live.
        ttl_ms: Option<u64>,
    },
    /// Read and delete at once.
    Take {
        /// The key.
        key: String,
    },
    /// Delete.
    Delete {
        /// The key.
        key: String,
    },
    /// Add to a counter.
    Add {
        /// The key.
        key: String,
        /// What to add (negative: take away; the count stays at least 0).
        delta: i64,
        /// Time to live.
        ttl_ms: Option<u64>,
    },
    /// Wait for a live entry.
    Wait {
        /// The key.
        key: String,
        /// How long at most.
        timeout_ms: u32,
    },
}

impl KvOp {
    /// The key the operation is about (it decides where the operation goes).
    pub fn key(&self) -> &str {
        match self {
            Self::Get { key }
            | Self::Put { key, .. }
            | Self::CompareAndSwap { key, .. }
            | Self::Take { key }
            | Self::Delete { key }
            | Self::Add { key, .. }
            | Self::Wait { key, .. } => key,
        }
    }

    /// The bytes it writes, if it writes.
    pub fn value(&self) -> Option<&[u8]> {
        match self {
            Self::Put { value, .. } | Self::CompareAndSwap { value, .. } => Some(value),
            _ => None,
        }
    }

    /// Applies the operation to a key-value port — any host's, through its own
    /// `KeyValue` (what the conformance suite's test route drives) — and answers as a
    /// store would.
    pub async fn apply_to<K: KeyValue>(self, kv: &K) -> KvAnswer {
        let outcome = match self {
            Self::Get { key } => kv.get(&key).await.map(KvAnswer::from_entry),
            Self::Put { key, value, ttl_ms } => {
                kv.put(&key, &value, ttl_ms).await.map(KvAnswer::Version)
            }
            Self::CompareAndSwap {
                key,
                expected,
                value,
                ttl_ms,
            } => kv
                .compare_and_swap(&key, expected, &value, ttl_ms)
                .await
                .map(KvAnswer::Version),
            Self::Take { key } => kv.take(&key).await.map(KvAnswer::from_entry),
            Self::Delete { key } => kv.delete(&key).await.map(KvAnswer::Deleted),
            Self::Add { key, delta, ttl_ms } => {
                kv.add(&key, delta, ttl_ms).await.map(KvAnswer::Count)
            }
            Self::Wait { key, timeout_ms } => {
                kv.wait(&key, timeout_ms).await.map(KvAnswer::from_entry)
            }
        };
        KvAnswer::from(outcome)
    }
}

/// A live entry on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stored {
    /// The bytes.
    #[serde(with = "base64_bytes")]
    pub value: Vec<u8>,
    /// The version of their write.
    pub version: u64,
}

/// An operation's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KvAnswer {
    /// get, take, wait: the live entry, if any.
    Entry(Option<Stored>),
    /// put, compare-and-swap: the new version.
    Version(u64),
    /// delete: whether a live entry was there.
    Deleted(bool),
    /// add: the new count.
    Count(u64),
    /// compare-and-swap refused: the current version.
    Conflict(Option<u64>),
    /// The key or value broke the port's limits.
    Invalid(String),
    /// The storage failed.
    Backend(String),
}

impl From<Result<KvAnswer, KvError>> for KvAnswer {
    fn from(outcome: Result<KvAnswer, KvError>) -> Self {
        match outcome {
            Ok(answer) => answer,
            Err(KvError::Conflict(current)) => Self::Conflict(current),
            Err(KvError::InvalidArgument(message)) => Self::Invalid(message),
            Err(KvError::Backend(message)) => Self::Backend(message),
        }
    }
}

impl KvAnswer {
    /// An entry answer.
    pub fn from_entry(entry: Option<KvEntry>) -> Self {
        Self::Entry(entry.map(|e| Stored {
            value: e.value,
            version: e.version,
        }))
    }

    fn refused(self) -> KvError {
        match self {
            Self::Conflict(current) => KvError::Conflict(current),
            Self::Invalid(message) => KvError::InvalidArgument(message),
            Self::Backend(message) => KvError::Backend(message),
            other => KvError::Backend(format!("unexpected key-value answer {other:?}")),
        }
    }

    /// The entry a get, take or wait answered.
    pub fn entry(self) -> Result<Option<KvEntry>, KvError> {
        match self {
            Self::Entry(found) => Ok(found.map(|s| KvEntry {
                value: s.value,
                version: s.version,
            })),
            other => Err(other.refused()),
        }
    }

    /// The version a put or compare-and-swap answered.
    pub fn version(self) -> Result<u64, KvError> {
        match self {
            Self::Version(version) => Ok(version),
            other => Err(other.refused()),
        }
    }

    /// What a delete answered.
    pub fn deleted(self) -> Result<bool, KvError> {
        match self {
            Self::Deleted(existed) => Ok(existed),
            other => Err(other.refused()),
        }
    }

    /// The count an add answered.
    pub fn count(self) -> Result<u64, KvError> {
        match self {
            Self::Count(count) => Ok(count),
            other => Err(other.refused()),
        }
    }
}

/// Carries operations to a store.
#[allow(async_fn_in_trait)] // Static dispatch; futures are not `Send` (see the ports).
pub trait KvTransport {
    /// Sends one operation; its answer.
    async fn send(&self, op: KvOp) -> KvAnswer;
}

/// The key-value port over a transport: the one implementation of
/// `learner_core::ports::KeyValue` every host uses. Arguments are checked before
/// anything is sent.
pub struct KvClient<T>(pub T);

impl<T> KvClient<T> {
    /// The port over `transport` (or what makes one).
    pub fn new(transport: impl Into<T>) -> Self {
        Self(transport.into())
    }
}

impl<T: KvTransport> KvClient<T> {
    async fn send(&self, op: KvOp) -> Result<KvAnswer, KvError> {
        check_kv_args(op.key(), op.value())?;
        Ok(self.0.send(op).await)
    }
}

impl<T: KvTransport> KeyValue for KvClient<T> {
    async fn get(&self, key: &str) -> Result<Option<KvEntry>, KvError> {
        self.send(KvOp::Get { key: key.into() }).await?.entry()
    }
    async fn put(&self, key: &str, value: &[u8], ttl_ms: Option<u64>) -> Result<u64, KvError> {
        let (key, value) = (key.into(), value.to_vec());
        self.send(KvOp::Put { key, value, ttl_ms }).await?.version()
    }
    async fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<u64>,
        value: &[u8],
        ttl_ms: Option<u64>,
    ) -> Result<u64, KvError> {
        let (key, value) = (key.into(), value.to_vec());
        let op = KvOp::CompareAndSwap {
            key,
            expected,
            value,
            ttl_ms,
        };
        self.send(op).await?.version()
    }
    async fn take(&self, key: &str) -> Result<Option<KvEntry>, KvError> {
        self.send(KvOp::Take { key: key.into() }).await?.entry()
    }
    async fn delete(&self, key: &str) -> Result<bool, KvError> {
        self.send(KvOp::Delete { key: key.into() }).await?.deleted()
    }
    async fn wait(&self, key: &str, timeout_ms: u32) -> Result<Option<KvEntry>, KvError> {
        let key = key.into();
        self.send(KvOp::Wait { key, timeout_ms }).await?.entry()
    }
    async fn add(&self, key: &str, delta: i64, ttl_ms: Option<u64>) -> Result<u64, KvError> {
        let key = key.into();
        self.send(KvOp::Add { key, delta, ttl_ms }).await?.count()
    }
}

/// A store in this process, waiting by looking again every few milliseconds
/// (`sleep_ms` waits between looks: a host with nothing else to do may block in it).
pub struct Local<D, S> {
    store: KvStore<D>,
    sleep_ms: S,
}

impl<D, S> Local<D, S> {
    /// `store`, sleeping with `sleep_ms` while it waits.
    pub fn new(store: KvStore<D>, sleep_ms: S) -> Self {
        Self { store, sleep_ms }
    }
}

impl<D: Driver, S: Fn(u64) -> F, F: Future<Output = ()>> KvTransport for Local<D, S> {
    async fn send(&self, op: KvOp) -> KvAnswer {
        match op {
            KvOp::Wait { key, timeout_ms } => {
                let found = self
                    .store
                    .wait_polling(&key, timeout_ms, &self.sleep_ms)
                    .await;
                KvAnswer::from(found.map(KvAnswer::from_entry))
            }
            other => self.store.apply(other),
        }
    }
}

impl<T> std::ops::Deref for KvClient<T> {
    type Target = T;

    /// The transport (a test's store, say, for what it holds).
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Writes the key-value port's synchronous WIT functions — `get`, `put`,
/// `compare-and-swap`, `take`, `delete` — for a host that serves the interface itself
/// (the harness to the component, the Spin adapter to the gateway), over `$apply`, a
/// function from [`KvOp`] to [`KvAnswer`]. `$kv` names the generated module in scope,
/// `[$receiver]` the functions' receiver (`[&mut self,]`, or `[]` for a guest).
/// `wait` is each host's own: how it may wait differs.
#[macro_export]
macro_rules! wit_key_value_functions {
    ($kv:ident, [$($receiver:tt)*], $apply:expr) => {
        fn get($($receiver)* key: String) -> Result<Option<$kv::Entry>, $kv::KvError> {
            let op = $crate::kv_protocol::KvOp::Get { key };
            Ok(($apply)(op).entry()?.map(Into::into))
        }
        fn put(
            $($receiver)* key: String,
            value: Vec<u8>,
            ttl_ms: Option<u64>,
        ) -> Result<u64, $kv::KvError> {
            let op = $crate::kv_protocol::KvOp::Put { key, value, ttl_ms };
            Ok(($apply)(op).version()?)
        }
        fn compare_and_swap(
            $($receiver)* key: String,
            expected: Option<u64>,
            value: Vec<u8>,
            ttl_ms: Option<u64>,
        ) -> Result<u64, $kv::KvError> {
            let op = $crate::kv_protocol::KvOp::CompareAndSwap { key, expected, value, ttl_ms };
            Ok(($apply)(op).version()?)
        }
        fn take($($receiver)* key: String) -> Result<Option<$kv::Entry>, $kv::KvError> {
            let op = $crate::kv_protocol::KvOp::Take { key };
            Ok(($apply)(op).entry()?.map(Into::into))
        }
        fn delete($($receiver)* key: String) -> Result<bool, $kv::KvError> {
            let op = $crate::kv_protocol::KvOp::Delete { key };
            Ok(($apply)(op).deleted()?)
        }
        fn add(
            $($receiver)* key: String,
            delta: i64,
            ttl_ms: Option<u64>,
        ) -> Result<u64, $kv::KvError> {
            let op = $crate::kv_protocol::KvOp::Add { key, delta, ttl_ms };
            Ok(($apply)(op).count()?)
        }
    };
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn operations_carry_values_as_base64() {
        let op = KvOp::CompareAndSwap {
            key: "k".into(),
            expected: None,
            value: vec![0, 255, b'a'],
            ttl_ms: Some(5),
        };
        let wire = serde_json::to_value(&op).unwrap();
        assert_eq!(
            wire,
            json!({"op": "compare_and_swap", "key": "k", "expected": null,
                   "value": "AP9h", "ttl_ms": 5})
        );
        assert_eq!(serde_json::from_value::<KvOp>(wire).unwrap(), op);
    }

    #[test]
    fn a_value_that_is_not_base64_is_refused() {
        let wire = json!({"op": "put", "key": "k", "value": "not base64!", "ttl_ms": null});
        assert!(serde_json::from_value::<KvOp>(wire).is_err());
    }

    #[test]
    fn answers_map_to_the_ports_results_and_errors() {
        let stored = Stored {
            value: b"v".to_vec(),
            version: 3,
        };
        let entry = KvEntry {
            value: b"v".to_vec(),
            version: 3,
        };
        assert_eq!(KvAnswer::Entry(Some(stored)).entry(), Ok(Some(entry)));
        assert_eq!(KvAnswer::Version(4).version(), Ok(4));
        assert_eq!(KvAnswer::Deleted(true).deleted(), Ok(true));
        assert_eq!(
            KvAnswer::Conflict(Some(2)).version(),
            Err(KvError::Conflict(Some(2)))
        );
        assert_eq!(
            KvAnswer::Invalid("too long".into()).entry(),
            Err(KvError::InvalidArgument("too long".into()))
        );
        assert_eq!(
            KvAnswer::Backend("disk".into()).deleted(),
            Err(KvError::Backend("disk".into()))
        );
        // An answer of the wrong kind is a backend fault, not a silent default.
        assert!(matches!(
            KvAnswer::Version(1).entry(),
            Err(KvError::Backend(_))
        ));
    }

    #[test]
    fn the_client_checks_arguments_before_sending() {
        struct Unreachable;
        impl KvTransport for Unreachable {
            async fn send(&self, op: KvOp) -> KvAnswer {
                panic!("sent {op:?}")
            }
        }
        let client = KvClient(Unreachable);
        let refused = learner_core::executor::block_on(client.get("")).unwrap();
        assert!(matches!(refused, Err(KvError::InvalidArgument(_))));
    }
}
