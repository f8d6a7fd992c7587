//! Token material. Tokens are opaque and unguessable (256 random bits), and only their
//! SHA-256 hash is stored. A grant's properties are sealed once under a random data
//! key; each token of the grant stores that data key wrapped under a key derived from
//! the token itself. A dump of storage therefore yields neither usable tokens nor
//! readable grant properties: reading them needs a live token.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use thiserror::Error;

/// Random bytes in a token.
pub const TOKEN_BYTES: usize = 32;
/// Bytes of an AEAD nonce.
pub const NONCE_BYTES: usize = 12;

/// What a token is for; its prefix says so (and lets secret scanners find leaks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// An authorization code.
    AuthorizationCode,
    /// An access token.
    AccessToken,
    /// A refresh token.
    RefreshToken,
    /// A confidential client's secret.
    ClientSecret,
}

impl TokenKind {
    /// The prefix of tokens of this kind.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "ldna_ac_",
            Self::AccessToken => "ldna_at_",
            Self::RefreshToken => "ldna_rt_",
            Self::ClientSecret => "ldna_cs_",
        }
    }
}

/// A token as handed to a client. Only [`Token::hash`] is ever stored.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    kind: TokenKind,
    text: String,
    secret: [u8; TOKEN_BYTES],
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret part.
        write!(f, "Token({}…)", self.kind.prefix())
    }
}

/// SHA-256 of a token's text: the only form in which tokens are stored or looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash(pub [u8; 32]);

impl TokenHash {
    /// Lower-case hex, for storage keys.
    pub fn to_hex(self) -> String {
        learner_core::hex(&self.0)
    }
}

impl Token {
    /// A new token of `kind` from 32 bytes of the caller's CSPRNG.
    pub fn new(kind: TokenKind, random: [u8; TOKEN_BYTES]) -> Self {
        Self {
            kind,
            text: format!("{}{}", kind.prefix(), B64URL.encode(random)),
            secret: random,
        }
    }

    /// Parses a presented token of `kind`; `None` if it cannot be one (wrong prefix,
    /// length or alphabet) — such a token is refused without a storage lookup.
    pub fn parse(kind: TokenKind, text: &str) -> Option<Self> {
        let encoded = text.strip_prefix(kind.prefix())?;
        let bytes = B64URL.decode(encoded).ok()?;
        let secret: [u8; TOKEN_BYTES] = bytes.try_into().ok()?;
        // Reject non-canonical encodings so one secret has exactly one text.
        (B64URL.encode(secret) == encoded).then(|| Self {
            kind,
            text: text.to_owned(),
            secret,
        })
    }

    /// The token as sent to the client.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// What the token is for.
    pub fn kind(&self) -> TokenKind {
        self.kind
    }

    /// The storage form.
    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.text.as_bytes()).into())
    }

    /// The key that wraps the grant's data key for this token (HKDF-SHA256 over the
    /// token's random bytes; the hash stored beside it reveals nothing of this key).
    fn wrapping_key(&self) -> Key {
        let hkdf = Hkdf::<Sha256>::new(None, &self.secret);
        let mut key = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's 8160-byte output limit.
        hkdf.expand(b"learner-dna-mcp/token-wraps-data-key/v1", &mut key)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        key.into()
    }
}

/// Why sealed data could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SealError {
    /// Wrong key or token, tampered ciphertext, or the wrong associated data.
    #[error("sealed data did not authenticate")]
    Unauthentic,
    /// Too short to be sealed data.
    #[error("sealed data is malformed")]
    Malformed,
}

/// A grant's data key.
#[derive(Clone, PartialEq, Eq)]
pub struct DataKey([u8; 32]);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(…)")
    }
}

fn seal_with(key: &Key, nonce: [u8; NONCE_BYTES], plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
    let cipher = ChaCha20Poly1305::new(key);
    let nonce = Nonce::from(nonce);
    // Encryption into a Vec fails only on buffer allocation limits far above any
    // grant's size.
    let ciphertext = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .expect("ChaCha20-Poly1305 encryption of a small message cannot fail");
    let mut out = Vec::with_capacity(NONCE_BYTES + ciphertext.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ciphertext);
    out
}

fn open_with(key: &Key, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, SealError> {
    if sealed.len() < NONCE_BYTES + 16 {
        return Err(SealError::Malformed);
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_BYTES);
    let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| SealError::Malformed)?;
    ChaCha20Poly1305::new(key)
        .decrypt(
            &Nonce::from(nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .map_err(|_| SealError::Unauthentic)
}

impl DataKey {
    /// A new data key from 32 bytes of the caller's CSPRNG.
    pub fn new(random: [u8; 32]) -> Self {
        Self(random)
    }

    /// Seals `plaintext` (the grant's properties), bound to `aad` (the grant id), with
    /// a fresh random nonce. Output: nonce ‖ ciphertext ‖ tag.
    pub fn seal(&self, nonce: [u8; NONCE_BYTES], plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        seal_with(&self.0.into(), nonce, plaintext, aad)
    }

    /// Opens what [`DataKey::seal`] produced with the same `aad`.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, SealError> {
        open_with(&self.0.into(), sealed, aad)
    }

    /// Wraps this key for `token`: only that token can unwrap it.
    pub fn wrap_for(&self, token: &Token, nonce: [u8; NONCE_BYTES]) -> Vec<u8> {
        seal_with(
            &token.wrapping_key(),
            nonce,
            &self.0,
            token.hash().0.as_slice(),
        )
    }

    /// Unwraps a key wrapped by [`DataKey::wrap_for`] for `token`.
    pub fn unwrap_with(token: &Token, wrapped: &[u8]) -> Result<Self, SealError> {
        let bytes = open_with(&token.wrapping_key(), wrapped, token.hash().0.as_slice())?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| SealError::Malformed)?;
        Ok(Self(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(seed: u8) -> [u8; 32] {
        std::array::from_fn(|i| seed.wrapping_mul(31).wrapping_add(u8::try_from(i).unwrap()))
    }

    #[test]
    fn tokens_carry_their_kind_and_round_trip() {
        let token = Token::new(TokenKind::AccessToken, bytes(1));
        assert!(token.as_str().starts_with("ldna_at_"));
        assert_eq!(token.as_str().len(), "ldna_at_".len() + 43);
        assert_eq!(
            Token::parse(TokenKind::AccessToken, token.as_str()),
            Some(token.clone())
        );
        assert_eq!(Token::parse(TokenKind::RefreshToken, token.as_str()), None);
        assert!(!format!("{token:?}").contains(&token.as_str()[8..]));
    }

    #[test]
    fn malformed_tokens_do_not_parse() {
        let good = Token::new(TokenKind::RefreshToken, bytes(2));
        let text = good.as_str();
        for bad in [
            "",
            "ldna_rt_",
            &text[..text.len() - 1],
            &format!("{text}A"),
            &text.replace("ldna_rt_", "LDNA_RT_"),
            &format!("{text}="),
            &format!("{}+{}", &text[..10], &text[11..]),
        ] {
            assert_eq!(Token::parse(TokenKind::RefreshToken, bad), None, "{bad:?}");
        }
    }

    #[test]
    fn hashes_identify_tokens_without_revealing_them() {
        let a = Token::new(TokenKind::AccessToken, bytes(3));
        let b = Token::new(TokenKind::AccessToken, bytes(4));
        assert_ne!(a.hash(), b.hash());
        assert_eq!(
            a.hash(),
            Token::parse(TokenKind::AccessToken, a.as_str())
                .unwrap()
                .hash()
        );
        assert_eq!(a.hash().to_hex().len(), 64);
        assert!(!a.hash().to_hex().contains(&a.as_str()[8..]));
    }

    #[test]
    fn sealed_props_open_only_with_the_right_key_and_grant() {
        let key = DataKey::new(bytes(5));
        let sealed = key.seal([7; NONCE_BYTES], b"{\"sub\":\"teacher-1\"}", b"grant-1");
        assert!(
            !sealed.windows(7).any(|w| w == b"teacher"),
            "plaintext leaked"
        );
        assert_eq!(
            key.open(&sealed, b"grant-1").unwrap(),
            b"{\"sub\":\"teacher-1\"}"
        );
        assert_eq!(key.open(&sealed, b"grant-2"), Err(SealError::Unauthentic));
        assert_eq!(
            DataKey::new(bytes(6)).open(&sealed, b"grant-1"),
            Err(SealError::Unauthentic)
        );
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(key.open(&tampered, b"grant-1"), Err(SealError::Unauthentic));
        assert_eq!(
            key.open(&sealed[..20], b"grant-1"),
            Err(SealError::Malformed)
        );
    }

    #[test]
    fn a_wrapped_data_key_opens_only_with_its_token() {
        let key = DataKey::new(bytes(8));
        let access = Token::new(TokenKind::AccessToken, bytes(9));
        let refresh = Token::new(TokenKind::RefreshToken, bytes(10));
        let wrapped = key.wrap_for(&access, [1; NONCE_BYTES]);
        assert_eq!(DataKey::unwrap_with(&access, &wrapped), Ok(key.clone()));
        assert_eq!(
            DataKey::unwrap_with(&refresh, &wrapped),
            Err(SealError::Unauthentic)
        );
        // The same key wrapped for two tokens: each unwraps its own copy.
        let wrapped_refresh = key.wrap_for(&refresh, [2; NONCE_BYTES]);
        assert_eq!(DataKey::unwrap_with(&refresh, &wrapped_refresh), Ok(key));
    }
}
