//! WeChat Pay keys and constants shared by the payment tests. The keys are the committed
//! test-only fixtures of `tests/fixtures/rsa` (no key generation, no `rsa` crate).

use std::sync::OnceLock;

use serde_json::Value;
use sky_takeout::payment::wechat::NotifyHeaders;

use super::wechat_signer::{PLATFORM_KEY, ROGUE_KEY, Signer};

/// The API-v3 key the app is configured with.
pub const API_V3_KEY: &str = "0123456789abcdefABCDEF0123456789";
/// The platform certificate serial.
pub const PLATFORM_SERIAL: &str = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
/// Our merchant id.
pub const MCHID: &str = "1900000001";

/// The WeChat Pay platform key: signs notifications and the fake WeChat's replies.
pub fn platform() -> &'static Signer {
    static S: OnceLock<Signer> = OnceLock::new();
    S.get_or_init(|| Signer::new(PLATFORM_KEY, API_V3_KEY, PLATFORM_SERIAL))
}

/// An attacker's key with the platform's serial and (somehow) our API-v3 key.
pub fn rogue() -> &'static Signer {
    static S: OnceLock<Signer> = OnceLock::new();
    S.get_or_init(|| Signer::new(ROGUE_KEY, API_V3_KEY, PLATFORM_SERIAL))
}

/// The merchant private key as PKCS#8 PEM; the app gets it as a file.
pub fn merchant_key_pem() -> String {
    include_str!("../fixtures/rsa/merchant.key.pem").to_string()
}

/// The merchant public key (SPKI PEM), to check what the app signed.
pub fn merchant_public_pem() -> &'static str {
    include_str!("../fixtures/rsa/merchant.pub.pem")
}

/// Posts a notification; returns (HTTP status, parsed JSON body).
pub async fn notify(base: &str, h: &NotifyHeaders, body: &[u8]) -> (u16, Value) {
    let resp = super::http()
        .post(format!("{base}/notify/paySuccess"))
        .header("content-type", "application/json")
        .header("Wechatpay-Timestamp", &h.timestamp)
        .header("Wechatpay-Nonce", &h.nonce)
        .header("Wechatpay-Signature", &h.signature)
        .header("Wechatpay-Serial", &h.serial)
        .header("Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048")
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let v = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("notify reply is not JSON (HTTP {status}): {text:?}"));
    (status, v)
}
