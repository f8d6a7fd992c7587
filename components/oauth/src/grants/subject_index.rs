//! The index of a subject's grants: which grants to end when the subject's consent is
//! withdrawn or their account is disabled (the key-value port cannot list keys).
//!
//! The index is a chain of pages of at most [`PAGE`] grant ids. New ids go to the head
//! page, `oauth:subject-grants:{hash}`. When the head is full its ended grants are
//! dropped (one read per id), and if more than half are still live the head's ids move
//! to an older page, `oauth:subject-grants:{hash}:{page}`, which the head then points
//! to. So approving a grant costs a bounded, amortized-constant number of reads however
//! many grants the subject has (a single growing list made every approval read every
//! listed grant once it passed 32, which made authorization slower with every grant);
//! ending a subject's grants walks the whole chain.
//!
//! Older pages never expire: a grant lives on for as long as it is refreshed, so the
//! page naming it must too. Heads written by earlier versions (a bare list of ids) are
//! read as a head with no older pages.

use learner_core::ports::{KeyValue, KvError, Random};
use serde::{Deserialize, Serialize};

use super::storage::{decode, encode, grant_key, subject_key};
use super::{GrantFailure, Grants};
use crate::scope::Scopes;

/// Grant ids per page.
const PAGE: usize = 32;
/// Attempts at updating a subject's head page under concurrent writers.
const ATTEMPTS: usize = 8;
/// A bound on the pages walked (a chain is never this long in practice: it would take
/// hundreds of thousands of live grants).
const MAX_PAGES: usize = 100_000;

/// One page of a subject's index.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Page {
    ids: Vec<String>,
    /// The next older page's id, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    older: Option<String>,
}

/// A page as stored: a page, or an earlier version's bare list (a head only).
#[derive(Deserialize)]
#[serde(untagged)]
enum Stored {
    Page(Page),
    List(Vec<String>),
}

fn older_key(subject: &str, page: &str) -> String {
    format!("{}:{page}", subject_key(subject))
}

impl<K: KeyValue, R: Random> Grants<'_, K, R> {
    async fn page(&self, key: &str) -> Result<Option<(Page, u64)>, GrantFailure> {
        let Some(entry) = self.kv.get(key).await? else {
            return Ok(None);
        };
        let page = match decode::<Stored>(&entry.value)? {
            Stored::Page(page) => page,
            Stored::List(ids) => Page { ids, older: None },
        };
        Ok(Some((page, entry.version)))
    }

    /// Notes `grant_id` among `subject`'s grants (for [`Grants::revoke_subject`]).
    pub(super) async fn index_under_subject(
        &self,
        subject: &str,
        grant_id: &str,
    ) -> Result<(), GrantFailure> {
        let key = subject_key(subject);
        for _ in 0..ATTEMPTS {
            let current = self.page(&key).await?;
            let version = current.as_ref().map(|(_, v)| *v);
            let mut head = current.map(|(page, _)| page).unwrap_or_default();
            let mut spilled = None;
            if head.ids.len() >= PAGE {
                let mut live = Vec::with_capacity(head.ids.len());
                for id in std::mem::take(&mut head.ids) {
                    if self.kv.get(&grant_key(&id)).await?.is_some() {
                        live.push(id);
                    }
                }
                head.ids = live;
                if head.ids.len() > PAGE / 2 {
                    let page = learner_core::hex(&self.random_bytes::<8>());
                    let older = Page {
                        ids: std::mem::take(&mut head.ids),
                        older: head.older.take(),
                    };
                    self.kv
                        .put(&older_key(subject, &page), &encode(&older), None)
                        .await?;
                    head.older = Some(page.clone());
                    spilled = Some(page);
                }
            }
            head.ids.push(grant_id.to_owned());
            match self
                .kv
                .compare_and_swap(&key, version, &encode(&head), None)
                .await
            {
                Ok(_) => return Ok(()),
                Err(KvError::Conflict(_)) => {
                    // Another approval moved the head on: the page written for this
                    // attempt is linked from nowhere.
                    if let Some(page) = spilled {
                        self.kv.delete(&older_key(subject, &page)).await?;
                    }
                }
                Err(other) => return Err(other.into()),
            }
        }
        Err(GrantFailure::Storage(KvError::Conflict(None)))
    }

    /// Revokes every live grant of `subject` that `covers(client_id, scope)` accepts,
    /// with every token issued from them; returns their ids.
    pub async fn revoke_subject(
        &self,
        subject: &str,
        covers: impl Fn(&str, &Scopes) -> bool,
    ) -> Result<Vec<String>, GrantFailure> {
        let mut revoked = Vec::new();
        let mut next = Some(subject_key(subject));
        for _ in 0..MAX_PAGES {
            let Some(key) = next.take() else { break };
            let Some((page, _)) = self.page(&key).await? else {
                break;
            };
            for id in page.ids {
                let Some((grant, _)) = self.grant(&id).await? else {
                    continue;
                };
                let scope = Scopes::parse(&grant.scope).unwrap_or_default();
                if grant.subject == subject
                    && covers(&grant.client_id, &scope)
                    && self.revoke_grant(&id).await?
                {
                    revoked.push(id);
                }
            }
            next = page.older.map(|older| older_key(subject, &older));
        }
        Ok(revoked)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use learner_core::ports::{Clock, KvEntry};
    use learner_testkit::{MemoryKv, TestClock, run};
    use serde_json::json;

    use super::*;
    use crate::authorize::AuthorizationRequest;
    use crate::grants::Lifetimes;
    use crate::pkce::CodeChallenge;

    /// Randomness that never repeats itself in a test (the testkit's `Counter` has 256
    /// states: too few for a thousand grant and page ids).
    #[derive(Default)]
    struct Sequence(Cell<u64>);

    impl Random for Sequence {
        fn fill(&self, buf: &mut [u8]) {
            self.0.set(self.0.get() + 1);
            for (i, chunk) in buf.chunks_mut(8).enumerate() {
                let word = self.0.get().wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ i as u64;
                chunk.copy_from_slice(&word.to_le_bytes()[..chunk.len()]);
            }
        }
    }

    /// A key-value store that counts its reads.
    struct Reads<'a> {
        kv: MemoryKv<'a>,
        gets: Cell<usize>,
    }

    impl KeyValue for Reads<'_> {
        async fn get(&self, key: &str) -> Result<Option<KvEntry>, KvError> {
            self.gets.set(self.gets.get() + 1);
            self.kv.get(key).await
        }
        async fn put(&self, key: &str, value: &[u8], ttl: Option<u64>) -> Result<u64, KvError> {
            self.kv.put(key, value, ttl).await
        }
        async fn compare_and_swap(
            &self,
            key: &str,
            expected: Option<u64>,
            value: &[u8],
            ttl: Option<u64>,
        ) -> Result<u64, KvError> {
            self.kv.compare_and_swap(key, expected, value, ttl).await
        }
        async fn take(&self, key: &str) -> Result<Option<KvEntry>, KvError> {
            self.kv.take(key).await
        }
        async fn delete(&self, key: &str) -> Result<bool, KvError> {
            self.kv.delete(key).await
        }
        async fn wait(&self, key: &str, timeout_ms: u32) -> Result<Option<KvEntry>, KvError> {
            self.kv.wait(key, timeout_ms).await
        }
        async fn add(&self, key: &str, delta: i64, ttl: Option<u64>) -> Result<u64, KvError> {
            self.kv.add(key, delta, ttl).await
        }
    }

    fn request(client_id: &str) -> AuthorizationRequest {
        AuthorizationRequest {
            client_id: client_id.into(),
            redirect_uri: "https://app.example/cb".into(),
            state: None,
            scope: Scopes::parse("learner.profile").unwrap(),
            resource: "https://as.example/mcp".into(),
            code_challenge: CodeChallenge::from_request(
                Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
                Some("S256"),
            )
            .unwrap(),
        }
    }

    /// Runs `test` over a grant store on a read-counting in-memory store, at a fixed time.
    fn with_store(test: impl FnOnce(&Reads<'_>, &Grants<'_, Reads<'_>, Sequence>)) {
        let clock = TestClock::default();
        clock.0.set(1_800_000_000_000);
        let random = Sequence::default();
        let kv = Reads {
            kv: MemoryKv::new(&clock),
            gets: Cell::new(0),
        };
        let grants = Grants::new(&kv, &random, Lifetimes::default(), clock.now_ms());
        test(&kv, &grants);
    }

    /// Issues `count` grants to subject `u`, returning their ids and the most reads
    /// any one approval made and the reads of all of them.
    fn issue_many(
        kv: &Reads<'_>,
        grants: &Grants<'_, Reads<'_>, Sequence>,
        count: usize,
    ) -> (Vec<String>, usize, usize) {
        let (mut ids, mut most, mut all) = (Vec::new(), 0, 0);
        for i in 0..count {
            let before = kv.gets.get();
            run(grants.issue_code(&request(&format!("c{i}")), "u", &json!({}))).unwrap();
            let reads = kv.gets.get() - before;
            (most, all) = (most.max(reads), all + reads);
            let head = run(grants.page(&subject_key("u"))).unwrap().unwrap().0;
            ids.push(head.ids.last().unwrap().clone());
        }
        (ids, most, all)
    }

    #[test]
    fn approvals_cost_the_same_however_many_grants_a_subject_has_and_all_can_be_ended() {
        with_store(|kv, grants| {
            let (ids, most, all) = issue_many(kv, grants, 1_000);
            // A full head is read through once (PAGE grants) and then spilled: never more.
            assert!(most <= PAGE + 1, "one approval read {most} entries");
            assert!(all <= 1_000 * 3, "1,000 approvals read {all} entries");
            let revoked = run(grants.revoke_subject("u", |_, _| true)).unwrap();
            assert_eq!(revoked.len(), 1_000);
            for id in &ids {
                assert!(
                    run(kv.kv.get(&grant_key(id))).unwrap().is_none(),
                    "grant {id} lives on"
                );
            }
        });
    }

    #[test]
    fn ended_grants_are_dropped_from_a_full_head_instead_of_spilling() {
        with_store(|kv, grants| {
            let (ids, _, _) = issue_many(kv, grants, PAGE);
            for id in &ids[1..] {
                run(grants.revoke_grant(id)).unwrap();
            }
            issue_many(kv, grants, 1);
            let (head, _) = run(grants.page(&subject_key("u"))).unwrap().unwrap();
            assert_eq!(head.ids.len(), 2, "the live grant and the new one");
            assert_eq!(head.ids[0], ids[0]);
            assert!(head.older.is_none());
        });
    }

    #[test]
    fn a_head_written_as_a_bare_list_is_still_read() {
        with_store(|kv, grants| {
            let (ids, _, _) = issue_many(kv, grants, 3);
            run(kv.kv.put(&subject_key("u"), &encode(&ids), None)).unwrap();
            issue_many(kv, grants, 1);
            let revoked = run(grants.revoke_subject("u", |_, _| true)).unwrap();
            assert_eq!(revoked.len(), 4);
            assert_eq!(&revoked[..3], &ids[..]);
        });
    }
}
