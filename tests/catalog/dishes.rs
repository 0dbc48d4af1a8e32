//! 菜品管理 as the stock admin app drives it: 添加菜品 with flavors, the page (`status=`),
//! the edit form (GET, then the whole dish posted back), 启售 onto the customer menu, the
//! set-meal form's picker (`/admin/dish/list`), the deletion rules, and 停售 stopping the set
//! meals that hold the dish.

use serde_json::{Value, json};

use crate::categories::assert_minutes;
use crate::common::{self, Backend};
use crate::support::*;

fn flavors_of(dish: &Value) -> Vec<(String, Vec<String>)> {
    dish["flavors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let value: Vec<String> = serde_json::from_str(f["value"].as_str().unwrap()).unwrap();
            (f["name"].as_str().unwrap().to_string(), value)
        })
        .collect()
}

fn strings(v: &str) -> Vec<String> {
    serde_json::from_str(v).unwrap()
}

/// 添加菜品 (price "58.5", two preset flavors, status 0), the page and the edit form read
/// every field they show; the edit posts the GET result back (price as a string, status, the
/// flavors rebuilt with their ids) and replaces the flavors, keeps the status and records the
/// editor; 启售 lists it to customers with its flavors.
async fn dishes_as_the_stock_app(backend: Backend) {
    let app = common::spawn(backend).await;
    let admin = app.admin().await;
    let admin_id = employee_id(&app, "admin").await;
    let cat = add_category(&admin, 1, "川湘小炒", 5).await;
    data(category_status(&admin, cat, 1).await);
    let body = dish_body(
        "水煮牛肉",
        cat,
        "58.5",
        vec![flavor("辣度", SPICY), flavor("忌口", AVOID)],
    );
    let id = add_dish(&admin, body).await;

    let page = data(
        admin
            .get("/admin/dish/page?page=1&pageSize=10&name=水煮&status=")
            .await,
    );
    assert_eq!(page["total"], 1, "{page}");
    let row = &page["records"][0];
    assert_eq!(
        (
            &row["id"],
            &row["name"],
            &row["categoryId"],
            &row["categoryName"],
            &row["price"],
            &row["status"]
        ),
        (
            &json!(id),
            &json!("水煮牛肉"),
            &json!(cat),
            &json!("川湘小炒"),
            &json!(58.5),
            &json!(0)
        ),
        "{row}"
    );
    assert_eq!(row["image"], "http://localhost/img/水煮牛肉.png");
    assert_eq!(row["description"], "水煮牛肉的描述");
    assert_minutes(&row["updateTime"]);
    assert_eq!(
        (&row["createUser"], &row["updateUser"]),
        (&json!(admin_id), &json!(admin_id))
    );
    assert_eq!(
        flavors_of(row).len(),
        2,
        "the page carries the flavors: {row}"
    );

    let got = data(admin.get(&format!("/admin/dish/{id}")).await);
    assert_eq!(
        (&got["price"], &got["categoryId"], &got["status"]),
        (&json!(58.5), &json!(cat), &json!(0))
    );
    assert_eq!(
        flavors_of(&got),
        [
            ("辣度".to_string(), strings(SPICY)),
            ("忌口".to_string(), strings(AVOID))
        ]
    );
    for f in got["flavors"].as_array().unwrap() {
        assert_eq!(f["dishId"], id);
        assert!(f["id"].as_i64().is_some(), "{f}");
    }

    // The edit form: {...GET, price: String(price), status: 1 (the form's switch), flavors
    // rebuilt}, minus createTime / updateTime; one flavor dropped, 甜味 added.
    let clerk = second_employee(&app).await;
    let mut edit = got.clone();
    let obj = edit.as_object_mut().unwrap();
    obj.remove("createTime");
    obj.remove("updateTime");
    obj.insert("price".into(), json!("60"));
    obj.insert("status".into(), json!(1));
    let kept = got["flavors"][0].clone();
    obj.insert("flavors".into(), json!([kept, flavor("甜味", SWEET)]));
    data(clerk.put("/admin/dish", edit).await);
    let after = data(admin.get(&format!("/admin/dish/{id}")).await);
    assert_eq!(
        (&after["price"], &after["status"], &after["name"]),
        (&json!(60.0), &json!(0), &json!("水煮牛肉"))
    );
    assert_eq!(after["updateUser"], employee_id(&app, "clerk").await);
    assert_eq!(after["createUser"], admin_id);
    assert_eq!(
        flavors_of(&after),
        [
            ("辣度".to_string(), strings(SPICY)),
            ("甜味".to_string(), strings(SWEET))
        ]
    );
    assert_eq!(
        count(&app, "dish_flavor", "dish_id", id).await,
        2,
        "replaced, not added"
    );

    // 启售 puts it on the customer menu, with its flavors; the picker lists it.
    let customer = app.customer("wx-dish-1").await;
    let menu_path = format!("/user/dish/list?categoryId={cat}");
    assert_eq!(
        data(customer.get(&menu_path).await),
        json!([]),
        "停售 when new"
    );
    data(dish_status(&admin, &id.to_string(), 1).await);
    let listed = data(customer.get(&menu_path).await);
    assert_eq!(listed[0]["name"], "水煮牛肉");
    assert_eq!(
        (&listed[0]["price"], flavors_of(&listed[0]).len()),
        (&json!(60.0), 2)
    );
    let picker = data(
        admin
            .get(&format!("/admin/dish/list?categoryId={cat}"))
            .await,
    );
    assert_eq!(picker.as_array().unwrap().len(), 1, "{picker}");
    assert_eq!(
        (&picker[0]["id"], &picker[0]["price"], &picker[0]["status"]),
        (&json!(id), &json!(60.0), &json!(1))
    );
    app.shutdown().await;
}

/// `/admin/dish/list`: on sale only; `?categoryId=` one category; `?name=` alone (the set-meal
/// form's search box) every dish on sale of the shop, never another shop's.
async fn the_pickers_list_dishes_on_sale(backend: Backend) {
    let app = common::spawn(backend).await;
    let admin = app.admin().await;
    app.add_shop("小馆", "xiaoguan", "xiaoguan-pass").await;
    let hot = demo(&app, "category", "热菜").await;
    let pork = demo(&app, "dish", "红烧肉").await;
    data(dish_status(&admin, &pork.to_string(), 0).await);
    let ids = |v: Value| -> Vec<i64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_i64().unwrap())
            .collect()
    };
    let in_hot = ids(data(
        admin
            .get(&format!("/admin/dish/list?categoryId={hot}"))
            .await,
    ));
    assert_eq!(in_hot.len(), 3, "宫保鸡丁, 鱼香肉丝, 麻婆豆腐: {in_hot:?}");
    assert!(!in_hot.contains(&pork), "停售 is not offered");
    let searched = ids(data(admin.get("/admin/dish/list?name=牛").await));
    assert_eq!(
        searched.len(),
        9,
        "every dish on sale of shop 1: {searched:?}"
    );
    let shop1: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM dish WHERE shop_id = 1 AND status = 1")
            .fetch_all(app.state.store.pool())
            .await
            .unwrap();
    assert!(
        searched.iter().all(|id| shop1.contains(id)),
        "{searched:?} {shop1:?}"
    );
    assert_eq!(ids(data(admin.get("/admin/dish/list").await)).len(), 9);
    app.shutdown().await;
}

/// 删除: a dish on sale is refused (in a batch too: nothing goes); a stopped dish in a set
/// meal is refused; a stopped free dish goes with its flavors and the cart lines holding it.
async fn dish_deletion_rules(backend: Backend) {
    let app = common::spawn(backend).await;
    let admin = app.admin().await;
    let chicken = demo(&app, "dish", "宫保鸡丁").await;
    let tofu = demo(&app, "dish", "麻婆豆腐").await;
    refused(
        &admin.delete(&format!("/admin/dish?ids={chicken}")).await,
        "起售中的菜品不能删除",
    );
    data(dish_status(&admin, &tofu.to_string(), 0).await);
    // A customer's cart still holds the tofu (added while on sale).
    let c = app.customer("wx-dish-del").await;
    data(dish_status(&admin, &tofu.to_string(), 1).await);
    data(
        c.post(
            "/user/shoppingCart/add",
            json!({"dishId": tofu, "dishFlavor": "微辣"}),
        )
        .await,
    );
    data(dish_status(&admin, &tofu.to_string(), 0).await);
    let both = format!("/admin/dish?ids={tofu},{chicken}");
    refused(&admin.delete(&both).await, "起售中的菜品不能删除");
    assert_eq!(count(&app, "dish", "id", tofu).await, 1, "all or nothing");

    data(dish_status(&admin, &chicken.to_string(), 0).await);
    refused(&admin.delete(&both).await, "当前菜品关联了套餐,不能删除");
    refused(
        &admin.delete(&format!("/admin/dish?ids={chicken}")).await,
        "当前菜品关联了套餐,不能删除",
    );
    assert_eq!(count(&app, "dish", "id", tofu).await, 1);

    data(
        admin
            .delete(&format!("/admin/dish?ids={tofu},{tofu}"))
            .await,
    );
    assert_eq!(count(&app, "dish", "id", tofu).await, 0);
    assert_eq!(
        count(&app, "dish_flavor", "dish_id", tofu).await,
        0,
        "its flavors go too"
    );
    assert_eq!(
        count(&app, "shopping_cart", "dish_id", tofu).await,
        0,
        "and the cart lines"
    );
    assert_eq!(data(c.get("/user/shoppingCart/list").await), json!([]));
    refused(
        &admin.delete(&format!("/admin/dish?ids={tofu}")).await,
        "菜品不存在",
    );
    refused(
        &admin.get(&format!("/admin/dish/{tofu}")).await,
        "菜品不存在",
    );
    app.shutdown().await;
}

/// 停售 of a dish takes every set meal on sale that holds it off sale (recording who), and
/// no other; 启售 of the dish starts none of them again.
async fn stopping_a_dish_stops_its_setmeals(backend: Backend) {
    let app = common::spawn(backend).await;
    let admin = app.admin().await;
    let admin_id = employee_id(&app, "admin").await;
    let chicken = demo(&app, "dish", "宫保鸡丁").await;
    let single = demo(&app, "setmeal", "单人川味套餐").await;
    let double = demo(&app, "setmeal", "双人分享套餐").await;
    let business = demo(&app, "setmeal", "商务简餐").await;
    for meal in [single, double, business] {
        assert_eq!(
            status_of(&app, "setmeal", meal).await,
            1,
            "the demo set meals are on sale"
        );
    }
    data(dish_status(&admin, &chicken.to_string(), 0).await);
    assert_eq!(status_of(&app, "dish", chicken).await, 0);
    assert_eq!(status_of(&app, "setmeal", single).await, 0);
    assert_eq!(status_of(&app, "setmeal", double).await, 0);
    assert_eq!(
        status_of(&app, "setmeal", business).await,
        1,
        "it does not hold the dish"
    );
    let meal = data(admin.get(&format!("/admin/setmeal/{single}")).await);
    assert_eq!(
        (&meal["status"], &meal["updateUser"]),
        (&json!(0), &json!(admin_id))
    );

    data(dish_status(&admin, &chicken.to_string(), 1).await);
    assert_eq!(
        status_of(&app, "setmeal", single).await,
        0,
        "no set meal starts by itself"
    );
    data(setmeal_status(&admin, &single.to_string(), 1).await);
    assert_eq!(status_of(&app, "setmeal", single).await, 1);
    app.shutdown().await;
}

/// An edit that is refused (the name is taken) changes nothing: not the price, not the
/// flavors it would have replaced (one transaction).
async fn a_refused_dish_edit_changes_nothing(backend: Backend) {
    let app = common::spawn(backend).await;
    let admin = app.admin().await;
    let chicken = demo(&app, "dish", "宫保鸡丁").await;
    let before = data(admin.get(&format!("/admin/dish/{chicken}")).await);
    let mut edit = before.clone();
    edit["name"] = json!("鱼香肉丝");
    edit["price"] = json!("1");
    edit["flavors"] = json!([flavor("甜味", SWEET)]);
    refused(&admin.put("/admin/dish", edit).await, "'鱼香肉丝'已存在");
    let after = data(admin.get(&format!("/admin/dish/{chicken}")).await);
    assert_eq!(after, before, "nothing changed");
    app.shutdown().await;
}

backend_tests! {
    stock_dishes => dishes_as_the_stock_app,
    dish_pickers => the_pickers_list_dishes_on_sale,
    dish_deletion => dish_deletion_rules,
    dish_stop_cascade => stopping_a_dish_stops_its_setmeals,
    dish_edit_atomic => a_refused_dish_edit_changes_nothing,
}
