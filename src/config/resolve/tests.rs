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

#[test]
fn values_that_would_overflow_or_panic_are_refused_at_start_up() {
    type Set = fn(&mut SettingsLayer);
    let cases: [(Set, &str); 13] = [
        (|l| l.ping_secs = Some(u64::MAX), "SKY_PING_SECS"),
        (|l| l.ping_secs = Some(3601), "SKY_PING_SECS"),
        (
            |l| l.payment_timeout_mins = Some(u64::MAX / 2),
            "SKY_PAYMENT_TIMEOUT_MINS",
        ),
        (
            |l| l.delivery_complete_after_mins = Some(u64::MAX),
            "SKY_DELIVERY_COMPLETE_AFTER_MINS",
        ),
        (|l| l.token_ttl_secs = Some(u64::MAX), "SKY_TOKEN_TTL_SECS"),
        (
            |l| l.payment_timeout_every_secs = Some(u64::MAX),
            "SKY_PAYMENT_TIMEOUT_EVERY_SECS",
        ),
        (
            |l| l.reminder_window_secs = Some(u64::MAX),
            "SKY_REMINDER_WINDOW_SECS",
        ),
        (
            |l| l.realert_delay_secs = Some(u64::MAX),
            "SKY_REALERT_DELAY_SECS",
        ),
        (
            |l| l.realert_interval_secs = Some(u64::MAX),
            "SKY_REALERT_INTERVAL_SECS",
        ),
        (|l| l.shutdown_secs = Some(u64::MAX), "SKY_SHUTDOWN_SECS"),
        (|l| l.socket_queue = Some(usize::MAX), "SKY_SOCKET_QUEUE"),
        (|l| l.slow_close_ms = Some(u64::MAX), "SKY_SLOW_CLOSE_MS"),
        (|l| l.replay_limit = Some(i64::MAX), "SKY_REPLAY_LIMIT"),
    ];
    for (set, name) in cases {
        let mut layer = SettingsLayer::default();
        set(&mut layer);
        let e = layer.resolve().map(|_| ()).unwrap_err().to_string();
        assert!(e.contains(name), "{name}: {e}");
        assert!(!e.contains('\n'), "one line: {e}");
    }
}

#[test]
fn caps_default_to_the_descriptor_limit_and_nest() {
    let fds = descriptor_limit();
    let c = SettingsLayer::default().resolve().unwrap().caps;
    assert_eq!(c.connections as u64, fds.saturating_sub(200).max(64));
    assert!(c.sockets < c.connections && c.sockets_per_shop <= c.sockets);
    assert!(c.handshakes <= c.sockets);
    let e = SettingsLayer {
        max_connections: Some(10),
        max_sockets: Some(11),
        ..Default::default()
    }
    .resolve()
    .unwrap_err()
    .to_string();
    assert!(e.contains("SKY_MAX_SOCKETS"), "{e}");
    let c = SettingsLayer {
        max_connections: Some(10),
        max_sockets: Some(5),
        max_sockets_per_shop: Some(2),
        max_handshakes: Some(1),
        ..Default::default()
    }
    .resolve()
    .unwrap()
    .caps;
    assert_eq!(
        (c.connections, c.sockets, c.sockets_per_shop, c.handshakes),
        (10, 5, 2, 1)
    );
}

#[test]
fn the_largest_allowed_values_are_usable() {
    let s = SettingsLayer {
        ping_secs: Some(3600),
        token_ttl_secs: Some(365 * 86_400),
        payment_timeout_mins: Some(525_600),
        delivery_complete_after_mins: Some(525_600),
        ..Default::default()
    }
    .resolve()
    .unwrap();
    // What the socket loop and the token signer compute from them.
    let _silence = s.ping_every.mul_f32(2.5);
    let _exp = u64::try_from(i64::MAX / 1000).unwrap() + s.token_ttl.as_secs();
    assert_eq!(s.payment_timeout, Duration::from_secs(525_600 * 60));
}
