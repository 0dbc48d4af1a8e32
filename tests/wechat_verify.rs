//! WeChat Pay API-v3 notification verification (`payment::wechat::Verifier`), against
//! notifications built the way WeChat Pay builds them (the tests' platform signer): what
//! verifies, and every way a notification is refused without a panic.

mod common;

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use common::wechat_signer::{OTHER_KEY, PLATFORM_KEY, Signer};
use serde_json::{Value, json};
use sky_takeout::payment::wechat::{
    ALGORITHM, KeyError, NotifyError, NotifyHeaders, Transaction, Verifier,
};

const KEY: &str = "0123456789abcdef0123456789ABCDEF";
const SERIAL: &str = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
const NOW: i64 = 1_718_000_000;

/// All tests share the committed platform key.
fn signer() -> &'static Signer {
    static SIGNER: OnceLock<Signer> = OnceLock::new();
    SIGNER.get_or_init(|| Signer::new(PLATFORM_KEY, KEY, SERIAL))
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
    let (h, b) = signed(serde_json::to_vec(&json!({"id": "EV-1", "resource": resource})).unwrap());
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
    let pem = include_str!("fixtures/rsa/platform.pub.pkcs1.pem");
    assert!(pem.starts_with("-----BEGIN RSA PUBLIC KEY-----"));
    let (h, b) = notify();
    let v = Verifier::new(pem, KEY, None, 300).unwrap();
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
        include_str!("fixtures/rsa/ec.pub.pem"),
        include_str!("fixtures/rsa/platform.key.pem"),
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
    let other = Signer::new(OTHER_KEY, KEY, SERIAL);
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
    let mut bodies: Vec<Vec<u8>> = vec![nested.into_bytes(), vec![0; 4096], b"\xff\xfe{".to_vec()];
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
