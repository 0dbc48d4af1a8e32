//! Settings: the only reader of flags, environment and the optional TOML file. Opens nothing.
//!
//! Precedence: command-line flag > environment variable > TOML file > default. Every field of
//! a [`SettingsLayer`](crate::config::layer::SettingsLayer) is optional so that the three
//! sources can be merged field by field (`layer`); the merged layer is validated into
//! [`Settings`](crate::config::Settings) (`resolve`, with the WeChat settings in `wechat`). A
//! bad value stops start-up with one line naming it.

pub mod images;
pub mod layer;
pub mod resolve;
pub mod wechat;

use std::net::SocketAddr;
use std::time::Duration;

use images::ImageSettings;
use wechat::WechatSettings;

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
    /// Time of day (hour, minute) of the delivery-completion task, in `time_zone`.
    pub delivery_complete_at: (u32, u32),
    /// The shops' time zone: their local days (workspace, reports, export) and the local
    /// time of the daily task.
    pub time_zone: chrono_tz::Tz,
    /// Re-alert schedule; `None` disables re-alerts.
    pub realert: Option<RealertSettings>,
    /// Allowed socket origins; empty means the default: the request's own host and loopback
    /// pages.
    pub allowed_origins: Vec<String>,
    /// Whether `/ws/{sid}` may be opened without a session.
    pub allow_anonymous_ws: bool,
    /// Per-socket queue bound.
    pub socket_queue: usize,
    /// How long a socket closed as too slow gets to take its close frame.
    pub slow_close_grace: Duration,
    /// Ping period.
    pub ping_every: Duration,
    /// Replay bound per connect.
    pub replay_limit: i64,
    /// Connection caps.
    pub caps: Caps,
    /// Bounds on logins.
    pub login: LoginSettings,
    /// Shutdown deadline.
    pub shutdown_deadline: Duration,
    /// Broker between instances.
    pub broker: BrokerUrl,
    /// Seed demo data into an empty database.
    pub demo_data: bool,
    /// Uploaded images: public base URL and storage.
    pub images: ImageSettings,
    /// Period of the read of session changes made by other instances.
    pub session_poll: Duration,
}

/// What one instance holds at most; past each cap a connection is refused (HTTP 503 with
/// `Retry-After`, or close 1013 after an upgrade) and counted in
/// `sky_connections_refused_total{reason}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// TCP connections open at once (reason `connections`).
    pub connections: usize,
    /// WebSockets and SSE streams open at once (reason `sockets`).
    pub sockets: usize,
    /// WebSockets and SSE streams of one shop (reason `shop_sockets`).
    pub sockets_per_shop: usize,
    /// Sockets and streams between the upgrade request and going live (reason `handshakes`).
    pub handshakes: usize,
}

/// Bounds on merchant logins: concurrent password verifications and the failure throttle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginSettings {
    /// Most verifications at once.
    pub concurrency: usize,
    /// Longest wait for a verification slot.
    pub wait: Duration,
    /// Failures of one account that lock it.
    pub per_account: u32,
    /// Failures from one client address that lock it.
    pub per_address: u32,
    /// The window failures are counted in, and the lockout that follows.
    pub lockout: Duration,
    /// Proxies whose forwarded client address is believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
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

pub(crate) fn bad(name: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        name,
        reason: reason.into(),
    }
}

impl Settings {
    /// Defaults for a test or embedded run on `database_url` (listens on port 0).
    pub fn for_tests(database_url: &str) -> Settings {
        let mut s = layer::SettingsLayer {
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
