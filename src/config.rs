//! Settings: the only reader of flags, environment and the optional TOML file. Opens nothing.
//!
//! Precedence: command-line flag > environment variable > TOML file > default. Every field of
//! [`SettingsLayer`] is optional so that the three sources can be merged field by field; the
//! result is a fully validated [`Settings`]. A bad value stops start-up with one line naming it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use serde::Deserialize;

/// How `PUT /user/order/payment` settles an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayMode {
    /// Marks the order paid at once (the course's "skip payment"), through the real paid path.
    Mock,
    /// Real WeChat Pay: the order is paid when a verified notification arrives.
    Wechat,
}

/// Which broker carries alerts between instances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrokerUrl {
    /// One process: alerts go straight from the relay to the in-process hub.
    Memory,
    /// Redis pub/sub, e.g. `redis://127.0.0.1:6379`.
    Redis(String),
    /// NATS core subjects, e.g. `nats://127.0.0.1:4222`.
    Nats(String),
}

/// One layer of settings (flags+env, or the TOML file). Field names are the TOML keys.
#[derive(Debug, Default, Clone, Args, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsLayer {
    /// Address to listen on.
    #[arg(long, global = true, env = "SKY_LISTEN")]
    pub listen: Option<String>,
    /// `sqlite://file.db` (default `sqlite://sky-takeout.db`) or `postgres://…`.
    #[arg(long, global = true, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Password of the initial merchant account `admin` of shop 1 (generated and logged once if unset).
    #[arg(
        long,
        global = true,
        env = "SKY_ADMIN_PASSWORD",
        hide_env_values = true
    )]
    pub admin_password: Option<String>,
    /// Secret that signs tokens (generated and kept in the database if unset).
    #[arg(long, global = true, env = "SKY_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Lifetime of merchant and customer tokens, in seconds.
    #[arg(long, global = true, env = "SKY_TOKEN_TTL_SECS")]
    pub token_ttl_secs: Option<u64>,
    /// `mock` (default) or `wechat`.
    #[arg(long, global = true, env = "SKY_PAY_MODE")]
    pub pay_mode: Option<String>,
    /// WeChat Pay API-v3 key (32 characters); required with `--pay-mode wechat`.
    #[arg(
        long,
        global = true,
        env = "SKY_WECHAT_API_V3_KEY",
        hide_env_values = true
    )]
    pub wechat_api_v3_key: Option<String>,
    /// Path of the WeChat Pay platform public key (PEM); required with `--pay-mode wechat`.
    #[arg(long, global = true, env = "SKY_WECHAT_PLATFORM_KEY")]
    pub wechat_platform_key: Option<PathBuf>,
    /// Expected `Wechatpay-Serial` of notifications (any when unset).
    #[arg(long, global = true, env = "SKY_WECHAT_PLATFORM_SERIAL")]
    pub wechat_platform_serial: Option<String>,
    /// Merchant id (`mchid`) that notifications must name; required with `--pay-mode wechat`.
    #[arg(long, global = true, env = "SKY_WECHAT_MCHID")]
    pub wechat_mchid: Option<String>,
    /// Largest accepted clock difference of a notification's timestamp, in seconds.
    #[arg(long, global = true, env = "SKY_WECHAT_MAX_SKEW_SECS")]
    pub wechat_max_skew_secs: Option<u64>,
    /// Mini-program AppID (`appid`); required with `--pay-mode wechat`.
    #[arg(long, global = true, env = "SKY_WECHAT_APPID")]
    pub wechat_appid: Option<String>,
    /// Mini-program AppSecret, for the login code exchange; required with `--pay-mode wechat`.
    #[arg(
        long,
        global = true,
        env = "SKY_WECHAT_APP_SECRET",
        hide_env_values = true
    )]
    pub wechat_app_secret: Option<String>,
    /// Path of the merchant API private key (PEM, PKCS#8 or PKCS#1); required with `--pay-mode wechat`.
    #[arg(long, global = true, env = "SKY_WECHAT_MERCHANT_KEY")]
    pub wechat_merchant_key: Option<PathBuf>,
    /// Serial number of the merchant API certificate; required with `--pay-mode wechat`.
    #[arg(long, global = true, env = "SKY_WECHAT_MERCHANT_SERIAL")]
    pub wechat_merchant_serial: Option<String>,
    /// Public URL of `POST /notify/paySuccess` given to WeChat Pay; required with `--pay-mode wechat`.
    #[arg(long, global = true, env = "SKY_WECHAT_NOTIFY_URL")]
    pub wechat_notify_url: Option<String>,
    /// Base URL of the WeChat Pay API (default `https://api.mch.weixin.qq.com`).
    #[arg(long, global = true, env = "SKY_WECHAT_PAY_BASE")]
    pub wechat_pay_base: Option<String>,
    /// Base URL of the mini-program login API (default `https://api.weixin.qq.com`).
    #[arg(long, global = true, env = "SKY_WECHAT_LOGIN_BASE")]
    pub wechat_login_base: Option<String>,
    /// At most one reminder per order within this many seconds.
    #[arg(long, global = true, env = "SKY_REMINDER_WINDOW_SECS")]
    pub reminder_window_secs: Option<u64>,
    /// Unpaid orders older than this many minutes are cancelled.
    #[arg(long, global = true, env = "SKY_PAYMENT_TIMEOUT_MINS")]
    pub payment_timeout_mins: Option<u64>,
    /// How often the payment-timeout task runs, in seconds.
    #[arg(long, global = true, env = "SKY_PAYMENT_TIMEOUT_EVERY_SECS")]
    pub payment_timeout_every_secs: Option<u64>,
    /// Orders out for delivery longer than this many minutes are completed by the daily task.
    #[arg(long, global = true, env = "SKY_DELIVERY_COMPLETE_AFTER_MINS")]
    pub delivery_complete_after_mins: Option<u64>,
    /// Local time of day (`HH:MM`) of the delivery-completion task.
    #[arg(long, global = true, env = "SKY_DELIVERY_COMPLETE_AT")]
    pub delivery_complete_at: Option<String>,
    /// Seconds a paid order may wait for acceptance before it is alerted again (0 = never).
    #[arg(long, global = true, env = "SKY_REALERT_DELAY_SECS")]
    pub realert_delay_secs: Option<u64>,
    /// Seconds between two re-alerts of the same order.
    #[arg(long, global = true, env = "SKY_REALERT_INTERVAL_SECS")]
    pub realert_interval_secs: Option<u64>,
    /// Most re-alerts of one order.
    #[arg(long, global = true, env = "SKY_REALERT_MAX")]
    pub realert_max: Option<u32>,
    /// Comma-separated origins allowed to open sockets (default: the request's own host).
    #[arg(long, global = true, env = "SKY_ALLOWED_ORIGINS")]
    pub allowed_origins: Option<String>,
    /// Lets `/ws/{sid}` accept sockets without a session (they hear shop 1). Insecure.
    #[arg(long, global = true, env = "SKY_ALLOW_ANONYMOUS_WS")]
    pub allow_anonymous_ws: Option<bool>,
    /// Frames a socket may have waiting before it is closed as too slow.
    #[arg(long, global = true, env = "SKY_SOCKET_QUEUE")]
    pub socket_queue: Option<usize>,
    /// Seconds between WebSocket pings.
    #[arg(long, global = true, env = "SKY_PING_SECS")]
    pub ping_secs: Option<u64>,
    /// Most alerts replayed on one connect before the client is told to use REST.
    #[arg(long, global = true, env = "SKY_REPLAY_LIMIT")]
    pub replay_limit: Option<i64>,
    /// Seconds that shutdown waits for requests and sockets before exiting.
    #[arg(long, global = true, env = "SKY_SHUTDOWN_SECS")]
    pub shutdown_secs: Option<u64>,
    /// `memory` (default), `redis://…` or `nats://…`.
    #[arg(long, global = true, env = "SKY_BROKER")]
    pub broker: Option<String>,
    /// Seed an empty database with shop 1, its menu and the `admin` account.
    #[arg(long, global = true, env = "SKY_DEMO_DATA")]
    pub demo_data: Option<bool>,
}

/// Validated settings of one running service.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Address to bind.
    pub listen: SocketAddr,
    /// Database URL (`sqlite://…` or `postgres://…`).
    pub database_url: String,
    /// Initial `admin` password, when given.
    pub admin_password: Option<String>,
    /// Token secret, when given.
    pub jwt_secret: Option<String>,
    /// Token lifetime.
    pub token_ttl: Duration,
    /// Payment mode.
    pub pay_mode: PayMode,
    /// WeChat Pay settings, present in `wechat` mode.
    pub wechat: Option<WechatSettings>,
    /// Minimum time between two reminders of one order.
    pub reminder_window: Duration,
    /// Age at which an unpaid order is cancelled.
    pub payment_timeout: Duration,
    /// Period of the payment-timeout task.
    pub payment_timeout_every: Duration,
    /// Age at which an order out for delivery is completed.
    pub delivery_complete_after: Duration,
    /// Time of day (hour, minute) of the delivery-completion task.
    pub delivery_complete_at: (u32, u32),
    /// Re-alert schedule; `None` disables re-alerts.
    pub realert: Option<RealertSettings>,
    /// Allowed socket origins; empty means "the request's own host".
    pub allowed_origins: Vec<String>,
    /// Whether `/ws/{sid}` may be opened without a session.
    pub allow_anonymous_ws: bool,
    /// Per-socket queue bound.
    pub socket_queue: usize,
    /// Ping period.
    pub ping_every: Duration,
    /// Replay bound per connect.
    pub replay_limit: i64,
    /// Shutdown deadline.
    pub shutdown_deadline: Duration,
    /// Broker between instances.
    pub broker: BrokerUrl,
    /// Seed demo data into an empty database.
    pub demo_data: bool,
}

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

/// When and how often a paid order waiting for acceptance is alerted again.
#[derive(Debug, Clone, Copy)]
pub struct RealertSettings {
    /// Wait after the first alert.
    pub delay: Duration,
    /// Wait between re-alerts.
    pub interval: Duration,
    /// Most re-alerts per order.
    pub max: u32,
}

/// A setting that cannot be used; the message names it.
#[derive(Debug, thiserror::Error)]
#[error("invalid setting {name}: {reason}")]
pub struct ConfigError {
    /// The flag / variable / key at fault.
    pub name: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

fn bad(name: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        name,
        reason: reason.into(),
    }
}

impl SettingsLayer {
    /// Reads a TOML file of settings (keys as the flag names with `_`).
    pub fn from_file(path: &std::path::Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| bad("--config", format!("{}: {e}", path.display())))?;
        toml::from_str(&text)
            .map_err(|e| bad("--config", format!("{}: {}", path.display(), e.message())))
    }

    /// Fills every field unset here from `lower`.
    pub fn or(self, lower: SettingsLayer) -> SettingsLayer {
        macro_rules! merge {
            ($($f:ident),*) => { SettingsLayer { $($f: self.$f.or(lower.$f)),* } };
        }
        merge!(
            listen,
            database_url,
            admin_password,
            jwt_secret,
            token_ttl_secs,
            pay_mode,
            wechat_api_v3_key,
            wechat_platform_key,
            wechat_platform_serial,
            wechat_mchid,
            wechat_max_skew_secs,
            wechat_appid,
            wechat_app_secret,
            wechat_merchant_key,
            wechat_merchant_serial,
            wechat_notify_url,
            wechat_pay_base,
            wechat_login_base,
            reminder_window_secs,
            payment_timeout_mins,
            payment_timeout_every_secs,
            delivery_complete_after_mins,
            delivery_complete_at,
            realert_delay_secs,
            realert_interval_secs,
            realert_max,
            allowed_origins,
            allow_anonymous_ws,
            socket_queue,
            ping_secs,
            replay_limit,
            shutdown_secs,
            broker,
            demo_data
        )
    }

    /// Validates the merged layer into settings, applying defaults.
    pub fn resolve(self) -> Result<Settings, ConfigError> {
        let listen = self.listen.as_deref().unwrap_or("127.0.0.1:8080");
        let listen = listen.parse().map_err(|_| {
            bad(
                "--listen / SKY_LISTEN",
                format!("`{listen}` is not host:port"),
            )
        })?;
        let database_url = self
            .database_url
            .clone()
            .unwrap_or_else(|| "sqlite://sky-takeout.db".to_string());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(bad(
                "--database-url / DATABASE_URL",
                "must start with sqlite: or postgres://",
            ));
        }
        let pay_mode = match self.pay_mode.as_deref().unwrap_or("mock") {
            "mock" => PayMode::Mock,
            "wechat" => PayMode::Wechat,
            other => {
                return Err(bad(
                    "--pay-mode / SKY_PAY_MODE",
                    format!("`{other}`: use mock or wechat"),
                ));
            }
        };
        let wechat = match pay_mode {
            PayMode::Mock => None,
            PayMode::Wechat => Some(wechat_settings(&self)?),
        };
        let (h, m) = parse_hh_mm(self.delivery_complete_at.as_deref().unwrap_or("01:00"))
            .ok_or_else(|| {
                bad(
                    "--delivery-complete-at / SKY_DELIVERY_COMPLETE_AT",
                    "use HH:MM",
                )
            })?;
        let realert_delay = self.realert_delay_secs.unwrap_or(120);
        let realert = (realert_delay > 0).then(|| RealertSettings {
            delay: Duration::from_secs(realert_delay),
            interval: Duration::from_secs(self.realert_interval_secs.unwrap_or(120).max(1)),
            max: self.realert_max.unwrap_or(3),
        });
        let broker = match self.broker.as_deref().unwrap_or("memory") {
            "memory" => BrokerUrl::Memory,
            u if u.starts_with("redis://") => BrokerUrl::Redis(u.to_string()),
            u if u.starts_with("nats://") => BrokerUrl::Nats(u.to_string()),
            other => {
                return Err(bad(
                    "--broker / SKY_BROKER",
                    format!("`{other}`: use memory, redis://… or nats://…"),
                ));
            }
        };
        let socket_queue = self.socket_queue.unwrap_or(256);
        if socket_queue == 0 {
            return Err(bad(
                "--socket-queue / SKY_SOCKET_QUEUE",
                "must be at least 1",
            ));
        }
        let replay_limit = self.replay_limit.unwrap_or(500);
        if replay_limit < 1 {
            return Err(bad(
                "--replay-limit / SKY_REPLAY_LIMIT",
                "must be at least 1",
            ));
        }
        if let Some(secret) = &self.jwt_secret
            && secret.len() < 32
        {
            return Err(bad("SKY_JWT_SECRET", "must be at least 32 characters"));
        }
        let allowed_origins = self
            .allowed_origins
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().trim_end_matches('/').to_string())
            .filter(|s| !s.is_empty())
            .collect();
        Ok(Settings {
            listen,
            database_url,
            admin_password: self.admin_password.filter(|p| !p.is_empty()),
            jwt_secret: self.jwt_secret,
            token_ttl: Duration::from_secs(positive(
                self.token_ttl_secs,
                12 * 3600,
                "SKY_TOKEN_TTL_SECS",
            )?),
            pay_mode,
            wechat,
            reminder_window: Duration::from_secs(self.reminder_window_secs.unwrap_or(60)),
            payment_timeout: Duration::from_secs(60 * self.payment_timeout_mins.unwrap_or(15)),
            payment_timeout_every: Duration::from_secs(positive(
                self.payment_timeout_every_secs,
                60,
                "SKY_PAYMENT_TIMEOUT_EVERY_SECS",
            )?),
            delivery_complete_after: Duration::from_secs(
                60 * self.delivery_complete_after_mins.unwrap_or(60),
            ),
            delivery_complete_at: (h, m),
            realert,
            allowed_origins,
            allow_anonymous_ws: self.allow_anonymous_ws.unwrap_or(false),
            socket_queue,
            ping_every: Duration::from_secs(positive(self.ping_secs, 25, "SKY_PING_SECS")?),
            replay_limit,
            shutdown_deadline: Duration::from_secs(self.shutdown_secs.unwrap_or(10)),
            broker,
            demo_data: self.demo_data.unwrap_or(true),
        })
    }
}

fn positive(v: Option<u64>, default: u64, name: &'static str) -> Result<u64, ConfigError> {
    match v.unwrap_or(default) {
        0 => Err(bad(name, "must be greater than 0")),
        n => Ok(n),
    }
}

fn wechat_settings(l: &SettingsLayer) -> Result<WechatSettings, ConfigError> {
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
    crate::payment::wechat_api::MerchantKey::from_pem(&merchant_key_pem).map_err(|e| {
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
        max_skew_secs: l.wechat_max_skew_secs.unwrap_or(300) as i64,
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

fn parse_hh_mm(s: &str) -> Option<(u32, u32)> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some((h, m))
}

impl Settings {
    /// Defaults for a test or embedded run on `database_url` (listens on port 0).
    pub fn for_tests(database_url: &str) -> Settings {
        let mut s = SettingsLayer {
            listen: Some("127.0.0.1:0".into()),
            database_url: Some(database_url.into()),
            admin_password: Some("admin-pass-123".into()),
            ..Default::default()
        }
        .resolve()
        .expect("test defaults are valid");
        s.shutdown_deadline = Duration::from_secs(3);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_resolve() {
        let s = SettingsLayer::default().resolve().unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.database_url, "sqlite://sky-takeout.db");
        assert_eq!(s.pay_mode, PayMode::Mock);
        assert_eq!(s.broker, BrokerUrl::Memory);
    }

    #[test]
    fn bad_values_name_the_setting() {
        let e = SettingsLayer {
            listen: Some("nope".into()),
            ..Default::default()
        }
        .resolve();
        assert!(e.unwrap_err().to_string().contains("--listen"));
        let e = SettingsLayer {
            pay_mode: Some("cash".into()),
            ..Default::default()
        }
        .resolve();
        assert!(e.unwrap_err().to_string().contains("SKY_PAY_MODE"));
        let e = SettingsLayer {
            pay_mode: Some("wechat".into()),
            ..Default::default()
        }
        .resolve();
        assert!(e.unwrap_err().to_string().contains("SKY_WECHAT_API_V3_KEY"));
        let e = SettingsLayer {
            broker: Some("kafka://x".into()),
            ..Default::default()
        }
        .resolve();
        assert!(e.unwrap_err().to_string().contains("SKY_BROKER"));
        let e = SettingsLayer {
            jwt_secret: Some("short".into()),
            ..Default::default()
        }
        .resolve();
        assert!(e.unwrap_err().to_string().contains("SKY_JWT_SECRET"));
    }

    /// One RSA key for every WeChat test (generation is slow): (private PKCS#8 PEM, public PEM).
    fn keys() -> &'static (String, String, rsa::RsaPrivateKey) {
        use rsa::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _, LineEnding};
        static KEYS: std::sync::OnceLock<(String, String, rsa::RsaPrivateKey)> =
            std::sync::OnceLock::new();
        KEYS.get_or_init(|| {
            let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
            let private = key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
            let public = key
                .to_public_key()
                .to_public_key_pem(LineEnding::LF)
                .unwrap();
            (private, public, key)
        })
    }

    /// A complete wechat layer whose key files live in `dir`.
    fn wechat_layer(dir: &tempfile::TempDir) -> SettingsLayer {
        let (private, public, _) = keys();
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
        use rsa::pkcs1::{EncodeRsaPrivateKey as _, LineEnding};
        let dir = tempfile::tempdir().unwrap();
        let layer = wechat_layer(&dir);
        let pem = keys().2.to_pkcs1_pem(LineEnding::LF).unwrap();
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
        std::fs::write(&not_a_key, &keys().1).unwrap();
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
            for pem in [&keys().0, &keys().1] {
                let material = pem.lines().nth(1).unwrap();
                assert!(!e.contains(material), "the message shows key material: {e}");
            }
        }
    }

    #[test]
    fn flags_win_over_file() {
        let file: SettingsLayer = toml::from_str("listen = \"0.0.0.0:9\"\nping_secs = 5").unwrap();
        let cli = SettingsLayer {
            listen: Some("127.0.0.1:7".into()),
            ..Default::default()
        };
        let s = cli.or(file).resolve().unwrap();
        assert_eq!(s.listen.port(), 7);
        assert_eq!(s.ping_every, Duration::from_secs(5));
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        assert!(toml::from_str::<SettingsLayer>("lisen = \"x\"").is_err());
    }
}
