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

/// WeChat Pay API-v3 settings.
#[derive(Debug, Clone)]
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
    Ok(WechatSettings {
        api_v3_key: key,
        platform_key_pem: pem,
        platform_serial: l.wechat_platform_serial.clone(),
        mchid,
        max_skew_secs: l.wechat_max_skew_secs.unwrap_or(300) as i64,
    })
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
