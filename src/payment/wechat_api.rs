//! The two calls we make to WeChat, as the original's `UserServiceImpl` and `WeChatPayUtil` do:
//!
//! * the mini-program login code exchange, `GET /sns/jscode2session`, which turns the code of
//!   `wx.login` into the customer's openid;
//! * the WeChat Pay API-v3 JSAPI order, `POST /v3/pay/transactions/jsapi`, signed with the
//!   merchant private key; its reply is checked with the platform key (the notification
//!   [`Verifier`]) before its `prepay_id` is trusted.
//!
//! Then [`WechatClient::pay_params`] signs the parameters `wx.requestPayment` needs. The order
//! is never marked paid here: only a verified payment notification does that.
//!
//! Nothing here logs or returns the AppSecret, the merchant key or a URL that holds them.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use serde::{Deserialize, Serialize};

use crate::config::wechat::{MerchantKeyError, WechatSettings, merchant_key};
use crate::payment::wechat::{NotifyError, NotifyHeaders, Verifier};

/// Path of the JSAPI order call; part of the signed message, so one constant for both.
pub const JSAPI_PATH: &str = "/v3/pay/transactions/jsapi";
/// The `Authorization` scheme of WeChat Pay API v3.
pub const AUTH_SCHEME: &str = "WECHATPAY2-SHA256-RSA2048";
/// Longest wait for the login code exchange.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest wait for the JSAPI order call.
const PAY_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest reply we read from WeChat (its replies are a few hundred bytes).
const MAX_REPLY: usize = 64 * 1024;

/// Installs rustls' ring crypto provider as the process default, once. reqwest is built
/// without a provider of its own (`rustls-no-provider`), so this must run before any
/// `reqwest::Client` is built. A second call, or a provider installed by someone else, is fine.
pub fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The merchant API private key (`apiclient_key.pem`), ready to sign (ring: constant-time,
/// about a millisecond per signature, so it runs on the async threads).
#[derive(Clone)]
pub struct MerchantKey {
    key: Arc<RsaKeyPair>,
}

// Hand-written so the private key can never reach a log through `{:?}`.
impl std::fmt::Debug for MerchantKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MerchantKey(..)")
    }
}

impl MerchantKey {
    /// Reads PKCS#8 (`-----BEGIN PRIVATE KEY-----`, what the merchant platform hands out) or
    /// PKCS#1 (`-----BEGIN RSA PRIVATE KEY-----`) PEM.
    pub fn from_pem(pem: &str) -> Result<Self, MerchantKeyError> {
        Ok(Self {
            key: Arc::new(merchant_key(pem)?),
        })
    }

    /// Base64 of the RSA PKCS#1 v1.5 SHA-256 signature of `message` (deterministic: the
    /// same bytes as `openssl dgst -sha256 -sign`).
    pub fn sign(&self, message: &[u8]) -> String {
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message,
                &mut signature,
            )
            .expect("signing with a valid key into a modulus-sized buffer cannot fail");
        BASE64.encode(signature)
    }
}

/// The `Authorization` header value of a WeChat Pay API-v3 request: the signature covers
/// `METHOD\nPATH\ntimestamp\nnonce\nbody\n` (the body exactly as sent; empty for GET).
#[allow(clippy::too_many_arguments)]
pub fn authorization(
    key: &MerchantKey,
    mchid: &str,
    serial: &str,
    method: &str,
    path: &str,
    timestamp: i64,
    nonce: &str,
    body: &str,
) -> String {
    let message = format!("{method}\n{path}\n{timestamp}\n{nonce}\n{body}\n");
    let signature = key.sign(message.as_bytes());
    format!(
        r#"{AUTH_SCHEME} mchid="{mchid}",nonce_str="{nonce}",signature="{signature}",timestamp="{timestamp}",serial_no="{serial}""#
    )
}

/// Why a call to WeChat failed. Safe to log: never holds a secret, a URL or a session key.
#[derive(Debug, thiserror::Error)]
pub enum WechatError {
    /// No reply: connection refused, timeout, TLS failure…
    #[error("WeChat unreachable: {0}")]
    Transport(String),
    /// `jscode2session` answered an error code (40029 invalid code, 45011 rate limit, …).
    #[error("WeChat login refused the code: errcode {errcode} ({errmsg})")]
    Login {
        /// WeChat's `errcode`.
        errcode: i64,
        /// WeChat's `errmsg`.
        errmsg: String,
    },
    /// WeChat answered an unexpected HTTP status; `code` is the reply's `code` field.
    #[error("WeChat answered HTTP {status}, code {code}")]
    Status {
        /// HTTP status.
        status: u16,
        /// WeChat Pay's error `code` (e.g. `PARAM_ERROR`), or `-` when absent.
        code: String,
    },
    /// The reply does not carry a valid platform signature.
    #[error("WeChat Pay reply failed verification: {0}")]
    Unverified(#[from] NotifyError),
    /// The reply is not the expected JSON.
    #[error("unexpected WeChat reply: {0}")]
    Malformed(&'static str),
}

impl From<reqwest::Error> for WechatError {
    fn from(e: reqwest::Error) -> Self {
        // Without the URL: the login URL holds the AppSecret.
        WechatError::Transport(e.without_url().to_string())
    }
}

/// A JSAPI order to create.
#[derive(Debug, Clone, Copy)]
pub struct Prepay<'a> {
    /// Our order number, sent as `out_trade_no`.
    pub order_number: &'a str,
    /// Total in fen.
    pub total_fen: i64,
    /// The paying customer's openid (for this AppID).
    pub openid: &'a str,
}

/// What `wx.requestPayment` needs (the contract's payment data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayParams {
    /// Unix seconds, as a string.
    pub time_stamp: String,
    /// Random string.
    pub nonce_str: String,
    /// `prepay_id=…`.
    pub package: String,
    /// Always `RSA`.
    pub sign_type: &'static str,
    /// Base64 signature over `appid\ntimeStamp\nnonceStr\npackage\n` with the merchant key.
    pub pay_sign: String,
}

/// Calls WeChat for the login and the JSAPI order. Cheap to clone; share it as app state.
#[derive(Clone)]
pub struct WechatClient {
    http: reqwest::Client,
    appid: String,
    app_secret: String,
    mchid: String,
    merchant_serial: String,
    notify_url: String,
    pay_base: String,
    login_base: String,
    key: MerchantKey,
    verifier: Arc<Verifier>,
}

// Hand-written so the AppSecret and the merchant key never reach a log.
impl std::fmt::Debug for WechatClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WechatClient")
            .field("appid", &self.appid)
            .field("mchid", &self.mchid)
            .field("merchant_serial", &self.merchant_serial)
            .field("pay_base", &self.pay_base)
            .field("login_base", &self.login_base)
            .finish_non_exhaustive()
    }
}

/// Why a [`WechatClient`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The merchant key PEM is not usable.
    #[error("SKY_WECHAT_MERCHANT_KEY: {0}")]
    MerchantKey(#[from] MerchantKeyError),
    /// The HTTP client could not be built (TLS set-up).
    #[error("cannot build the HTTP client for WeChat: {0}")]
    Http(String),
}

#[derive(Serialize)]
struct JsapiRequest<'a> {
    appid: &'a str,
    mchid: &'a str,
    description: String,
    out_trade_no: &'a str,
    notify_url: &'a str,
    amount: Amount,
    payer: Payer<'a>,
}

#[derive(Serialize)]
struct Amount {
    total: i64,
    currency: &'static str,
}

#[derive(Serialize)]
struct Payer<'a> {
    openid: &'a str,
}

#[derive(Deserialize)]
struct JsapiReply {
    prepay_id: Option<String>,
}

#[derive(Deserialize)]
struct PayErrorReply {
    code: Option<String>,
}

#[derive(Deserialize)]
struct SessionReply {
    openid: Option<String>,
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

impl WechatClient {
    /// Builds the client (installing the TLS crypto provider first). `verifier` checks the
    /// platform signature of WeChat Pay's replies, as it does for notifications.
    pub fn new(settings: &WechatSettings, verifier: Arc<Verifier>) -> Result<Self, ClientError> {
        install_crypto_provider();
        let key = MerchantKey::from_pem(&settings.merchant_key_pem)?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("sky-takeout/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(LOGIN_TIMEOUT)
            .timeout(PAY_TIMEOUT)
            // A redirect would carry the query (login) or the signed request elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ClientError::Http(e.without_url().to_string()))?;
        Ok(Self {
            http,
            appid: settings.appid.clone(),
            app_secret: settings.app_secret.clone(),
            mchid: settings.mchid.clone(),
            merchant_serial: settings.merchant_serial.clone(),
            notify_url: settings.notify_url.clone(),
            pay_base: settings.pay_base.trim_end_matches('/').to_string(),
            login_base: settings.login_base.trim_end_matches('/').to_string(),
            key,
            verifier,
        })
    }

    /// The mini-program AppID.
    pub fn appid(&self) -> &str {
        &self.appid
    }

    /// Trades a `wx.login` code for the customer's openid (`jscode2session`). The session key
    /// in the reply is not kept.
    pub async fn login(&self, code: &str) -> Result<String, WechatError> {
        let resp = self
            .http
            .get(format!("{}/sns/jscode2session", self.login_base))
            .query(&[
                ("appid", self.appid.as_str()),
                ("secret", self.app_secret.as_str()),
                ("js_code", code),
                ("grant_type", "authorization_code"),
            ])
            .timeout(LOGIN_TIMEOUT)
            .send()
            .await?;
        let status = resp.status();
        let body = read_limited(resp).await?;
        if !status.is_success() {
            return Err(WechatError::Status {
                status: status.as_u16(),
                code: "-".to_string(),
            });
        }
        // WeChat answers `text/plain`, so the body is parsed whatever its content type.
        let reply: SessionReply = serde_json::from_slice(&body)
            .map_err(|_| WechatError::Malformed("jscode2session reply is not JSON"))?;
        if reply.errcode != 0 {
            return Err(WechatError::Login {
                errcode: reply.errcode,
                errmsg: reply.errmsg.chars().take(200).collect(),
            });
        }
        match reply.openid {
            Some(openid)
                if !openid.is_empty()
                    && openid.len() <= 128
                    && openid.bytes().all(|b| b.is_ascii_graphic()) =>
            {
                Ok(openid)
            }
            _ => Err(WechatError::Malformed("jscode2session reply has no openid")),
        }
    }

    /// Creates the JSAPI order and returns its `prepay_id`, after checking the reply's platform
    /// signature. `now_unix` signs the request and bounds the reply's timestamp.
    pub async fn jsapi_prepay(
        &self,
        order: Prepay<'_>,
        now_unix: i64,
    ) -> Result<String, WechatError> {
        let body = serde_json::to_string(&JsapiRequest {
            appid: &self.appid,
            mchid: &self.mchid,
            description: format!("苍穹外卖订单 {}", order.order_number),
            out_trade_no: order.order_number,
            notify_url: &self.notify_url,
            amount: Amount {
                total: order.total_fen,
                currency: "CNY",
            },
            payer: Payer {
                openid: order.openid,
            },
        })
        .expect("a request of strings and numbers always serializes");
        let nonce = crate::auth::random_string(32);
        let auth = authorization(
            &self.key,
            &self.mchid,
            &self.merchant_serial,
            "POST",
            JSAPI_PATH,
            now_unix,
            &nonce,
            &body,
        );
        let resp = self
            .http
            .post(format!("{}{JSAPI_PATH}", self.pay_base))
            .header(reqwest::header::AUTHORIZATION, auth)
            .header(reqwest::header::ACCEPT, "application/json")
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await?;
        let status = resp.status();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        let headers = NotifyHeaders {
            timestamp: header("wechatpay-timestamp"),
            nonce: header("wechatpay-nonce"),
            signature: header("wechatpay-signature"),
            serial: header("wechatpay-serial"),
        };
        let body = read_limited(resp).await?;
        if status != reqwest::StatusCode::OK {
            let code = serde_json::from_slice::<PayErrorReply>(&body)
                .ok()
                .and_then(|r| r.code)
                .map(|c| c.chars().take(64).collect())
                .unwrap_or_else(|| "-".to_string());
            return Err(WechatError::Status {
                status: status.as_u16(),
                code,
            });
        }
        self.verifier.verify_signature(&headers, &body, now_unix)?;
        let reply: JsapiReply = serde_json::from_slice(&body)
            .map_err(|_| WechatError::Malformed("JSAPI reply is not JSON"))?;
        reply
            .prepay_id
            .filter(|id| {
                !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic())
            })
            .ok_or(WechatError::Malformed("JSAPI reply has no prepay_id"))
    }

    /// Signs the parameters of `wx.requestPayment` for this prepay id.
    pub fn pay_params(&self, prepay_id: &str, now_unix: i64) -> PayParams {
        let time_stamp = now_unix.to_string();
        let nonce_str = crate::auth::random_string(32);
        let package = format!("prepay_id={prepay_id}");
        let message = format!("{}\n{time_stamp}\n{nonce_str}\n{package}\n", self.appid);
        PayParams {
            pay_sign: self.key.sign(message.as_bytes()),
            time_stamp,
            nonce_str,
            package,
            sign_type: "RSA",
        }
    }
}

/// The reply body, refusing one larger than [`MAX_REPLY`].
async fn read_limited(mut resp: reqwest::Response) -> Result<Vec<u8>, WechatError> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        if body.len() + chunk.len() > MAX_REPLY {
            return Err(WechatError::Malformed("reply too large"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payment::rsa_public::RsaPublicKey;

    const PKCS8: &str = include_str!("../../tests/fixtures/rsa/merchant.key.pem");
    const PKCS1: &str = include_str!("../../tests/fixtures/rsa/merchant.key.pkcs1.pem");
    const PUBLIC: &str = include_str!("../../tests/fixtures/rsa/merchant.pub.pem");

    fn verifies(message: &str, signature_b64: &str) -> bool {
        let public = RsaPublicKey::from_pem(PUBLIC).unwrap();
        let raw = BASE64.decode(signature_b64).unwrap();
        public.verifies(message.as_bytes(), &raw)
    }

    fn key() -> MerchantKey {
        MerchantKey::from_pem(PKCS8).unwrap()
    }

    #[test]
    fn reads_pkcs8_and_pkcs1_and_refuses_the_rest() {
        let pkcs1 = MerchantKey::from_pem(&PKCS1.replace('\n', "\r\n")).unwrap();
        assert_eq!(
            pkcs1.sign(b"x"),
            key().sign(b"x"),
            "the same key, the same signature"
        );
        let ec = include_str!("../../tests/fixtures/rsa/ec.key.pem");
        for pem in ["", "garbage", PUBLIC, ec] {
            assert!(MerchantKey::from_pem(pem).is_err(), "{pem}");
        }
        assert_eq!(format!("{:?}", key()), "MerchantKey(..)");
    }

    #[test]
    fn authorization_signs_the_documented_message() {
        let body = r#"{"a":1}"#;
        let header = authorization(
            &key(),
            "1900000001",
            "SERIAL",
            "POST",
            JSAPI_PATH,
            1_718_000_000,
            "abc",
            body,
        );
        let rest = header
            .strip_prefix("WECHATPAY2-SHA256-RSA2048 ")
            .expect(&header);
        let field = |name: &str| {
            rest.split(',')
                .find_map(|kv| kv.strip_prefix(&format!("{name}=\"")))
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or_else(|| panic!("{name} in {header}"))
                .to_string()
        };
        assert_eq!(field("mchid"), "1900000001");
        assert_eq!(field("nonce_str"), "abc");
        assert_eq!(field("timestamp"), "1718000000");
        assert_eq!(field("serial_no"), "SERIAL");
        let message = format!("POST\n{JSAPI_PATH}\n1718000000\nabc\n{body}\n");
        assert!(verifies(&message, &field("signature")));
        assert!(!verifies(
            &message.replace("abc", "abd"),
            &field("signature")
        ));
    }

    #[test]
    fn transport_errors_do_not_show_the_url() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        install_crypto_provider();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let err: WechatError = rt.block_on(async {
            reqwest::Client::new()
                .get(format!("http://127.0.0.1:{port}/sns?secret=TOP-SECRET"))
                .send()
                .await
                .unwrap_err()
                .into()
        });
        let text = err.to_string();
        assert!(!text.contains("TOP-SECRET"), "{text}");
        assert!(matches!(err, WechatError::Transport(_)));
    }
}
