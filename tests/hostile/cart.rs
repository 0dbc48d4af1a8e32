//! Bad cart input: dishes that do not exist, are off sale or of another shop, set meals that
//! do not exist, long flavors; the cart is unchanged. (Set meals off sale or of another
//! shop: `catalog_customer`.)

use serde_json::{Value, json};

use crate::common::{self, Backend};
use crate::support::*;

/// The cart refuses a dish that does not exist, one taken off sale, one of another shop while
/// it holds shop 1's dishes (clear message), a set meal that does not exist, a flavor over 50
/// characters, and removing what it does not hold; the cart is unchanged.
async fn cart_refuses_bad_dishes(backend: Backend) {
    let app = common::spawn(backend).await;
    let shop2 = app
        .add_shop("隔壁小馆", "xiaoguan2", "xiaoguan-pass-2")
        .await;
    let c = app.customer("wx-hostile-cart").await;
    let dish = app.first_dish(1).await;
    let other_shop_dish = app.first_dish(shop2).await;
    let off_sale: i64 = sqlx::query_scalar("SELECT MAX(id) FROM dish WHERE shop_id = 1")
        .fetch_one(app.state.store.pool())
        .await
        .unwrap();
    assert_ne!(off_sale, dish);
    sqlx::query("UPDATE dish SET status = 0 WHERE id = $1")
        .bind(off_sale)
        .execute(app.state.store.pool())
        .await
        .unwrap();
    assert_eq!(
        c.post(
            "/user/shoppingCart/add",
            json!({"dishId": dish, "dishFlavor": "微辣"})
        )
        .await["code"],
        1
    );
    let before = snapshot(&app).await;

    let add = |body: Value| {
        let base = app.base.clone();
        let token = c.token.clone();
        async move {
            send(
                &base,
                "POST",
                "/user/shoppingCart/add",
                as_customer(&token),
                json_body(&body),
            )
            .await
        }
    };
    business(
        &add(json!({"dishId": 987654321})).await,
        "a dish that does not exist",
        "菜品不存在或已停售",
    );
    business(
        &add(json!({"dishId": off_sale})).await,
        "a dish taken off sale",
        "菜品不存在或已停售",
    );
    let r = add(json!({"dishId": other_shop_dish})).await;
    business(
        &r,
        "a dish of shop 2 while the cart holds shop 1's",
        "购物车中已有其他店铺的菜品，请先清空购物车",
    );
    business(
        &add(json!({"setmealId": 987654321})).await,
        "a set meal that does not exist",
        "套餐不存在或已停售",
    );
    bad_request(
        &add(json!({"dishId": dish, "dishFlavor": "辣".repeat(51)})).await,
        "a 51-character flavor",
    );
    bad_request(
        &add(json!({"dishId": dish, "dishFlavor": "a".repeat(10_000)})).await,
        "a 10000-character flavor",
    );
    bad_request(
        &add(json!({"dishId": null, "setmealId": null})).await,
        "neither dishId nor setmealId",
    );
    let r = send(
        &app.base,
        "POST",
        "/user/shoppingCart/sub",
        as_customer(&c.token),
        json_body(&json!({"dishId": dish, "dishFlavor": "不辣"})),
    )
    .await;
    business(
        &r,
        "removing a flavor the cart does not hold",
        "购物车中没有该菜品",
    );
    let r = send(
        &app.base,
        "POST",
        "/user/shoppingCart/sub",
        as_customer(&c.token),
        json_body(&json!({"dishId": other_shop_dish})),
    )
    .await;
    business(
        &r,
        "removing a dish the cart does not hold",
        "购物车中没有该菜品",
    );
    assert_eq!(
        snapshot(&app).await,
        before,
        "refused cart changes changed the cart"
    );
    // A 50-character flavor is still fine.
    let r = add(json!({"dishId": dish, "dishFlavor": "辣".repeat(50)})).await;
    success(&r, "a 50-character flavor");
}

backend_tests! {
    cart_refuses_bad_dishes => cart_refuses_bad_dishes,
}
