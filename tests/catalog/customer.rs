//! Set meals on the mini-program (§3 index page, §4.9): the categories of both kinds, the set
//! meals of a type-2 category and what each holds, the cart with `{setmealId}`, submit, the
//! order's lines (customer and merchant), history, 再来一单; and what is off sale is never
//! listed, added, submitted or repeated.

use serde_json::{Value, json};

use crate::common::{self, Backend, Customer};
use crate::support::*;

const SUBMIT: &str = "/user/order/submit";

fn submit_body(address: i64) -> Value {
    json!({"addressBookId": address, "payMethod": 1, "remark": "", "estimatedDeliveryTime": "2030-01-01 12:00:00",
           "deliveryStatus": 1, "tablewareNumber": 1, "tablewareStatus": 1, "packAmount": 3, "amount": 100})
}

async fn cart(c: &Customer) -> Vec<Value> {
    data(c.get("/user/shoppingCart/list").await)
        .as_array()
        .unwrap()
        .clone()
}

/// The index page's requests in its order: `/user/category/list` (no type), a type-2
/// category's `/user/setmeal/list?categoryId=`, a tap's `/user/setmeal/dish/{id}`, +/− with
/// `{setmealId}`, the cart list; then submit, the order's lines, 历史订单 (`status=`), the
/// merchant's details, and 再来一单 (clean, then repetition).
async fn the_index_page_sells_setmeals(backend: Backend) {
    let app = common::spawn(backend).await;
    let c = app.customer("wx-setmeal-flow").await;
    let cats = data(c.get("/user/category/list").await);
    let kinds: Vec<i64> = cats
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_i64().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [1, 1, 1, 2, 2],
        "dishes and set meals together: {cats}"
    );
    let popular = &cats[3];
    assert_eq!(popular["name"], "人气套餐");
    let meals = data(
        c.get(&format!("/user/setmeal/list?categoryId={}", popular["id"]))
            .await,
    );
    let names: Vec<&str> = meals
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["单人川味套餐", "双人分享套餐"]);
    let single = &meals[0];
    assert_eq!(
        (&single["price"], &single["status"]),
        (&json!(42.0), &json!(1))
    );
    assert_eq!(single["description"], "宫保鸡丁配米饭和酸梅汤");
    assert!(
        single["image"].is_string() && single["id"].is_i64(),
        "{single}"
    );
    let id = single["id"].as_i64().unwrap();

    let items = data(c.get(&format!("/user/setmeal/dish/{id}")).await);
    let shown: Vec<(&str, i64)> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["name"].as_str().unwrap(), i["copies"].as_i64().unwrap()))
        .collect();
    assert_eq!(shown, [("宫保鸡丁", 1), ("米饭", 1), ("酸梅汤", 1)]);
    assert_eq!(items[0]["description"], "花生、鸡丁、干辣椒");
    assert!(items[0]["image"].is_string());

    let chicken = demo(&app, "dish", "宫保鸡丁").await;
    for _ in 0..3 {
        data(
            c.post("/user/shoppingCart/add", json!({"setmealId": id}))
                .await,
        );
    }
    data(
        c.post(
            "/user/shoppingCart/add",
            json!({"dishFlavor": "微辣", "dishId": chicken}),
        )
        .await,
    );
    data(
        c.post("/user/shoppingCart/sub", json!({"setmealId": id}))
            .await,
    );
    let lines = cart(&c).await;
    assert_eq!(lines.len(), 2, "{lines:?}");
    let meal = &lines[0];
    assert_eq!(
        (
            &meal["setmealId"],
            &meal["dishId"],
            &meal["name"],
            &meal["number"],
            &meal["amount"],
            &meal["dishFlavor"]
        ),
        (
            &json!(id),
            &Value::Null,
            &json!("单人川味套餐"),
            &json!(2),
            &json!(42.0),
            &json!("")
        )
    );
    assert!(meal["image"].is_string() && meal["id"].is_i64());

    let address = c.address().await;
    let order = data(c.post(SUBMIT, submit_body(address)).await);
    // 2 × 42 + 38, packing 3 × 1, delivery 6.
    assert_eq!(order["orderAmount"], json!(131.0));
    let order_id = order["id"].as_i64().unwrap();
    assert_eq!(cart(&c).await.len(), 0, "the cart became the order");
    let detail = data(c.get(&format!("/user/order/orderDetail/{order_id}")).await);
    let line = &detail["orderDetailList"][0];
    assert_eq!(
        (
            &line["setmealId"],
            &line["dishId"],
            &line["name"],
            &line["number"],
            &line["amount"]
        ),
        (
            &json!(id),
            &Value::Null,
            &json!("单人川味套餐"),
            &json!(2),
            &json!(42.0)
        )
    );
    let history = data(
        c.get("/user/order/historyOrders?pageSize=10&page=1&status=")
            .await,
    );
    assert_eq!(history["records"][0]["orderDetailList"][0]["setmealId"], id);
    let admin = app.admin().await;
    let seen = data(admin.get(&format!("/admin/order/details/{order_id}")).await);
    assert_eq!(seen["orderDetailList"][0]["setmealId"], id);

    data(c.delete("/user/shoppingCart/clean").await);
    data(
        c.post(&format!("/user/order/repetition/{order_id}"), json!({}))
            .await,
    );
    let again = cart(&c).await;
    let copied: Vec<(Value, Value, Value)> = again
        .iter()
        .map(|l| {
            (
                l["setmealId"].clone(),
                l["dishId"].clone(),
                l["number"].clone(),
            )
        })
        .collect();
    assert_eq!(
        copied,
        [
            (json!(id), Value::Null, json!(2)),
            (Value::Null, json!(chicken), json!(1))
        ]
    );
    app.shutdown().await;
}

/// A stopped set meal is not listed, not shown, not added; a set meal or dish stopped while
/// in a cart stops the submit (naming it, nothing written) until the customer removes it;
/// 再来一单 copies only what is on sale now, at today's price, and says so when nothing is.
async fn what_is_off_sale_is_never_sold(backend: Backend) {
    let app = common::spawn(backend).await;
    let admin = app.admin().await;
    let c = app.customer("wx-setmeal-stop").await;
    let single = demo(&app, "setmeal", "单人川味套餐").await;
    let popular = demo(&app, "category", "人气套餐").await;
    let cola = demo(&app, "dish", "可乐").await;
    let address = c.address().await;
    data(
        c.post("/user/shoppingCart/add", json!({"setmealId": single}))
            .await,
    );
    data(
        c.post("/user/shoppingCart/add", json!({"dishId": cola}))
            .await,
    );

    data(setmeal_status(&admin, &single.to_string(), 0).await);
    let listed = data(
        c.get(&format!("/user/setmeal/list?categoryId={popular}"))
            .await,
    );
    assert!(
        listed.as_array().unwrap().iter().all(|m| m["id"] != single),
        "{listed}"
    );
    refused(
        &c.get(&format!("/user/setmeal/dish/{single}")).await,
        "套餐不存在或已停售",
    );
    refused(
        &c.post("/user/shoppingCart/add", json!({"setmealId": single}))
            .await,
        "套餐不存在或已停售",
    );
    let orders_before = count(&app, "orders", "user_id", c.id).await;
    refused(
        &c.post(SUBMIT, submit_body(address)).await,
        "'单人川味套餐'已停售，请从购物车中移除后再下单",
    );
    assert_eq!(
        count(&app, "orders", "user_id", c.id).await,
        orders_before,
        "no order"
    );
    assert_eq!(cart(&c).await.len(), 2, "the cart is kept");
    data(
        c.post("/user/shoppingCart/sub", json!({"setmealId": single}))
            .await,
    );
    // A dish stopped while in the cart stops the submit too.
    data(dish_status(&admin, &cola.to_string(), 0).await);
    refused(
        &c.post(SUBMIT, submit_body(address)).await,
        "'可乐'已停售，请从购物车中移除后再下单",
    );
    data(dish_status(&admin, &cola.to_string(), 1).await);
    let order = data(c.post(SUBMIT, submit_body(address)).await)["id"]
        .as_i64()
        .unwrap();

    // An order of a set meal and a dish; the set meal stops, the dish's price changes.
    data(setmeal_status(&admin, &single.to_string(), 1).await);
    data(
        c.post("/user/shoppingCart/add", json!({"setmealId": single}))
            .await,
    );
    data(
        c.post("/user/shoppingCart/add", json!({"dishId": cola}))
            .await,
    );
    let both = data(c.post(SUBMIT, submit_body(address)).await)["id"]
        .as_i64()
        .unwrap();
    data(setmeal_status(&admin, &single.to_string(), 0).await);
    data(
        admin
            .put("/admin/dish", json!({"id": cola, "price": "6.5"}))
            .await,
    );
    data(
        c.post(&format!("/user/order/repetition/{both}"), json!({}))
            .await,
    );
    let lines = cart(&c).await;
    assert_eq!(lines.len(), 1, "only the dish: {lines:?}");
    assert_eq!(
        (&lines[0]["dishId"], &lines[0]["amount"]),
        (&json!(cola), &json!(6.5)),
        "today's price"
    );
    data(c.delete("/user/shoppingCart/clean").await);
    data(dish_status(&admin, &cola.to_string(), 0).await);
    for id in [order, both] {
        refused(
            &c.post(&format!("/user/order/repetition/{id}"), json!({}))
                .await,
            "订单中的菜品和套餐均已停售",
        );
    }
    assert_eq!(cart(&c).await.len(), 0);
    app.shutdown().await;
}

/// A set meal of another shop does not join a cart holding shop 1's items.
async fn setmeals_follow_the_one_shop_rule(backend: Backend) {
    let app = common::spawn(backend).await;
    let shop2 = app.add_shop("小馆", "xiaoguan", "xiaoguan-pass").await;
    let theirs: i64 = sqlx::query_scalar("SELECT MIN(id) FROM setmeal WHERE shop_id = $1")
        .bind(shop2)
        .fetch_one(app.state.store.pool())
        .await
        .unwrap();
    let c = app.customer("wx-setmeal-shops").await;
    data(
        c.post(
            "/user/shoppingCart/add",
            json!({"setmealId": demo(&app, "setmeal", "商务简餐").await}),
        )
        .await,
    );
    let v = c
        .post("/user/shoppingCart/add", json!({"setmealId": theirs}))
        .await;
    refused(&v, "购物车中已有其他店铺的菜品，请先清空购物车");
    data(c.delete("/user/shoppingCart/clean").await);
    data(
        c.post("/user/shoppingCart/add", json!({"setmealId": theirs}))
            .await,
    );
    assert_eq!(cart(&c).await[0]["shopId"], shop2);
    app.shutdown().await;
}

backend_tests! {
    index_page_setmeals => the_index_page_sells_setmeals,
    off_sale_never_sold => what_is_off_sale_is_never_sold,
    setmeal_one_shop => setmeals_follow_the_one_shop_rule,
}
