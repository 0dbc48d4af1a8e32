//! One layer of settings (the flags with their environment variables, or the TOML file), and
//! the merge of two layers field by field.

use std::path::PathBuf;

use clap::Args;
use serde::Deserialize;

use super::{ConfigError, bad};

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
    /// Time of day (`HH:MM`, in `--time-zone`) of the delivery-completion task.
    #[arg(long, global = true, env = "SKY_DELIVERY_COMPLETE_AT")]
    pub delivery_complete_at: Option<String>,
    /// IANA time zone of the shops' local days and the daily task (default `Asia/Shanghai`).
    #[arg(long, global = true, env = "SKY_TIME_ZONE")]
    pub time_zone: Option<String>,
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
    /// Milliseconds a socket closed as too slow gets to take its 4008 close frame before the
    /// connection is dropped without one.
    #[arg(long, global = true, env = "SKY_SLOW_CLOSE_MS")]
    pub slow_close_ms: Option<u64>,
    /// Seconds between WebSocket pings.
    #[arg(long, global = true, env = "SKY_PING_SECS")]
    pub ping_secs: Option<u64>,
    /// Most alerts replayed on one connect before the client is told to use REST.
    #[arg(long, global = true, env = "SKY_REPLAY_LIMIT")]
    pub replay_limit: Option<i64>,
    /// Most TCP connections open at once (HTTP, sockets, streams); one more is answered 503
    /// and closed. Default: the descriptor limit minus 200.
    #[arg(long, global = true, env = "SKY_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Most WebSockets and SSE streams open at once. Default: max connections minus 200.
    #[arg(long, global = true, env = "SKY_MAX_SOCKETS")]
    pub max_sockets: Option<usize>,
    /// Most WebSockets and SSE streams of one shop open at once.
    #[arg(long, global = true, env = "SKY_MAX_SOCKETS_PER_SHOP")]
    pub max_sockets_per_shop: Option<usize>,
    /// Most sockets and streams between the upgrade request and going live (auth, replay).
    #[arg(long, global = true, env = "SKY_MAX_HANDSHAKES")]
    pub max_handshakes: Option<usize>,
    /// Most password verifications at once (default: twice the cores).
    #[arg(long, global = true, env = "SKY_LOGIN_CONCURRENCY")]
    pub login_concurrency: Option<usize>,
    /// Milliseconds a login waits for a verification slot before it is refused (登录繁忙).
    #[arg(long, global = true, env = "SKY_LOGIN_WAIT_MS")]
    pub login_wait_ms: Option<u64>,
    /// Failed logins of one account that lock it for the lockout window.
    #[arg(long, global = true, env = "SKY_LOGIN_MAX_FAILURES")]
    pub login_max_failures: Option<u32>,
    /// Failed logins from one client address that lock it for the lockout window.
    #[arg(long, global = true, env = "SKY_LOGIN_MAX_FAILURES_PER_ADDR")]
    pub login_max_failures_per_addr: Option<u32>,
    /// Seconds failures are counted in, and of the lockout that follows.
    #[arg(long, global = true, env = "SKY_LOGIN_LOCKOUT_SECS")]
    pub login_lockout_secs: Option<u64>,
    /// Comma-separated proxy addresses whose `X-Forwarded-For` / `X-Real-IP` name the client.
    #[arg(long, global = true, env = "SKY_TRUSTED_PROXIES")]
    pub trusted_proxies: Option<String>,
    /// Seconds that shutdown waits for requests and sockets before exiting.
    #[arg(long, global = true, env = "SKY_SHUTDOWN_SECS")]
    pub shutdown_secs: Option<u64>,
    /// `memory` (default), `redis://…` or `nats://…`.
    #[arg(long, global = true, env = "SKY_BROKER")]
    pub broker: Option<String>,
    /// Seed an empty database with shop 1, its menu and the `admin` account.
    #[arg(long, global = true, env = "SKY_DEMO_DATA")]
    pub demo_data: Option<bool>,
    /// Base URL of the images this server serves (default `http://localhost:<port>`).
    #[arg(long, global = true, env = "SKY_PUBLIC_BASE_URL")]
    pub public_base_url: Option<String>,
    /// Where uploaded images go: `local` (default, a folder) or `s3`.
    #[arg(long, global = true, env = "SKY_IMAGE_STORAGE")]
    pub image_storage: Option<String>,
    /// Folder of uploaded images (default `<database file stem>-images` beside the SQLite file).
    #[arg(long, global = true, env = "SKY_IMAGE_DIR")]
    pub image_dir: Option<PathBuf>,
    /// S3 bucket of uploaded images; required with `--image-storage s3`.
    #[arg(long, global = true, env = "SKY_S3_BUCKET")]
    pub s3_bucket: Option<String>,
    /// S3 endpoint URL (default AWS; Aliyun OSS `https://oss-cn-beijing.aliyuncs.com`).
    #[arg(long, global = true, env = "SKY_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,
    /// S3 region (default `us-east-1`).
    #[arg(long, global = true, env = "SKY_S3_REGION")]
    pub s3_region: Option<String>,
    /// S3 access key id; required with `--image-storage s3`.
    #[arg(
        long,
        global = true,
        env = "SKY_S3_ACCESS_KEY_ID",
        hide_env_values = true
    )]
    pub s3_access_key_id: Option<String>,
    /// S3 secret access key; required with `--image-storage s3`.
    #[arg(
        long,
        global = true,
        env = "SKY_S3_SECRET_ACCESS_KEY",
        hide_env_values = true
    )]
    pub s3_secret_access_key: Option<String>,
    /// Virtual-hosted-style S3 requests (`bucket.endpoint`; Aliyun OSS needs it) instead of path-style.
    #[arg(long, global = true, env = "SKY_S3_VIRTUAL_HOSTED")]
    pub s3_virtual_hosted: Option<bool>,
    /// Public URL of the bucket's objects (image URLs point there instead of at this server).
    #[arg(long, global = true, env = "SKY_S3_PUBLIC_URL")]
    pub s3_public_url: Option<String>,
    /// Deadline of one S3 upload or read, retries included, in seconds (default 10).
    #[arg(long, global = true, env = "SKY_S3_TIMEOUT_SECS")]
    pub s3_timeout_secs: Option<u64>,
    /// Milliseconds between two reads of session changes made by other instances (disabled
    /// accounts, changed passwords): how long their sessions may outlive the change here.
    #[arg(long, global = true, env = "SKY_SESSION_POLL_MS")]
    pub session_poll_ms: Option<u64>,
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
            time_zone,
            realert_delay_secs,
            realert_interval_secs,
            realert_max,
            allowed_origins,
            allow_anonymous_ws,
            socket_queue,
            slow_close_ms,
            ping_secs,
            replay_limit,
            max_connections,
            max_sockets,
            max_sockets_per_shop,
            max_handshakes,
            login_concurrency,
            login_wait_ms,
            login_max_failures,
            login_max_failures_per_addr,
            login_lockout_secs,
            trusted_proxies,
            shutdown_secs,
            broker,
            demo_data,
            public_base_url,
            image_storage,
            image_dir,
            s3_bucket,
            s3_endpoint,
            s3_region,
            s3_access_key_id,
            s3_secret_access_key,
            s3_virtual_hosted,
            s3_public_url,
            s3_timeout_secs,
            session_poll_ms
        )
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

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
