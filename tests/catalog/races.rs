//! Races between the catalog's rules, each started with `tokio::join!` over real HTTP on
//! SQLite and PostgreSQL, for several rounds (they are timing-dependent): whichever wins, the
//! other is refused with its message and the rule holds afterwards.

use serde_json::{Value, json};

use crate::common::{self, Backend};
use crate::support::*;

const ROUNDS: usize = 8;

fn code(v: &Value) -> i64 {
    v["code"].as_i64().unwrap_or(-1)
}

/// Deleting an empty category while a dish is added to it: either the category goes and the
/// dish is refused (请选择菜品分类), or the dish is added and the delete is refused; never a
/// dish without its category.
async fn category_delete_against_dish_add(backend: Backend) {
    let app = common::spawn(backend).await;
    let admin = app.admin().await;
    let mut outcomes = (0, 0);
    for round in 0..ROUNDS {
        let cat = add_category(&admin, 1, &format!("竞速分类{round}"), 1).await;
        let body = dish_body(&format!("竞速菜{round}"), cat, "10", vec![]);
        let path = format!("/admin/category?id={cat}");
        let (deleted, added) = tokio::join!(admin.delete(&path), admin.post("/admin/dish", body),);
        match (code(&deleted), code(&added)) {
            (1, 0) => {
                refused(&added, "请选择菜品分类");
                outcomes.0 += 1;
            }
            (0, 1) => {
                refused(&deleted, "当前分类关联了菜品,不能删除");
                outcomes.1 += 1;
            }
            other => panic!("round {round}: {other:?} {deleted} {added}"),
        }
        let orphans: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM dish d WHERE NOT EXISTS (SELECT 1 FROM category c WHERE c.id = d.category_id)",
        )
        .fetch_one(app.state.store.pool())
        .await
        .unwrap();
        assert_eq!(orphans, 0, "round {round}");
    }
    eprintln!("category delete first / dish add first: {outcomes:?}");
    app.shutdown().await;
}

/// Stopping a dish while a set meal holding it is started: the set meal never ends on sale
/// with the dish stopped.
async fn dish_stop_against_setmeal_start(backend: Backend) {
    let app = common::spawn(backend).await;
    let admin = app.admin().await;
    let chicken = demo(&app, "dish", "宫保鸡丁").await;
    let single = demo(&app, "setmeal", "单人川味套餐").await;
    let (dish_id, meal_id) = (chicken.to_string(), single.to_string());
    for round in 0..ROUNDS {
        data(setmeal_status(&admin, &single.to_string(), 0).await);
        data(dish_status(&admin, &chicken.to_string(), 1).await);
        let (stopped, started) = tokio::join!(
            dish_status(&admin, &dish_id, 0),
            setmeal_status(&admin, &meal_id, 1),
        );
        assert_eq!(code(&stopped), 1, "round {round}: {stopped}");
        if code(&started) == 0 {
            refused(&started, "套餐内包含未启售菜品，无法启售");
        }
        assert_eq!(status_of(&app, "dish", chicken).await, 0);
        assert_eq!(
            status_of(&app, "setmeal", single).await,
            0,
            "round {round}: the set meal is on sale with a stopped dish ({started})"
        );
    }
    app.shutdown().await;
}

/// Deleting a stopped dish while a set meal is created with it: either the dish goes and the
/// set meal is refused (菜品不存在), or the set meal holds it and the delete is refused.
async fn dish_delete_against_setmeal_add(backend: Backend) {
    let app = common::spawn(backend).await;
    let admin = app.admin().await;
    let hot = demo(&app, "category", "热菜").await;
    let popular = demo(&app, "category", "人气套餐").await;
    for round in 0..ROUNDS {
        let dish = add_dish(
            &admin,
            dish_body(&format!("竞速菜{round}"), hot, "10", vec![]),
        )
        .await;
        let body = setmeal_body(&format!("竞速餐{round}"), popular, "20", &[(dish, 1)]);
        let path = format!("/admin/dish?ids={dish}");
        let (deleted, added) =
            tokio::join!(admin.delete(&path), admin.post("/admin/setmeal", body),);
        match (code(&deleted), code(&added)) {
            (1, 0) => refused(&added, "菜品不存在"),
            (0, 1) => refused(&deleted, "当前菜品关联了套餐,不能删除"),
            other => panic!("round {round}: {other:?} {deleted} {added}"),
        }
        let dangling: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM setmeal_dish sd WHERE NOT EXISTS (SELECT 1 FROM dish d WHERE d.id = sd.dish_id)",
        )
        .fetch_one(app.state.store.pool())
        .await
        .unwrap();
        assert_eq!(dangling, 0, "round {round}");
    }
    app.shutdown().await;
}

/// A customer adding a dish while the merchant stops and deletes it: never a server error,
/// and no cart line is left holding the deleted dish.
async fn cart_add_against_dish_delete(backend: Backend) {
    let app = common::spawn(backend).await;
    let admin = app.admin().await;
    let c = app.customer("wx-race-delete").await;
    let hot = demo(&app, "category", "热菜").await;
    for round in 0..ROUNDS {
        let dish = add_dish(
            &admin,
            dish_body(&format!("竞速菜{round}"), hot, "10", vec![]),
        )
        .await;
        data(dish_status(&admin, &dish.to_string(), 1).await);
        let gone = async {
            data(dish_status(&admin, &dish.to_string(), 0).await);
            admin.delete(&format!("/admin/dish?ids={dish}")).await
        };
        let (added, deleted) = tokio::join!(
            c.post("/user/shoppingCart/add", json!({"dishId": dish})),
            gone,
        );
        assert_eq!(code(&deleted), 1, "round {round}: {deleted}");
        if code(&added) == 0 {
            refused(&added, "菜品不存在或已停售");
        }
        assert_eq!(
            count(&app, "shopping_cart", "dish_id", dish).await,
            0,
            "round {round}"
        );
    }
    app.shutdown().await;
}

/// Two categories with one name at once: one is added, the other answers `'<name>'已存在`.
async fn duplicate_names_at_once(backend: Backend) {
    let app = common::spawn(backend).await;
    let admin = app.admin().await;
    for round in 0..ROUNDS {
        let name = format!("同名分类{round}");
        let body = json!({"name": name, "type": "1", "sort": "1"});
        let (a, b) = tokio::join!(
            admin.post("/admin/category", body.clone()),
            admin.post("/admin/category", body.clone()),
        );
        let mut codes = [code(&a), code(&b)];
        codes.sort();
        assert_eq!(codes, [0, 1], "round {round}: {a} {b}");
        let loser = if code(&a) == 0 { &a } else { &b };
        refused(loser, &format!("'{name}'已存在"));
        category_id(&admin, &name).await;
    }
    app.shutdown().await;
}

backend_tests! {
    race_category_delete_dish_add => category_delete_against_dish_add,
    race_dish_stop_setmeal_start => dish_stop_against_setmeal_start,
    race_dish_delete_setmeal_add => dish_delete_against_setmeal_add,
    race_cart_add_dish_delete => cart_add_against_dish_delete,
    race_duplicate_names => duplicate_names_at_once,
}
