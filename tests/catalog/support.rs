//! What the catalog tests share: the stock app's requests as helpers, look-ups of what the
//! server stored, and a second employee of shop 1 (for the audit fields).

use serde_json::{Value, json};

use crate::common::{Merchant, TestApp};

/// The stock app's preset flavor values (`addDishtype.vue#getFlavorListHand`), as it posts
/// them: `JSON.stringify` of the array.
pub(crate) const SPICY: &str = r#"["不辣","微辣","中辣","重辣"]"#;
pub(crate) const AVOID: &str = r#"["不要葱","不要蒜","不要香菜","不要辣"]"#;
pub(crate) const SWEET: &str = r#"["无糖","少糖","半糖","多糖","全糖"]"#;

/// Asserts a success envelope and returns its `data`.
#[track_caller]
pub(crate) fn data(v: Value) -> Value {
    assert_eq!(v["code"], 1, "{v}");
    v["data"].clone()
}

/// Asserts a business refusal with exactly this message.
#[track_caller]
pub(crate) fn refused(v: &Value, msg: &str) {
    assert_eq!(
        (v["code"].as_i64(), v["msg"].as_str()),
        (Some(0), Some(msg)),
        "{v}"
    );
    assert!(v["data"].is_null(), "{v}");
}

/// 新增菜品分类 / 新增套餐分类 as the app posts it (`type` and `sort` as strings); the new
/// category's id.
pub(crate) async fn add_category(m: &Merchant, kind: i64, name: &str, sort: i64) -> i64 {
    let v = m
        .post(
            "/admin/category",
            json!({"name": name, "type": kind.to_string(), "sort": sort.to_string()}),
        )
        .await;
    data(v);
    category_id(m, name).await
}

/// The id of the merchant's category named `name` (through the page's name filter).
pub(crate) async fn category_id(m: &Merchant, name: &str) -> i64 {
    let page = data(
        m.get(&format!(
            "/admin/category/page?page=1&pageSize=10&name={name}"
        ))
        .await,
    );
    let found: Vec<&Value> = page["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["name"] == name)
        .collect();
    assert_eq!(found.len(), 1, "one category named {name}: {page}");
    found[0]["id"].as_i64().unwrap()
}

/// Enables (1) or disables (0) a category as the app does (HTTP 200 is all it checks).
pub(crate) async fn category_status(m: &Merchant, id: i64, status: i64) -> Value {
    m.post(
        &format!("/admin/category/status/{status}?id={id}"),
        json!({}),
    )
    .await
}

/// A flavor as the app posts it.
pub(crate) fn flavor(name: &str, value: &str) -> Value {
    json!({"name": name, "value": value})
}

/// 添加菜品 as the app posts it (price a string, status 0, `code` and image included).
pub(crate) fn dish_body(name: &str, category_id: i64, price: &str, flavors: Vec<Value>) -> Value {
    json!({
        "name": name, "price": price, "code": "", "image": format!("http://localhost/img/{name}.png"),
        "description": format!("{name}的描述"), "status": 0, "categoryId": category_id, "flavors": flavors,
    })
}

/// Adds a dish as the app does; its id.
pub(crate) async fn add_dish(m: &Merchant, body: Value) -> i64 {
    let name = body["name"].as_str().unwrap().to_string();
    data(m.post("/admin/dish", body).await);
    dish_id(m, &name).await
}

/// The id of the merchant's dish named `name`.
pub(crate) async fn dish_id(m: &Merchant, name: &str) -> i64 {
    let page = data(
        m.get(&format!(
            "/admin/dish/page?page=1&pageSize=10&name={name}&status="
        ))
        .await,
    );
    let found: Vec<&Value> = page["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["name"] == name)
        .collect();
    assert_eq!(found.len(), 1, "one dish named {name}: {page}");
    found[0]["id"].as_i64().unwrap()
}

/// 启售 (1) / 停售 (0) of dishes, as the page sends it.
pub(crate) async fn dish_status(m: &Merchant, ids: &str, status: i64) -> Value {
    m.post(&format!("/admin/dish/status/{status}?id={ids}"), json!({}))
        .await
}

/// 添加套餐 as the app posts it: its extras (`idType`, `dishList`, `code`), price a string,
/// status 0, each dish `{copies,dishId,name,price}`.
pub(crate) fn setmeal_body(
    name: &str,
    category_id: i64,
    price: &str,
    dishes: &[(i64, i64)],
) -> Value {
    let dishes: Vec<Value> = dishes
        .iter()
        .map(|(id, copies)| json!({"copies": copies, "dishId": id, "name": "从表单来的名字", "price": 1}))
        .collect();
    json!({
        "name": name, "categoryId": category_id, "price": price, "code": "",
        "image": format!("http://localhost/img/{name}.png"), "description": format!("{name}的描述"),
        "dishList": [], "status": 0, "idType": category_id, "setmealDishes": dishes,
    })
}

/// Adds a set meal as the app does; its id.
pub(crate) async fn add_setmeal(m: &Merchant, body: Value) -> i64 {
    let name = body["name"].as_str().unwrap().to_string();
    data(m.post("/admin/setmeal", body).await);
    setmeal_id(m, &name).await
}

/// The id of the merchant's set meal named `name`.
pub(crate) async fn setmeal_id(m: &Merchant, name: &str) -> i64 {
    let page = data(
        m.get(&format!(
            "/admin/setmeal/page?page=1&pageSize=10&name={name}&status="
        ))
        .await,
    );
    let found: Vec<&Value> = page["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["name"] == name)
        .collect();
    assert_eq!(found.len(), 1, "one set meal named {name}: {page}");
    found[0]["id"].as_i64().unwrap()
}

/// 启售 (1) / 停售 (0) of set meals, as the page sends it.
pub(crate) async fn setmeal_status(m: &Merchant, ids: &str, status: i64) -> Value {
    m.post(
        &format!("/admin/setmeal/status/{status}?id={ids}"),
        json!({}),
    )
    .await
}

/// The status of a dish or set meal, read from the database.
pub(crate) async fn status_of(app: &TestApp, table: &str, id: i64) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT status FROM {table} WHERE id = $1"
    )))
    .bind(id)
    .fetch_one(app.state.store.pool())
    .await
    .unwrap()
}

/// How many rows of `table` match `column = id`.
pub(crate) async fn count(app: &TestApp, table: &str, column: &str, id: i64) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM {table} WHERE {column} = $1"
    )))
    .bind(id)
    .fetch_one(app.state.store.pool())
    .await
    .unwrap()
}

/// The id of an employee by user name.
pub(crate) async fn employee_id(app: &TestApp, username: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM employee WHERE username = $1")
        .bind(username)
        .fetch_one(app.state.store.pool())
        .await
        .unwrap()
}

/// A second merchant account of shop 1 (employee management is another group's), logged in.
pub(crate) async fn second_employee(app: &TestApp) -> Merchant {
    let hash = sky_takeout::auth::hash_password("clerk-pass-123".to_string()).await;
    let mut tx = app.state.store.begin().await.unwrap();
    sky_takeout::store::shops::insert_employee(
        tx.conn(),
        1,
        "clerk",
        "店员",
        &hash,
        app.clock.now_ms(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    app.merchant("clerk", "clerk-pass-123").await
}

/// The demo menu's id of a category, dish or set meal of shop 1 by name.
pub(crate) async fn demo(app: &TestApp, table: &str, name: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT id FROM {table} WHERE shop_id = 1 AND name = $1"
    )))
    .bind(name)
    .fetch_one(app.state.store.pool())
    .await
    .unwrap()
}
