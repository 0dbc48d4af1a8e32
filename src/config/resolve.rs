//! Validation: a merged layer becomes [`Settings`], with defaults, or a [`ConfigError`] naming
//! the setting at fault.

use std::time::Duration;

use super::images::image_settings;
use super::layer::SettingsLayer;
use super::wechat::wechat_settings;
use super::{BrokerUrl, ConfigError, PayMode, RealertSettings, Settings, bad};

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
        let realert = self.realert();
        let broker = broker(self.broker.as_deref())?;
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
        let images = image_settings(&self, &database_url)?;
        let session_poll_ms = self.session_poll_ms.unwrap_or(1000);
        if !(50..=60_000).contains(&session_poll_ms) {
            return Err(bad(
                "--session-poll-ms / SKY_SESSION_POLL_MS",
                "must be between 50 and 60000",
            ));
        }
        let secs = Duration::from_secs;
        Ok(Settings {
            listen,
            database_url,
            admin_password: self.admin_password.filter(|p| !p.is_empty()),
            jwt_secret: self.jwt_secret,
            token_ttl: secs(positive(
                self.token_ttl_secs,
                12 * 3600,
                "SKY_TOKEN_TTL_SECS",
            )?),
            pay_mode,
            wechat,
            reminder_window: secs(self.reminder_window_secs.unwrap_or(60)),
            payment_timeout: secs(60 * self.payment_timeout_mins.unwrap_or(15)),
            payment_timeout_every: secs(positive(
                self.payment_timeout_every_secs,
                60,
                "SKY_PAYMENT_TIMEOUT_EVERY_SECS",
            )?),
            delivery_complete_after: secs(60 * self.delivery_complete_after_mins.unwrap_or(60)),
            delivery_complete_at,
            time_zone,
            realert,
            allowed_origins: origins(self.allowed_origins.as_deref()),
            allow_anonymous_ws: self.allow_anonymous_ws.unwrap_or(false),
            socket_queue,
            ping_every: secs(positive(self.ping_secs, 25, "SKY_PING_SECS")?),
            replay_limit,
            shutdown_deadline: secs(self.shutdown_secs.unwrap_or(10)),
            broker,
            demo_data: self.demo_data.unwrap_or(true),
            images,
            session_poll: Duration::from_millis(session_poll_ms),
        })
    }

    /// The re-alert schedule; none when the delay is 0.
    fn realert(&self) -> Option<RealertSettings> {
        let delay = self.realert_delay_secs.unwrap_or(120);
        (delay > 0).then(|| RealertSettings {
            delay: Duration::from_secs(delay),
            interval: Duration::from_secs(self.realert_interval_secs.unwrap_or(120).max(1)),
            max: self.realert_max.unwrap_or(3),
        })
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

fn positive(v: Option<u64>, default: u64, name: &'static str) -> Result<u64, ConfigError> {
    match v.unwrap_or(default) {
        0 => Err(bad(name, "must be greater than 0")),
        n => Ok(n),
    }
}

fn parse_hh_mm(s: &str) -> Option<(u32, u32)> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some((h, m))
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
        assert_eq!(s.time_zone, chrono_tz::Asia::Shanghai);
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
        for zone in ["Mars/Olympus", "+08:00", "asia/shanghai", ""] {
            let e = SettingsLayer {
                time_zone: Some(zone.into()),
                ..Default::default()
            }
            .resolve();
            assert!(
                e.unwrap_err().to_string().contains("SKY_TIME_ZONE"),
                "{zone}"
            );
        }
        let ny = SettingsLayer {
            time_zone: Some("America/New_York".into()),
            ..Default::default()
        };
        assert_eq!(
            ny.resolve().unwrap().time_zone,
            chrono_tz::America::New_York
        );
        for ms in [0, 49, 60_001] {
            let e = SettingsLayer {
                session_poll_ms: Some(ms),
                ..Default::default()
            }
            .resolve();
            assert!(e.unwrap_err().to_string().contains("SKY_SESSION_POLL_MS"));
        }
    }
}
