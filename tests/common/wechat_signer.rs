//! The WeChat Pay platform's side, for tests: signs and encrypts notifications (and the fake
//! WeChat Pay's replies) as WeChat does, following WeChat Pay API v3's documentation: the
//! signature is RSA PKCS#1 v1.5 SHA-256 over `timestamp\nnonce\nbody\n`, the resource
//! AES-256-GCM under the API-v3 key with the tag appended, both base64.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject as _;
use sky_takeout::payment::wechat::{ALGORITHM, NotifyHeaders};

/// AES-GCM nonce length in bytes; WeChat sends it as a 12-character string.
const NONCE_LEN: usize = 12;

/// The exact bytes WeChat signs: `timestamp\nnonce\nbody\n`.
fn signed_message(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(timestamp.len() + nonce.len() + body.len() + 3);
    for part in [timestamp.as_bytes(), nonce.as_bytes(), body] {
        message.extend_from_slice(part);
        message.push(b'\n');
    }
    message
}

/// Builds signed, encrypted notifications exactly as WeChat Pay would. Holds a private key:
/// it lives with the tests, never in the production library.
pub struct Signer {
    key: RsaKeyPair,
    public_pem: &'static str,
    cipher: Aes256Gcm,
    serial: String,
}

/// A test-only key pair of `tests/fixtures/rsa` (PKCS#8 private PEM, SPKI public PEM).
pub type KeyPair = (&'static str, &'static str);

/// The platform key pair.
pub const PLATFORM_KEY: KeyPair = (
    include_str!("../fixtures/rsa/platform.key.pem"),
    include_str!("../fixtures/rsa/platform.pub.pem"),
);
/// An attacker's key pair.
pub const ROGUE_KEY: KeyPair = (
    include_str!("../fixtures/rsa/rogue.key.pem"),
    include_str!("../fixtures/rsa/rogue.pub.pem"),
);
/// A second, unrelated key pair.
pub const OTHER_KEY: KeyPair = (
    include_str!("../fixtures/rsa/other.key.pem"),
    include_str!("../fixtures/rsa/other.pub.pem"),
);

/// A ring key pair from a PKCS#8 PEM.
pub fn key_pair(pkcs8_pem: &str) -> RsaKeyPair {
    let PrivateKeyDer::Pkcs8(der) = PrivateKeyDer::from_pem_slice(pkcs8_pem.as_bytes()).unwrap()
    else {
        panic!("fixture keys are PKCS#8")
    };
    RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).unwrap()
}

/// RSA PKCS#1 v1.5 SHA-256 signature of `message`.
pub fn rsa_sign(key: &RsaKeyPair, message: &[u8]) -> Vec<u8> {
    let mut signature = vec![0; key.public().modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        message,
        &mut signature,
    )
    .unwrap();
    signature
}

impl Signer {
    /// A platform signer with this (test-only) key pair, API-v3 key and serial.
    ///
    /// # Panics
    /// If `api_v3_key` is not exactly 32 bytes.
    pub fn new(keys: KeyPair, api_v3_key: &str, serial: &str) -> Self {
        let cipher =
            Aes256Gcm::new_from_slice(api_v3_key.as_bytes()).expect("API-v3 key must be 32 bytes");
        Self {
            key: key_pair(keys.0),
            public_pem: keys.1,
            cipher,
            serial: serial.to_owned(),
        }
    }

    /// The platform public key as SPKI PEM, ready for `Verifier::new`.
    pub fn public_key_pem(&self) -> String {
        self.public_pem.to_string()
    }

    /// Returns (headers, body) of a TRANSACTION.SUCCESS notification for this transaction JSON
    /// value. `nonce` is the header nonce; the resource nonce is fresh and random, because
    /// reusing an AES-GCM nonce under one key would break the encryption.
    pub fn notification(
        &self,
        transaction: &serde_json::Value,
        timestamp: i64,
        nonce: &str,
    ) -> (NotifyHeaders, Vec<u8>) {
        use rand::Rng as _;
        let resource_nonce: String = rand::rng()
            .sample_iter(rand::distr::Alphanumeric)
            .take(NONCE_LEN)
            .map(char::from)
            .collect();
        let plaintext = serde_json::to_vec(transaction).expect("a JSON value always serializes");
        let beijing = chrono::FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset");
        let create_time = chrono::DateTime::from_timestamp(timestamp, 0)
            .unwrap_or_default()
            .with_timezone(&beijing)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
        let body = serde_json::json!({
            "id": format!("EV-{timestamp}{resource_nonce}"),
            "create_time": create_time,
            "resource_type": "encrypt-resource",
            "event_type": "TRANSACTION.SUCCESS",
            "summary": "支付成功",
            "resource": {
                "original_type": "transaction",
                "algorithm": ALGORITHM,
                "ciphertext": self.encrypt(&plaintext, &resource_nonce, "transaction"),
                "associated_data": "transaction",
                "nonce": resource_nonce,
            },
        });
        let body = serde_json::to_vec(&body).expect("a JSON value always serializes");
        let timestamp = timestamp.to_string();
        let headers = NotifyHeaders {
            signature: self.sign(&timestamp, nonce, &body),
            timestamp,
            nonce: nonce.to_owned(),
            serial: self.serial.clone(),
        };
        (headers, body)
    }

    /// Signs arbitrary body bytes (to test tampering); returns the `Wechatpay-Signature` value.
    pub fn sign(&self, timestamp: &str, nonce: &str, body: &[u8]) -> String {
        BASE64.encode(rsa_sign(&self.key, &signed_message(timestamp, nonce, body)))
    }

    /// Base64 of AES-256-GCM ciphertext with the tag appended. `nonce` must be 12 bytes.
    pub fn encrypt(&self, plaintext: &[u8], nonce: &str, aad: &str) -> String {
        let payload = Payload {
            msg: plaintext,
            aad: aad.as_bytes(),
        };
        let nonce: [u8; NONCE_LEN] = nonce.as_bytes().try_into().expect("nonce must be 12 bytes");
        let sealed = self.cipher.encrypt(&Nonce::from(nonce), payload);
        BASE64.encode(sealed.expect("AES-GCM encryption only fails on absurd lengths"))
    }
}
