//! Reminder spam: only for orders the merchant still owes, at most once per window, also
//! concurrently and across a restart.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{self, Backend};
use crate::support::*;

/// Reminders only for status 2, 3 and 4; 1 (unpaid), 5 (completed) and 6 (cancelled) get
/// 订单状态错误 and write no alert row.
async fn reminder_only_for_status_2_3_4(backend: Backend) {
    let app = common::spawn(backend).await;
    let c = app.customer("wx-hostile-remind-status").await;
    let admin = app.admin().await;
    let dish = app.first_dish(1).await;
    for status in 1..=6 {
        let id = order_in_status(&c, &admin, dish, status).await;
        assert_eq!(
            count(&app, "SELECT status FROM orders WHERE id = $1", id).await,
            status
        );
        let r = send(
            &app.base,
            "GET",
            &format!("/user/order/reminder/{id}"),
            as_customer(&c.token),
            Payload::Empty,
        )
        .await;
        let what = format!("reminder on an order in status {status}");
        if (2..=4).contains(&status) {
            assert_eq!(
                success(&r, &what),
                json!({"code": 1, "msg": null, "data": null})
            );
            assert_eq!(reminder_alerts(&app, id).await, 1, "{what}: one alert row");
        } else {
            business(&r, &what, BAD_STATUS);
            assert_eq!(reminder_alerts(&app, id).await, 0, "{what}: no alert row");
            let last: Option<i64> =
                sqlx::query_scalar("SELECT last_reminder_at FROM orders WHERE id = $1")
                    .bind(id)
                    .fetch_one(app.state.store.pool())
                    .await
                    .unwrap();
            assert_eq!(
                last, None,
                "{what}: the refused reminder claimed the window"
            );
        }
    }
}

/// Eight reminders for one order at the same moment → exactly one succeeds and writes an alert
/// row; the others (and a later one inside the 60 s window) are refused without a row; after
/// the window one more is allowed.
async fn reminder_at_most_once_per_window_even_concurrently(backend: Backend) {
    let app = common::spawn(backend).await;
    let c = app.customer("wx-hostile-remind-burst").await;
    let dish = app.first_dish(1).await;
    let (id, _) = c.paid_order(dish).await;
    let path = format!("/user/order/reminder/{id}");
    let replies = futures_util::future::join_all((0..8).map(|_| {
        send(
            &app.base,
            "GET",
            &path,
            as_customer(&c.token),
            Payload::Empty,
        )
    }))
    .await;
    let mut ok = 0;
    for r in &replies {
        let v = refused_or_ok(r, "one of 8 simultaneous reminders");
        if v["code"] == 1 {
            ok += 1;
        } else {
            assert_eq!(v["msg"], "催单过于频繁，请稍后再试", "{v}");
        }
    }
    assert_eq!(
        ok, 1,
        "exactly one of 8 simultaneous reminders succeeds: {replies:?}"
    );
    assert_eq!(
        reminder_alerts(&app, id).await,
        1,
        "one alert row for 8 simultaneous reminders"
    );
    app.clock.advance(Duration::from_secs(30));
    let r = send(
        &app.base,
        "GET",
        &path,
        as_customer(&c.token),
        Payload::Empty,
    )
    .await;
    business(
        &r,
        "a reminder 30 s later (inside the window)",
        "催单过于频繁，请稍后再试",
    );
    assert_eq!(reminder_alerts(&app, id).await, 1);
    app.clock.advance(Duration::from_secs(31));
    let r = send(
        &app.base,
        "GET",
        &path,
        as_customer(&c.token),
        Payload::Empty,
    )
    .await;
    success(&r, "a reminder 61 s after the first (window over)");
    assert_eq!(reminder_alerts(&app, id).await, 2);
}

fn refused_or_ok(r: &Reply, what: &str) -> Value {
    let v: Value = serde_json::from_str(&r.text).unwrap_or_else(|_| panic!("{what}: {r:?}"));
    if v["code"] == 1 {
        assert_eq!(r.status, 200, "{what}: {r:?}");
        v
    } else {
        refused(r, what)
    }
}

/// The reminder window holds across a restart of the app on the same database: remind, stop
/// the app, start a new one on the same database, remind again → refused, no second alert
/// row; once the window has passed (clock moved) it is allowed again.
async fn reminder_window_survives_a_restart(backend: Backend) {
    let app = common::spawn(backend).await;
    let c = app.customer("wx-hostile-remind-restart").await;
    let dish = app.first_dish(1).await;
    let (id, _) = c.paid_order(dish).await;
    let path = format!("/user/order/reminder/{id}");
    let r = send(
        &app.base,
        "GET",
        &path,
        as_customer(&c.token),
        Payload::Empty,
    )
    .await;
    success(&r, "first reminder");
    let url = app.database_url.clone();
    let dir = app.shutdown().await;
    let app = common::spawn_on(url, dir, |_| {}).await;
    let r = send(
        &app.base,
        "GET",
        &path,
        as_customer(&c.token),
        Payload::Empty,
    )
    .await;
    business(
        &r,
        "a second reminder right after a restart",
        "催单过于频繁，请稍后再试",
    );
    assert_eq!(
        reminder_alerts(&app, id).await,
        1,
        "the restart reopened the reminder window"
    );
    app.clock.advance(Duration::from_secs(61));
    let r = send(
        &app.base,
        "GET",
        &path,
        as_customer(&c.token),
        Payload::Empty,
    )
    .await;
    success(&r, "a reminder after the window, on the restarted app");
    assert_eq!(reminder_alerts(&app, id).await, 2);
}

backend_tests! {
    reminder_only_for_status_2_3_4 => reminder_only_for_status_2_3_4,
    reminder_at_most_once_per_window_even_concurrently => reminder_at_most_once_per_window_even_concurrently,
    reminder_window_survives_a_restart => reminder_window_survives_a_restart,
}
