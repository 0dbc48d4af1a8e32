//! The merchant's menu endpoints under hostile input, categories and dishes here (set meals
//! and another shop's ids: `catalog_setmeals`): wrong types, absurd ids, oversized and empty
//! names, NUL characters, flavor values that are not JSON arrays, bad prices and statuses.
//! Every reply is the envelope (HTTP 400 for what cannot be parsed, a business refusal with
//! its message otherwise), never a 5xx, and a snapshot of the menu's tables shows nothing was
//! written.

use serde_json::{Value, json};

use crate::common::{self, Backend, TestApp};
use crate::support::*;

/// (id, shop, type, name, sort, status, update_user)
type CategoryRow = (i64, i64, i64, String, i64, i64, Option<i64>);
/// (id, shop, category, name, price, status, image, description)
type DishRow = (i64, i64, i64, String, i64, i64, String, String);

/// Every row of the menu's tables, and the cart lines.
#[derive(Debug, PartialEq)]
pub(crate) struct Menu {
    /// (id, shop, type, name, sort, status, update_user)
    categories: Vec<CategoryRow>,
    /// (id, shop, category, name, price, status, image, description)
    dishes: Vec<DishRow>,
    /// (id, dish, name, value)
    flavors: Vec<(i64, i64, String, String)>,
    /// (id, shop, category, name, price, status, image)
    setmeals: Vec<(i64, i64, i64, String, i64, i64, String)>,
    /// (id, set meal, dish, copies)
    setmeal_dishes: Vec<(i64, i64, i64, i64)>,
    cart: Vec<CartSnap>,
}

pub(crate) async fn menu(app: &TestApp) -> Menu {
    let pool = app.state.store.pool();
    macro_rules! rows {
        ($sql:literal) => {
            sqlx::query_as($sql).fetch_all(pool).await.unwrap()
        };
    }
    Menu {
        categories: rows!(
            "SELECT id, shop_id, type, name, sort, status, update_user FROM category ORDER BY id"
        ),
        dishes: rows!(
            "SELECT id, shop_id, category_id, name, price, status, image, description FROM dish ORDER BY id"
        ),
        flavors: rows!("SELECT id, dish_id, name, value FROM dish_flavor ORDER BY id"),
        setmeals: rows!(
            "SELECT id, shop_id, category_id, name, price, status, image FROM setmeal ORDER BY id"
        ),
        setmeal_dishes: rows!(
            "SELECT id, setmeal_id, dish_id, copies FROM setmeal_dish ORDER BY id"
        ),
        cart: rows!(
            "SELECT user_id, dish_id, setmeal_id, dish_flavor, number FROM shopping_cart ORDER BY id"
        ),
    }
}

pub(crate) async fn id_of(app: &TestApp, table: &str, shop: i64, name: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT id FROM {table} WHERE shop_id = $1 AND name = $2"
    )))
    .bind(shop)
    .bind(name)
    .fetch_one(app.state.store.pool())
    .await
    .unwrap()
}

/// What a request must get back.
pub(crate) enum Want {
    /// HTTP 400 with the envelope.
    Bad,
    /// HTTP 200, code 0, this message.
    No(&'static str),
}

/// Sends each (method, path, body) as shop 1's admin and checks the reply.
pub(crate) async fn expect_all(
    app: &TestApp,
    token: &str,
    cases: Vec<(&str, String, Option<Value>, Want)>,
) {
    for (method, path, body, want) in cases {
        let payload = body.as_ref().map(json_body).unwrap_or(Payload::Empty);
        let r = send(&app.base, method, &path, as_merchant(token), payload).await;
        let what = format!(
            "{method} {path} {}",
            body.map(|b| b.to_string()).unwrap_or_default()
        );
        match want {
            Want::Bad => bad_request(&r, &what),
            Want::No(msg) => business(&r, &what, msg),
        }
    }
}

/// Wrongly-typed, oversized, empty and out-of-range fields of every write: categories.
async fn category_input_is_checked(backend: Backend) {
    let app = common::spawn(backend).await;
    let admin = app.admin().await;
    let hot = id_of(&app, "category", 1, "热菜").await;
    let before = menu(&app).await;
    let post = |body: Value, want| ("POST", "/admin/category".to_string(), Some(body), want);
    let put = |body: Value, want| ("PUT", "/admin/category".to_string(), Some(body), want);
    let long = "菜".repeat(33);
    let huge = "菜".repeat(20_000);
    let cases = vec![
        post(
            json!({"name": "新分类", "type": "x", "sort": "1"}),
            Want::Bad,
        ),
        post(
            json!({"name": "新分类", "type": [1], "sort": "1"}),
            Want::Bad,
        ),
        post(
            json!({"name": "新分类", "type": "1", "sort": "abc"}),
            Want::Bad,
        ),
        post(
            json!({"name": "新分类", "type": "1", "sort": 1.5}),
            Want::Bad,
        ),
        post(json!({"name": 7, "type": "9"}), Want::No("分类类型错误")),
        post(
            json!({"name": "新分类", "type": "3", "sort": "1"}),
            Want::No("分类类型错误"),
        ),
        post(
            json!({"name": "新分类", "sort": "1"}),
            Want::No("分类类型错误"),
        ),
        post(json!({"type": "1", "sort": "1"}), Want::No("名称不能为空")),
        post(json!({"name": "  ", "type": "1"}), Want::No("名称不能为空")),
        post(
            json!({"name": long, "type": "1"}),
            Want::No("名称不能超过32个字符"),
        ),
        post(
            json!({"name": huge, "type": "1"}),
            Want::No("名称不能超过32个字符"),
        ),
        post(json!({"name": "新\u{0}分类", "type": "1"}), Want::Bad),
        post(
            json!({"name": "新分类", "type": "1", "sort": "100"}),
            Want::No("排序只能输入0-99数字"),
        ),
        post(
            json!({"name": "新分类", "type": "1", "sort": "-1"}),
            Want::No("排序只能输入0-99数字"),
        ),
        put(json!({"name": "无编号"}), Want::Bad),
        put(json!({"id": "x", "name": "a"}), Want::Bad),
        put(
            json!({"id": hot, "name": long}),
            Want::No("名称不能超过32个字符"),
        ),
        put(
            json!({"id": hot, "sort": 1000}),
            Want::No("排序只能输入0-99数字"),
        ),
        put(
            json!({"id": 987654321, "name": "不存在"}),
            Want::No("分类不存在"),
        ),
        (
            "POST",
            format!("/admin/category/status/2?id={hot}"),
            None,
            Want::No("状态错误"),
        ),
        (
            "POST",
            format!("/admin/category/status/x?id={hot}"),
            None,
            Want::Bad,
        ),
        ("POST", "/admin/category/status/1".into(), None, Want::Bad),
        (
            "POST",
            "/admin/category/status/1?id=1,2".into(),
            None,
            Want::Bad,
        ),
        (
            "POST",
            "/admin/category/status/1?id=0".into(),
            None,
            Want::No("分类不存在"),
        ),
        (
            "DELETE",
            "/admin/category?id=-1".into(),
            None,
            Want::No("分类不存在"),
        ),
        (
            "DELETE",
            "/admin/category?id=99999999999999999999".into(),
            None,
            Want::Bad,
        ),
        ("DELETE", "/admin/category".into(), None, Want::Bad),
        ("GET", "/admin/category/page?page=x".into(), None, Want::Bad),
        ("GET", "/admin/category/list?type=x".into(), None, Want::Bad),
    ];
    expect_all(&app, &admin.token, cases).await;
    assert_eq!(
        menu(&app).await,
        before,
        "refused category writes changed the menu"
    );
}

/// Wrongly-typed, oversized and out-of-range fields of dish writes; flavor values that are
/// not JSON arrays of choices; another shop's or a set-meal category.
async fn dish_input_is_checked(backend: Backend) {
    let app = common::spawn(backend).await;
    let admin = app.admin().await;
    let shop2 = app.add_shop("隔壁", "gebi", "gebi-pass-123").await;
    let hot = id_of(&app, "category", 1, "热菜").await;
    let popular = id_of(&app, "category", 1, "人气套餐").await;
    let theirs = id_of(&app, "category", shop2, "热菜").await;
    let chicken = id_of(&app, "dish", 1, "宫保鸡丁").await;
    let before = menu(&app).await;
    let dish = |patch: Value| {
        let mut d = json!({"name": "新菜", "price": "12.5", "categoryId": hot, "image": "", "description": "",
                           "status": 0, "flavors": [{"name": "辣度", "value": "[\"不辣\",\"微辣\"]"}]});
        for (k, v) in patch.as_object().unwrap() {
            d[k] = v.clone();
        }
        d
    };
    let post = |patch: Value, want| ("POST", "/admin/dish".to_string(), Some(dish(patch)), want);
    let put = |body: Value, want| ("PUT", "/admin/dish".to_string(), Some(body), want);
    let flavors = |value: Value| json!({"flavors": [{"name": "辣度", "value": value}]});
    let cases = vec![
        post(json!({"price": "12.345"}), Want::Bad),
        post(json!({"price": "abc"}), Want::Bad),
        post(json!({"price": "1e3"}), Want::Bad),
        post(json!({"price": [12]}), Want::Bad),
        post(json!({"price": "0"}), Want::No("价格必须大于0")),
        post(json!({"price": "-5"}), Want::No("价格必须大于0")),
        post(
            json!({"price": "1000000"}),
            Want::No("价格不能超过999999.99"),
        ),
        post(json!({"price": "99999999999999999999"}), Want::Bad),
        post(json!({"price": null}), Want::No("请填写价格")),
        post(json!({"categoryId": "x"}), Want::Bad),
        post(json!({"categoryId": null}), Want::No("请选择菜品分类")),
        post(json!({"categoryId": 987654321}), Want::No("请选择菜品分类")),
        post(json!({"categoryId": -1}), Want::No("请选择菜品分类")),
        post(json!({"categoryId": popular}), Want::No("请选择菜品分类")),
        post(json!({"categoryId": theirs}), Want::No("请选择菜品分类")),
        post(
            json!({"name": "菜".repeat(33)}),
            Want::No("名称不能超过32个字符"),
        ),
        post(json!({"name": "宫保鸡丁"}), Want::No("'宫保鸡丁'已存在")),
        post(
            json!({"description": "字".repeat(256)}),
            Want::No("描述不能超过255个字符"),
        ),
        post(
            json!({"image": format!("http://x/{}", "a".repeat(600))}),
            Want::No("图片地址过长"),
        ),
        post(json!({"status": 2}), Want::No("状态错误")),
        post(json!({"status": "on"}), Want::Bad),
        post(json!({"flavors": "辣度"}), Want::Bad),
        post(
            json!({"flavors": [{"name": "辣度", "value": ["不辣"]}]}),
            Want::Bad,
        ),
        post(
            flavors(json!("不辣,微辣")),
            Want::No("口味选项必须是1到20个选项的JSON数组"),
        ),
        post(
            flavors(json!("[]")),
            Want::No("口味选项必须是1到20个选项的JSON数组"),
        ),
        post(
            flavors(json!("[1,2]")),
            Want::No("口味选项必须是1到20个选项的JSON数组"),
        ),
        post(
            flavors(json!("{\"a\":1}")),
            Want::No("口味选项必须是1到20个选项的JSON数组"),
        ),
        post(
            flavors(json!("[\"不辣\"")),
            Want::No("口味选项必须是1到20个选项的JSON数组"),
        ),
        post(
            flavors(json!("[\"\\u0000\"]")),
            Want::No("口味选项必须是1到20个选项的JSON数组"),
        ),
        post(
            flavors(json!("[\"a\\nb\"]")),
            Want::No("口味选项必须是1到20个选项的JSON数组"),
        ),
        post(
            json!({"flavors": [{"name": "", "value": "[\"a\"]"}]}),
            Want::No("口味名称不能为空"),
        ),
        post(
            json!({"flavors": [{"value": "[\"a\"]"}]}),
            Want::No("口味名称不能为空"),
        ),
        post(
            json!({"flavors": [{"name": "辣度", "value": "[\"a\"]"}, {"name": "辣度", "value": "[\"b\"]"}]}),
            Want::No("口味名称重复"),
        ),
        post(
            json!({"flavors": (0..11).map(|i| json!({"name": format!("f{i}"), "value": "[\"a\"]"})).collect::<Vec<_>>()}),
            Want::No("口味最多10种"),
        ),
        put(json!({"name": "无编号"}), Want::Bad),
        put(
            json!({"id": 987654321, "name": "不存在"}),
            Want::No("菜品不存在"),
        ),
        put(
            json!({"id": chicken, "price": "0"}),
            Want::No("价格必须大于0"),
        ),
        put(
            json!({"id": chicken, "categoryId": popular}),
            Want::No("请选择菜品分类"),
        ),
        put(
            json!({"id": chicken, "flavors": [{"name": "辣度", "value": "x"}]}),
            Want::No("口味选项必须是1到20个选项的JSON数组"),
        ),
        (
            "POST",
            format!("/admin/dish/status/2?id={chicken}"),
            None,
            Want::No("状态错误"),
        ),
        ("POST", "/admin/dish/status/0?id=0".into(), None, Want::Bad),
        (
            "POST",
            "/admin/dish/status/0?id=1,,2".into(),
            None,
            Want::Bad,
        ),
        (
            "POST",
            "/admin/dish/status/0?id=987654321".into(),
            None,
            Want::No("菜品不存在"),
        ),
        ("DELETE", "/admin/dish?ids=".into(), None, Want::Bad),
        ("DELETE", "/admin/dish?ids=-1".into(), None, Want::Bad),
        ("DELETE", "/admin/dish?ids=abc".into(), None, Want::Bad),
        (
            "DELETE",
            "/admin/dish?ids=987654321".into(),
            None,
            Want::No("菜品不存在"),
        ),
        ("GET", "/admin/dish/0".into(), None, Want::No("菜品不存在")),
        ("GET", "/admin/dish/-7".into(), None, Want::No("菜品不存在")),
        (
            "GET",
            "/admin/dish/99999999999999999999".into(),
            None,
            Want::Bad,
        ),
        ("GET", "/admin/dish/page?status=x".into(), None, Want::Bad),
        (
            "GET",
            "/admin/dish/list?categoryId=1.5".into(),
            None,
            Want::Bad,
        ),
    ];
    expect_all(&app, &admin.token, cases).await;
    assert_eq!(
        menu(&app).await,
        before,
        "refused dish writes changed the menu"
    );
}

backend_tests! {
    category_input_is_checked => category_input_is_checked,
    dish_input_is_checked => dish_input_is_checked,
}
