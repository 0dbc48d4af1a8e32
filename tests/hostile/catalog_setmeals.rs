//! Set meals (the merchant's and the customer's endpoints) under hostile input, and shop 2's
//! merchant reaching for shop 1's menu: set meals without dishes, with a dish of another shop
//! or twice the same dish, bad copies, prices and statuses; another shop's ids answer as
//! missing ones and change nothing, in batches too. Never a 5xx; the menu's snapshot is
//! unchanged.

use serde_json::{Value, json};

use crate::catalog::{Want, expect_all, id_of, menu};
use crate::common::{self, Backend};
use crate::support::*;

/// Set meals without dishes, with a dish of another shop or twice the same dish, bad copies
/// and prices, a dish category; the customer's set-meal reads with absurd ids.
async fn setmeal_input_is_checked(backend: Backend) {
    let app = common::spawn(backend).await;
    let admin = app.admin().await;
    let shop2 = app.add_shop("隔壁", "gebi", "gebi-pass-123").await;
    let popular = id_of(&app, "category", 1, "人气套餐").await;
    let hot = id_of(&app, "category", 1, "热菜").await;
    let chicken = id_of(&app, "dish", 1, "宫保鸡丁").await;
    let their_dish = id_of(&app, "dish", shop2, "宫保鸡丁").await;
    let single = id_of(&app, "setmeal", 1, "单人川味套餐").await;
    let before = menu(&app).await;
    let meal = |patch: Value| {
        let mut m = json!({"name": "新套餐", "price": "30", "categoryId": popular, "image": "", "status": 0,
                           "setmealDishes": [{"dishId": chicken, "copies": 1}]});
        for (k, v) in patch.as_object().unwrap() {
            m[k] = v.clone();
        }
        m
    };
    let post = |patch: Value, want| {
        (
            "POST",
            "/admin/setmeal".to_string(),
            Some(meal(patch)),
            want,
        )
    };
    let dishes = |d: Value| json!({"setmealDishes": d});
    let cases = vec![
        post(dishes(json!([])), Want::No("套餐下菜品不能为空")),
        post(
            json!({"setmealDishes": null}),
            Want::No("套餐下菜品不能为空"),
        ),
        post(dishes(json!("1,2")), Want::Bad),
        post(dishes(json!([{"copies": 1}])), Want::Bad),
        post(dishes(json!([{"dishId": "x", "copies": 1}])), Want::Bad),
        post(
            dishes(json!([{"dishId": their_dish, "copies": 1}])),
            Want::No("菜品不存在"),
        ),
        post(
            dishes(json!([{"dishId": chicken, "copies": 1}, {"dishId": their_dish, "copies": 1}])),
            Want::No("菜品不存在"),
        ),
        post(
            dishes(json!([{"dishId": 987654321, "copies": 1}])),
            Want::No("菜品不存在"),
        ),
        post(
            dishes(json!([{"dishId": -1, "copies": 1}])),
            Want::No("菜品不存在"),
        ),
        post(
            dishes(json!([{"dishId": chicken, "copies": 1}, {"dishId": chicken, "copies": 2}])),
            Want::No("套餐内菜品重复"),
        ),
        post(
            dishes(json!([{"dishId": chicken, "copies": 0}])),
            Want::No("菜品份数必须在1到99之间"),
        ),
        post(
            dishes(json!([{"dishId": chicken, "copies": -3}])),
            Want::No("菜品份数必须在1到99之间"),
        ),
        post(
            dishes(json!([{"dishId": chicken, "copies": 100}])),
            Want::No("菜品份数必须在1到99之间"),
        ),
        post(
            dishes(json!(
                (1..=51)
                    .map(|i| json!({"dishId": i, "copies": 1}))
                    .collect::<Vec<_>>()
            )),
            Want::No("套餐菜品最多50种"),
        ),
        post(json!({"categoryId": hot}), Want::No("请选择套餐分类")),
        post(json!({"categoryId": 987654321}), Want::No("请选择套餐分类")),
        post(json!({"price": "0.001"}), Want::Bad),
        post(json!({"price": "0"}), Want::No("价格必须大于0")),
        post(
            json!({"name": "单人川味套餐"}),
            Want::No("'单人川味套餐'已存在"),
        ),
        post(
            json!({"name": "x".repeat(10_000)}),
            Want::No("名称不能超过32个字符"),
        ),
        post(json!({"name": null}), Want::No("名称不能为空")),
        post(json!({"status": 9}), Want::No("状态错误")),
        (
            "PUT",
            "/admin/setmeal".into(),
            Some(json!({"id": 987654321})),
            Want::No("套餐不存在"),
        ),
        (
            "PUT",
            "/admin/setmeal".into(),
            Some(json!({"id": single, "setmealDishes": []})),
            Want::No("套餐下菜品不能为空"),
        ),
        (
            "PUT",
            "/admin/setmeal".into(),
            Some(json!({"id": single, "setmealDishes": [{"dishId": their_dish, "copies": 1}]})),
            Want::No("菜品不存在"),
        ),
        (
            "PUT",
            "/admin/setmeal".into(),
            Some(json!({"id": single, "categoryId": hot})),
            Want::No("请选择套餐分类"),
        ),
        (
            "POST",
            format!("/admin/setmeal/status/-1?id={single}"),
            None,
            Want::No("状态错误"),
        ),
        (
            "POST",
            "/admin/setmeal/status/1?id=987654321".into(),
            None,
            Want::No("套餐不存在"),
        ),
        ("DELETE", "/admin/setmeal?ids=0".into(), None, Want::Bad),
        (
            "DELETE",
            format!(
                "/admin/setmeal?ids={}",
                (1..=101)
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            None,
            Want::Bad,
        ),
        ("GET", "/admin/setmeal/abc".into(), None, Want::Bad),
        (
            "GET",
            "/admin/setmeal/987654321".into(),
            None,
            Want::No("套餐不存在"),
        ),
    ];
    expect_all(&app, &admin.token, cases).await;
    let c = app.customer("wx-hostile-setmeal").await;
    for (path, bad) in [
        ("/user/setmeal/dish/0", false),
        ("/user/setmeal/dish/-1", false),
        ("/user/setmeal/dish/987654321", false),
        ("/user/setmeal/dish/x", true),
        ("/user/setmeal/dish/99999999999999999999", true),
        ("/user/setmeal/list?categoryId=x", true),
        ("/user/setmeal/list", true),
    ] {
        let r = send(
            &app.base,
            "GET",
            path,
            as_customer(&c.token),
            Payload::Empty,
        )
        .await;
        if bad {
            bad_request(&r, path);
        } else {
            business(&r, path, "套餐不存在或已停售");
        }
    }
    for body in [
        json!({"setmealId": "x"}),
        json!({"setmealId": 1.5}),
        json!({"setmealId": [1]}),
    ] {
        let r = send(
            &app.base,
            "POST",
            "/user/shoppingCart/add",
            as_customer(&c.token),
            json_body(&body),
        )
        .await;
        bad_request(&r, &body.to_string());
    }
    let r = send(
        &app.base,
        "POST",
        "/user/shoppingCart/sub",
        as_customer(&c.token),
        json_body(&json!({"setmealId": single})),
    )
    .await;
    business(
        &r,
        "removing a set meal the cart does not hold",
        "购物车中没有该菜品",
    );
    assert_eq!(
        menu(&app).await,
        before,
        "refused set-meal writes changed the menu"
    );
}

/// Shop 2's merchant reaching for shop 1's categories, dishes and set meals: every read and
/// write answers exactly what a missing id answers, batches naming one of shop 1's ids next to
/// its own change nothing, and shop 1's menu is unchanged. Pages and lists show only its own.
async fn another_shops_menu_is_not_found(backend: Backend) {
    let app = common::spawn(backend).await;
    let shop2 = app.add_shop("隔壁", "gebi", "gebi-pass-123").await;
    let other = app.merchant("gebi", "gebi-pass-123").await;
    let cat = id_of(&app, "category", 1, "主食").await;
    let dish = id_of(&app, "dish", 1, "米饭").await;
    let meal = id_of(&app, "setmeal", 1, "商务简餐").await;
    let own_dish = id_of(&app, "dish", shop2, "扬州炒饭").await;
    let own_meal = id_of(&app, "setmeal", shop2, "商务简餐").await;
    let own_cat = id_of(&app, "category", shop2, "人气套餐").await;
    // Stopped, so that only the shop decides the deletes.
    for (path, id) in [("dish", own_dish), ("setmeal", own_meal)] {
        let r = send(
            &app.base,
            "POST",
            &format!("/admin/{path}/status/0?id={id}"),
            as_merchant(&other.token),
            Payload::Empty,
        )
        .await;
        success(&r, "stop own");
    }
    let before = menu(&app).await;
    let ghost = 987_654_321_i64;
    let calls = |cat: i64, dish: i64, meal: i64| -> Vec<(&'static str, String, Option<Value>)> {
        vec![
            (
                "PUT",
                "/admin/category".into(),
                Some(json!({"id": cat, "name": "改名", "sort": 1})),
            ),
            ("POST", format!("/admin/category/status/1?id={cat}"), None),
            ("DELETE", format!("/admin/category?id={cat}"), None),
            ("GET", format!("/admin/dish/{dish}"), None),
            (
                "PUT",
                "/admin/dish".into(),
                Some(json!({"id": dish, "name": "改名", "price": "1"})),
            ),
            ("POST", format!("/admin/dish/status/0?id={dish}"), None),
            (
                "POST",
                format!("/admin/dish/status/0?id={own_dish},{dish}"),
                None,
            ),
            ("DELETE", format!("/admin/dish?ids={dish}"), None),
            ("DELETE", format!("/admin/dish?ids={own_dish},{dish}"), None),
            ("GET", format!("/admin/setmeal/{meal}"), None),
            (
                "PUT",
                "/admin/setmeal".into(),
                Some(json!({"id": meal, "name": "改名"})),
            ),
            ("POST", format!("/admin/setmeal/status/0?id={meal}"), None),
            (
                "POST",
                format!("/admin/setmeal/status/0?id={own_meal},{meal}"),
                None,
            ),
            (
                "DELETE",
                format!("/admin/setmeal?ids={own_meal},{meal}"),
                None,
            ),
        ]
    };
    let (theirs, none) = (calls(cat, dish, meal), calls(ghost, ghost, ghost));
    for ((method, path, body), (_, ghost_path, ghost_body)) in theirs.into_iter().zip(none) {
        let send_as = |path: String, body: Option<Value>| {
            let (base, token) = (app.base.clone(), other.token.clone());
            async move {
                let p = body.as_ref().map(json_body).unwrap_or(Payload::Empty);
                send(&base, method, &path, as_merchant(&token), p).await
            }
        };
        let r = send_as(path.clone(), body).await;
        refused(&r, &format!("shop 2: {method} {path}"));
        assert_eq!(r.status, 200, "{method} {path}: {}", r.text);
        let g = send_as(ghost_path, ghost_body).await;
        assert_eq!(
            r.text, g.text,
            "{method} {path}: shop 1's id and a missing one must answer the same"
        );
    }
    // Shop 1's dish in shop 2's set meal, shop 1's category for shop 2's dish.
    let r = send(&app.base, "POST", "/admin/setmeal", as_merchant(&other.token),
        json_body(&json!({"name": "偷菜套餐", "price": "9", "categoryId": own_cat, "setmealDishes": [{"dishId": dish, "copies": 1}]}))).await;
    business(&r, "a set meal of shop 1's dish", "菜品不存在");
    let r = send(
        &app.base,
        "POST",
        "/admin/dish",
        as_merchant(&other.token),
        json_body(&json!({"name": "偷分类", "price": "9", "categoryId": cat})),
    )
    .await;
    business(&r, "a dish in shop 1's category", "请选择菜品分类");
    assert_eq!(menu(&app).await, before, "shop 2 changed the menu");

    // Pages and lists: shop 2's own rows only.
    for (path, theirs) in [
        ("/admin/category/page?page=1&pageSize=100", cat),
        ("/admin/dish/page?page=1&pageSize=100&status=", dish),
        ("/admin/setmeal/page?page=1&pageSize=100&status=", meal),
    ] {
        let r = send(
            &app.base,
            "GET",
            path,
            as_merchant(&other.token),
            Payload::Empty,
        )
        .await;
        let v = success(&r, path);
        let ids: Vec<i64> = v["data"]["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect();
        assert!(!ids.contains(&theirs) && !ids.is_empty(), "{path}: {ids:?}");
    }
    for (path, theirs) in [
        ("/admin/category/list", cat),
        ("/admin/dish/list?name=米饭", dish),
    ] {
        let r = send(
            &app.base,
            "GET",
            path,
            as_merchant(&other.token),
            Payload::Empty,
        )
        .await;
        let v = success(&r, path);
        let rows = v["data"].as_array().unwrap();
        assert!(rows.iter().all(|row| row["id"] != theirs), "{path}: {v}");
    }
}

backend_tests! {
    setmeal_input_is_checked => setmeal_input_is_checked,
    another_shops_menu_is_not_found => another_shops_menu_is_not_found,
}
