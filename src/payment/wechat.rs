//! WeChat Pay API-v3 payment notifications ("支付通知"): verify the platform signature, check
//! the timestamp window, then decrypt the AES-256-GCM resource into a [`Transaction`].
//!
//! Only authenticity and shape are checked here. Whether the trade succeeded (`trade_state`) and
//! whether the amount matches the order are business rules, so the caller checks them.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rsa::pkcs1::DecodeRsaPublicKey as _;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePublicKey as _, EncodePublicKey as _, LineEnding};
use rsa::signature::{SignatureEncoding as _, Signer as _, Verifier as _};
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde::Deserialize;
use sha2::Sha256;

/// The only resource algorithm WeChat Pay API v3 uses; anything else is refused, not guessed at.
const ALGORITHM: &str = "AEAD_AES_256_GCM";
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
    /// The platform public key is neither SPKI nor PKCS#1 RSA PEM.
    #[error("platform public key is not an RSA public key PEM (SPKI or PKCS#1)")]
    BadPem,
    /// The API-v3 key must be exactly 32 bytes: it is used as-is as the AES-256 key.
    #[error("API-v3 key must be exactly 32 bytes, got {0}")]
    ApiV3KeyLength(usize),
}

/// Checks and decrypts WeChat Pay notifications. Cheap to clone; share it as app state.
#[derive(Clone)]
pub struct Verifier {
    key: VerifyingKey<Sha256>,
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
        let pem = platform_public_key_pem.trim();
        let public = RsaPublicKey::from_public_key_pem(pem)
            .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem))
            .map_err(|_| KeyError::BadPem)?;
        let cipher = Aes256Gcm::new_from_slice(api_v3_key.as_bytes())
            .map_err(|_| KeyError::ApiV3KeyLength(api_v3_key.len()))?;
        Ok(Self {
            key: VerifyingKey::new(public),
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
            .ok()
            .and_then(|raw| Signature::try_from(raw.as_slice()).ok())
            .ok_or(NotifyError::BadSignature)?;
        self.key
            .verify(&signed_message(timestamp, nonce, body), &signature)
            .map_err(|_| NotifyError::BadSignature)
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

/// Builds signed, encrypted notifications exactly as WeChat Pay would: for tests and the local
/// payment simulator. Holds a private key, so never use it on the production path.
pub struct Signer {
    key: SigningKey<Sha256>,
    public: RsaPublicKey,
    cipher: Aes256Gcm,
    serial: String,
}

impl Signer {
    /// Generates a fresh 2048-bit RSA platform key pair and uses the given API-v3 key and serial.
    ///
    /// # Panics
    /// If `api_v3_key` is not exactly 32 bytes, or the OS random source fails.
    pub fn generate(api_v3_key: &str, serial: &str) -> Self {
        let cipher =
            Aes256Gcm::new_from_slice(api_v3_key.as_bytes()).expect("API-v3 key must be 32 bytes");
        let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
            .expect("RSA key generation failed");
        Self {
            public: RsaPublicKey::from(&private),
            key: SigningKey::new(private),
            cipher,
            serial: serial.to_owned(),
        }
    }

    /// The platform public key as SPKI PEM, ready for [`Verifier::new`].
    pub fn public_key_pem(&self) -> String {
        self.public
            .to_public_key_pem(LineEnding::LF)
            .expect("encoding an RSA public key cannot fail")
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
        BASE64.encode(
            self.key
                .sign(&signed_message(timestamp, nonce, body))
                .to_bytes(),
        )
    }

    /// Base64 of AES-256-GCM ciphertext with the tag appended. `nonce` must be 12 bytes.
    fn encrypt(&self, plaintext: &[u8], nonce: &str, aad: &str) -> String {
        let payload = Payload {
            msg: plaintext,
            aad: aad.as_bytes(),
        };
        let nonce: [u8; NONCE_LEN] = nonce.as_bytes().try_into().expect("nonce must be 12 bytes");
        let sealed = self.cipher.encrypt(&Nonce::from(nonce), payload);
        BASE64.encode(sealed.expect("AES-GCM encryption only fails on absurd lengths"))
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use std::sync::OnceLock;

    const KEY: &str = "0123456789abcdef0123456789ABCDEF";
    const SERIAL: &str = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
    const NOW: i64 = 1_718_000_000;

    /// RSA key generation is slow, so all tests share one platform key.
    fn signer() -> &'static Signer {
        static SIGNER: OnceLock<Signer> = OnceLock::new();
        SIGNER.get_or_init(|| Signer::generate(KEY, SERIAL))
    }

    fn verifier() -> Verifier {
        Verifier::new(&signer().public_key_pem(), KEY, Some(SERIAL.into()), 300).unwrap()
    }

    fn check(headers: &NotifyHeaders, body: &[u8]) -> Result<Transaction, NotifyError> {
        verifier().verify_and_decrypt(headers, body, NOW)
    }

    fn tx() -> Value {
        json!({"mchid": "1230000109", "appid": "wxd678efh567hg6787",
            "out_trade_no": "1718000000000", "transaction_id": "4200000001202406100000000000",
            "trade_type": "JSAPI", "trade_state": "SUCCESS", "trade_state_desc": "支付成功",
            "success_time": "2024-06-10T14:13:20+08:00", "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
            "amount": {"total": 100, "payer_total": 100, "currency": "CNY", "payer_currency": "CNY"}})
    }

    fn notify() -> (NotifyHeaders, Vec<u8>) {
        signer().notification(&tx(), NOW, "nonce-abc")
    }

    /// A correctly signed body, to reach the checks that sit behind the signature.
    fn signed(body: Vec<u8>) -> (NotifyHeaders, Vec<u8>) {
        let ts = NOW.to_string();
        let signature = signer().sign(&ts, "n", &body);
        (
            NotifyHeaders {
                timestamp: ts,
                nonce: "n".into(),
                signature,
                serial: SERIAL.into(),
            },
            body,
        )
    }

    fn resource(plaintext: &[u8]) -> Value {
        json!({"original_type": "transaction", "algorithm": ALGORITHM, "associated_data": "transaction",
            "nonce": "0123456789ab", "ciphertext": signer().encrypt(plaintext, "0123456789ab", "transaction")})
    }

    fn with_resource(resource: Value) -> Result<Transaction, NotifyError> {
        let (h, b) =
            signed(serde_json::to_vec(&json!({"id": "EV-1", "resource": resource})).unwrap());
        check(&h, &b)
    }

    fn with_plaintext(plaintext: &[u8]) -> Result<Transaction, NotifyError> {
        with_resource(resource(plaintext))
    }

    fn without(path: &[&str]) -> Vec<u8> {
        let mut t = tx();
        let (last, parents) = path.split_last().unwrap();
        let obj = parents.iter().fold(&mut t, |v, k| &mut v[*k]);
        obj.as_object_mut().unwrap().remove(*last);
        serde_json::to_vec(&t).unwrap()
    }

    macro_rules! assert_err {
        ($result:expr, $pattern:pat $(if $guard:expr)?) => {{
            let r = $result;
            assert!(matches!(r, Err($pattern) $(if $guard)?), "got {r:?}");
        }};
    }

    #[test]
    fn round_trip_returns_transaction() {
        let (h, b) = notify();
        assert_eq!(h.serial, SERIAL);
        assert_eq!(h.timestamp, NOW.to_string());
        let body: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(body["event_type"], "TRANSACTION.SUCCESS");
        assert_eq!(body["create_time"], "2024-06-10T14:13:20+08:00");
        let t = check(&h, &b).unwrap();
        assert_eq!(
            t,
            Transaction {
                out_trade_no: "1718000000000".into(),
                transaction_id: "4200000001202406100000000000".into(),
                trade_state: "SUCCESS".into(),
                amount_total: 100,
                mchid: Some("1230000109".into()),
                appid: Some("wxd678efh567hg6787".into()),
            }
        );
    }

    #[test]
    fn optional_fields_may_be_absent() {
        let mut t = tx();
        for k in ["mchid", "appid", "transaction_id"] {
            t.as_object_mut().unwrap().remove(k);
        }
        let t = with_plaintext(&serde_json::to_vec(&t).unwrap()).unwrap();
        assert_eq!(
            (t.mchid, t.appid, t.transaction_id),
            (None, None, String::new())
        );
    }

    #[test]
    fn accepts_pkcs1_public_key_pem() {
        use rsa::pkcs1::EncodeRsaPublicKey as _;
        let pem = signer().public.to_pkcs1_pem(LineEnding::LF).unwrap();
        assert!(pem.starts_with("-----BEGIN RSA PUBLIC KEY-----"));
        let (h, b) = notify();
        let v = Verifier::new(&pem, KEY, None, 300).unwrap();
        assert!(v.verify_and_decrypt(&h, &b, NOW).is_ok());
    }

    #[test]
    fn public_key_pem_is_spki() {
        assert!(
            signer()
                .public_key_pem()
                .starts_with("-----BEGIN PUBLIC KEY-----")
        );
    }

    #[test]
    fn new_rejects_bad_pem() {
        for pem in [
            "",
            "not a pem",
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        ] {
            assert_err!(Verifier::new(pem, KEY, None, 300), KeyError::BadPem);
        }
    }

    #[test]
    fn new_rejects_api_v3_key_not_32_bytes() {
        let pem = signer().public_key_pem();
        for key in ["", "short", &format!("{KEY}x"), "密钥密钥密钥密钥密钥密钥"] {
            let r = Verifier::new(&pem, key, None, 300);
            assert!(
                matches!(r, Err(KeyError::ApiV3KeyLength(n)) if n == key.len()),
                "{key}"
            );
        }
    }

    #[test]
    fn debug_does_not_print_the_api_v3_key() {
        assert!(!format!("{:?}", verifier()).contains(KEY));
    }

    #[test]
    fn rejects_each_missing_or_blank_header() {
        let (good, b) = notify();
        type Field = fn(&mut NotifyHeaders) -> &mut String;
        let fields: [(Field, &str); 4] = [
            (|h| &mut h.timestamp, "Wechatpay-Timestamp"),
            (|h| &mut h.nonce, "Wechatpay-Nonce"),
            (|h| &mut h.signature, "Wechatpay-Signature"),
            (|h| &mut h.serial, "Wechatpay-Serial"),
        ];
        for (field, name) in fields {
            for blank in ["", "  "] {
                let mut h = good.clone();
                *field(&mut h) = blank.into();
                assert_err!(check(&h, &b), NotifyError::MissingHeader(n) if n == name);
            }
        }
    }

    #[test]
    fn rejects_non_numeric_timestamp() {
        let (h, b) = notify();
        for ts in [
            "abc",
            "17e8",
            "+1718000000",
            "-1",
            "1718000000.5",
            "99999999999999999999",
        ] {
            let h = NotifyHeaders {
                timestamp: ts.into(),
                ..h.clone()
            };
            assert_err!(check(&h, &b), NotifyError::Malformed(_));
        }
    }

    #[test]
    fn accepts_timestamp_at_skew_edge() {
        for ts in [NOW - 300, NOW + 300] {
            let (h, b) = signer().notification(&tx(), ts, "n");
            assert!(check(&h, &b).is_ok());
        }
    }

    #[test]
    fn rejects_timestamp_too_old_or_in_future() {
        for ts in [NOW - 301, NOW + 301, 0] {
            let (h, b) = signer().notification(&tx(), ts, "n");
            assert_err!(check(&h, &b), NotifyError::StaleTimestamp);
        }
    }

    #[test]
    fn rejects_extreme_clock_values_without_overflow() {
        let (h, b) = notify();
        let h = NotifyHeaders {
            timestamp: i64::MAX.to_string(),
            ..h
        };
        assert_err!(
            verifier().verify_and_decrypt(&h, &b, i64::MIN),
            NotifyError::StaleTimestamp
        );
        let v = Verifier::new(&signer().public_key_pem(), KEY, None, i64::MIN).unwrap();
        assert_err!(
            v.verify_and_decrypt(&h, &b, NOW),
            NotifyError::StaleTimestamp
        );
    }

    #[test]
    fn rejects_signature_not_base64() {
        let (h, b) = notify();
        for sig in ["!!!not base64!!!", "QUJD=", "QUJD\n"] {
            let h = NotifyHeaders {
                signature: sig.into(),
                ..h.clone()
            };
            assert_err!(check(&h, &b), NotifyError::BadSignature);
        }
    }

    #[test]
    fn rejects_signature_of_wrong_length() {
        let (h, b) = notify();
        let raw = BASE64.decode(&h.signature).unwrap();
        for sig in [&raw[..raw.len() - 1], &[0u8; 300][..], &[0xff; 256][..]] {
            let h = NotifyHeaders {
                signature: BASE64.encode(sig),
                ..h.clone()
            };
            assert_err!(check(&h, &b), NotifyError::BadSignature);
        }
    }

    #[test]
    fn rejects_signature_by_other_platform_key() {
        let other = Signer::generate(KEY, SERIAL);
        let (h, b) = other.notification(&tx(), NOW, "n");
        assert_err!(check(&h, &b), NotifyError::BadSignature);
    }

    #[test]
    fn rejects_tampered_body() {
        let (h, b) = notify();
        let mut tampered = b.clone();
        tampered.push(b' ');
        assert_err!(check(&h, &tampered), NotifyError::BadSignature);
        let mut flipped = b;
        flipped[10] ^= 1;
        assert_err!(check(&h, &flipped), NotifyError::BadSignature);
    }

    #[test]
    fn rejects_signature_over_other_timestamp_or_nonce() {
        let (h, b) = notify();
        let later = NotifyHeaders {
            timestamp: (NOW + 1).to_string(),
            ..h.clone()
        };
        assert_err!(check(&later, &b), NotifyError::BadSignature);
        let renonced = NotifyHeaders {
            nonce: "nonce-abd".into(),
            ..h
        };
        assert_err!(check(&renonced, &b), NotifyError::BadSignature);
    }

    #[test]
    fn verify_signature_accepts_any_signed_body_and_checks_the_same_things() {
        let (h, b) = signed(br#"{"prepay_id":"wx123"}"#.to_vec());
        assert!(verifier().verify_signature(&h, &b, NOW).is_ok());
        // Authentic but not a notification: only verify_and_decrypt refuses it.
        assert_err!(check(&h, &b), NotifyError::Malformed(_));
        let mut tampered = b.clone();
        tampered.push(b' ');
        assert_err!(
            verifier().verify_signature(&h, &tampered, NOW),
            NotifyError::BadSignature
        );
        assert_err!(
            verifier().verify_signature(&h, &b, NOW + 301),
            NotifyError::StaleTimestamp
        );
        let wrong_serial = NotifyHeaders {
            serial: "0000".into(),
            ..h.clone()
        };
        assert_err!(
            verifier().verify_signature(&wrong_serial, &b, NOW),
            NotifyError::UnknownSerial
        );
        let no_nonce = NotifyHeaders {
            nonce: String::new(),
            ..h
        };
        assert_err!(
            verifier().verify_signature(&no_nonce, &b, NOW),
            NotifyError::MissingHeader("Wechatpay-Nonce")
        );
    }

    #[test]
    fn rejects_wrong_serial() {
        let (h, b) = notify();
        let h = NotifyHeaders {
            serial: "0000".into(),
            ..h
        };
        assert_err!(check(&h, &b), NotifyError::UnknownSerial);
    }

    #[test]
    fn any_serial_accepted_when_not_pinned() {
        let (h, b) = notify();
        let h = NotifyHeaders {
            serial: "0000".into(),
            ..h
        };
        let v = Verifier::new(&signer().public_key_pem(), KEY, None, 300).unwrap();
        assert!(v.verify_and_decrypt(&h, &b, NOW).is_ok());
    }

    #[test]
    fn rejects_body_that_is_not_a_notification() {
        for body in [
            &b""[..],
            b"not json",
            b"{}",
            b"[]",
            b"{\"resource\":1}",
            b"{\"resource\":{}}",
        ] {
            let (h, b) = signed(body.to_vec());
            assert_err!(check(&h, &b), NotifyError::Malformed(_));
        }
    }

    #[test]
    fn rejects_unsupported_algorithm() {
        let mut r = resource(&serde_json::to_vec(&tx()).unwrap());
        r["algorithm"] = "AEAD_AES_128_GCM".into();
        assert_err!(with_resource(r), NotifyError::Malformed(_));
    }

    #[test]
    fn rejects_resource_nonce_not_12_bytes() {
        for nonce in ["", "0123456789a", "0123456789abc", "0123456789a中"] {
            let mut r = resource(&serde_json::to_vec(&tx()).unwrap());
            r["nonce"] = nonce.into();
            assert_err!(with_resource(r), NotifyError::Malformed(_));
        }
    }

    #[test]
    fn rejects_ciphertext_not_base64() {
        let mut r = resource(&serde_json::to_vec(&tx()).unwrap());
        r["ciphertext"] = "@@@@".into();
        assert_err!(with_resource(r), NotifyError::Malformed(_));
    }

    #[test]
    fn rejects_tampered_ciphertext() {
        let mut r = resource(&serde_json::to_vec(&tx()).unwrap());
        let mut raw = BASE64.decode(r["ciphertext"].as_str().unwrap()).unwrap();
        raw[0] ^= 1;
        r["ciphertext"] = BASE64.encode(raw).into();
        assert_err!(with_resource(r), NotifyError::Decrypt);
    }

    #[test]
    fn rejects_ciphertext_shorter_than_tag() {
        for raw in [&b""[..], b"short"] {
            let mut r = resource(b"{}");
            r["ciphertext"] = BASE64.encode(raw).into();
            assert_err!(with_resource(r), NotifyError::Decrypt);
        }
    }

    #[test]
    fn rejects_wrong_associated_data_or_nonce() {
        let plaintext = serde_json::to_vec(&tx()).unwrap();
        let mut r = resource(&plaintext);
        r["associated_data"] = "certificate".into();
        assert_err!(with_resource(r), NotifyError::Decrypt);
        let mut r = resource(&plaintext);
        r.as_object_mut().unwrap().remove("associated_data");
        assert_err!(with_resource(r), NotifyError::Decrypt);
        let mut r = resource(&plaintext);
        r["nonce"] = "0123456789ac".into();
        assert_err!(with_resource(r), NotifyError::Decrypt);
    }

    #[test]
    fn accepts_missing_associated_data_when_encrypted_without() {
        let plaintext = serde_json::to_vec(&tx()).unwrap();
        let ciphertext = signer().encrypt(&plaintext, "0123456789ab", "");
        let r = json!({"algorithm": ALGORITHM, "nonce": "0123456789ab", "ciphertext": ciphertext});
        assert_eq!(with_resource(r).unwrap().out_trade_no, "1718000000000");
    }

    #[test]
    fn rejects_ciphertext_under_other_api_v3_key() {
        let (h, b) = notify();
        let v = Verifier::new(
            &signer().public_key_pem(),
            "ffffffffffffffffffffffffffffffff",
            None,
            300,
        );
        assert_err!(
            v.unwrap().verify_and_decrypt(&h, &b, NOW),
            NotifyError::Decrypt
        );
    }

    #[test]
    fn rejects_plaintext_that_is_not_a_transaction() {
        for p in [
            &b"not json"[..],
            b"[]",
            b"null",
            b"\"x\"",
            b"{\"out_trade_no\":1}",
            &[0xff, 0xfe],
        ] {
            assert_err!(with_plaintext(p), NotifyError::Malformed(_));
        }
    }

    #[test]
    fn malformed_message_does_not_echo_plaintext() {
        let p = br#"{"out_trade_no":"1","trade_state":"SUCCESS","payer":{"openid":"SECRET"},"amount":{"total":"SECRET"}}"#;
        let e = with_plaintext(p).unwrap_err().to_string();
        assert!(!e.contains("SECRET"), "{e}");
    }

    #[test]
    fn rejects_missing_out_trade_no() {
        assert_err!(
            with_plaintext(&without(&["out_trade_no"])),
            NotifyError::Malformed(_)
        );
        let mut t = tx();
        t["out_trade_no"] = "".into();
        assert_err!(
            with_plaintext(&serde_json::to_vec(&t).unwrap()),
            NotifyError::Malformed(_)
        );
    }

    #[test]
    fn rejects_missing_trade_state() {
        assert_err!(
            with_plaintext(&without(&["trade_state"])),
            NotifyError::Malformed(_)
        );
    }

    #[test]
    fn rejects_missing_amount_total() {
        assert_err!(
            with_plaintext(&without(&["amount", "total"])),
            NotifyError::Malformed(_)
        );
        assert_err!(
            with_plaintext(&without(&["amount"])),
            NotifyError::Malformed(_)
        );
    }

    #[test]
    fn rejects_non_integer_amount_total() {
        for total in [json!(1.5), json!("100"), json!(null), json!(1e30)] {
            let mut t = tx();
            t["amount"]["total"] = total;
            assert_err!(
                with_plaintext(&serde_json::to_vec(&t).unwrap()),
                NotifyError::Malformed(_)
            );
        }
    }

    #[test]
    fn never_panics_on_garbage() {
        use rand::Rng as _;
        let mut rng = rand::rng();
        let (good, _) = notify();
        let nested = "[".repeat(100_000);
        let mut bodies: Vec<Vec<u8>> =
            vec![nested.into_bytes(), vec![0; 4096], b"\xff\xfe{".to_vec()];
        bodies.extend((0..50).map(|_| {
            (0..rng.random_range(0..512))
                .map(|_| rng.random())
                .collect()
        }));
        for body in bodies {
            assert!(check(&good, &body).is_err());
            let (h, b) = signed(body);
            assert!(check(&h, &b).is_err());
        }
    }
}
