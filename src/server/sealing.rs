//! Secrets at rest: TOTP seeds, connector credentials, agent signing secrets, session data
//! (pending TOTP seeds, OAuth PKCE verifiers) and outbox payloads (links, codes) are sealed with
//! XChaCha20-Poly1305 (RFC 8439's AEAD with the 24-byte nonce of draft-irtf-cfrg-xchacha) under
//! the server key before they are written.
//!
//! A sealed value is text: `sealed:v1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>`. The column
//! it belongs to is its associated data, so a value copied into another column does not open.

use super::secret::Secret;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use std::fmt;

/// What every sealed value starts with; a value without it was written before sealing existed.
pub const PREFIX: &str = "sealed:v1:";
const NONCE_BYTES: usize = 24;

/// A column whose values are sealed; its name is the associated data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column(pub &'static str);

pub const TOTP_SECRET: Column = Column("accounts.totp_secret");
pub const AGENT_SECRET: Column = Column("connectors.agent_secret");
pub const CREDENTIALS: Column = Column("connectors.credentials");
pub const OUTBOX_PAYLOAD: Column = Column("outbox_jobs.payload");
/// An endpoint's `whsec_` secret, current or rotated out: both columns seal under one name.
pub const WEBHOOK_SECRET: Column = Column("webhook_endpoints.secret");
pub const SESSION_DATA: Column = Column("sessions.data");
/// The known value sealed under the key, so a start can tell whether it was given the right key.
pub const KEY_CHECK: Column = Column("secret_key_check.sealed");

/// The server key: 32 random bytes, written as standard base64 (44 characters).
#[derive(Clone)]
pub struct ServerKey {
    cipher: XChaCha20Poly1305,
    id: String,
}

/// Why a sealed value did not open.
#[derive(Debug, PartialEq, Eq)]
pub enum Unsealable {
    /// Not in the sealed format at all.
    NotSealed,
    /// Sealed under another key, named by its id.
    OtherKey(String),
    /// Under this key, but altered, truncated or moved from another column.
    Damaged,
}

impl fmt::Display for Unsealable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotSealed => f.write_str("the value is not sealed"),
            Self::OtherKey(id) => write!(f, "the value is sealed under another key ({id})"),
            Self::Damaged => f.write_str("the sealed value is damaged or belongs to another column"),
        }
    }
}

impl std::error::Error for Unsealable {}

impl fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServerKey({})", self.id)
    }
}

impl ServerKey {
    /// A new random key and its base64 text, to keep in a key file or `ONBOARD_SECRET_KEY`.
    pub fn generate() -> (Self, Secret) {
        let bytes = XChaCha20Poly1305::generate_key(&mut OsRng);
        let text = Secret::new(STANDARD.encode(bytes));
        (Self::from_bytes(&bytes), text)
    }

    /// Reads a key written as base64 (standard or URL-safe, padding optional): 32 bytes.
    pub fn from_base64(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let unpadded = text.trim_end_matches('=');
        let bytes = STANDARD
            .decode(text)
            .or_else(|_| STANDARD_NO_PAD.decode(unpadded))
            .or_else(|_| URL_SAFE_NO_PAD.decode(unpadded))
            .map_err(|_| "the secret key is not base64".to_string())?;
        if bytes.len() != 32 {
            return Err(format!("the secret key must be 32 bytes, not {}", bytes.len()));
        }
        Ok(Self::from_bytes(&bytes))
    }

    fn from_bytes(bytes: &[u8]) -> Self {
        // The id names the key in sealed values without revealing it: HMAC-SHA256(key, label).
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(bytes).expect("HMAC takes any key length");
        mac.update(b"onboard secret key id");
        let id = hex::encode(&mac.finalize().into_bytes()[..8]);
        Self { cipher: XChaCha20Poly1305::new(bytes.into()), id }
    }

    /// 16 hex characters naming this key.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Seals `plaintext` for `column` under a fresh random nonce (24 bytes: random nonces never
    /// collide in practice, unlike ChaCha20-Poly1305's 12).
    pub fn seal(&self, column: Column, plaintext: &str) -> String {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(&nonce, Payload { msg: plaintext.as_bytes(), aad: column.0.as_bytes() })
            .expect("XChaCha20-Poly1305 seals any message shorter than 256 GiB");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{PREFIX}{}:{}", self.id, URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The plaintext of a value `seal` made for `column` under this key.
    pub fn open(&self, column: Column, sealed: &str) -> Result<String, Unsealable> {
        let rest = sealed.strip_prefix(PREFIX).ok_or(Unsealable::NotSealed)?;
        let (id, body) = rest.split_once(':').ok_or(Unsealable::NotSealed)?;
        if id != self.id {
            return Err(Unsealable::OtherKey(id.to_string()));
        }
        let bytes = URL_SAFE_NO_PAD.decode(body).map_err(|_| Unsealable::Damaged)?;
        if bytes.len() < NONCE_BYTES {
            return Err(Unsealable::Damaged);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let plain = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: column.0.as_bytes() })
            .map_err(|_| Unsealable::Damaged)?;
        String::from_utf8(plain).map_err(|_| Unsealable::Damaged)
    }

    /// `open` for a column read from the database, where any failure is an internal error: it is
    /// logged with the column (never the value) and the request fails rather than using a wrong secret.
    pub fn open_stored(&self, column: Column, sealed: &str) -> Result<String, sqlx::Error> {
        self.open(column, sealed).map_err(|e| {
            tracing::error!(column = column.0, error = %e, "a sealed secret did not open");
            sqlx::Error::Decode(Box::new(e))
        })
    }
}

/// The id of the key a sealed value was sealed under, if it is sealed.
pub fn key_id_of(value: &str) -> Option<&str> {
    value.strip_prefix(PREFIX)?.split_once(':').map(|(id, _)| id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_column() {
        let (key, text) = ServerKey::generate();
        let sealed = key.seal(TOTP_SECRET, "JBSWY3DPEHPK3PXP");
        assert!(sealed.starts_with(PREFIX) && !sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(key.open(TOTP_SECRET, &sealed).unwrap(), "JBSWY3DPEHPK3PXP");
        assert_eq!(key_id_of(&sealed), Some(key.id()));
        // The same key read back from its text opens it; a value moved to another column does not.
        let again = ServerKey::from_base64(text.expose()).unwrap();
        assert_eq!(again.id(), key.id());
        assert_eq!(again.open(TOTP_SECRET, &sealed).unwrap(), "JBSWY3DPEHPK3PXP");
        assert_eq!(key.open(AGENT_SECRET, &sealed), Err(Unsealable::Damaged));
        let (other, _) = ServerKey::generate();
        assert_eq!(other.open(TOTP_SECRET, &sealed), Err(Unsealable::OtherKey(key.id().to_string())));
        assert_eq!(key.open(TOTP_SECRET, "JBSWY3DPEHPK3PXP"), Err(Unsealable::NotSealed));
        // Two seals of one value differ (fresh nonces), and any altered character is caught.
        assert_ne!(key.seal(TOTP_SECRET, "x"), key.seal(TOTP_SECRET, "x"));
        let mut altered = sealed.clone().into_bytes();
        let last = altered.len() - 3;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(key.open(TOTP_SECRET, &String::from_utf8(altered).unwrap()), Err(Unsealable::Damaged));
        assert_eq!(key.open(TOTP_SECRET, &sealed[..sealed.len() - 10]), Err(Unsealable::Damaged));
    }

    #[test]
    fn keys_are_32_bytes_of_base64() {
        assert!(ServerKey::from_base64("c2hvcnQ=").unwrap_err().contains("32 bytes"));
        assert!(ServerKey::from_base64("not base64 at all!").is_err());
        let url_safe = URL_SAFE_NO_PAD.encode([7u8; 32]);
        let standard = STANDARD.encode([7u8; 32]);
        assert_eq!(ServerKey::from_base64(&url_safe).unwrap().id(), ServerKey::from_base64(&standard).unwrap().id());
        assert_eq!(format!("{:?}", ServerKey::from_base64(&standard).unwrap()).len(), "ServerKey()".len() + 16);
    }
}
