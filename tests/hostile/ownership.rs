//! Other people's things: customers and merchants reaching for orders that are not theirs
//! get 订单不存在 and change nothing.

use serde_json::{Value, json};

use crate::common::{self, Backend};
use crate::support::*;

/// Alice touching Bob's orders (unpaid and paid): detail, cancel, repetition, reminder and
/// payment by order number all answer exactly what a non-existent order answers (订单不存在),
/// so ids and numbers cannot be probed; Bob's orders, Alice's cart and the alert log are
/// unchanged, and Alice's history does not list them.
async fn customer_cannot_touch_another_customers_order(backend: Backend) {
    let app = common::spawn(backend).await;
    let alice = app.customer("wx-hostile-alice").await;
    let bob = app.customer("wx-hostile-bob").await;
    let dish = app.first_dish(1).await;
    let (unpaid, unpaid_no) = bob.order(dish, 2, "bob's").await;
    let (paid, paid_no) = bob.paid_order(dish).await;
    let before = snapshot(&app).await;
    let ghost = 987_654_321_i64;

    let probe = |method: &'static str, path: String, body: Option<Value>| {
        let token = alice.token.clone();
        let base = app.base.clone();
        async move {
            let p = body.as_ref().map(json_body).unwrap_or(Payload::Empty);
            send(&base, method, &path, as_customer(&token), p).await
        }
    };
    for (label, id) in [("unpaid", unpaid), ("paid", paid)] {
        for (method, path) in [
            ("GET", "/user/order/orderDetail/"),
            ("PUT", "/user/order/cancel/"),
            ("POST", "/user/order/repetition/"),
            ("GET", "/user/order/reminder/"),
        ] {
            let theirs = probe(method, format!("{path}{id}"), None).await;
            business(
                &theirs,
                &format!("Alice {method} {path}{{Bob's {label} order}}"),
                NOT_FOUND,
            );
            let none = probe(method, format!("{path}{ghost}"), None).await;
            assert_eq!(
                theirs.text, none.text,
                "{method} {path}: Bob's order and a missing one must answer the same"
            );
        }
    }
    for (label, number) in [("unpaid", &unpaid_no), ("paid", &paid_no)] {
        let theirs = probe(
            "PUT",
            "/user/order/payment".into(),
            Some(json!({"orderNumber": number, "payMethod": 1})),
        )
        .await;
        business(
            &theirs,
            &format!("Alice pays Bob's {label} order by its number"),
            NOT_FOUND,
        );
        let none = probe(
            "PUT",
            "/user/order/payment".into(),
            Some(json!({"orderNumber": "17180000000000000", "payMethod": 1})),
        )
        .await;
        assert_eq!(
            theirs.text, none.text,
            "payment: Bob's number and a missing one must answer the same"
        );
    }
    let h = probe(
        "GET",
        "/user/order/historyOrders?page=1&pageSize=100".into(),
        None,
    )
    .await;
    let h = success(&h, "Alice's history");
    assert_eq!(
        h["data"]["total"], 0,
        "Alice's history lists Bob's orders: {h}"
    );
    assert_eq!(
        snapshot(&app).await,
        before,
        "Alice changed Bob's orders, her cart or the alert log"
    );
    // Bob can still do all of it himself.
    assert_eq!(
        bob.get(&format!("/user/order/orderDetail/{unpaid}")).await["code"],
        1
    );
    assert_eq!(
        bob.get(&format!("/user/order/reminder/{paid}")).await["code"],
        1
    );
}

/// A merchant of shop 2 touching shop 1's order: details, confirm, reject, cancel, delivery and
/// complete → 订单不存在; its search, statistics and alert list do not show it; acknowledging
/// shop 1's alert → 提醒不存在; nothing changes.
async fn merchant_of_another_shop_cannot_touch_the_order(backend: Backend) {
    let app = common::spawn(backend).await;
    let shop2 = app
        .add_shop("隔壁小馆", "xiaoguan", "xiaoguan-pass-1")
        .await;
    let other = app.merchant("xiaoguan", "xiaoguan-pass-1").await;
    assert_eq!(other.shop_id, shop2);
    let admin = app.admin().await;
    let c = app.customer("wx-hostile-shop1").await;
    let dish = app.first_dish(1).await;
    let (paid, number) = c.paid_order(dish).await;
    let (accepted, _) = c.paid_order(dish).await;
    assert_eq!(
        admin
            .put("/admin/order/confirm", json!({"id": accepted}))
            .await["code"],
        1
    );
    let alert_id: i64 = sqlx::query_scalar("SELECT MIN(id) FROM alert_log WHERE shop_id = 1")
        .fetch_one(app.state.store.pool())
        .await
        .unwrap();
    let before = snapshot(&app).await;

    let m = |method: &'static str, path: String, body: Option<Value>| {
        let base = app.base.clone();
        let token = other.token.clone();
        async move {
            let p = body.as_ref().map(json_body).unwrap_or(Payload::Empty);
            send(&base, method, &path, as_merchant(&token), p).await
        }
    };
    for id in [paid, accepted] {
        let cases = merchant_order_calls(id);
        for (method, path, body) in cases {
            let r = m(method, path.clone(), body.clone()).await;
            business(
                &r,
                &format!("shop 2's merchant: {method} {path} {body:?} on shop 1's order"),
                NOT_FOUND,
            );
        }
    }
    let v = success(
        &m(
            "GET",
            format!("/admin/order/conditionSearch?page=1&pageSize=100&number={number}"),
            None,
        )
        .await,
        "shop 2 searches shop 1's number",
    );
    assert_eq!(v["data"]["total"], 0, "{v}");
    let v = success(
        &m(
            "GET",
            "/admin/order/conditionSearch?page=1&pageSize=100".into(),
            None,
        )
        .await,
        "shop 2 lists orders",
    );
    assert_eq!(v["data"]["total"], 0, "{v}");
    let v = success(
        &m("GET", "/admin/order/statistics".into(), None).await,
        "shop 2 statistics",
    );
    assert_eq!(
        v["data"],
        json!({"toBeConfirmed": 0, "confirmed": 0, "deliveryInProgress": 0})
    );
    let v = success(
        &m("GET", "/admin/alerts".into(), None).await,
        "shop 2 alert list",
    );
    assert_eq!(v["data"], json!([]), "shop 2 sees shop 1's alerts: {v}");
    business(
        &m("POST", format!("/admin/alerts/{alert_id}/ack"), None).await,
        "shop 2 acknowledges shop 1's alert",
        "提醒不存在",
    );
    assert_eq!(
        snapshot(&app).await,
        before,
        "shop 2's merchant changed shop 1's orders or alerts"
    );
}

backend_tests! {
    customer_cannot_touch_another_customers_order => customer_cannot_touch_another_customers_order,
    merchant_of_another_shop_cannot_touch_the_order => merchant_of_another_shop_cannot_touch_the_order,
}
