//! Races on the cart and on submit, each started with `tokio::join!` (or a joined batch) over
//! real HTTP, on SQLite and PostgreSQL: two adds of different shops on an empty cart, two adds
//! of one dish, a submit after such a race, and a burst of submits larger than the pool.
//! Each round starts from an empty cart so every round is a fresh chance for the race.

mod common;

use std::time::Duration;

use common::{Backend, Customer, TestApp};
use serde_json::{Value, json};

/// Rounds per race: the races are timing-dependent, so each test retries them.
const ROUNDS: usize = 12;
const OTHER_SHOP: &str = "购物车中已有其他店铺的菜品，请先清空购物车";

async fn add(c: &Customer, dish_id: i64) -> Value {
    c.post(
        "/user/shoppingCart/add",
        json!({"dishId": dish_id, "dishFlavor": ""}),
    )
    .await
}

async fn scalar(app: &TestApp, sql: &'static str, id: i64) -> i64 {
    sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(app.state.store.pool())
        .await
        .unwrap()
}

async fn two_shops(backend: Backend) -> (TestApp, i64, i64) {
    let app = common::spawn(backend).await;
    let shop2 = app.add_shop("小馆", "xiaoguan", "xiaoguan-pass").await;
    let (a, b) = (app.first_dish(1).await, app.first_dish(shop2).await);
    (app, a, b)
}

/// Two adds of dishes of different shops on an empty cart: one wins, the other is told the
/// cart holds another shop's dishes, and the cart never holds two shops.
async fn adds_of_two_shops_keep_one_shop(backend: Backend) {
    let (app, dish_a, dish_b) = two_shops(backend).await;
    let c = app.customer("race-shops").await;
    for round in 0..ROUNDS {
        assert_eq!(c.delete("/user/shoppingCart/clean").await["code"], 1);
        let (ra, rb) = tokio::join!(add(&c, dish_a), add(&c, dish_b));
        let shops = scalar(
            &app,
            "SELECT COUNT(DISTINCT shop_id) FROM shopping_cart WHERE user_id = $1",
            c.id,
        )
        .await;
        assert_eq!(
            shops, 1,
            "round {round}: the cart holds two shops ({ra}, {rb})"
        );
        let mut codes = [ra["code"].as_i64(), rb["code"].as_i64()];
        codes.sort();
        assert_eq!(codes, [Some(0), Some(1)], "round {round}: {ra} {rb}");
        let refused = if ra["code"] == 0 { &ra } else { &rb };
        assert_eq!(refused["msg"], OTHER_SHOP);
    }
    app.shutdown().await;
}

/// Two adds of the same dish and flavor on an empty cart make one line of two, never two
/// lines of one.
async fn adds_of_one_dish_make_one_line(backend: Backend) {
    let (app, dish, _) = two_shops(backend).await;
    let c = app.customer("race-lines").await;
    for round in 0..ROUNDS {
        assert_eq!(c.delete("/user/shoppingCart/clean").await["code"], 1);
        let (r1, r2) = tokio::join!(add(&c, dish), add(&c, dish));
        assert_eq!(
            (r1["code"].as_i64(), r2["code"].as_i64()),
            (Some(1), Some(1))
        );
        let cart = c.get("/user/shoppingCart/list").await;
        let lines = cart["data"].as_array().unwrap();
        assert_eq!(
            lines.len(),
            1,
            "round {round}: duplicate cart lines: {cart}"
        );
        assert_eq!(lines[0]["number"], 2, "round {round}: {cart}");
    }
    app.shutdown().await;
}

const FOREIGN_LINES: &str = "SELECT COUNT(*) FROM order_detail d JOIN orders o ON o.id = d.order_id \
     JOIN dish ON dish.id = d.dish_id WHERE o.user_id = $1 AND dish.shop_id <> o.shop_id";

/// A submit after two racing adds of different shops orders only dishes of the order's own
/// shop: never an order of shop 1 carrying shop 2's dish (which shop 2 would never hear of).
async fn submit_after_racing_adds_orders_one_shop(backend: Backend) {
    let (app, dish_a, dish_b) = two_shops(backend).await;
    let c = app.customer("race-submit").await;
    let address = c.address().await;
    for round in 0..ROUNDS {
        assert_eq!(c.delete("/user/shoppingCart/clean").await["code"], 1);
        let _ = tokio::join!(add(&c, dish_a), add(&c, dish_b));
        let v = c
            .post(
                "/user/order/submit",
                json!({"addressBookId": address, "payMethod": 1}),
            )
            .await;
        assert!(
            v["code"] == 1 || v["msg"] == OTHER_SHOP,
            "round {round}: {v}"
        );
        let foreign = scalar(&app, FOREIGN_LINES, c.id).await;
        assert_eq!(
            foreign, 0,
            "round {round}: an order holds another shop's dish: {v}"
        );
    }
    app.shutdown().await;
}

/// A cart that already holds two shops' dishes (left by a race of an older version) is not
/// ordered as the first line's shop: submit refuses it and writes nothing.
async fn submit_refuses_a_cart_of_two_shops(backend: Backend) {
    let (app, dish_a, dish_b) = two_shops(backend).await;
    let c = app.customer("mixed-cart").await;
    let address = c.address().await;
    assert_eq!(add(&c, dish_a).await["code"], 1);
    sqlx::query(
        "INSERT INTO shopping_cart (user_id, shop_id, dish_id, dish_flavor, name, image, number, amount, created_at) \
         SELECT $1, shop_id, id, '', name, image, 1, price, 0 FROM dish WHERE id = $2",
    )
    .bind(c.id)
    .bind(dish_b)
    .execute(app.state.store.pool())
    .await
    .unwrap();
    let v = c
        .post(
            "/user/order/submit",
            json!({"addressBookId": address, "payMethod": 1}),
        )
        .await;
    assert_eq!(v["code"], 0, "{v}");
    assert_eq!(v["msg"], OTHER_SHOP);
    let orders = scalar(&app, "SELECT COUNT(*) FROM orders WHERE user_id = $1", c.id).await;
    assert_eq!(orders, 0);
    let lines = scalar(
        &app,
        "SELECT COUNT(*) FROM shopping_cart WHERE user_id = $1",
        c.id,
    )
    .await;
    assert_eq!(lines, 2, "the cart is left as it was");
    app.shutdown().await;
}

/// More simultaneous submits than the pool has connections: each submit reads through its own
/// transaction, so none waits for a second connection while holding one, and all succeed
/// quickly (a submit that read through the pool inside its transaction starved the pool).
async fn a_burst_of_submits_does_not_starve_the_pool(backend: Backend) {
    let app = common::spawn(backend).await;
    let dish = app.first_dish(1).await;
    let mut customers = Vec::new();
    for i in 0..24 {
        let c = app.customer(&format!("burst-{i}")).await;
        assert_eq!(add(&c, dish).await["code"], 1);
        let address = c.address().await;
        customers.push((c, address));
    }
    let submits = customers.iter().map(|(c, address)| {
        let req = c
            .http
            .post(format!("{}/user/order/submit", c.base))
            .header(c.header, &c.token)
            .json(&json!({"addressBookId": address, "payMethod": 1}));
        async move {
            match req.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let body: Value = resp.json().await.unwrap_or(Value::Null);
                    (status, body["code"].as_i64())
                }
                Err(e) => panic!("submit failed: {e}"),
            }
        }
    });
    let all = tokio::time::timeout(
        Duration::from_secs(15),
        futures_util::future::join_all(submits),
    )
    .await
    .expect("24 submits finish within 15 s (the pool was starved)");
    for (i, r) in all.iter().enumerate() {
        assert_eq!(*r, (200, Some(1)), "submit {i}: {all:?}");
    }
    app.shutdown().await;
}

backend_tests! {
    adds_of_two_shops_keep_one_shop => adds_of_two_shops_keep_one_shop,
    adds_of_one_dish_make_one_line => adds_of_one_dish_make_one_line,
    submit_after_racing_adds_orders_one_shop => submit_after_racing_adds_orders_one_shop,
    submit_refuses_a_cart_of_two_shops => submit_refuses_a_cart_of_two_shops,
    a_burst_of_submits_does_not_starve_the_pool => a_burst_of_submits_does_not_starve_the_pool,
}
