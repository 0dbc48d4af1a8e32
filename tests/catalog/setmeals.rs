//! 套餐管理 as the stock admin app drives it: 添加套餐 (the form's extras, dishes as
//! `{copies,dishId,name,price}`), the page, the edit form (GET, the whole set meal posted
//! back), 启售 onto the customer menu, and the rules: on sale cannot be deleted, a stopped
//! dish cannot be in a set meal on sale, a refused edit changes nothing.

use serde_json::{Value, json};

use crate::categories::assert_minutes;
use crate::common::{self, Backend};
use crate::support::*;

fn portions(meal: &Value) -> Vec<(i64, String, Value, i64)> {
    meal["setmealDishes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["dishId"].as_i64().unwrap(),
                d["name"].as_str().unwrap().to_string(),
                d["price"].clone(),
                d["copies"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// 添加套餐 with the app's body: the dishes' names and prices are the dishes' own (not the
/// form's); the page and the edit form read every field they show; the edit posts the GET
/// result back (a number price, status 1 from the form, reversed dishes) and replaces the
/// dishes, keeping the status; 启售 lists it to customers.
async fn setmeals_as_the_stock_app(backend: Backend) {
    let app = common::spawn(backend).await;
    let admin = app.admin().await;
    let admin_id = employee_id(&app, "admin").await;
    let cat = add_category(&admin, 2, "超值套餐", 6).await;
    data(category_status(&admin, cat, 1).await);
    let chicken = demo(&app, "dish", "宫保鸡丁").await;
    let rice = demo(&app, "dish", "米饭").await;
    let cola = demo(&app, "dish", "可乐").await;
    let body = setmeal_body("双人超值餐", cat, "88", &[(chicken, 1), (rice, 2)]);
    let id = add_setmeal(&admin, body).await;

    let page = data(
        admin
            .get("/admin/setmeal/page?page=1&pageSize=10&name=超值&status=")
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
            &json!("双人超值餐"),
            &json!(cat),
            &json!("超值套餐"),
            &json!(88.0),
            &json!(0)
        ),
        "{row}"
    );
    assert_eq!(row["image"], "http://localhost/img/双人超值餐.png");
    assert_minutes(&row["updateTime"]);
    assert_eq!(
        (&row["createUser"], &row["updateUser"]),
        (&json!(admin_id), &json!(admin_id))
    );
    let expected = vec![
        (chicken, "宫保鸡丁".to_string(), json!(38.0), 1),
        (rice, "米饭".to_string(), json!(2.0), 2),
    ];
    assert_eq!(portions(row), expected, "the page carries the dishes");

    let got = data(admin.get(&format!("/admin/setmeal/{id}")).await);
    assert_eq!(portions(&got), expected);
    for d in got["setmealDishes"].as_array().unwrap() {
        assert_eq!(d["setmealId"], id);
        assert!(d["id"].as_i64().is_some(), "{d}");
    }
    assert_eq!(
        (&got["categoryId"], &got["description"]),
        (&json!(cat), &json!("双人超值餐的描述"))
    );

    // The edit form: {...GET, status: 1, price: 99 (a number), categoryId, idType,
    // setmealDishes: the table reversed, copies changed}, minus updateTime.
    let clerk = second_employee(&app).await;
    let mut edit = got.clone();
    let obj = edit.as_object_mut().unwrap();
    obj.remove("updateTime");
    obj.insert("status".into(), json!(1));
    obj.insert("price".into(), json!(99));
    obj.insert("idType".into(), json!(cat));
    obj.insert(
        "setmealDishes".into(),
        json!([
            {"copies": 2, "dishId": cola, "name": "可乐", "price": 5},
            {"copies": 1, "dishId": rice, "name": "米饭", "price": 2},
            {"copies": 1, "dishId": chicken, "name": "宫保鸡丁", "price": 38},
        ]),
    );
    data(clerk.put("/admin/setmeal", edit).await);
    let after = data(admin.get(&format!("/admin/setmeal/{id}")).await);
    assert_eq!(
        (&after["price"], &after["status"]),
        (&json!(99.0), &json!(0)),
        "the status stays"
    );
    assert_eq!(after["updateUser"], employee_id(&app, "clerk").await);
    let dishes: Vec<(i64, i64)> = portions(&after).iter().map(|p| (p.0, p.3)).collect();
    assert_eq!(dishes, [(cola, 2), (rice, 1), (chicken, 1)]);
    assert_eq!(
        count(&app, "setmeal_dish", "setmeal_id", id).await,
        3,
        "replaced, not added"
    );

    // 启售 puts it on the customer menu.
    let c = app.customer("wx-meal-1").await;
    let menu_path = format!("/user/setmeal/list?categoryId={cat}");
    assert_eq!(data(c.get(&menu_path).await), json!([]));
    data(setmeal_status(&admin, &id.to_string(), 1).await);
    let listed = data(c.get(&menu_path).await);
    assert_eq!(
        (&listed[0]["id"], &listed[0]["price"], &listed[0]["status"]),
        (&json!(id), &json!(99.0), &json!(1))
    );
    app.shutdown().await;
}

/// A set meal on sale cannot be deleted (in a batch neither: nothing goes); one holding a
/// stopped dish cannot start, cannot be created on sale, and one on sale cannot be edited
/// to hold a stopped dish; stopped, it goes with its dishes and the cart lines holding it.
async fn setmeal_rules(backend: Backend) {
    let app = common::spawn(backend).await;
    let admin = app.admin().await;
    let single = demo(&app, "setmeal", "单人川味套餐").await;
    let business = demo(&app, "setmeal", "商务简餐").await;
    let pork = demo(&app, "dish", "红烧肉").await;
    let noodles = demo(&app, "dish", "牛肉面").await;
    let popular = demo(&app, "category", "人气套餐").await;
    refused(
        &admin.delete(&format!("/admin/setmeal?ids={single}")).await,
        "起售中的套餐不能删除",
    );
    data(setmeal_status(&admin, &business.to_string(), 0).await);
    let both = format!("/admin/setmeal?ids={business},{single}");
    refused(&admin.delete(&both).await, "起售中的套餐不能删除");
    assert_eq!(
        count(&app, "setmeal", "id", business).await,
        1,
        "all or nothing"
    );

    // 商务简餐 holds 红烧肉: stopped, the set meal cannot start.
    data(dish_status(&admin, &pork.to_string(), 0).await);
    refused(
        &setmeal_status(&admin, &business.to_string(), 1).await,
        "套餐内包含未启售菜品，无法启售",
    );
    refused(
        &setmeal_status(&admin, &format!("{single},{business}"), 1).await,
        "套餐内包含未启售菜品，无法启售",
    );
    let mut body = setmeal_body("红烧肉套餐", popular, "50", &[(pork, 1)]);
    body["status"] = json!(1);
    refused(
        &admin.post("/admin/setmeal", body.clone()).await,
        "套餐内包含未启售菜品，无法启售",
    );
    body["status"] = json!(0);
    add_setmeal(&admin, body).await;
    let v = admin
        .put(
            "/admin/setmeal",
            json!({"id": single, "setmealDishes": [{"dishId": pork, "copies": 1}]}),
        )
        .await;
    refused(&v, "套餐内包含未启售菜品，无法启售");
    assert_eq!(
        count(&app, "setmeal_dish", "setmeal_id", single).await,
        3,
        "unchanged"
    );
    data(
        admin
            .put(
                "/admin/setmeal",
                json!({"id": single, "setmealDishes": [{"dishId": noodles, "copies": 1}]}),
            )
            .await,
    );
    assert_eq!(status_of(&app, "setmeal", single).await, 1);

    // Back on sale, the dish lets it start; stopped again, it can be deleted.
    data(dish_status(&admin, &pork.to_string(), 1).await);
    data(setmeal_status(&admin, &business.to_string(), 1).await);
    let c = app.customer("wx-meal-del").await;
    data(
        c.post("/user/shoppingCart/add", json!({"setmealId": business}))
            .await,
    );
    data(setmeal_status(&admin, &business.to_string(), 0).await);
    data(
        admin
            .delete(&format!("/admin/setmeal?ids={business}"))
            .await,
    );
    for (table, column) in [
        ("setmeal", "id"),
        ("setmeal_dish", "setmeal_id"),
        ("shopping_cart", "setmeal_id"),
    ] {
        assert_eq!(count(&app, table, column, business).await, 0, "{table}");
    }
    refused(
        &admin.get(&format!("/admin/setmeal/{business}")).await,
        "套餐不存在",
    );
    refused(
        &admin
            .delete(&format!("/admin/setmeal?ids={business}"))
            .await,
        "套餐不存在",
    );
    app.shutdown().await;
}

/// An edit that is refused (the name is taken) changes nothing: not the dishes it would have
/// replaced (one transaction). Renaming or repricing a dish shows in the set meals holding it.
async fn setmeal_edits_are_one_transaction(backend: Backend) {
    let app = common::spawn(backend).await;
    let admin = app.admin().await;
    let single = demo(&app, "setmeal", "单人川味套餐").await;
    let cola = demo(&app, "dish", "可乐").await;
    let before = data(admin.get(&format!("/admin/setmeal/{single}")).await);
    let mut edit = before.clone();
    edit["name"] = json!("商务简餐");
    edit["setmealDishes"] = json!([{"dishId": cola, "copies": 3}]);
    refused(&admin.put("/admin/setmeal", edit).await, "'商务简餐'已存在");
    assert_eq!(
        data(admin.get(&format!("/admin/setmeal/{single}")).await),
        before
    );

    let chicken = demo(&app, "dish", "宫保鸡丁").await;
    data(
        admin
            .put(
                "/admin/dish",
                json!({"id": chicken, "name": "宫爆鸡丁", "price": "39.9"}),
            )
            .await,
    );
    let meal = data(admin.get(&format!("/admin/setmeal/{single}")).await);
    assert_eq!(
        portions(&meal)[0],
        (chicken, "宫爆鸡丁".to_string(), json!(39.9), 1)
    );
    let c = app.customer("wx-meal-rename").await;
    let items = data(c.get(&format!("/user/setmeal/dish/{single}")).await);
    assert_eq!(items[0]["name"], "宫爆鸡丁");
    app.shutdown().await;
}

backend_tests! {
    stock_setmeals => setmeals_as_the_stock_app,
    setmeal_rules => setmeal_rules,
    setmeal_edit_atomic => setmeal_edits_are_one_transaction,
}
