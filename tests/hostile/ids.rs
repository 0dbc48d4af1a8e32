//! Absurd ids in paths and hostile query strings: a 400 envelope or the contract's refusal.

use serde_json::{Value, json};

use crate::common::{self, Backend, TestApp};
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

/// Copies the customer's one order 120 times (numbers `<n>-1` …), adds two whose numbers hold
/// the LIKE wildcards (`pct%x`, `und_x`), and 600 handled alerts, so that clamps and filters
/// have more rows than they may return.
async fn many_rows(app: &TestApp) {
    let pool = app.state.store.pool();
    sqlx::raw_sql(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 120) \
         INSERT INTO orders (shop_id, number, status, user_id, address_book_id, order_time, \
         pay_method, pay_status, amount) \
         SELECT o.shop_id, o.number || '-' || CAST(n.i AS TEXT), o.status, o.user_id, \
         o.address_book_id, o.order_time - n.i, o.pay_method, o.pay_status, o.amount \
         FROM orders o, n",
    )
    .execute(pool)
    .await
    .unwrap();
    for number in ["pct%x", "und_x"] {
        sqlx::query(
            "INSERT INTO orders (shop_id, number, status, user_id, address_book_id, order_time, \
             pay_method, pay_status, amount) SELECT shop_id, $1, status, user_id, \
             address_book_id, order_time - 1000, pay_method, pay_status, amount FROM orders \
             WHERE id = (SELECT MIN(id) FROM orders)",
        )
        .bind(number)
        .execute(pool)
        .await
        .unwrap();
    }
    sqlx::raw_sql(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 600) \
         INSERT INTO alert_log (shop_id, seq, type, order_id, order_number, content, created_at, \
         published_at, delivered_at, handled_at) \
         SELECT 1, 1000 + n.i, 1, o.id, o.number, 'old', 1, 1, 1, 1 \
         FROM n, orders o WHERE o.id = (SELECT MIN(id) FROM orders)",
    )
    .execute(pool)
    .await
    .unwrap();
}

/// Query strings: `page=-1` and `pageSize=100000` are clamped (success, exactly 100 of the 123
/// records); an empty value (`page=`) is absent, as Spring binds it (the very page the
/// defaults give); `/admin/alerts?limit=` is clamped to 1..=500 (600 alerts); non-numeric or
/// overflowing numbers, `status=abc`, bad `beginTime` / `endTime`, duplicated parameters and
/// bad booleans are a 400 envelope; LIKE wildcards in text filters are just text (`number=%`
/// finds the one order whose number holds a `%`) and quotes too.
async fn hostile_query_strings(backend: Backend) {
    let app = common::spawn(backend).await;
    let c = app.customer("wx-hostile-query").await;
    let admin = app.admin().await;
    let dish = app.first_dish(1).await;
    c.paid_order(dish).await;
    many_rows(&app).await;
    let before = snapshot(&app).await;
    let get = |token: &str, customer: bool, path: &str| {
        let h = if customer {
            as_customer(token)
        } else {
            as_merchant(token)
        };
        let path = path.to_string();
        let base = app.base.clone();
        async move {
            let r = send(&base, "GET", &path, h, Payload::Empty).await;
            success(&r, &format!("GET {path}"))
        }
    };
    let page_len = |v: &Value| v["data"]["records"].as_array().map(Vec::len);

    // (path, records on the page, total)
    let fine_customer: [(&str, Option<usize>, Option<i64>); 13] = [
        (
            "/user/order/historyOrders?page=-1&pageSize=10",
            Some(10),
            Some(123),
        ),
        (
            "/user/order/historyOrders?page=0&pageSize=0",
            None,
            Some(123),
        ),
        (
            "/user/order/historyOrders?page=1&pageSize=100000",
            Some(100),
            Some(123),
        ),
        (
            "/user/order/historyOrders?page=1&pageSize=-5",
            None,
            Some(123),
        ),
        (
            "/user/order/historyOrders?page=9223372036854775807&pageSize=9223372036854775807",
            Some(0),
            Some(123),
        ),
        (
            "/user/order/historyOrders?page=-9223372036854775808&pageSize=10",
            Some(10),
            Some(123),
        ),
        ("/user/order/historyOrders?status=-1", Some(0), Some(0)),
        (
            "/user/order/historyOrders?status=9223372036854775807",
            Some(0),
            Some(0),
        ),
        (
            "/user/order/historyOrders?page=1&pageSize=10&unknown=1",
            Some(10),
            Some(123),
        ),
        ("/user/order/historyOrders?page=&pageSize=", None, Some(123)),
        ("/user/category/list?type=-1", None, None),
        ("/user/category/list?shopId=-1", None, None),
        ("/user/shop/status?shopId=9223372036854775807", None, None),
    ];
    for (path, len, total) in fine_customer {
        let v = get(&c.token, true, path).await;
        if let Some(records) = page_len(&v) {
            assert!(records <= 100, "GET {path}: {records} records");
        }
        if len.is_some() {
            assert_eq!(page_len(&v), len, "GET {path}: {v}");
        }
        if total.is_some() {
            assert_eq!(v["data"]["total"].as_i64(), total, "GET {path}: {v}");
        }
    }
    // `page=&pageSize=` is exactly the page the defaults give (as if absent).
    assert_eq!(
        get(&c.token, true, "/user/order/historyOrders?page=&pageSize=").await,
        get(&c.token, true, "/user/order/historyOrders").await,
        "page= and pageSize= are absent"
    );
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
    let search = "/admin/order/conditionSearch?page=1&pageSize=10";
    let fine_merchant: [(String, Option<usize>, Option<i64>); 9] = [
        ("/admin/order/conditionSearch?page=-1&pageSize=100000".into(), Some(100), Some(123)),
        // The wildcards and the escape character match only themselves.
        (format!("{search}&number=%25"), Some(1), Some(1)),
        (format!("{search}&number=_"), Some(1), Some(1)),
        (format!("{search}&number=%5C"), Some(0), Some(0)),
        (format!("{search}&phone='%20OR%201=1--"), Some(0), Some(0)),
        (format!("{search}&number=%E4%B8%80%F0%9F%98%80"), Some(0), Some(0)),
        (format!("{search}&status=-1"), Some(0), Some(0)),
        (
            "/admin/order/conditionSearch?beginTime=2024-01-01%2000:00:00&endTime=2099-01-01%2000:00:00"
                .into(),
            Some(10),
            Some(123),
        ),
        ("/admin/order/conditionSearch?beginTime=&endTime=".into(), Some(10), Some(123)),
    ];
    for (path, len, total) in &fine_merchant {
        let v = get(&admin.token, false, path).await;
        assert_eq!(page_len(&v), *len, "GET {path}: {v}");
        assert_eq!(v["data"]["total"].as_i64(), *total, "GET {path}: {v}");
    }
    let v = get(&admin.token, false, &format!("{search}&number=%25")).await;
    assert_eq!(v["data"]["records"][0]["number"], "pct%x", "{v}");
    let v = get(&admin.token, false, &format!("{search}&number=_")).await;
    assert_eq!(v["data"]["records"][0]["number"], "und_x", "{v}");
    // The alert list is a bare array, clamped to 1..=500.
    for (path, len) in [
        ("/admin/alerts?limit=-5&beforeSeq=-9223372036854775808", 0),
        ("/admin/alerts?limit=-5", 1),
        ("/admin/alerts?limit=0", 1),
        ("/admin/alerts", 50),
        ("/admin/alerts?limit=9223372036854775807", 500),
    ] {
        let v = get(&admin.token, false, path).await;
        let alerts = v["data"]
            .as_array()
            .unwrap_or_else(|| panic!("GET {path}: data is an array: {v}"));
        assert_eq!(alerts.len(), len, "GET {path}");
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
