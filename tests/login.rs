//! The merchant login under attack: failed logins lock the account (and the client address)
//! for the lockout window with a message the stock app shows, before any password is hashed;
//! a flood waits for a bounded number of verifications and the rest are told to retry.

mod common;

use std::time::Duration;

use common::Backend;
use common::binary::Server;
use serde_json::{Value, json};

const BAD: &str = "账号或密码错误";
const THROTTLED: &str = "登录失败次数过多，请稍后再试";
const BUSY: &str = "登录繁忙，请稍后再试";

/// Posts a login (with extra headers); the envelope's `msg`, or `None` on success.
async fn login(
    base: &str,
    username: &str,
    password: &str,
    headers: &[(&str, &str)],
) -> Option<String> {
    login_with(&common::http(), base, username, password, headers).await
}

/// As [`login`], with this client.
async fn login_with(
    http: &reqwest::Client,
    base: &str,
    username: &str,
    password: &str,
    headers: &[(&str, &str)],
) -> Option<String> {
    let mut req = http
        .post(format!("{base}/admin/employee/login"))
        .json(&json!({"username": username, "password": password}));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let v: Value = req.send().await.unwrap().json().await.unwrap();
    match v["code"].as_i64() {
        Some(1) => None,
        _ => Some(v["msg"].as_str().unwrap_or_default().to_string()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_lock_the_account_for_the_lockout_window() {
    let app = common::spawn(Backend::Sqlite).await;
    for _ in 0..5 {
        assert_eq!(
            login(&app.base, "admin", "wrong", &[]).await.as_deref(),
            Some(BAD)
        );
    }
    assert_eq!(
        login(&app.base, "admin", "wrong", &[]).await.as_deref(),
        Some(THROTTLED),
        "the sixth is refused without looking at the password"
    );
    assert_eq!(
        login(&app.base, "admin", "admin-pass-123", &[])
            .await
            .as_deref(),
        Some(THROTTLED),
        "the right password too, during the lockout"
    );
    let hashed = common::metrics(&app.base).await;
    assert!(
        hashed.contains("sky_login_refused_total{reason=\"throttled\"} 2"),
        "{hashed}"
    );
    app.clock.advance(Duration::from_secs(15 * 60));
    assert_eq!(
        login(&app.base, "admin", "admin-pass-123", &[]).await,
        None,
        "the window passed"
    );
    // A success forgets the account's failures.
    for _ in 0..4 {
        assert_eq!(
            login(&app.base, "admin", "wrong", &[]).await.as_deref(),
            Some(BAD)
        );
    }
    assert_eq!(login(&app.base, "admin", "admin-pass-123", &[]).await, None);
    assert_eq!(
        login(&app.base, "admin", "wrong", &[]).await.as_deref(),
        Some(BAD)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_flood_gets_a_bounded_number_of_verifications_and_busy_for_the_rest() {
    let s = Server::start(&[
        ("SKY_LOGIN_CONCURRENCY", "1"),
        ("SKY_LOGIN_WAIT_MS", "1"),
        ("SKY_LOGIN_MAX_FAILURES_PER_ADDR", "1000"),
    ])
    .await;
    let base = s.app.base.clone();
    let answers = futures_util::future::join_all((0..20).map(|n| {
        let base = base.clone();
        async move { login(&base, &format!("user{n}"), "wrong", &[]).await }
    }))
    .await;
    let busy = answers
        .iter()
        .filter(|a| a.as_deref() == Some(BUSY))
        .count();
    let bad = answers.iter().filter(|a| a.as_deref() == Some(BAD)).count();
    assert!(busy >= 1 && bad >= 1 && busy + bad == 20, "{answers:?}");
    // Once the flood is over, logins work again.
    assert_eq!(login(&base, "admin", "admin-pass-123", &[]).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_spraying_accounts_is_locked_and_only_a_trusted_proxy_names_another() {
    let s = Server::start(&[
        ("SKY_LOGIN_MAX_FAILURES_PER_ADDR", "3"),
        ("SKY_TRUSTED_PROXIES", "127.0.0.2"),
    ])
    .await;
    let base = &s.app.base;
    // Headers from an untrusted peer (127.0.0.1) are ignored: it is one address.
    for n in 0..3 {
        let spoof = format!("10.0.0.{n}");
        let msg = login(
            base,
            &format!("user{n}"),
            "wrong",
            &[("x-forwarded-for", &spoof)],
        )
        .await;
        assert_eq!(msg.as_deref(), Some(BAD));
    }
    assert_eq!(
        login(
            base,
            "admin",
            "admin-pass-123",
            &[("x-forwarded-for", "10.0.0.99")]
        )
        .await
        .as_deref(),
        Some(THROTTLED)
    );
    // The trusted proxy (a client bound to 127.0.0.2) forwards another client's address:
    // that one is not locked.
    let proxy = reqwest::Client::builder()
        .local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap();
    let forwarded = [("x-forwarded-for", "10.0.0.50")];
    assert_eq!(
        login_with(&proxy, base, "admin", "admin-pass-123", &forwarded).await,
        None
    );
    // Without a forwarded address the proxy is a client like any other.
    for n in 0..3 {
        login_with(&proxy, base, &format!("p{n}"), "wrong", &[]).await;
    }
    assert_eq!(
        login_with(&proxy, base, "admin", "admin-pass-123", &[])
            .await
            .as_deref(),
        Some(THROTTLED)
    );
    assert_eq!(
        login_with(&proxy, base, "admin", "admin-pass-123", &forwarded).await,
        None
    );
}
