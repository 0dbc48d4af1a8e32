//! Promises of README.md and docs/protocol.md that need a broken part to be seen: a payment
//! whose alert cannot be written leaves nothing (one transaction); every socket and stream gets
//! each alert at most once and in order, also past the relay's rescans and after the log's
//! rows are republished; a socket that never authenticates is closed with 4001.

mod common;

use std::time::Duration;

use common::{Backend, Merchant, TestApp, close_code, next_json, next_text};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(10);
/// Longer than the relay's rescan period (2 s), so a rescan that republished would be seen.
const PAST_A_RESCAN: Duration = Duration::from_millis(4500);

/// Makes every insert into the alert log fail: SQLite at the insert, PostgreSQL at the commit
/// (a deferred constraint trigger), so both "the alert write failed" and "the commit failed"
/// are covered.
async fn break_the_alert_log(app: &TestApp, backend: Backend) {
    let sql = match backend {
        Backend::Sqlite => {
            "CREATE TRIGGER injected_failure BEFORE INSERT ON alert_log \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"
        }
        Backend::Postgres => {
            "CREATE FUNCTION injected_failure() RETURNS trigger AS $$ \
             BEGIN RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql; \
             CREATE CONSTRAINT TRIGGER injected_failure AFTER INSERT ON alert_log \
             DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION injected_failure();"
        }
    };
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(app.state.store.pool())
        .await
        .unwrap();
}

async fn repair_the_alert_log(app: &TestApp, backend: Backend) {
    let sql = match backend {
        Backend::Sqlite => "DROP TRIGGER injected_failure",
        Backend::Postgres => "DROP TRIGGER injected_failure ON alert_log",
    };
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(app.state.store.pool())
        .await
        .unwrap();
}

/// (status, pay_status) of the order, the alerts of the shop and the shop's sequence.
async fn paid_state(app: &TestApp, number: &str) -> (i64, i64, i64, i64) {
    let pool = app.state.store.pool();
    let (status, pay): (i64, i64) =
        sqlx::query_as("SELECT status, pay_status FROM orders WHERE number = $1")
            .bind(number)
            .fetch_one(pool)
            .await
            .unwrap();
    let alerts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM alert_log WHERE shop_id = 1")
        .fetch_one(pool)
        .await
        .unwrap();
    let seq: i64 = sqlx::query_scalar("SELECT alert_seq FROM shop WHERE id = 1")
        .fetch_one(pool)
        .await
        .unwrap();
    (status, pay, alerts, seq)
}

/// Same transaction: when the alert's row cannot be committed, the payment fails (an opaque
/// 500) and leaves the order unpaid, no alert row and the shop's sequence unmoved; nothing
/// reaches a screen. Once the log works again the same payment goes through with seq 1.
async fn a_failed_alert_write_leaves_neither_the_payment_nor_the_alert(backend: Backend) {
    let app = common::spawn(backend).await;
    let admin = app.admin().await;
    let (mut screen, _) = admin.rich_ws(Some(0)).await;
    let c = app.customer("tx").await;
    let (_, number) = c.order(app.first_dish(1).await, 1, "").await;
    let before = paid_state(&app, &number).await;
    assert_eq!(before, (1, 0, 0, 0), "pending payment, unpaid, no alert");
    break_the_alert_log(&app, backend).await;
    let resp = c
        .http
        .put(format!("{}/user/order/payment", app.base))
        .header("authentication", &c.token)
        .json(&serde_json::json!({"orderNumber": number, "payMethod": 1}))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body = resp.text().await.unwrap();
    assert_eq!(status, 500, "{body}");
    assert!(!body.contains("injected"), "5xx bodies are opaque: {body}");
    assert_eq!(
        paid_state(&app, &number).await,
        before,
        "the status change was rolled back with the alert"
    );
    assert!(
        next_json(&mut screen, Duration::from_millis(500))
            .await
            .is_none()
    );

    repair_the_alert_log(&app, backend).await;
    assert_eq!(c.pay(&number).await["code"], 1);
    assert_eq!(paid_state(&app, &number).await, (2, 1, 1, 1));
    let a = next_json(&mut screen, WAIT).await.expect("the alert");
    assert_eq!(a["seq"], 1, "{a}");
    app.shutdown().await;
}

/// The alerts a protocol delivered, as (seq or order id, content), until `quiet` passes
/// without one.
struct Seen(Vec<(i64, String)>);

async fn legacy_until_quiet(ws: &mut common::Ws, quiet: Duration) -> Seen {
    let mut seen = Vec::new();
    while let Some(t) = next_text(ws, quiet).await {
        let v: Value = serde_json::from_str(&t).unwrap();
        seen.push((
            v["orderId"].as_i64().unwrap(),
            v["content"].as_str().unwrap().to_string(),
        ));
    }
    Seen(seen)
}

async fn rich_until_quiet(ws: &mut common::Ws, quiet: Duration) -> Seen {
    let mut seen = Vec::new();
    while let Some(v) = next_json(ws, quiet).await {
        assert_eq!(v["event"], "alert", "{v}");
        seen.push((
            v["seq"].as_i64().unwrap(),
            v["content"].as_str().unwrap().to_string(),
        ));
    }
    Seen(seen)
}

/// Reads the SSE body until `quiet` passes without a chunk; returns the alert events.
async fn sse_until_quiet(resp: &mut reqwest::Response, body: &mut String, quiet: Duration) -> Seen {
    while let Ok(Ok(Some(chunk))) = tokio::time::timeout(quiet, resp.chunk()).await {
        body.push_str(&String::from_utf8_lossy(&chunk));
    }
    let mut seen = Vec::new();
    for block in body.split("\n\n") {
        if !block.lines().any(|l| l == "event: alert") {
            continue;
        }
        let data = block
            .lines()
            .find_map(|l| l.strip_prefix("data: "))
            .unwrap();
        let v: Value = serde_json::from_str(data).unwrap();
        seen.push((
            v["seq"].as_i64().unwrap(),
            v["content"].as_str().unwrap().to_string(),
        ));
    }
    Seen(seen)
}

async fn sse(app: &TestApp, admin: &Merchant) -> reqwest::Response {
    let resp = app
        .http()
        .get(format!("{}/ws/v2/sse", app.base))
        .header("cookie", &admin.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp
}

/// At most once, in order, per socket, on every protocol: twelve orders (each alert its own
/// content) reach `/ws/{sid}`, `/ws/v2/alerts` and SSE exactly once each, in commit order;
/// nothing more comes past the relay's rescan; and when every row is marked unpublished again
/// (as after a crash between publish and mark) the relay republishes them all, and the hub
/// drops every one as a duplicate: no screen sees an alert twice.
async fn every_protocol_gets_each_alert_once_in_order(backend: Backend) {
    let app = common::spawn(backend).await;
    let admin = app.admin().await;
    let mut legacy = admin.legacy_ws("once").await;
    let (mut rich, welcome) = admin.rich_ws(None).await;
    assert_eq!(welcome["seq"], 0);
    let mut stream = sse(&app, &admin).await;
    let mut sse_body = String::new();
    let c = app.customer("once").await;
    let dish = app.first_dish(1).await;
    let mut expected_legacy = Vec::new();
    let mut expected_rich = Vec::new();
    for seq in 1..=12 {
        let (id, number) = c.paid_order(dish).await;
        let content = format!("订单号：{number}");
        expected_legacy.push((id, content.clone()));
        expected_rich.push((seq, content));
    }
    let unique: std::collections::HashSet<_> = expected_rich.iter().map(|e| &e.1).collect();
    assert_eq!(unique.len(), 12, "every alert has its own content");

    assert_eq!(
        legacy_until_quiet(&mut legacy, PAST_A_RESCAN).await.0,
        expected_legacy
    );
    assert_eq!(
        rich_until_quiet(&mut rich, Duration::from_millis(500))
            .await
            .0,
        expected_rich
    );
    assert_eq!(
        sse_until_quiet(&mut stream, &mut sse_body, Duration::from_millis(500))
            .await
            .0,
        expected_rich,
        "{sse_body}"
    );

    // The relay's repair path republishes every row; the hub must drop them all.
    let pool = app.state.store.pool();
    sqlx::query("UPDATE alert_log SET published_at = NULL, created_at = created_at - 5000")
        .execute(pool)
        .await
        .unwrap();
    let republished = common::eventually(WAIT, || async {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM alert_log WHERE published_at IS NULL")
                .fetch_one(pool)
                .await
                .unwrap();
        n == 0
    })
    .await;
    assert!(republished, "the relay's scan republished the rows");
    assert_eq!(
        legacy_until_quiet(&mut legacy, PAST_A_RESCAN).await.0,
        vec![]
    );
    assert_eq!(
        rich_until_quiet(&mut rich, Duration::from_millis(300))
            .await
            .0,
        vec![]
    );
    assert_eq!(
        sse_until_quiet(&mut stream, &mut sse_body, Duration::from_millis(300))
            .await
            .0,
        expected_rich,
        "nothing after the first twelve: {sse_body}"
    );
    drop(stream);
    app.shutdown().await;
}

backend_tests! {
    same_transaction => a_failed_alert_write_leaves_neither_the_payment_nor_the_alert,
    at_most_once_in_order => every_protocol_gets_each_alert_once_in_order,
}

/// A richer-protocol socket that never sends its auth message is closed with 4001 after the
/// 10 s the protocol gives it (and not much later); one that authenticates at 9 s is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_that_never_authenticates_is_closed_with_4001() {
    use futures_util::SinkExt;
    let app = common::spawn(Backend::Sqlite).await;
    let admin = app.admin().await;
    let url = format!("{}/ws/v2/alerts", app.ws_base);
    // Timed from before the handshake: the server's 10 s start after its upgrade.
    let opened = tokio::time::Instant::now();
    let mut silent = common::connect(&url, None, None).await.unwrap();
    let mut late = common::connect(&url, None, None).await.unwrap();
    tokio::time::sleep(Duration::from_secs(9)).await;
    let auth = serde_json::json!({"type": "auth", "token": admin.token}).to_string();
    late.send(tokio_tungstenite::tungstenite::Message::text(auth))
        .await
        .unwrap();
    assert_eq!(
        next_json(&mut late, WAIT).await.unwrap()["event"],
        "welcome"
    );
    assert_eq!(
        close_code(&mut silent, Duration::from_secs(4)).await,
        Some(4001)
    );
    let took = opened.elapsed();
    assert!(
        took >= Duration::from_secs(10) && took < Duration::from_secs(14),
        "closed after {took:?}"
    );
    app.shutdown().await;
}
