//! The WeChat settings (the mini-program login and WeChat Pay API v3), required in wechat mode,
//! and the merchant key's PEM parser, which the payment client reuses.

use ring::signature::RsaKeyPair;
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject as _;

use super::layer::SettingsLayer;
use super::{ConfigError, bad};

/// WeChat settings: the mini-program login and WeChat Pay API v3.
#[derive(Clone)]
pub struct WechatSettings {
    /// 32-byte API-v3 key.
    pub api_v3_key: String,
    /// Platform public key PEM text.
    pub platform_key_pem: String,
    /// Expected platform serial.
    pub platform_serial: Option<String>,
    /// Our merchant id.
    pub mchid: String,
    /// Allowed timestamp skew.
    pub max_skew_secs: i64,
    /// Mini-program AppID.
    pub appid: String,
    /// Mini-program AppSecret (login code exchange).
    pub app_secret: String,
    /// Merchant API private key PEM text (PKCS#8 or PKCS#1).
    pub merchant_key_pem: String,
    /// Serial number of the merchant API certificate.
    pub merchant_serial: String,
    /// URL WeChat Pay posts payment notifications to.
    pub notify_url: String,
    /// WeChat Pay API base URL, without a trailing `/`.
    pub pay_base: String,
    /// Mini-program login API base URL, without a trailing `/`.
    pub login_base: String,
}

// Hand-written so the API-v3 key, the AppSecret and the merchant key never reach a log.
impl std::fmt::Debug for WechatSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WechatSettings")
            .field("platform_serial", &self.platform_serial)
            .field("mchid", &self.mchid)
            .field("max_skew_secs", &self.max_skew_secs)
            .field("appid", &self.appid)
            .field("merchant_serial", &self.merchant_serial)
            .field("notify_url", &self.notify_url)
            .field("pay_base", &self.pay_base)
            .field("login_base", &self.login_base)
            .finish_non_exhaustive()
    }
}

/// The merchant private key PEM could not be read as an RSA private key.
#[derive(Debug, thiserror::Error)]
#[error(
    "not an RSA private key PEM (PKCS#8 `BEGIN PRIVATE KEY` or PKCS#1 `BEGIN RSA PRIVATE KEY`)"
)]
pub struct MerchantKeyError;

/// Reads the merchant API private key: PKCS#8 (`-----BEGIN PRIVATE KEY-----`, what the
/// merchant platform hands out) or PKCS#1 (`-----BEGIN RSA PRIVATE KEY-----`) PEM, as a
/// `ring` key pair (constant-time signing; 2048 to 8192 bits).
pub fn merchant_key(pem: &str) -> Result<RsaKeyPair, MerchantKeyError> {
    let der = PrivateKeyDer::from_pem_slice(pem.trim().as_bytes()).map_err(|_| MerchantKeyError)?;
    match der {
        PrivateKeyDer::Pkcs8(k) => RsaKeyPair::from_pkcs8(k.secret_pkcs8_der()),
        PrivateKeyDer::Pkcs1(k) => RsaKeyPair::from_der(k.secret_pkcs1_der()),
        _ => return Err(MerchantKeyError),
    }
    .map_err(|_| MerchantKeyError)
}

/// The WeChat settings of a layer in wechat mode.
pub(super) fn wechat_settings(l: &SettingsLayer) -> Result<WechatSettings, ConfigError> {
    let key = l
        .wechat_api_v3_key
        .clone()
        .ok_or_else(|| bad("SKY_WECHAT_API_V3_KEY", "required with --pay-mode wechat"))?;
    if key.len() != 32 {
        return Err(bad("SKY_WECHAT_API_V3_KEY", "must be exactly 32 bytes"));
    }
    let path = l
        .wechat_platform_key
        .clone()
        .ok_or_else(|| bad("SKY_WECHAT_PLATFORM_KEY", "required with --pay-mode wechat"))?;
    let pem = std::fs::read_to_string(&path).map_err(|e| {
        bad(
            "SKY_WECHAT_PLATFORM_KEY",
            format!("{}: {e}", path.display()),
        )
    })?;
    let mchid = l
        .wechat_mchid
        .clone()
        .ok_or_else(|| bad("SKY_WECHAT_MCHID", "required with --pay-mode wechat"))?;
    let required = |v: &Option<String>, name: &'static str| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .ok_or_else(|| bad(name, "required with --pay-mode wechat"))
    };
    let appid = required(&l.wechat_appid, "SKY_WECHAT_APPID")?;
    let app_secret = required(&l.wechat_app_secret, "SKY_WECHAT_APP_SECRET")?;
    let path = l
        .wechat_merchant_key
        .clone()
        .ok_or_else(|| bad("SKY_WECHAT_MERCHANT_KEY", "required with --pay-mode wechat"))?;
    let merchant_key_pem = std::fs::read_to_string(&path).map_err(|e| {
        bad(
            "SKY_WECHAT_MERCHANT_KEY",
            format!("{}: {e}", path.display()),
        )
    })?;
    merchant_key(&merchant_key_pem).map_err(|e| {
        bad(
            "SKY_WECHAT_MERCHANT_KEY",
            format!("{}: {e}", path.display()),
        )
    })?;
    let merchant_serial = required(&l.wechat_merchant_serial, "SKY_WECHAT_MERCHANT_SERIAL")?;
    let notify_url = required(&l.wechat_notify_url, "SKY_WECHAT_NOTIFY_URL")?;
    http_url(&notify_url, "SKY_WECHAT_NOTIFY_URL")?;
    let base = |v: &Option<String>, default: &str, name: &'static str| {
        let url = v.as_deref().unwrap_or(default).trim();
        http_url(url, name)?;
        Ok::<_, ConfigError>(url.trim_end_matches('/').to_string())
    };
    Ok(WechatSettings {
        api_v3_key: key,
        platform_key_pem: pem,
        platform_serial: l.wechat_platform_serial.clone(),
        mchid,
        max_skew_secs: super::resolve::ranged(
            l.wechat_max_skew_secs,
            300,
            0..=super::resolve::DAY_SECS,
            "SKY_WECHAT_MAX_SKEW_SECS",
        )? as i64,
        appid,
        app_secret,
        merchant_key_pem,
        merchant_serial,
        notify_url,
        pay_base: base(
            &l.wechat_pay_base,
            "https://api.mch.weixin.qq.com",
            "SKY_WECHAT_PAY_BASE",
        )?,
        login_base: base(
            &l.wechat_login_base,
            "https://api.weixin.qq.com",
            "SKY_WECHAT_LOGIN_BASE",
        )?,
    })
}

/// An absolute `http://` or `https://` URL with a host, no query and no fragment.
fn http_url(url: &str, name: &'static str) -> Result<(), ConfigError> {
    let parsed =
        reqwest::Url::parse(url).map_err(|e| bad(name, format!("`{url}` is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(bad(
            name,
            format!("`{url}`: use an https:// or http:// URL"),
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(bad(name, format!("`{url}`: no query or fragment")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PayMode;

    /// The test-only merchant key (PKCS#8 private PEM, SPKI public PEM), committed under
    /// `tests/fixtures/rsa`.
    fn keys() -> (&'static str, &'static str) {
        (
            include_str!("../../tests/fixtures/rsa/merchant.key.pem"),
            include_str!("../../tests/fixtures/rsa/merchant.pub.pem"),
        )
    }

    /// A complete wechat layer whose key files live in `dir`.
    fn wechat_layer(dir: &tempfile::TempDir) -> SettingsLayer {
        let (private, public) = keys();
        let merchant = dir.path().join("apiclient_key.pem");
        let platform = dir.path().join("platform.pem");
        std::fs::write(&merchant, private).unwrap();
        std::fs::write(&platform, public).unwrap();
        SettingsLayer {
            pay_mode: Some("wechat".into()),
            wechat_api_v3_key: Some("0123456789abcdef0123456789abcdef".into()),
            wechat_platform_key: Some(platform),
            wechat_mchid: Some("1900000001".into()),
            wechat_appid: Some("wx0000000000000001".into()),
            wechat_app_secret: Some("the-app-secret".into()),
            wechat_merchant_key: Some(merchant),
            wechat_merchant_serial: Some("MERCHANT-SERIAL".into()),
            wechat_notify_url: Some("https://shop.example.com/notify/paySuccess".into()),
            ..Default::default()
        }
    }

    #[test]
    fn wechat_settings_resolve_with_default_bases() {
        let dir = tempfile::tempdir().unwrap();
        let s = wechat_layer(&dir).resolve().unwrap();
        assert_eq!(s.pay_mode, PayMode::Wechat);
        let w = s.wechat.unwrap();
        assert_eq!(w.appid, "wx0000000000000001");
        assert_eq!(w.merchant_serial, "MERCHANT-SERIAL");
        assert_eq!(w.pay_base, "https://api.mch.weixin.qq.com");
        assert_eq!(w.login_base, "https://api.weixin.qq.com");
        assert!(w.merchant_key_pem.contains("BEGIN PRIVATE KEY"));
        let debug = format!("{w:?}");
        for secret in ["the-app-secret", "0123456789abcdef", "PRIVATE KEY"] {
            assert!(!debug.contains(secret), "{debug}");
        }
        let s = SettingsLayer {
            wechat_pay_base: Some("http://127.0.0.1:9/".into()),
            wechat_login_base: Some("http://127.0.0.1:8/prefix/".into()),
            ..wechat_layer(&dir)
        }
        .resolve()
        .unwrap();
        let w = s.wechat.unwrap();
        assert_eq!(w.pay_base, "http://127.0.0.1:9");
        assert_eq!(w.login_base, "http://127.0.0.1:8/prefix");
    }

    #[test]
    fn wechat_accepts_a_pkcs1_merchant_key() {
        let dir = tempfile::tempdir().unwrap();
        let layer = wechat_layer(&dir);
        let pem = include_str!("../../tests/fixtures/rsa/merchant.key.pkcs1.pem");
        assert!(pem.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
        std::fs::write(layer.wechat_merchant_key.as_ref().unwrap(), pem.as_bytes()).unwrap();
        assert!(layer.resolve().is_ok());
    }

    #[test]
    fn wechat_missing_settings_name_the_setting() {
        let dir = tempfile::tempdir().unwrap();
        type Clear = fn(&mut SettingsLayer);
        let cases: [(Clear, &str); 5] = [
            (|l| l.wechat_appid = None, "SKY_WECHAT_APPID"),
            (|l| l.wechat_app_secret = None, "SKY_WECHAT_APP_SECRET"),
            (|l| l.wechat_merchant_key = None, "SKY_WECHAT_MERCHANT_KEY"),
            (
                |l| l.wechat_merchant_serial = None,
                "SKY_WECHAT_MERCHANT_SERIAL",
            ),
            (|l| l.wechat_notify_url = None, "SKY_WECHAT_NOTIFY_URL"),
        ];
        for (clear, name) in cases {
            let mut layer = wechat_layer(&dir);
            clear(&mut layer);
            let e = layer.resolve().unwrap_err().to_string();
            assert!(e.contains(name), "{name}: {e}");
        }
        let e = SettingsLayer {
            wechat_appid: Some("  ".into()),
            ..wechat_layer(&dir)
        }
        .resolve()
        .unwrap_err()
        .to_string();
        assert!(e.contains("SKY_WECHAT_APPID"), "{e}");
    }

    #[test]
    fn wechat_bad_values_name_the_setting() {
        let dir = tempfile::tempdir().unwrap();
        let not_a_key = dir.path().join("not-a-key.pem");
        std::fs::write(&not_a_key, keys().1).unwrap();
        let cases = [
            (
                SettingsLayer {
                    wechat_merchant_key: Some(not_a_key),
                    ..wechat_layer(&dir)
                },
                "SKY_WECHAT_MERCHANT_KEY",
            ),
            (
                SettingsLayer {
                    wechat_merchant_key: Some(dir.path().join("absent.pem")),
                    ..wechat_layer(&dir)
                },
                "SKY_WECHAT_MERCHANT_KEY",
            ),
            (
                SettingsLayer {
                    wechat_notify_url: Some("ftp://shop.example.com/notify".into()),
                    ..wechat_layer(&dir)
                },
                "SKY_WECHAT_NOTIFY_URL",
            ),
            (
                SettingsLayer {
                    wechat_notify_url: Some("/notify/paySuccess".into()),
                    ..wechat_layer(&dir)
                },
                "SKY_WECHAT_NOTIFY_URL",
            ),
            (
                SettingsLayer {
                    wechat_notify_url: Some("https://shop.example.com/notify?x=1".into()),
                    ..wechat_layer(&dir)
                },
                "SKY_WECHAT_NOTIFY_URL",
            ),
            (
                SettingsLayer {
                    wechat_pay_base: Some("api.mch.weixin.qq.com".into()),
                    ..wechat_layer(&dir)
                },
                "SKY_WECHAT_PAY_BASE",
            ),
            (
                SettingsLayer {
                    wechat_login_base: Some("wss://api.weixin.qq.com".into()),
                    ..wechat_layer(&dir)
                },
                "SKY_WECHAT_LOGIN_BASE",
            ),
        ];
        for (layer, name) in cases {
            let e = layer.resolve().unwrap_err().to_string();
            assert!(e.contains(name), "{name}: {e}");
            for pem in [keys().0, keys().1] {
                let material = pem.lines().nth(1).unwrap();
                assert!(!e.contains(material), "the message shows key material: {e}");
            }
        }
    }
}
