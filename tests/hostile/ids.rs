//! Absurd ids in paths and hostile query strings: a 400 envelope or the contract's refusal.

use serde_json::{Value, json};

use crate::common::{self, Backend};
use crate::support::*;

/// Ids that are negative, zero or i64::MAX are simply not found (code 0, the resource's
/// message); ids that overflow i64 or are not integers (`abc`, `1.5`, `%00`, `1e3`, `0x1F`,
/// a SQL fragment, 5000 digits …) are a 400 envelope. In paths, query strings and bodies.
async fn hostile_ids_in_paths_and_queries(backend: Backend) {
    let app = common::spawn(backend).await;
    let c = app.customer("wx-hostile-ids").await;
    let admin = app.admin().await;
    let dish = app.first_dish(1).await;
    c.paid_order(dish).await;
    let before = snapshot(&app).await;

    let max = i64::MAX.to_string();
    let min = i64::MIN.to_string();
    let not_found_ids = ["-1", "0", max.as_str(), min.as_str(), "987654321"];
    let long = "9".repeat(5000);
    let bad_ids = [
        "99999999999999999999",
        "-99999999999999999999",
        "abc",
        "1.5",
        "%00",
        "1%00",
        "1e3",
        "0x1F",
        "%20",
        "1;DROP%20TABLE%20orders",
        "1'%20OR%20'1'='1",
        "%2F",
        "%E4%B8%80",
        "--1",
        long.as_str(),
    ];
    // (method, path prefix, customer?, not-found message)
    let paths: [(&str, &str, bool, &str); 10] = [
        ("GET", "/user/order/orderDetail/", true, NOT_FOUND),
        ("GET", "/user/order/reminder/", true, NOT_FOUND),
        ("PUT", "/user/order/cancel/", true, NOT_FOUND),
        ("POST", "/user/order/repetition/", true, NOT_FOUND),
        ("GET", "/user/addressBook/", true, NO_ADDRESS),
        ("GET", "/admin/order/details/", false, NOT_FOUND),
        ("PUT", "/admin/order/delivery/", false, NOT_FOUND),
        ("PUT", "/admin/order/complete/", false, NOT_FOUND),
        ("POST", "/admin/alerts/", false, "提醒不存在"),
        ("DELETE", "/user/addressBook?id=", true, NO_ADDRESS),
    ];
    for (method, prefix, customer, msg) in paths {
        let suffix = if prefix.starts_with("/admin/alerts/") {
            "/ack"
        } else {
            ""
        };
        let h = || {
            if customer {
                as_customer(&c.token)
            } else {
                as_merchant(&admin.token)
            }
        };
        for id in not_found_ids {
            let r = send(
                &app.base,
                method,
                &format!("{prefix}{id}{suffix}"),
                h(),
                Payload::Empty,
            )
            .await;
            business(
                &r,
                &format!("{method} {prefix}{id}{suffix} (id that does not exist)"),
                msg,
            );
        }
        for id in bad_ids {
            let shown: String = id.chars().take(40).collect();
            let r = send(
                &app.base,
                method,
                &format!("{prefix}{id}{suffix}"),
                h(),
                Payload::Empty,
            )
            .await;
            bad_request(
                &r,
                &format!("{method} {prefix}{shown}{suffix} (id that is not an i64)"),
            );
        }
    }
    // Ids in bodies.
    for id in [json!(-1), json!(0), json!(i64::MAX), json!(i64::MIN)] {
        let r = send(
            &app.base,
            "PUT",
            "/admin/order/confirm",
            as_merchant(&admin.token),
            json_body(&json!({"id": id})),
        )
        .await;
        business(
            &r,
            &format!("PUT /admin/order/confirm with id {id}"),
            NOT_FOUND,
        );
        let r = send(
            &app.base,
            "PUT",
            "/admin/order/cancel",
            as_merchant(&admin.token),
            json_body(&json!({"id": id, "cancelReason": "x"})),
        )
        .await;
        business(
            &r,
            &format!("PUT /admin/order/cancel with id {id}"),
            NOT_FOUND,
        );
        let r = send(
            &app.base,
            "PUT",
            "/user/addressBook/default",
            as_customer(&c.token),
            json_body(&json!({"id": id})),
        )
        .await;
        business(
            &r,
            &format!("PUT /user/addressBook/default with id {id}"),
            NO_ADDRESS,
        );
        let r = send(
            &app.base,
            "POST",
            "/user/shoppingCart/add",
            as_customer(&c.token),
            json_body(&json!({"dishId": id})),
        )
        .await;
        business(
            &r,
            &format!("POST /user/shoppingCart/add with dishId {id}"),
            "菜品不存在或已停售",
        );
        let r = send(
            &app.base,
            "POST",
            "/user/order/submit",
            as_customer(&c.token),
            json_body(&json!({"addressBookId": id, "payMethod": 1})),
        )
        .await;
        business(
            &r,
            &format!("POST /user/order/submit with addressBookId {id}"),
            "用户地址为空，不能下单",
        );
    }
    // Shop status in the path: only 0 and 1.
    for s in ["-1", "2", max.as_str()] {
        let r = send(
            &app.base,
            "PUT",
            &format!("/admin/shop/{s}"),
            as_merchant(&admin.token),
            Payload::Empty,
        )
        .await;
        business(&r, &format!("PUT /admin/shop/{s}"), "店铺状态错误");
    }
    for s in ["abc", "1.0", "99999999999999999999", "%00"] {
        let r = send(
            &app.base,
            "PUT",
            &format!("/admin/shop/{s}"),
            as_merchant(&admin.token),
            Payload::Empty,
        )
        .await;
        bad_request(&r, &format!("PUT /admin/shop/{s}"));
    }
    assert_eq!(
        snapshot(&app).await,
        before,
        "hostile ids changed the database"
    );
    // The SQL fragment did nothing: the table is still there.
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM orders WHERE id > $1", 0).await,
        1
    );
}

/// Query strings: `page=-1` and `pageSize=100000` are clamped (success, at most 100 records);
/// an empty value (`page=`) is absent, as Spring binds it;
/// non-numeric or overflowing numbers, `status=abc`, bad `beginTime` / `endTime`, duplicated
/// parameters and bad booleans are a 400 envelope; LIKE wildcards and quotes in text filters
/// are just text.
async fn hostile_query_strings(backend: Backend) {
    let app = common::spawn(backend).await;
    let c = app.customer("wx-hostile-query").await;
    let admin = app.admin().await;
    let dish = app.first_dish(1).await;
    c.paid_order(dish).await;
    let before = snapshot(&app).await;

    let fine_customer = [
        "/user/order/historyOrders?page=-1&pageSize=10",
        "/user/order/historyOrders?page=0&pageSize=0",
        "/user/order/historyOrders?page=1&pageSize=100000",
        "/user/order/historyOrders?page=1&pageSize=-5",
        "/user/order/historyOrders?page=9223372036854775807&pageSize=9223372036854775807",
        "/user/order/historyOrders?page=-9223372036854775808&pageSize=10",
        "/user/order/historyOrders?status=-1",
        "/user/order/historyOrders?status=9223372036854775807",
        "/user/order/historyOrders?page=1&pageSize=10&unknown=1",
        "/user/order/historyOrders?page=&pageSize=",
        "/user/category/list?type=-1",
        "/user/category/list?shopId=-1",
        "/user/shop/status?shopId=9223372036854775807",
    ];
    for path in fine_customer {
        let r = send(
            &app.base,
            "GET",
            path,
            as_customer(&c.token),
            Payload::Empty,
        )
        .await;
        let v = success(&r, &format!("GET {path} (clamped or simply no match)"));
        if let Some(records) = v["data"]["records"].as_array() {
            assert!(
                records.len() <= 100,
                "GET {path}: {} records",
                records.len()
            );
        }
    }
    let bad_customer = [
        "/user/order/historyOrders?page=abc",
        "/user/order/historyOrders?page=1.5",
        "/user/order/historyOrders?pageSize=99999999999999999999",
        "/user/order/historyOrders?status=abc",
        "/user/order/historyOrders?status=%00",
        "/user/order/historyOrders?page=1&page=2",
        "/user/dish/list?categoryId=abc",
        "/user/dish/list",
        "/user/category/list?type=x",
        "/user/shop/status?shopId=abc",
    ];
    for path in bad_customer {
        let r = send(
            &app.base,
            "GET",
            path,
            as_customer(&c.token),
            Payload::Empty,
        )
        .await;
        bad_request(&r, &format!("GET {path}"));
    }
    let fine_merchant = [
        "/admin/order/conditionSearch?page=-1&pageSize=100000",
        "/admin/order/conditionSearch?page=1&pageSize=10&number=%25",
        "/admin/order/conditionSearch?page=1&pageSize=10&number=_",
        "/admin/order/conditionSearch?page=1&pageSize=10&number=%5C",
        "/admin/order/conditionSearch?page=1&pageSize=10&phone='%20OR%201=1--",
        "/admin/order/conditionSearch?page=1&pageSize=10&number=%E4%B8%80%F0%9F%98%80",
        "/admin/order/conditionSearch?page=1&pageSize=10&status=-1",
        "/admin/order/conditionSearch?beginTime=2024-01-01%2000:00:00&endTime=2099-01-01%2000:00:00",
        "/admin/order/conditionSearch?beginTime=&endTime=",
        "/admin/alerts?limit=-5&beforeSeq=-9223372036854775808",
        "/admin/alerts?limit=9223372036854775807",
    ];
    for path in fine_merchant {
        let r = send(
            &app.base,
            "GET",
            path,
            as_merchant(&admin.token),
            Payload::Empty,
        )
        .await;
        let v = success(&r, &format!("GET {path}"));
        if let Some(records) = v["data"]["records"].as_array() {
            assert!(
                records.len() <= 100,
                "GET {path}: {} records",
                records.len()
            );
        }
    }
    // Out-of-range dates: refused or simply no match, never a 5xx (checked by `send`).
    for path in [
        "/admin/order/conditionSearch?beginTime=99999-01-01%2000:00:00",
        "/admin/order/conditionSearch?endTime=0000-01-01%2000:00:00",
    ] {
        let r = send(
            &app.base,
            "GET",
            path,
            as_merchant(&admin.token),
            Payload::Empty,
        )
        .await;
        if r.status == 400 {
            bad_request(&r, &format!("GET {path}"));
        } else {
            success(&r, &format!("GET {path}"));
        }
    }
    let bad_merchant = [
        "/admin/order/conditionSearch?beginTime=yesterday",
        "/admin/order/conditionSearch?beginTime=2024-13-01%2000:00:00",
        "/admin/order/conditionSearch?beginTime=2024-02-30%2000:00:00",
        "/admin/order/conditionSearch?endTime=2024-01-01T00:00:00Z",
        "/admin/order/conditionSearch?beginTime=%00",
        "/admin/order/conditionSearch?status=abc",
        "/admin/order/conditionSearch?page=-99999999999999999999",
        "/admin/order/conditionSearch?pageSize=1e2",
        "/admin/alerts?unhandled=maybe",
        "/admin/alerts?beforeSeq=abc",
    ];
    for path in bad_merchant {
        let r = send(
            &app.base,
            "GET",
            path,
            as_merchant(&admin.token),
            Payload::Empty,
        )
        .await;
        bad_request(&r, &format!("GET {path}"));
    }
    assert_eq!(
        snapshot(&app).await,
        before,
        "hostile query strings changed the database"
    );
}

/// What the mini-program sends that a strict router refuses: `status=` (empty, for 全部订单)
/// lists exactly what no status lists, and the address delete at `/user/addressBook/?id=N`
/// (trailing slash) deletes that address and no other.
async fn stock_client_query_quirks(backend: Backend) {
    let app = common::spawn(backend).await;
    let c = app.customer("wx-quirks").await;
    let dish = app.first_dish(1).await;
    c.paid_order(dish).await;
    c.order(dish, 1, "").await;
    let all = c.get("/user/order/historyOrders?page=1&pageSize=10").await;
    let empty = c
        .get("/user/order/historyOrders?pageSize=10&page=1&status=")
        .await;
    assert_eq!(all["code"], 1, "{all}");
    assert_eq!(all["data"]["total"], 2, "{all}");
    assert_eq!(empty, all, "status= must mean no status filter");
    let pending = c
        .get("/user/order/historyOrders?pageSize=10&page=1&status=1")
        .await;
    assert_eq!(pending["data"]["total"], 1, "{pending}");

    c.address().await;
    let gone = c.address().await;
    let ids_of = |v: Value| -> Vec<i64> {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_i64().unwrap())
            .collect()
    };
    let mut expected = ids_of(c.get("/user/addressBook/list").await);
    expected.retain(|id| *id != gone);
    let v = c.delete(&format!("/user/addressBook/?id={gone}")).await;
    assert_eq!(v["code"], 1, "trailing-slash delete: {v}");
    let ids = ids_of(c.get("/user/addressBook/list").await);
    assert_eq!(ids, expected, "only the addressed one is deleted");
}

backend_tests! {
    stock_client_query_quirks => stock_client_query_quirks,
    hostile_ids_in_paths_and_queries => hostile_ids_in_paths_and_queries,
    hostile_query_strings => hostile_query_strings,
}
