//! 分类管理 as the stock admin app drives it: new categories start disabled and are listed
//! (to the app's selects and to customers) once enabled; edits; the refused and allowed
//! deletions with the course's messages; names unique per shop; the audit fields.

use serde_json::{Value, json};

use crate::common::{self, Backend};
use crate::support::*;

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

/// The time format the clients show (`yyyy-MM-dd HH:mm`).
#[track_caller]
pub(crate) fn assert_minutes(v: &Value) {
    let s = v.as_str().unwrap_or_else(|| panic!("a time string: {v}"));
    let ok = s.len() == 16
        && s.char_indices().all(|(i, c)| match i {
            4 | 7 => c == '-',
            10 => c == ' ',
            13 => c == ':',
            _ => c.is_ascii_digit(),
        });
    assert!(ok, "yyyy-MM-dd HH:mm: {s}");
}

/// 新增菜品分类 and 新增套餐分类 with the app's bodies (`type:"1"`, `sort:"5"`): both start
/// 禁用, so neither the app's selects (`/admin/category/list`) nor customers list them;
/// 启用 lists them (type optional, enabled only); the page shows every field the table reads,
/// with the audit fields of the employee behind the token; 修改 posts `{id,name,sort}`.
async fn categories_start_disabled_and_list_once_enabled(backend: Backend) {
    let app = common::spawn(backend).await;
    let admin = app.admin().await;
    let admin_id = employee_id(&app, "admin").await;
    let customer = app.customer("wx-cat-1").await;
    let dish_cat = add_category(&admin, 1, "川湘小炒", 5).await;
    let meal_cat = add_category(&admin, 2, "超值套餐", 6).await;

    let page = data(
        admin
            .get("/admin/category/page?page=1&pageSize=10&name=川湘小炒")
            .await,
    );
    assert_eq!(page["total"], 1, "{page}");
    let row = &page["records"][0];
    assert_eq!(
        (
            &row["id"],
            &row["type"],
            &row["name"],
            &row["sort"],
            &row["status"]
        ),
        (
            &json!(dish_cat),
            &json!(1),
            &json!("川湘小炒"),
            &json!(5),
            &json!(0)
        ),
        "{row}"
    );
    assert_minutes(&row["updateTime"]);
    assert_minutes(&row["createTime"]);
    assert_eq!(
        (&row["createUser"], &row["updateUser"]),
        (&json!(admin_id), &json!(admin_id))
    );

    let listed = |path: &'static str| {
        let admin = &admin;
        async move { names(&data(admin.get(path).await)) }
    };
    let customers = || async { names(&data(customer.get("/user/category/list").await)) };
    for new in ["川湘小炒", "超值套餐"] {
        assert!(
            !listed("/admin/category/list")
                .await
                .contains(&new.to_string())
        );
        assert!(
            !customers().await.contains(&new.to_string()),
            "{new} is disabled"
        );
    }
    for id in [dish_cat, meal_cat] {
        assert_eq!(category_status(&admin, id, 1).await["code"], 1);
    }
    let dishes = listed("/admin/category/list?type=1").await;
    let meals = listed("/admin/category/list?type=2&page=1&pageSize=1000").await;
    assert_eq!(dishes, ["热菜", "主食", "饮品", "川湘小炒"], "by sort");
    assert_eq!(meals, ["人气套餐", "商务套餐", "超值套餐"]);
    assert_eq!(listed("/admin/category/list").await.len(), 7);
    let all = customers().await;
    assert!(all.contains(&"川湘小炒".to_string()) && all.contains(&"超值套餐".to_string()));
    let full = data(customer.get("/user/category/list").await);
    assert!(
        full.as_array().unwrap().iter().all(|c| c["status"] == 1),
        "{full}"
    );

    // 修改 by another employee: name and sort change, the type stays, updateUser follows.
    let clerk = second_employee(&app).await;
    let clerk_id = employee_id(&app, "clerk").await;
    let v = clerk
        .put(
            "/admin/category",
            json!({"id": dish_cat, "name": "湘菜", "sort": "3", "type": "2"}),
        )
        .await;
    data(v);
    let page = data(
        admin
            .get("/admin/category/page?page=1&pageSize=10&name=湘菜")
            .await,
    );
    let row = &page["records"][0];
    assert_eq!(
        (&row["name"], &row["sort"], &row["type"]),
        (&json!("湘菜"), &json!(3), &json!(1))
    );
    assert_eq!(
        (&row["createUser"], &row["updateUser"]),
        (&json!(admin_id), &json!(clerk_id))
    );
    // Disabled again, it leaves the lists.
    assert_eq!(category_status(&admin, dish_cat, 0).await["code"], 1);
    assert!(
        !listed("/admin/category/list?type=1")
            .await
            .contains(&"湘菜".to_string())
    );

    // The unfiltered page: {total, records}, every status, by sort.
    let page = data(admin.get("/admin/category/page?page=1&pageSize=10").await);
    assert_eq!(page["total"], 7, "{page}");
    assert_eq!(names(&page["records"])[..3], ["热菜", "主食", "湘菜"]);
    let page = data(
        admin
            .get("/admin/category/page?page=1&pageSize=10&type=2")
            .await,
    );
    assert_eq!(
        names(&page["records"]),
        ["人气套餐", "商务套餐", "超值套餐"]
    );
    let page = data(admin.get("/admin/category/page?page=2&pageSize=5").await);
    assert_eq!(
        (
            page["total"].as_i64(),
            page["records"].as_array().unwrap().len()
        ),
        (Some(7), 2)
    );
    app.shutdown().await;
}

/// 删除: a category holding a dish or a set meal, whatever its status, is refused with the
/// course's messages (ASCII comma); an empty one goes, and then answers 分类不存在.
async fn categories_in_use_cannot_be_deleted(backend: Backend) {
    let app = common::spawn(backend).await;
    let admin = app.admin().await;
    let drinks = demo(&app, "category", "饮品").await;
    let popular = demo(&app, "category", "人气套餐").await;
    refused(
        &admin.delete(&format!("/admin/category?id={drinks}")).await,
        "当前分类关联了菜品,不能删除",
    );
    refused(
        &admin.delete(&format!("/admin/category?id={popular}")).await,
        "当前分类关联了套餐,不能删除",
    );

    // A stopped dish and a stopped set meal hold their categories too.
    let cat = add_category(&admin, 1, "临时菜品", 9).await;
    let dish = add_dish(&admin, dish_body("临时菜", cat, "9.9", vec![])).await;
    assert_eq!(status_of(&app, "dish", dish).await, 0);
    refused(
        &admin.delete(&format!("/admin/category?id={cat}")).await,
        "当前分类关联了菜品,不能删除",
    );
    let meal_cat = add_category(&admin, 2, "临时套餐", 9).await;
    let meal = add_setmeal(&admin, setmeal_body("临时餐", meal_cat, "19", &[(dish, 1)])).await;
    assert_eq!(status_of(&app, "setmeal", meal).await, 0);
    refused(
        &admin
            .delete(&format!("/admin/category?id={meal_cat}"))
            .await,
        "当前分类关联了套餐,不能删除",
    );
    assert_eq!(count(&app, "category", "id", meal_cat).await, 1);

    // Emptied, both go.
    data(admin.delete(&format!("/admin/setmeal?ids={meal}")).await);
    data(admin.delete(&format!("/admin/dish?ids={dish}")).await);
    for id in [cat, meal_cat] {
        data(admin.delete(&format!("/admin/category?id={id}")).await);
        assert_eq!(count(&app, "category", "id", id).await, 0);
        refused(
            &admin.delete(&format!("/admin/category?id={id}")).await,
            "分类不存在",
        );
    }
    app.shutdown().await;
}

/// Names are unique per shop among categories, among dishes and among set meals, on create
/// and on rename: `'<name>'已存在`, quotes included. Another shop may use the same names.
async fn names_are_unique_per_shop(backend: Backend) {
    let app = common::spawn(backend).await;
    let admin = app.admin().await;
    app.add_shop("小馆", "xiaoguan", "xiaoguan-pass").await;
    let other = app.merchant("xiaoguan", "xiaoguan-pass").await;
    let dup = admin
        .post(
            "/admin/category",
            json!({"name": "热菜", "type": "1", "sort": "1"}),
        )
        .await;
    refused(&dup, "'热菜'已存在");
    let hot = demo(&app, "category", "热菜").await;
    refused(
        &admin
            .put(
                "/admin/category",
                json!({"id": hot, "name": "主食", "sort": 1}),
            )
            .await,
        "'主食'已存在",
    );
    // Renaming to its own name is no clash.
    data(
        admin
            .put(
                "/admin/category",
                json!({"id": hot, "name": "热菜", "sort": 2}),
            )
            .await,
    );

    refused(
        &admin
            .post("/admin/dish", dish_body("宫保鸡丁", hot, "10", vec![]))
            .await,
        "'宫保鸡丁'已存在",
    );
    let dish = demo(&app, "dish", "鱼香肉丝").await;
    let v = admin
        .put(
            "/admin/dish",
            json!({"id": dish, "name": "宫保鸡丁", "categoryId": hot, "price": "32"}),
        )
        .await;
    refused(&v, "'宫保鸡丁'已存在");
    let popular = demo(&app, "category", "人气套餐").await;
    let v = admin
        .post(
            "/admin/setmeal",
            setmeal_body("商务简餐", popular, "10", &[(dish, 1)]),
        )
        .await;
    refused(&v, "'商务简餐'已存在");
    let meal = demo(&app, "setmeal", "单人川味套餐").await;
    let v = admin
        .put("/admin/setmeal", json!({"id": meal, "name": "商务简餐"}))
        .await;
    refused(&v, "'商务简餐'已存在");

    // Shop 2 has the same demo names, and may add what shop 1 adds.
    for m in [&admin, &other] {
        add_category(m, 1, "川湘小炒", 1).await;
    }
    // A set meal may be named like a dish.
    add_setmeal(
        &admin,
        setmeal_body("宫保鸡丁", popular, "40", &[(dish, 1)]),
    )
    .await;
    let names: Vec<String> =
        sqlx::query_scalar("SELECT name FROM category WHERE shop_id = 1 ORDER BY id")
            .fetch_all(app.state.store.pool())
            .await
            .unwrap();
    assert_eq!(
        names.iter().filter(|n| *n == "热菜").count(),
        1,
        "{names:?}"
    );
    app.shutdown().await;
}

backend_tests! {
    categories_start_disabled => categories_start_disabled_and_list_once_enabled,
    categories_in_use => categories_in_use_cannot_be_deleted,
    unique_names => names_are_unique_per_shop,
}
