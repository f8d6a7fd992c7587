//! The people who sign in at the authorization endpoint: built-in accounts with a
//! role, stored in the key-value port with argon2id password hashes (OWASP's
//! parameters: 19 MiB, 2 passes, 1 lane).

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use learner_core::ports::{KeyValue, KvError, Random};
use serde::{Deserialize, Serialize};

/// Longest username or password accepted, in bytes (hashing cost is bounded too).
pub const MAX_CREDENTIAL_BYTES: usize = 256;

pub use learner_core::identity::Role;

/// An account, without its password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Sign-in name.
    pub username: String,
    /// Stable subject identifier for grants and the audit trail.
    pub subject: String,
    /// Display name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// The tenant (school district) the account belongs to.
    pub tenant: String,
}

#[derive(Serialize, Deserialize)]
struct AccountRecord {
    account: Account,
    password_hash: String,
}

fn account_key(username: &str) -> String {
    format!("account:{}", username.to_ascii_lowercase())
}

fn hasher() -> Argon2<'static> {
    // Constant, valid parameters (19456 KiB ≥ 8 × lanes, t ≥ 1, p ≥ 1).
    let params = Params::new(19_456, 2, 1, None).expect("OWASP argon2id parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A hash of something no password equals, verified against when the username is
/// unknown so that response time does not tell whether an account exists.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2lnbi1pbi10aW1pbmc$FEE4Uqf3HxQ6P8IThXvBRWGWfnT9JmoqXKU8rhg2Tls";

/// Accounts over the key-value port.
pub struct Accounts<'a, K, R> {
    kv: &'a K,
    random: &'a R,
}

impl<'a, K: KeyValue, R: Random> Accounts<'a, K, R> {
    /// The account store.
    pub fn new(kv: &'a K, random: &'a R) -> Self {
        Self { kv, random }
    }

    /// Creates an account if none has its username; returns whether it was created.
    pub async fn create(&self, account: Account, password: &str) -> Result<bool, KvError> {
        // Hashing is deliberately slow: skip it for accounts that exist.
        if self
            .kv
            .get(&account_key(&account.username))
            .await?
            .is_some()
        {
            return Ok(false);
        }
        let mut salt = [0u8; 16];
        self.random.fill(&mut salt);
        let hash = hasher()
            .hash_password_with_salt(password.as_bytes(), &salt)
            .map_err(|e| KvError::Backend(format!("hashing the password failed: {e}")))?
            .to_string();
        let record = AccountRecord {
            account,
            password_hash: hash,
        };
        // Accounts hold strings only: serialization cannot fail.
        let bytes = serde_json::to_vec(&record).unwrap_or_default();
        match self
            .kv
            .compare_and_swap(&account_key(&record.account.username), None, &bytes, None)
            .await
        {
            Ok(_) => Ok(true),
            Err(KvError::Conflict(_)) => Ok(false),
            Err(other) => Err(other),
        }
    }

    /// The account if `password` is its password; `None` for a wrong password or an
    /// unknown username (indistinguishable to the caller and in time).
    pub async fn verify(&self, username: &str, password: &str) -> Result<Option<Account>, KvError> {
        if username.is_empty()
            || username.len() > MAX_CREDENTIAL_BYTES
            || password.len() > MAX_CREDENTIAL_BYTES
        {
            return Ok(None);
        }
        let record = match self.kv.get(&account_key(username)).await? {
            Some(entry) => serde_json::from_slice::<AccountRecord>(&entry.value).ok(),
            None => None,
        };
        let hash = record
            .as_ref()
            .map_or(DUMMY_HASH, |r| r.password_hash.as_str());
        let matches = hasher().verify_password(password.as_bytes(), hash).is_ok();
        Ok(record.filter(|_| matches).map(|r| r.account))
    }
}

/// The built-in demo accounts: one per role in tenant `demo`.
const DEMO: [(&str, &str, Role); 4] = [
    ("teacher", "Ms. Rivera", Role::Teacher),
    ("guardian", "Sam Okafor", Role::Guardian),
    ("student", "Alex Okafor", Role::Student),
    ("admin", "District Admin", Role::TenantAdmin),
];

/// The demo account named `username`, if it is one.
pub fn demo_account(username: &str) -> Option<Account> {
    DEMO.iter()
        .find(|(name, _, _)| name.eq_ignore_ascii_case(username))
        .map(|(name, display, role)| Account {
            username: (*name).into(),
            subject: format!("demo:{name}"),
            display_name: (*display).into(),
            role: *role,
            tenant: "demo".into(),
        })
}

/// Creates every demo account with `password` where it is absent.
pub async fn seed_demo<K: KeyValue, R: Random>(
    accounts: &Accounts<'_, K, R>,
    password: &str,
) -> Result<(), KvError> {
    for account in DEMO.iter().filter_map(|(name, _, _)| demo_account(name)) {
        accounts.create(account, password).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use learner_testkit::{Counter, MemoryKv, TestClock, run};

    #[test]
    fn passwords_verify_and_are_stored_only_as_argon2id_hashes() {
        let (clock, random) = (TestClock::default(), Counter::default());
        let kv = MemoryKv::new(&clock);
        let accounts = Accounts::new(&kv, &random);
        run(seed_demo(&accounts, "correct horse battery")).unwrap();
        let teacher = run(accounts.verify("teacher", "correct horse battery"))
            .unwrap()
            .unwrap();
        assert_eq!(
            (teacher.role, teacher.subject.as_str()),
            (Role::Teacher, "demo:teacher")
        );
        assert_eq!(
            run(accounts.verify("Teacher", "correct horse battery"))
                .unwrap()
                .map(|a| a.role),
            Some(Role::Teacher)
        );
        assert_eq!(run(accounts.verify("teacher", "wrong")).unwrap(), None);
        assert_eq!(
            run(accounts.verify("nobody", "correct horse battery")).unwrap(),
            None
        );
        assert_eq!(run(accounts.verify("", "")).unwrap(), None);
        assert_eq!(
            run(accounts.verify("teacher", &"x".repeat(MAX_CREDENTIAL_BYTES + 1))).unwrap(),
            None
        );
        let dump = kv.dump();
        assert!(
            !dump.contains("correct horse"),
            "password stored in the clear"
        );
        assert!(dump.contains("$argon2id$v=19$m=19456,t=2,p=1$"));
        // Seeding again changes nothing (and keeps the first password).
        run(seed_demo(&accounts, "another")).unwrap();
        assert!(
            run(accounts.verify("teacher", "correct horse battery"))
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn the_dummy_hash_is_a_valid_hash_of_no_password() {
        assert!(hasher().verify_password(b"", DUMMY_HASH).is_err());
        let parsed: Result<argon2::PasswordHash, _> = argon2::PasswordHash::new(DUMMY_HASH);
        assert!(parsed.is_ok());
    }
}
