//! What every hostile test uses: raw HTTP that sends anything (the helpers of `common`
//! assume well-behaved requests), assertions on the reply's envelope, and database snapshots
//! that show nothing was half-written.

use crate::common::{self, TestApp};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};

pub(crate) const NOT_FOUND: &str = "订单不存在";
pub(crate) const BAD_STATUS: &str = "订单状态错误";
pub(crate) const NO_ADDRESS: &str = "地址不存在";

// ---------------------------------------------------------------------------------------------
// Raw HTTP: the helpers of `common` assume well-behaved requests, these send anything.

/// A reply: status and body text.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) text: String,
}

/// What to send as the body.
pub(crate) enum Payload {
    /// No body.
    Empty,
    /// This text with `Content-Type: application/json`.
    Json(String),
    /// These bytes with this Content-Type (`None`: no Content-Type header at all).
    Raw(Option<&'static str>, Vec<u8>),
}

pub(crate) fn json_body(v: &Value) -> Payload {
    Payload::Json(v.to_string())
}

pub(crate) fn headers(pairs: &[(&str, &[u8])]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_bytes(v).unwrap(),
        );
    }
    h
}

pub(crate) fn as_customer(token: &str) -> HeaderMap {
    headers(&[("authentication", token.as_bytes())])
}

pub(crate) fn as_merchant(token: &str) -> HeaderMap {
    headers(&[("token", token.as_bytes())])
}

pub(crate) async fn send(
    base: &str,
    method: &str,
    path: &str,
    h: HeaderMap,
    body: Payload,
) -> Reply {
    let client = common::http();
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut rb = client.request(m, format!("{base}{path}")).headers(h);
    rb = match body {
        Payload::Empty => rb,
        Payload::Json(s) => rb.header("content-type", "application/json").body(s),
        Payload::Raw(Some(ct), b) => rb.header("content-type", ct).body(b),
        Payload::Raw(None, b) => rb.body(b),
    };
    let resp = rb
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: no HTTP reply at all ({e})"));
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    assert!(
        status < 500,
        "{method} {path}: server error HTTP {status}: {text}"
    );
    Reply { status, text }
}

/// Asserts a refusal in the contract's envelope (HTTP 200 or 400, exactly `code` 0, a
/// non-empty `msg` and `data: null`) and returns it.
#[track_caller]
pub(crate) fn refused(r: &Reply, what: &str) -> Value {
    assert!(
        r.status == 200 || r.status == 400,
        "{what}: expected HTTP 200/400 with the envelope, got HTTP {} {:?}",
        r.status,
        r.text
    );
    envelope_shape(r, what)
}

/// Asserts the body is exactly the refusal envelope, whatever the status.
#[track_caller]
pub(crate) fn envelope_shape(r: &Reply, what: &str) -> Value {
    let v: Value = serde_json::from_str(&r.text).unwrap_or_else(|_| {
        panic!(
            "{what}: reply is not JSON (HTTP {}): {:?}",
            r.status, r.text
        )
    });
    let obj = v
        .as_object()
        .unwrap_or_else(|| panic!("{what}: reply is not an object: {v}"));
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["code", "data", "msg"], "{what}: envelope keys: {v}");
    assert_eq!(v["code"], 0, "{what}: code must be 0: {v}");
    assert!(v["data"].is_null(), "{what}: data must be null: {v}");
    assert!(
        v["msg"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}: msg must be a message: {v}"
    );
    v
}

/// A business refusal: HTTP 200, code 0, this exact message.
#[track_caller]
pub(crate) fn business(r: &Reply, what: &str, msg: &str) {
    let v = refused(r, what);
    assert_eq!(r.status, 200, "{what}: business refusals are HTTP 200: {v}");
    assert_eq!(v["msg"], msg, "{what}: {v}");
}

/// Unparseable input: HTTP 400 with the envelope.
#[track_caller]
pub(crate) fn bad_request(r: &Reply, what: &str) {
    let v = refused(r, what);
    assert_eq!(r.status, 400, "{what}: unparseable input is HTTP 400: {v}");
}

/// A bare 401 with an empty body.
#[track_caller]
pub(crate) fn unauthorized(r: &Reply, what: &str) {
    assert_eq!(
        (r.status, r.text.as_str()),
        (401, ""),
        "{what}: expected a bare 401 with an empty body"
    );
}

/// Success: HTTP 200, code 1.
#[track_caller]
pub(crate) fn success(r: &Reply, what: &str) -> Value {
    assert_eq!(r.status, 200, "{what}: {:?}", r.text);
    let v: Value = serde_json::from_str(&r.text).unwrap();
    assert_eq!(v["code"], 1, "{what}: {v}");
    v
}

// ---------------------------------------------------------------------------------------------
// Database snapshots: "nothing is half-written".

/// (user_id, dish_id, setmeal_id, dish_flavor, number)
pub(crate) type CartSnap = (i64, Option<i64>, Option<i64>, String, i64);

/// (id, status, pay_status, user_id, shop_id, last_reminder_at, cancel_reason)
pub(crate) type OrderSnap = (i64, i64, i64, i64, i64, Option<i64>, Option<String>);

#[derive(Debug, PartialEq)]
pub(crate) struct Snapshot {
    /// (id, status, pay_status, user_id, shop_id, last_reminder_at, cancel_reason)
    pub(crate) orders: Vec<OrderSnap>,
    pub(crate) order_details: i64,
    /// (user_id, dish_id, setmeal_id, dish_flavor, number)
    pub(crate) cart: Vec<CartSnap>,
    /// (id, user_id, consignee, phone, detail, is_default)
    pub(crate) addresses: Vec<(i64, i64, String, String, String, i64)>,
    /// (id, type, order_id, handled_at)
    pub(crate) alerts: Vec<(i64, i64, i64, Option<i64>)>,
    /// (id, status)
    pub(crate) shops: Vec<(i64, i64)>,
}

pub(crate) async fn snapshot(app: &TestApp) -> Snapshot {
    let pool = app.state.store.pool();
    Snapshot {
        orders: sqlx::query_as(
            "SELECT id, status, pay_status, user_id, shop_id, last_reminder_at, cancel_reason \
             FROM orders ORDER BY id",
        )
        .fetch_all(pool)
        .await
        .unwrap(),
        order_details: sqlx::query_scalar("SELECT COUNT(*) FROM order_detail")
            .fetch_one(pool)
            .await
            .unwrap(),
        cart: sqlx::query_as(
            "SELECT user_id, dish_id, setmeal_id, dish_flavor, number FROM shopping_cart ORDER BY id",
        )
        .fetch_all(pool)
        .await
        .unwrap(),
        addresses: sqlx::query_as(
            "SELECT id, user_id, consignee, phone, detail, is_default FROM address_book ORDER BY id",
        )
        .fetch_all(pool)
        .await
        .unwrap(),
        alerts: sqlx::query_as("SELECT id, type, order_id, handled_at FROM alert_log ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap(),
        shops: sqlx::query_as("SELECT id, status FROM shop ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap(),
    }
}

pub(crate) async fn count(app: &TestApp, sql: &'static str, id: i64) -> i64 {
    sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(app.state.store.pool())
        .await
        .unwrap()
}

pub(crate) async fn reminder_alerts(app: &TestApp, order_id: i64) -> i64 {
    count(
        app,
        "SELECT COUNT(*) FROM alert_log WHERE order_id = $1 AND type = 2",
        order_id,
    )
    .await
}

/// An order of `c` moved to `status` (1–6) through the real endpoints; returns its id.
pub(crate) async fn order_in_status(
    c: &common::Customer,
    admin: &common::Merchant,
    dish: i64,
    status: i64,
) -> i64 {
    let (id, number) = c.order(dish, 1, "").await;
    match status {
        1 => {}
        6 => assert_eq!(
            c.put(&format!("/user/order/cancel/{id}"), json!({})).await["code"],
            1
        ),
        _ => {
            assert_eq!(c.pay(&number).await["code"], 1);
            if status >= 3 {
                assert_eq!(
                    admin.put("/admin/order/confirm", json!({"id": id})).await["code"],
                    1
                );
            }
            if status >= 4 {
                assert_eq!(
                    admin
                        .put(&format!("/admin/order/delivery/{id}"), json!({}))
                        .await["code"],
                    1
                );
            }
            if status >= 5 {
                assert_eq!(
                    admin
                        .put(&format!("/admin/order/complete/{id}"), json!({}))
                        .await["code"],
                    1
                );
            }
        }
    }
    id
}

/// Every merchant call on one order: details and each status action.
pub(crate) fn merchant_order_calls(id: i64) -> Vec<(&'static str, String, Option<Value>)> {
    vec![
        ("GET", format!("/admin/order/details/{id}"), None),
        (
            "PUT",
            "/admin/order/confirm".into(),
            Some(json!({"id": id})),
        ),
        (
            "PUT",
            "/admin/order/rejection".into(),
            Some(json!({"id": id, "rejectionReason": "抢单"})),
        ),
        (
            "PUT",
            "/admin/order/cancel".into(),
            Some(json!({"id": id, "cancelReason": "抢单"})),
        ),
        ("PUT", format!("/admin/order/delivery/{id}"), None),
        ("PUT", format!("/admin/order/complete/{id}"), None),
    ]
}
