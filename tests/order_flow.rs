//! The contract's order flow end to end, over real HTTP and WebSocket clients, on SQLite and
//! PostgreSQL: customer login, menu, cart, address, submit, pay (frame byte-for-byte), remind
//! (frame), history, cancel; merchant search, statistics, details and every status action with
//! its status checks; the scheduled tasks driven by a moved clock.

mod common;

use std::time::Duration;

use common::{Backend, next_text};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(5);

async fn full_flow(backend: Backend) {
    let app = common::spawn(backend).await;
    let admin = app.admin().await;
    let mut screen = admin.legacy_ws("page-1").await;

    let c = app.customer("wx-code-alice").await;
    // The same code maps to the same customer.
    assert_eq!(app.customer("wx-code-alice").await.id, c.id);

    assert_eq!(c.get("/user/shop/status").await["data"], 1);
    let cats = c.get("/user/category/list?type=1").await;
    let cat_id = cats["data"][0]["id"].as_i64().unwrap();
    let dishes = c.get(&format!("/user/dish/list?categoryId={cat_id}")).await;
    let dish = &dishes["data"][0];
    assert!(dish["price"].as_f64().unwrap() > 0.0, "{dish}");
    assert!(dish["flavors"].is_array());
    let dish_id = dish["id"].as_i64().unwrap();

    // Cart: add twice, remove once, list.
    for _ in 0..2 {
        assert_eq!(
            c.post(
                "/user/shoppingCart/add",
                json!({"dishId": dish_id, "dishFlavor": "微辣"})
            )
            .await["code"],
            1
        );
    }
    assert_eq!(
        c.post(
            "/user/shoppingCart/sub",
            json!({"dishId": dish_id, "dishFlavor": "微辣"})
        )
        .await["code"],
        1
    );
    let cart = c.get("/user/shoppingCart/list").await;
    assert_eq!(cart["data"][0]["number"], 1, "{cart}");

    // No address yet.
    let v = c
        .post(
            "/user/order/submit",
            json!({"addressBookId": 999, "payMethod": 1}),
        )
        .await;
    assert_eq!(
        (v["code"].as_i64(), v["msg"].as_str()),
        (Some(0), Some("用户地址为空，不能下单"))
    );
    let addr = c.address().await;
    assert_eq!(
        c.put("/user/addressBook/default", json!({"id": addr}))
            .await["code"],
        1
    );
    assert_eq!(c.get("/user/addressBook/default").await["data"]["id"], addr);

    // Submit: the client's amount (0.01) is ignored; the server computes it.
    let v = c
        .post("/user/order/submit", json!({"addressBookId": addr, "payMethod": 1, "remark": "少辣", "estimatedDeliveryTime": "2030-01-01 12:00:00", "deliveryStatus": 1, "tablewareNumber": 1, "tablewareStatus": 1, "packAmount": 1, "amount": 0.01}))
        .await;
    assert_eq!(v["code"], 1, "{v}");
    let order_id = v["data"]["id"].as_i64().unwrap();
    let number = v["data"]["orderNumber"].as_str().unwrap().to_string();
    let price = dish["price"].as_f64().unwrap();
    assert!(
        (v["data"]["orderAmount"].as_f64().unwrap() - (price + 1.0 + 6.0)).abs() < 1e-9,
        "{v}"
    );
    assert!(
        c.get("/user/shoppingCart/list").await["data"]
            .as_array()
            .unwrap()
            .is_empty(),
        "cart emptied"
    );

    // Empty cart now.
    let v = c
        .post(
            "/user/order/submit",
            json!({"addressBookId": addr, "payMethod": 1}),
        )
        .await;
    assert_eq!(v["msg"], "购物车数据为空，不能下单");

    // Reminder before payment: wrong status.
    assert_eq!(
        c.get(&format!("/user/order/reminder/{order_id}")).await["msg"],
        "订单状态错误"
    );

    // Pay → the stock page's frame, byte for byte.
    let v = c.pay(&number).await;
    assert_eq!(v["code"], 1, "{v}");
    assert!(v["data"]["packageStr"].is_string());
    let frame = next_text(&mut screen, WAIT).await.expect("type-1 frame");
    assert_eq!(
        frame,
        format!(r#"{{"type":1,"orderId":{order_id},"content":"订单号：{number}"}}"#)
    );
    // Paying again is refused and raises nothing.
    assert_eq!(c.pay(&number).await["msg"], "该订单已支付");

    // Remind → type 2; a second reminder within the window is refused.
    assert_eq!(
        c.get(&format!("/user/order/reminder/{order_id}")).await,
        json!({"code": 1, "msg": null, "data": null})
    );
    let frame = next_text(&mut screen, WAIT).await.expect("type-2 frame");
    assert_eq!(
        frame,
        format!(r#"{{"type":2,"orderId":{order_id},"content":"订单号：{number}"}}"#)
    );
    let v = c.get(&format!("/user/order/reminder/{order_id}")).await;
    assert_eq!(v["code"], 0);
    assert!(
        next_text(&mut screen, Duration::from_millis(500))
            .await
            .is_none(),
        "no second reminder frame"
    );

    // History and details.
    let h = c.get("/user/order/historyOrders?page=1&pageSize=10").await;
    assert_eq!(h["data"]["total"], 1);
    assert_eq!(
        h["data"]["records"][0]["orderDetailList"][0]["dishFlavor"],
        "微辣"
    );
    let d = c.get(&format!("/user/order/orderDetail/{order_id}")).await;
    assert_eq!(d["data"]["status"], 2);
    assert_eq!(d["data"]["payStatus"], 1);
    assert_eq!(d["data"]["remark"], "少辣");

    // Merchant side.
    let s = admin.get("/admin/order/statistics").await;
    assert_eq!(
        s["data"],
        json!({"toBeConfirmed": 1, "confirmed": 0, "deliveryInProgress": 0})
    );
    let page = admin
        .get(&format!(
            "/admin/order/conditionSearch?page=1&pageSize=10&number={number}"
        ))
        .await;
    assert_eq!(page["data"]["total"], 1);
    assert!(
        page["data"]["records"][0]["orderDishes"]
            .as_str()
            .unwrap()
            .contains("*1;")
    );
    let page = admin
        .get("/admin/order/conditionSearch?page=1&pageSize=10&status=3")
        .await;
    assert_eq!(page["data"]["total"], 0);
    assert_eq!(
        admin.get(&format!("/admin/order/details/{order_id}")).await["data"]["number"],
        number.as_str()
    );

    // Wrong-status actions are refused (the original forgot this on confirm and cancel).
    assert_eq!(
        admin
            .put(&format!("/admin/order/delivery/{order_id}"), json!({}))
            .await["msg"],
        "订单状态错误"
    );
    assert_eq!(
        admin
            .put(&format!("/admin/order/complete/{order_id}"), json!({}))
            .await["msg"],
        "订单状态错误"
    );
    assert_eq!(
        admin
            .put("/admin/order/confirm", json!({"id": order_id}))
            .await["code"],
        1
    );
    assert_eq!(
        admin
            .put("/admin/order/confirm", json!({"id": order_id}))
            .await["msg"],
        "订单状态错误"
    );
    assert_eq!(
        admin
            .put(
                "/admin/order/rejection",
                json!({"id": order_id, "rejectionReason": "太忙"})
            )
            .await["msg"],
        "订单状态错误"
    );
    // The customer can no longer cancel an accepted order.
    assert_eq!(
        c.put(&format!("/user/order/cancel/{order_id}"), json!({}))
            .await["msg"],
        "订单状态错误"
    );
    assert_eq!(
        admin
            .put(&format!("/admin/order/delivery/{order_id}"), json!({}))
            .await["code"],
        1
    );
    assert_eq!(
        admin.get("/admin/order/statistics").await["data"]["deliveryInProgress"],
        1
    );
    assert_eq!(
        admin
            .put(&format!("/admin/order/complete/{order_id}"), json!({}))
            .await["code"],
        1
    );
    let d = admin.get(&format!("/admin/order/details/{order_id}")).await;
    assert_eq!(d["data"]["status"], 5);
    assert!(d["data"]["deliveryTime"].is_string());
    assert_eq!(
        admin
            .put(
                "/admin/order/cancel",
                json!({"id": order_id, "cancelReason": "x"})
            )
            .await["msg"],
        "订单状态错误"
    );

    // Reorder: the lines come back into the cart.
    assert_eq!(
        c.post(&format!("/user/order/repetition/{order_id}"), json!({}))
            .await["code"],
        1
    );
    assert_eq!(
        c.get("/user/shoppingCart/list").await["data"][0]["dishId"],
        dish_id
    );

    // Reject a second (paid) order: it is refunded.
    let (id2, number2) = c.order(dish_id, 1, "").await;
    c.pay(&number2).await;
    assert!(
        next_text(&mut screen, WAIT)
            .await
            .unwrap()
            .contains(&number2)
    );
    assert_eq!(
        admin
            .put("/admin/order/rejection", json!({"id": id2}))
            .await["msg"],
        "请填写拒单原因"
    );
    assert_eq!(
        admin
            .put(
                "/admin/order/rejection",
                json!({"id": id2, "rejectionReason": "食材不足"})
            )
            .await["code"],
        1
    );
    let d = admin.get(&format!("/admin/order/details/{id2}")).await;
    assert_eq!(
        (
            d["data"]["status"].as_i64(),
            d["data"]["payStatus"].as_i64()
        ),
        (Some(6), Some(2))
    );
    assert_eq!(d["data"]["rejectionReason"], "食材不足");

    // The customer cancels an unpaid order; a merchant cancels a paid one (refund).
    let (id3, _) = c.order(dish_id, 1, "").await;
    assert_eq!(
        c.put(&format!("/user/order/cancel/{id3}"), json!({})).await["code"],
        1
    );
    assert_eq!(
        c.get(&format!("/user/order/orderDetail/{id3}")).await["data"]["status"],
        6
    );
    let (id4, number4) = c.order(dish_id, 1, "").await;
    c.pay(&number4).await;
    assert_eq!(
        admin
            .put(
                "/admin/order/cancel",
                json!({"id": id4, "cancelReason": "顾客电话取消"})
            )
            .await["code"],
        1
    );
    let d = admin.get(&format!("/admin/order/details/{id4}")).await;
    assert_eq!(
        (
            d["data"]["status"].as_i64(),
            d["data"]["payStatus"].as_i64()
        ),
        (Some(6), Some(2))
    );

    // Shop status.
    assert_eq!(admin.put("/admin/shop/0", json!({})).await["code"], 1);
    assert_eq!(c.get("/user/shop/status").await["data"], 0);
    assert_eq!(admin.get("/admin/shop/status").await["data"], 0);
    assert_eq!(admin.put("/admin/shop/7", json!({})).await["code"], 0);
    app.shutdown().await;
}

/// Unpaid orders are cancelled by the timeout task after 15 minutes, once; a payment that
/// arrives afterwards changes nothing and raises no alert.
async fn payment_timeout(backend: Backend) {
    let app = common::spawn(backend).await;
    let c = app.customer("late-payer").await;
    let dish = app.first_dish(1).await;
    let (id, number) = c.order(dish, 1, "").await;
    let orders = app.state.orders.clone();
    assert_eq!(
        orders
            .cancel_unpaid(Duration::from_secs(15 * 60))
            .await
            .unwrap(),
        0,
        "too young"
    );
    app.clock.advance(Duration::from_secs(16 * 60));
    assert_eq!(
        orders
            .cancel_unpaid(Duration::from_secs(15 * 60))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        orders
            .cancel_unpaid(Duration::from_secs(15 * 60))
            .await
            .unwrap(),
        0,
        "only once"
    );
    let d = c.get(&format!("/user/order/orderDetail/{id}")).await;
    assert_eq!(d["data"]["status"], 6);
    assert_eq!(d["data"]["cancelReason"], "订单超时，自动取消");
    assert_eq!(c.pay(&number).await["msg"], "订单状态错误");
    let alerts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM alert_log")
        .fetch_one(app.state.store.pool())
        .await
        .unwrap();
    assert_eq!(alerts, 0);
    app.shutdown().await;
}

/// Orders out for delivery for over an hour are completed by the daily task.
async fn delivery_completion(backend: Backend) {
    let app = common::spawn(backend).await;
    let admin = app.admin().await;
    let c = app.customer("hungry").await;
    let (id, _) = c.paid_order(app.first_dish(1).await).await;
    admin.put("/admin/order/confirm", json!({"id": id})).await;
    admin
        .put(&format!("/admin/order/delivery/{id}"), json!({}))
        .await;
    let orders = app.state.orders.clone();
    assert_eq!(
        orders
            .complete_delivering(Duration::from_secs(3600))
            .await
            .unwrap(),
        0
    );
    app.clock.advance(Duration::from_secs(61 * 60));
    assert_eq!(
        orders
            .complete_delivering(Duration::from_secs(3600))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        admin.get(&format!("/admin/order/details/{id}")).await["data"]["status"],
        5
    );
    app.shutdown().await;
}

/// A payment, a customer cancel and the timeout task racing on one order: exactly one wins,
/// and an alert exists exactly when the payment won.
async fn racing_changes_agree(backend: Backend) {
    let app = common::spawn(backend).await;
    let c = app.customer("racer").await;
    let dish = app.first_dish(1).await;
    for round in 0..5 {
        let (id, number) = c.order(dish, 1, "").await;
        app.clock.advance(Duration::from_secs(16 * 60));
        let orders = app.state.orders.clone();
        let cancel_path = format!("/user/order/cancel/{id}");
        let (pay, cancel, timeout) = tokio::join!(
            c.pay(&number),
            c.put(&cancel_path, json!({})),
            orders.cancel_unpaid(Duration::from_secs(15 * 60)),
        );
        let d = c.get(&format!("/user/order/orderDetail/{id}")).await;
        let status = d["data"]["status"].as_i64().unwrap();
        let alerts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM alert_log WHERE order_id = $1")
            .bind(id)
            .fetch_one(app.state.store.pool())
            .await
            .unwrap();
        let winners = [pay["code"] == 1, cancel["code"] == 1, timeout.unwrap() == 1];
        // The customer may cancel a paid order (status 2), so the payment and the cancel may
        // both succeed in that order; the timeout only ever wins alone.
        match status {
            6 if alerts == 1 => assert!(winners[0] && winners[1], "round {round}: {winners:?}"),
            6 => assert!(
                !winners[0] && (winners[1] ^ winners[2]),
                "round {round}: {winners:?}"
            ),
            2 => assert!(
                winners[0] && !winners[1] && !winners[2] && alerts == 1,
                "round {round}: {winners:?} alerts {alerts}"
            ),
            s => panic!("round {round}: unexpected status {s}"),
        }
    }
    app.shutdown().await;
}

/// 再来一单 follows the cart's rules, as an add does: the whole order comes back only while the
/// cart stays within 999 items and one shop; otherwise nothing is added.
async fn repeat_follows_the_cart_rules(backend: Backend) {
    let app = common::spawn(backend).await;
    let c = app.customer("repeat-rules").await;
    let dish = app.first_dish(1).await;
    let pool = app.state.store.pool().clone();
    let set_number = |n: i64| {
        let pool = pool.clone();
        let user = c.id;
        async move {
            sqlx::query("UPDATE shopping_cart SET number = $1 WHERE user_id = $2")
                .bind(n)
                .bind(user)
                .execute(&pool)
                .await
                .unwrap();
        }
    };
    let add = json!({"dishId": dish, "dishFlavor": ""});
    assert_eq!(
        c.post("/user/shoppingCart/add", add.clone()).await["code"],
        1
    );
    set_number(20).await;
    let address = c.address().await;
    let v = c
        .post(
            "/user/order/submit",
            json!({"addressBookId": address, "payMethod": 1}),
        )
        .await;
    let order_id = v["data"]["id"].as_i64().unwrap();
    // 985 in the cart: 20 more would pass the cap.
    assert_eq!(c.post("/user/shoppingCart/add", add).await["code"], 1);
    set_number(985).await;
    let repeat = format!("/user/order/repetition/{order_id}");
    let v = c.post(&repeat, json!({})).await;
    assert_eq!(
        (v["code"].as_i64(), v["msg"].as_str()),
        (Some(0), Some("购物车已满")),
        "{v}"
    );
    let cart = c.get("/user/shoppingCart/list").await;
    assert_eq!(cart["data"][0]["number"], 985, "nothing was added: {cart}");
    // 979 + 20 = 999 fits.
    set_number(979).await;
    assert_eq!(c.post(&repeat, json!({})).await["code"], 1);
    let cart = c.get("/user/shoppingCart/list").await;
    assert_eq!(cart["data"][0]["number"], 999, "{cart}");
    // Another shop's dish in the cart: the order does not join it.
    let shop2 = app.add_shop("小馆", "xiaoguan", "xiaoguan-pass").await;
    let other = app.first_dish(shop2).await;
    assert_eq!(c.delete("/user/shoppingCart/clean").await["code"], 1);
    let add_other = json!({"dishId": other, "dishFlavor": ""});
    assert_eq!(c.post("/user/shoppingCart/add", add_other).await["code"], 1);
    let v = c.post(&repeat, json!({})).await;
    assert_eq!(v["code"], 0, "{v}");
    assert_eq!(v["msg"], "购物车中已有其他店铺的菜品，请先清空购物车");
    app.shutdown().await;
}

/// Every merchant action reaches every screen of the shop, even when it handles no alert (the
/// notice was acknowledged before): another screen's board must refresh after an accept.
async fn actions_reach_other_screens(backend: Backend) {
    let app = common::spawn(backend).await;
    let admin = app.admin().await;
    let (mut screen, _) = admin.rich_ws(None).await;
    let dish = app.first_dish(admin.shop_id).await;
    let c = app.customer("wx-code-board").await;
    let (order_id, _) = c.paid_order(dish).await;
    let alert = common::next_json(&mut screen, WAIT).await.expect("alert");
    assert_eq!(alert["event"], "alert", "{alert}");
    let alert_id = alert["id"].as_i64().unwrap();

    let v = admin
        .post(&format!("/admin/alerts/{alert_id}/ack"), json!({}))
        .await;
    assert_eq!(v["code"], 1, "{v}");
    let handled = common::next_json(&mut screen, WAIT).await.expect("handled");
    assert_eq!(handled["alertIds"], json!([alert_id]), "{handled}");

    let v = admin
        .put("/admin/order/confirm", json!({"id": order_id}))
        .await;
    assert_eq!(v["code"], 1, "{v}");
    let changed = common::next_json(&mut screen, WAIT)
        .await
        .expect("an event after confirm");
    assert_eq!(
        changed,
        json!({"event": "handled", "alertIds": [], "orderId": order_id})
    );
    let v = admin
        .put(&format!("/admin/order/delivery/{order_id}"), json!({}))
        .await;
    assert_eq!(v["code"], 1, "{v}");
    let changed = common::next_json(&mut screen, WAIT)
        .await
        .expect("an event after delivery");
    assert_eq!(changed["orderId"], order_id, "{changed}");
    app.shutdown().await;
}

backend_tests! {
    flow => full_flow,
    repeat_rules => repeat_follows_the_cart_rules,
    timeout_task => payment_timeout,
    completion_task => delivery_completion,
    races => racing_changes_agree,
    actions_reach_screens => actions_reach_other_screens,
}
