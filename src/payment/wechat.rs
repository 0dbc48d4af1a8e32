//! WeChat Pay API-v3 payment notifications ("支付通知"): verify the platform signature, check
//! the timestamp window, then decrypt the AES-256-GCM resource into a [`Transaction`].
//!
//! Only authenticity and shape are checked here. Whether the trade succeeded (`trade_state`) and
//! whether the amount matches the order are business rules, so the caller checks them.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize;

use super::rsa_public::RsaPublicKey;

/// The only resource algorithm WeChat Pay API v3 uses; anything else is refused, not guessed at.
pub const ALGORITHM: &str = "AEAD_AES_256_GCM";
/// AES-GCM nonce length in bytes; WeChat sends it as a 12-character string.
const NONCE_LEN: usize = 12;

/// The four `Wechatpay-*` request headers of a notification, as received (empty = missing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotifyHeaders {
    /// `Wechatpay-Timestamp`: unix seconds, part of the signed message.
    pub timestamp: String,
    /// `Wechatpay-Nonce`: random string, part of the signed message.
    pub nonce: String,
    /// `Wechatpay-Signature`: base64 RSA PKCS#1 v1.5 SHA-256 signature.
    pub signature: String,
    /// `Wechatpay-Serial`: serial of the platform certificate that signed.
    pub serial: String,
}

/// The decrypted transaction, reduced to what order processing needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// Our order number, as sent when the payment was created.
    pub out_trade_no: String,
    /// WeChat's transaction id; empty if WeChat omitted it (it is only needed for reconciliation).
    pub transaction_id: String,
    /// E.g. `SUCCESS`; the caller decides what to do with other states.
    pub trade_state: String,
    /// Order total in fen (1/100 CNY), as `amount.total`.
    pub amount_total: i64,
    /// Merchant id, if present.
    pub mchid: Option<String>,
    /// App id, if present.
    pub appid: Option<String>,
}

/// Why a notification was rejected. Messages never echo the decrypted plaintext (it holds the
/// payer's openid), so they are safe to log.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// A required header is absent or blank; holds the header name.
    #[error("missing or empty header {0}")]
    MissingHeader(&'static str),
    /// The timestamp is outside the allowed clock skew (a replay or a badly wrong clock).
    #[error("notification timestamp outside the allowed window")]
    StaleTimestamp,
    /// The signature is not base64 or does not verify for this timestamp, nonce and body.
    #[error("bad notification signature")]
    BadSignature,
    /// `Wechatpay-Serial` names a platform certificate we do not trust.
    #[error("unknown platform certificate serial")]
    UnknownSerial,
    /// The request is authentic but not a well-formed notification or transaction.
    #[error("malformed notification: {0}")]
    Malformed(String),
    /// AES-GCM authentication failed: wrong API-v3 key, nonce, associated data or ciphertext.
    #[error("notification resource failed to decrypt")]
    Decrypt,
}

/// Why a [`Verifier`] could not be built from its configuration.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The platform public key is neither SPKI nor PKCS#1 RSA PEM (2048 to 8192 bits).
    #[error("platform public key is not an RSA public key PEM (SPKI or PKCS#1, 2048 to 8192 bits)")]
    BadPem,
    /// The API-v3 key must be exactly 32 bytes: it is used as-is as the AES-256 key.
    #[error("API-v3 key must be exactly 32 bytes, got {0}")]
    ApiV3KeyLength(usize),
}

/// Checks and decrypts WeChat Pay notifications. Cheap to clone; share it as app state.
#[derive(Clone)]
pub struct Verifier {
    key: RsaPublicKey,
    cipher: Aes256Gcm,
    platform_serial: Option<String>,
    max_skew: u64,
}

// Hand-written so the API-v3 key can never reach a log through `{:?}`.
impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("platform_serial", &self.platform_serial)
            .field("max_skew", &self.max_skew)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// `platform_public_key_pem`: SPKI `-----BEGIN PUBLIC KEY-----` (PKCS#1 `BEGIN RSA PUBLIC
    /// KEY` is accepted too). `platform_serial`: when `Some`, the `Wechatpay-Serial` header must
    /// equal it. `max_skew_secs`: allowed `|now - timestamp|`; negative values act as 0.
    pub fn new(
        platform_public_key_pem: &str,
        api_v3_key: &str,
        platform_serial: Option<String>,
        max_skew_secs: i64,
    ) -> Result<Self, KeyError> {
        let key = RsaPublicKey::from_pem(platform_public_key_pem).ok_or(KeyError::BadPem)?;
        let cipher = Aes256Gcm::new_from_slice(api_v3_key.as_bytes())
            .map_err(|_| KeyError::ApiV3KeyLength(api_v3_key.len()))?;
        Ok(Self {
            key,
            cipher,
            platform_serial,
            max_skew: max_skew_secs.max(0).unsigned_abs(),
        })
    }

    /// Verifies the serial, the timestamp window and the signature (over the raw body bytes,
    /// exactly as received), then parses and decrypts the resource and returns the transaction.
    /// Never panics on any input. Cheap checks run first so forged floods cost little RSA work.
    pub fn verify_and_decrypt(
        &self,
        headers: &NotifyHeaders,
        body: &[u8],
        now_unix: i64,
    ) -> Result<Transaction, NotifyError> {
        self.verify_signature(headers, body, now_unix)?;
        let notification: NotificationWire = serde_json::from_slice(body)
            .map_err(|e| malformed(format!("body is not a notification: {e}")))?;
        let plaintext = self.decrypt(&notification.resource)?;
        parse_transaction(&plaintext)
    }

    /// Checks that `body` was signed by the platform: the four headers are present, the serial
    /// is the pinned one (when pinned), the timestamp is within the allowed skew of `now_unix`
    /// and the signature over `timestamp\nnonce\nbody\n` verifies with the platform key.
    /// Used for notifications and for the replies of the WeChat Pay API alike (both carry
    /// the same `Wechatpay-*` headers). Never panics on any input.
    pub fn verify_signature(
        &self,
        headers: &NotifyHeaders,
        body: &[u8],
        now_unix: i64,
    ) -> Result<(), NotifyError> {
        let timestamp = required(&headers.timestamp, "Wechatpay-Timestamp")?;
        let nonce = required(&headers.nonce, "Wechatpay-Nonce")?;
        let signature = required(&headers.signature, "Wechatpay-Signature")?;
        let serial = required(&headers.serial, "Wechatpay-Serial")?;
        if let Some(expected) = &self.platform_serial
            && serial != expected
        {
            return Err(NotifyError::UnknownSerial);
        }
        // Digits only: `parse` alone would also accept "+123", which WeChat never sends.
        let sent_at = Some(timestamp)
            .filter(|t| t.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|t| t.parse::<i64>().ok())
            .ok_or_else(|| malformed("Wechatpay-Timestamp is not a unix timestamp"))?;
        // abs_diff cannot overflow, whatever the two values are.
        if now_unix.abs_diff(sent_at) > self.max_skew {
            return Err(NotifyError::StaleTimestamp);
        }
        let signature = BASE64
            .decode(signature)
            .map_err(|_| NotifyError::BadSignature)?;
        if self
            .key
            .verifies(&signed_message(timestamp, nonce, body), &signature)
        {
            Ok(())
        } else {
            Err(NotifyError::BadSignature)
        }
    }

    fn decrypt(&self, resource: &ResourceWire) -> Result<Vec<u8>, NotifyError> {
        if resource.algorithm != ALGORITHM {
            return Err(malformed("unsupported resource algorithm"));
        }
        let nonce: [u8; NONCE_LEN] = resource
            .nonce
            .as_bytes()
            .try_into()
            .map_err(|_| malformed("resource nonce is not 12 bytes"))?;
        let ciphertext = BASE64
            .decode(&resource.ciphertext)
            .map_err(|_| malformed("resource ciphertext is not base64"))?;
        let payload = Payload {
            msg: &ciphertext,
            aad: resource.associated_data.as_bytes(),
        };
        // Too-short input (no room for the tag) is an error from aes-gcm, not a panic.
        self.cipher
            .decrypt(&Nonce::from(nonce), payload)
            .map_err(|_| NotifyError::Decrypt)
    }
}

/// The exact bytes WeChat signs: `timestamp\nnonce\nbody\n`.
fn signed_message(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(timestamp.len() + nonce.len() + body.len() + 3);
    for part in [timestamp.as_bytes(), nonce.as_bytes(), body] {
        message.extend_from_slice(part);
        message.push(b'\n');
    }
    message
}

fn required<'a>(value: &'a str, name: &'static str) -> Result<&'a str, NotifyError> {
    if value.trim().is_empty() {
        Err(NotifyError::MissingHeader(name))
    } else {
        Ok(value)
    }
}

fn malformed(message: impl Into<String>) -> NotifyError {
    NotifyError::Malformed(message.into())
}

fn parse_transaction(plaintext: &[u8]) -> Result<Transaction, NotifyError> {
    // Position only: serde's message could quote the plaintext, which holds the payer's openid.
    let wire: TransactionWire = serde_json::from_slice(plaintext).map_err(|e| {
        malformed(format!(
            "plaintext is not a transaction (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    let non_empty = |v: Option<String>, what: &str| {
        v.filter(|s| !s.is_empty())
            .ok_or_else(|| malformed(format!("transaction lacks {what}")))
    };
    Ok(Transaction {
        out_trade_no: non_empty(wire.out_trade_no, "out_trade_no")?,
        transaction_id: wire.transaction_id.unwrap_or_default(),
        trade_state: non_empty(wire.trade_state, "trade_state")?,
        amount_total: wire
            .amount
            .and_then(|a| a.total)
            .ok_or_else(|| malformed("transaction lacks amount.total"))?,
        mchid: wire.mchid,
        appid: wire.appid,
    })
}

#[derive(Deserialize)]
struct NotificationWire {
    resource: ResourceWire,
}

#[derive(Deserialize)]
struct ResourceWire {
    algorithm: String,
    ciphertext: String,
    // WeChat may omit it; GCM then authenticates empty associated data.
    #[serde(default)]
    associated_data: String,
    nonce: String,
}

#[derive(Deserialize)]
struct TransactionWire {
    out_trade_no: Option<String>,
    transaction_id: Option<String>,
    trade_state: Option<String>,
    amount: Option<AmountWire>,
    mchid: Option<String>,
    appid: Option<String>,
}

#[derive(Deserialize)]
struct AmountWire {
    // i64 so a fractional or string total is rejected rather than rounded.
    total: Option<i64>,
}
