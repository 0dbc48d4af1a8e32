//! Validation: a merged layer becomes [`Settings`], with defaults, or a [`ConfigError`] naming
//! the setting at fault.

use std::time::Duration;

use super::images::image_settings;
use super::layer::SettingsLayer;
use super::wechat::wechat_settings;
use super::{BrokerUrl, Caps, ConfigError, LoginSettings, PayMode, RealertSettings, Settings, bad};

impl SettingsLayer {
    /// Validates the merged layer into settings, applying defaults.
    pub fn resolve(self) -> Result<Settings, ConfigError> {
        let listen = listen(self.listen.as_deref())?;
        let database_url = database_url(self.database_url.as_deref())?;
        let pay_mode = pay_mode(self.pay_mode.as_deref())?;
        let wechat = match pay_mode {
            PayMode::Mock => None,
            PayMode::Wechat => Some(wechat_settings(&self)?),
        };
        let delivery_complete_at = parse_hh_mm(
            self.delivery_complete_at.as_deref().unwrap_or("01:00"),
        )
        .ok_or_else(|| {
            bad(
                "--delivery-complete-at / SKY_DELIVERY_COMPLETE_AT",
                "use HH:MM",
            )
        })?;
        let time_zone = time_zone(self.time_zone.as_deref())?;
        let realert = self.realert()?;
        let broker = broker(self.broker.as_deref())?;
        let socket_queue = ranged(
            self.socket_queue.map(|q| q as u64),
            256,
            1..=65_536,
            "--socket-queue / SKY_SOCKET_QUEUE",
        )? as usize;
        let replay_limit = ranged(
            self.replay_limit.map(|l| l.max(0) as u64),
            500,
            1..=10_000,
            "--replay-limit / SKY_REPLAY_LIMIT",
        )? as i64;
        if let Some(secret) = &self.jwt_secret
            && secret.len() < 32
        {
            return Err(bad("SKY_JWT_SECRET", "must be at least 32 characters"));
        }
        let images = image_settings(&self, &database_url)?;
        let session_poll_ms = ranged(
            self.session_poll_ms,
            1000,
            50..=60_000,
            "--session-poll-ms / SKY_SESSION_POLL_MS",
        )?;
        let caps = self.caps()?;
        let login = self.login()?;
        let secs = Duration::from_secs;
        let mins = |m: u64| Duration::from_secs(m * 60);
        Ok(Settings {
            listen,
            database_url,
            admin_password: self.admin_password.filter(|p| !p.is_empty()),
            jwt_secret: self.jwt_secret,
            token_ttl: secs(ranged(
                self.token_ttl_secs,
                12 * 3600,
                1..=YEAR_SECS,
                "--token-ttl-secs / SKY_TOKEN_TTL_SECS",
            )?),
            pay_mode,
            wechat,
            reminder_window: secs(ranged(
                self.reminder_window_secs,
                60,
                0..=DAY_SECS,
                "--reminder-window-secs / SKY_REMINDER_WINDOW_SECS",
            )?),
            payment_timeout: mins(ranged(
                self.payment_timeout_mins,
                15,
                0..=YEAR_MINS,
                "--payment-timeout-mins / SKY_PAYMENT_TIMEOUT_MINS",
            )?),
            payment_timeout_every: secs(ranged(
                self.payment_timeout_every_secs,
                60,
                1..=DAY_SECS,
                "--payment-timeout-every-secs / SKY_PAYMENT_TIMEOUT_EVERY_SECS",
            )?),
            delivery_complete_after: mins(ranged(
                self.delivery_complete_after_mins,
                60,
                0..=YEAR_MINS,
                "--delivery-complete-after-mins / SKY_DELIVERY_COMPLETE_AFTER_MINS",
            )?),
            delivery_complete_at,
            time_zone,
            realert,
            allowed_origins: origins(self.allowed_origins.as_deref()),
            allow_anonymous_ws: self.allow_anonymous_ws.unwrap_or(false),
            socket_queue,
            slow_close_grace: Duration::from_millis(ranged(
                self.slow_close_ms,
                1000,
                0..=60_000,
                "--slow-close-ms / SKY_SLOW_CLOSE_MS",
            )?),
            ping_every: secs(ranged(
                self.ping_secs,
                25,
                1..=3600,
                "--ping-secs / SKY_PING_SECS",
            )?),
            replay_limit,
            caps,
            login,
            shutdown_deadline: secs(ranged(
                self.shutdown_secs,
                10,
                0..=3600,
                "--shutdown-secs / SKY_SHUTDOWN_SECS",
            )?),
            broker,
            demo_data: self.demo_data.unwrap_or(true),
            images,
            session_poll: Duration::from_millis(session_poll_ms),
        })
    }

    /// The connection caps. The defaults fit the process's descriptor limit: 200 descriptors
    /// stay for the database, files and the listener, 200 connections for plain HTTP.
    fn caps(&self) -> Result<Caps, ConfigError> {
        let fds = descriptor_limit();
        let connections = ranged(
            self.max_connections.map(|n| n as u64),
            fds.saturating_sub(RESERVED_FDS).max(64),
            1..=1_000_000,
            "--max-connections / SKY_MAX_CONNECTIONS",
        )?;
        let sockets = ranged(
            self.max_sockets.map(|n| n as u64),
            connections.saturating_sub(HTTP_ROOM).max(1),
            1..=connections,
            "--max-sockets / SKY_MAX_SOCKETS (at most --max-connections)",
        )?;
        let sockets_per_shop = ranged(
            self.max_sockets_per_shop.map(|n| n as u64),
            1000.min(sockets),
            1..=sockets,
            "--max-sockets-per-shop / SKY_MAX_SOCKETS_PER_SHOP (at most --max-sockets)",
        )?;
        let handshakes = ranged(
            self.max_handshakes.map(|n| n as u64),
            2048.min(sockets),
            1..=sockets,
            "--max-handshakes / SKY_MAX_HANDSHAKES (at most --max-sockets)",
        )?;
        Ok(Caps {
            connections: connections as usize,
            sockets: sockets as usize,
            sockets_per_shop: sockets_per_shop as usize,
            handshakes: handshakes as usize,
        })
    }

    /// The login bounds.
    fn login(&self) -> Result<LoginSettings, ConfigError> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
        let trusted_proxies = self
            .trusted_proxies
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(|a| {
                a.parse().map_err(|_| {
                    bad(
                        "--trusted-proxies / SKY_TRUSTED_PROXIES",
                        format!("`{a}` is not an IP address"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(LoginSettings {
            concurrency: ranged(
                self.login_concurrency.map(|n| n as u64),
                2 * cores,
                1..=1024,
                "--login-concurrency / SKY_LOGIN_CONCURRENCY",
            )? as usize,
            wait: Duration::from_millis(ranged(
                self.login_wait_ms,
                3000,
                1..=60_000,
                "--login-wait-ms / SKY_LOGIN_WAIT_MS",
            )?),
            per_account: ranged(
                self.login_max_failures.map(u64::from),
                5,
                1..=1_000_000,
                "--login-max-failures / SKY_LOGIN_MAX_FAILURES",
            )? as u32,
            per_address: ranged(
                self.login_max_failures_per_addr.map(u64::from),
                50,
                1..=1_000_000,
                "--login-max-failures-per-addr / SKY_LOGIN_MAX_FAILURES_PER_ADDR",
            )? as u32,
            lockout: Duration::from_secs(ranged(
                self.login_lockout_secs,
                900,
                1..=DAY_SECS,
                "--login-lockout-secs / SKY_LOGIN_LOCKOUT_SECS",
            )?),
            trusted_proxies,
        })
    }

    /// The re-alert schedule; none when the delay is 0.
    fn realert(&self) -> Result<Option<RealertSettings>, ConfigError> {
        let delay = ranged(
            self.realert_delay_secs,
            120,
            0..=WEEK_SECS,
            "--realert-delay-secs / SKY_REALERT_DELAY_SECS",
        )?;
        let interval = ranged(
            self.realert_interval_secs.map(|i| i.max(1)),
            120,
            1..=WEEK_SECS,
            "--realert-interval-secs / SKY_REALERT_INTERVAL_SECS",
        )?;
        let max = ranged(
            self.realert_max.map(u64::from),
            3,
            0..=100,
            "--realert-max / SKY_REALERT_MAX",
        )? as u32;
        Ok((delay > 0).then(|| RealertSettings {
            delay: Duration::from_secs(delay),
            interval: Duration::from_secs(interval),
            max,
        }))
    }
}

fn listen(v: Option<&str>) -> Result<std::net::SocketAddr, ConfigError> {
    let listen = v.unwrap_or("127.0.0.1:8080");
    listen.parse().map_err(|_| {
        bad(
            "--listen / SKY_LISTEN",
            format!("`{listen}` is not host:port"),
        )
    })
}

fn database_url(v: Option<&str>) -> Result<String, ConfigError> {
    let url = v.unwrap_or("sqlite://sky-takeout.db");
    if !(url.starts_with("sqlite:")
        || url.starts_with("postgres://")
        || url.starts_with("postgresql://"))
    {
        return Err(bad(
            "--database-url / DATABASE_URL",
            "must start with sqlite: or postgres://",
        ));
    }
    Ok(url.to_string())
}

fn pay_mode(v: Option<&str>) -> Result<PayMode, ConfigError> {
    match v.unwrap_or("mock") {
        "mock" => Ok(PayMode::Mock),
        "wechat" => Ok(PayMode::Wechat),
        other => Err(bad(
            "--pay-mode / SKY_PAY_MODE",
            format!("`{other}`: use mock or wechat"),
        )),
    }
}

fn broker(v: Option<&str>) -> Result<BrokerUrl, ConfigError> {
    match v.unwrap_or("memory") {
        "memory" => Ok(BrokerUrl::Memory),
        u if u.starts_with("redis://") => Ok(BrokerUrl::Redis(u.to_string())),
        u if u.starts_with("nats://") => Ok(BrokerUrl::Nats(u.to_string())),
        other => Err(bad(
            "--broker / SKY_BROKER",
            format!("`{other}`: use memory, redis://… or nats://…"),
        )),
    }
}

/// Comma-separated origins, without trailing slashes; empty means the default rule (the
/// request's own host and loopback pages, `ws::handshake`).
fn origins(v: Option<&str>) -> Vec<String> {
    v.unwrap_or_default()
        .split(',')
        .map(|s| s.trim().trim_end_matches('/').to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// An IANA zone name (`Asia/Shanghai`, `America/New_York`), never a bare offset: a shop's
/// days follow its zone's DST rules.
fn time_zone(v: Option<&str>) -> Result<chrono_tz::Tz, ConfigError> {
    let name = v.map(str::trim).unwrap_or("Asia/Shanghai");
    name.parse().map_err(|_| {
        bad(
            "--time-zone / SKY_TIME_ZONE",
            format!("`{name}` is not an IANA time zone such as Asia/Shanghai"),
        )
    })
}

/// A day, a week and a year in seconds, and a year in minutes: the upper bounds of durations.
/// Nothing larger makes sense, and these keep every sum and product the service computes with
/// them (deadlines, token expiries, `2.5 × ping`) far from overflowing.
pub(super) const DAY_SECS: u64 = 86_400;
const WEEK_SECS: u64 = 7 * DAY_SECS;
const YEAR_SECS: u64 = 365 * DAY_SECS;
const YEAR_MINS: u64 = 365 * 24 * 60;

/// Descriptors kept for everything but accepted connections (database pool, files, the
/// listener), and connections kept for plain HTTP when sockets are at their cap.
const RESERVED_FDS: u64 = 200;
const HTTP_ROOM: u64 = 200;

/// The process's soft limit on open descriptors (`ulimit -n`); 1024 when unknown.
fn descriptor_limit() -> u64 {
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct it is given.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) } == 0;
    if ok && rl.rlim_cur != libc::RLIM_INFINITY {
        rl.rlim_cur
    } else {
        1024
    }
}

/// `v` (or the default) when it lies in `range`, else the one-line error naming the setting.
pub(super) fn ranged(
    v: Option<u64>,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
    name: &'static str,
) -> Result<u64, ConfigError> {
    let n = v.unwrap_or(default);
    if range.contains(&n) {
        Ok(n)
    } else {
        Err(bad(
            name,
            format!(
                "{n} is out of range: use {} to {}",
                range.start(),
                range.end()
            ),
        ))
    }
}

fn parse_hh_mm(s: &str) -> Option<(u32, u32)> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some((h, m))
}

#[cfg(test)]
mod tests;
