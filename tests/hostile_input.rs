//! Every input from outside is hostile: malformed and wrongly-typed JSON, missing and unknown
//! fields, bodies without a Content-Type or over the size limit, absurd ids in paths and
//! query strings, missing / garbage / forged / expired / wrong-role tokens, customers and
//! merchants reaching for orders that are not theirs, reminder spam (also across a restart),
//! and bad cart, address and submit input. On SQLite and PostgreSQL.
//!
//! For every refused request the reply is the contract's envelope (`{"code":0,"msg":…,
//! "data":null}`, HTTP 200 for a business refusal, HTTP 400 for unparseable input) or a bare
//! 401 for a bad token; never a 5xx. Afterwards SQL checks that nothing was half-written.

mod common;

use std::time::Duration;

use common::{Backend, TestApp};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const NOT_FOUND: &str = "订单不存在";
const BAD_STATUS: &str = "订单状态错误";
const NO_ADDRESS: &str = "地址不存在";

// ---------------------------------------------------------------------------------------------
// Raw HTTP: the helpers of `common` assume well-behaved requests, these send anything.

/// A reply: status and body text.
#[derive(Debug)]
struct Reply {
    status: u16,
    text: String,
}

/// What to send as the body.
enum Payload {
    /// No body.
    Empty,
    /// This text with `Content-Type: application/json`.
    Json(String),
    /// These bytes with this Content-Type (`None`: no Content-Type header at all).
    Raw(Option<&'static str>, Vec<u8>),
}

fn json_body(v: &Value) -> Payload {
    Payload::Json(v.to_string())
}

fn headers(pairs: &[(&str, &[u8])]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_bytes(v).unwrap(),
        );
    }
    h
}

fn as_customer(token: &str) -> HeaderMap {
    headers(&[("authentication", token.as_bytes())])
}

fn as_merchant(token: &str) -> HeaderMap {
    headers(&[("token", token.as_bytes())])
}

async fn send(base: &str, method: &str, path: &str, h: HeaderMap, body: Payload) -> Reply {
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
fn refused(r: &Reply, what: &str) -> Value {
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
fn envelope_shape(r: &Reply, what: &str) -> Value {
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
fn business(r: &Reply, what: &str, msg: &str) {
    let v = refused(r, what);
    assert_eq!(r.status, 200, "{what}: business refusals are HTTP 200: {v}");
    assert_eq!(v["msg"], msg, "{what}: {v}");
}

/// Unparseable input: HTTP 400 with the envelope.
#[track_caller]
fn bad_request(r: &Reply, what: &str) {
    let v = refused(r, what);
    assert_eq!(r.status, 400, "{what}: unparseable input is HTTP 400: {v}");
}

/// A bare 401 with an empty body.
#[track_caller]
fn unauthorized(r: &Reply, what: &str) {
    assert_eq!(
        (r.status, r.text.as_str()),
        (401, ""),
        "{what}: expected a bare 401 with an empty body"
    );
}

/// Success: HTTP 200, code 1.
#[track_caller]
fn success(r: &Reply, what: &str) -> Value {
    assert_eq!(r.status, 200, "{what}: {:?}", r.text);
    let v: Value = serde_json::from_str(&r.text).unwrap();
    assert_eq!(v["code"], 1, "{what}: {v}");
    v
}

// ---------------------------------------------------------------------------------------------
// Database snapshots: "nothing is half-written".

/// (id, status, pay_status, user_id, shop_id, last_reminder_at, cancel_reason)
type OrderSnap = (i64, i64, i64, i64, i64, Option<i64>, Option<String>);

#[derive(Debug, PartialEq)]
struct Snapshot {
    /// (id, status, pay_status, user_id, shop_id, last_reminder_at, cancel_reason)
    orders: Vec<OrderSnap>,
    order_details: i64,
    /// (user_id, dish_id, dish_flavor, number)
    cart: Vec<(i64, i64, String, i64)>,
    /// (id, user_id, consignee, phone, detail, is_default)
    addresses: Vec<(i64, i64, String, String, String, i64)>,
    /// (id, type, order_id, handled_at)
    alerts: Vec<(i64, i64, i64, Option<i64>)>,
    /// (id, status)
    shops: Vec<(i64, i64)>,
}

async fn snapshot(app: &TestApp) -> Snapshot {
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
            "SELECT user_id, dish_id, dish_flavor, number FROM shopping_cart ORDER BY id",
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

async fn count(app: &TestApp, sql: &'static str, id: i64) -> i64 {
    sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(app.state.store.pool())
        .await
        .unwrap()
}

async fn reminder_alerts(app: &TestApp, order_id: i64) -> i64 {
    count(
        app,
        "SELECT COUNT(*) FROM alert_log WHERE order_id = $1 AND type = 2",
        order_id,
    )
    .await
}

/// An order of `c` moved to `status` (1–6) through the real endpoints; returns its id.
async fn order_in_status(
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

// ---------------------------------------------------------------------------------------------
// Bodies.

/// Malformed JSON bodies (syntax errors, empty, trailing garbage, invalid UTF-8, nesting deeper
/// than any parser should follow) on every kind of JSON endpoint → HTTP 400 envelope, no writes.
async fn malformed_json_bodies_get_400_envelope(backend: Backend) {
    let app = common::spawn(backend).await;
    let c = app.customer("wx-hostile-malformed").await;
    let admin = app.admin().await;
    let dish = app.first_dish(1).await;
    c.post("/user/shoppingCart/add", json!({"dishId": dish}))
        .await;
    let before = snapshot(&app).await;

    let deep = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("an unterminated object", b"{".to_vec()),
        ("a missing value", br#"{"dishId":}"#.to_vec()),
        ("plain text", b"not json at all".to_vec()),
        ("an empty body", Vec::new()),
        ("trailing garbage", br#"{"dishId":1} trailing"#.to_vec()),
        ("single quotes", b"{'dishId':1}".to_vec()),
        ("a trailing comma", br#"{"dishId":1,}"#.to_vec()),
        (
            "a raw control character in a string",
            b"{\"dishFlavor\":\"a\x01b\"}".to_vec(),
        ),
        (
            "an invalid UTF-8 byte as a value",
            b"{\"dishFlavor\":\xff}".to_vec(),
        ),
        ("20000 nested arrays", deep.into_bytes()),
        ("a NaN literal", br#"{"dishId":NaN}"#.to_vec()),
        ("JSON null", b"null".to_vec()),
        ("a JSON string", br#""dishId""#.to_vec()),
        ("a JSON number", b"42".to_vec()),
    ];
    let endpoints: [(&str, &str, bool); 7] = [
        ("POST", "/user/shoppingCart/add", true),
        ("POST", "/user/order/submit", true),
        ("PUT", "/user/order/payment", true),
        ("POST", "/user/addressBook", true),
        ("PUT", "/admin/order/confirm", false),
        ("POST", "/admin/employee/login", false),
        ("POST", "/user/user/login", true),
    ];
    for (method, path, customer) in endpoints {
        for (what, body) in &bodies {
            let h = if customer {
                as_customer(&c.token)
            } else {
                as_merchant(&admin.token)
            };
            let r = send(
                &app.base,
                method,
                path,
                h,
                Payload::Raw(Some("application/json"), body.clone()),
            )
            .await;
            bad_request(&r, &format!("{method} {path} with {what} as the JSON body"));
        }
    }
    // Invalid UTF-8 inside a string the endpoint reads (inside an ignored property it is
    // simply ignored, like the property).
    let r = send(
        &app.base,
        "POST",
        "/user/shoppingCart/add",
        as_customer(&c.token),
        Payload::Raw(
            Some("application/json"),
            [
                format!("{{\"dishId\":{dish},\"dishFlavor\":\"").as_bytes(),
                b"\xff\xfe\"}",
            ]
            .concat(),
        ),
    )
    .await;
    bad_request(
        &r,
        "POST /user/shoppingCart/add with invalid UTF-8 inside dishFlavor",
    );
    assert_eq!(
        snapshot(&app).await,
        before,
        "malformed bodies changed the database"
    );
}

/// Wrongly-typed JSON: a string / array / object / float / bool / null / an i64-overflowing
/// number where a number is expected, a number where a string is expected → 400 envelope.
async fn wrongly_typed_json_fields_get_400_envelope(backend: Backend) {
    let app = common::spawn(backend).await;
    let c = app.customer("wx-hostile-types").await;
    let admin = app.admin().await;
    let dish = app.first_dish(1).await;
    let addr = c.address().await;
    c.post("/user/shoppingCart/add", json!({"dishId": dish}))
        .await;
    let before = snapshot(&app).await;

    let customer_cases: Vec<(&str, &str, String)> = vec![
        (
            "POST",
            "/user/shoppingCart/add",
            format!(r#"{{"dishId":"{dish}"}}"#),
        ),
        (
            "POST",
            "/user/shoppingCart/add",
            format!(r#"{{"dishId":[{dish}]}}"#),
        ),
        (
            "POST",
            "/user/shoppingCart/add",
            r#"{"dishId":{"id":1}}"#.into(),
        ),
        ("POST", "/user/shoppingCart/add", r#"{"dishId":1.5}"#.into()),
        (
            "POST",
            "/user/shoppingCart/add",
            r#"{"dishId":true}"#.into(),
        ),
        (
            "POST",
            "/user/shoppingCart/add",
            r#"{"dishId":99999999999999999999}"#.into(),
        ),
        (
            "POST",
            "/user/shoppingCart/add",
            r#"{"dishId":-99999999999999999999}"#.into(),
        ),
        (
            "POST",
            "/user/shoppingCart/add",
            r#"{"dishId":1e400}"#.into(),
        ),
        (
            "POST",
            "/user/shoppingCart/add",
            format!(r#"{{"dishId":{dish},"dishFlavor":7}}"#),
        ),
        (
            "POST",
            "/user/shoppingCart/add",
            format!(r#"{{"dishId":{dish},"dishFlavor":["a"]}}"#),
        ),
        (
            "POST",
            "/user/shoppingCart/add",
            format!(r#"{{"dishId":{dish},"dishId":{dish}}}"#),
        ),
        ("POST", "/user/shoppingCart/add", r#"[]"#.into()),
        ("POST", "/user/shoppingCart/sub", r#"{"dishId":"x"}"#.into()),
        (
            "POST",
            "/user/order/submit",
            format!(r#"{{"addressBookId":"{addr}","payMethod":1}}"#),
        ),
        (
            "POST",
            "/user/order/submit",
            format!(r#"{{"addressBookId":{addr},"payMethod":null}}"#),
        ),
        (
            "POST",
            "/user/order/submit",
            format!(r#"{{"addressBookId":{addr},"payMethod":[1]}}"#),
        ),
        (
            "POST",
            "/user/order/submit",
            format!(r#"{{"addressBookId":{addr},"payMethod":1,"remark":5}}"#),
        ),
        (
            "POST",
            "/user/order/submit",
            format!(r#"{{"addressBookId":{addr},"payMethod":1,"tablewareNumber":"1"}}"#),
        ),
        (
            "POST",
            "/user/order/submit",
            format!(r#"{{"addressBookId":{addr},"payMethod":1,"estimatedDeliveryTime":20300101}}"#),
        ),
        (
            "PUT",
            "/user/order/payment",
            r#"{"orderNumber":123,"payMethod":1}"#.into(),
        ),
        (
            "PUT",
            "/user/order/payment",
            r#"{"orderNumber":null,"payMethod":1}"#.into(),
        ),
        (
            "PUT",
            "/user/order/payment",
            r#"{"orderNumber":"1","payMethod":"wechat"}"#.into(),
        ),
        (
            "POST",
            "/user/addressBook",
            r#"{"consignee":["张三"],"phone":"1","detail":"x"}"#.into(),
        ),
        (
            "POST",
            "/user/addressBook",
            r#"{"consignee":"张三","phone":13800000000,"detail":"x"}"#.into(),
        ),
        (
            "POST",
            "/user/addressBook",
            r#"{"consignee":"张三","phone":"1","detail":"x","isDefault":"yes"}"#.into(),
        ),
        (
            "PUT",
            "/user/addressBook",
            format!(r#"{{"id":"{addr}","consignee":"a","phone":"1","detail":"x"}}"#),
        ),
        (
            "PUT",
            "/user/addressBook/default",
            format!(r#"{{"id":"{addr}"}}"#),
        ),
        ("PUT", "/user/addressBook/default", r#"{"id":null}"#.into()),
        ("POST", "/user/user/login", r#"{"code":123}"#.into()),
        ("POST", "/user/user/login", r#"{"code":null}"#.into()),
    ];
    for (method, path, body) in customer_cases {
        let r = send(
            &app.base,
            method,
            path,
            as_customer(&c.token),
            Payload::Json(body.clone()),
        )
        .await;
        bad_request(
            &r,
            &format!("{method} {path} with the wrongly-typed body {body}"),
        );
    }
    let merchant_cases: Vec<(&str, &str, &str)> = vec![
        ("PUT", "/admin/order/confirm", r#"{"id":"1"}"#),
        ("PUT", "/admin/order/confirm", r#"{"id":null}"#),
        ("PUT", "/admin/order/confirm", r#"{"id":[1]}"#),
        ("PUT", "/admin/order/confirm", r#"{"id":1.0}"#),
        (
            "PUT",
            "/admin/order/confirm",
            r#"{"id":9223372036854775808}"#,
        ),
        (
            "PUT",
            "/admin/order/rejection",
            r#"{"id":1,"rejectionReason":42}"#,
        ),
        (
            "PUT",
            "/admin/order/cancel",
            r#"{"id":1,"cancelReason":{"a":1}}"#,
        ),
        (
            "POST",
            "/admin/employee/login",
            r#"{"username":1,"password":2}"#,
        ),
        (
            "POST",
            "/admin/employee/login",
            r#"{"username":["admin"],"password":"admin-pass-123"}"#,
        ),
    ];
    for (method, path, body) in merchant_cases {
        let r = send(
            &app.base,
            method,
            path,
            as_merchant(&admin.token),
            Payload::Json(body.into()),
        )
        .await;
        bad_request(
            &r,
            &format!("{method} {path} with the wrongly-typed body {body}"),
        );
    }
    assert_eq!(
        snapshot(&app).await,
        before,
        "wrongly-typed bodies changed the database"
    );
}

/// Required fields missing (`{}` and partial bodies) → an envelope, never a 5xx or a write.
async fn missing_required_fields_get_an_envelope(backend: Backend) {
    let app = common::spawn(backend).await;
    let c = app.customer("wx-hostile-missing").await;
    let admin = app.admin().await;
    let dish = app.first_dish(1).await;
    let addr = c.address().await;
    c.post("/user/shoppingCart/add", json!({"dishId": dish}))
        .await;
    let before = snapshot(&app).await;

    let cases: Vec<(&str, &str, bool, Value)> = vec![
        ("POST", "/user/shoppingCart/add", true, json!({})),
        (
            "POST",
            "/user/shoppingCart/add",
            true,
            json!({"dishFlavor": "微辣"}),
        ),
        ("POST", "/user/shoppingCart/sub", true, json!({})),
        ("POST", "/user/order/submit", true, json!({})),
        (
            "POST",
            "/user/order/submit",
            true,
            json!({"addressBookId": addr}),
        ),
        ("POST", "/user/order/submit", true, json!({"payMethod": 1})),
        ("PUT", "/user/order/payment", true, json!({})),
        ("PUT", "/user/order/payment", true, json!({"payMethod": 1})),
        (
            "PUT",
            "/user/addressBook",
            true,
            json!({"consignee": "李四", "phone": "1", "detail": "x"}),
        ),
        ("PUT", "/user/addressBook/default", true, json!({})),
        ("POST", "/user/user/login", true, json!({})),
        ("PUT", "/admin/order/confirm", false, json!({})),
        ("PUT", "/admin/order/rejection", false, json!({})),
        ("PUT", "/admin/order/cancel", false, json!({})),
        ("POST", "/admin/employee/login", false, json!({})),
        (
            "POST",
            "/admin/employee/login",
            false,
            json!({"username": "admin"}),
        ),
    ];
    for (method, path, customer, body) in cases {
        let h = if customer {
            as_customer(&c.token)
        } else {
            as_merchant(&admin.token)
        };
        let r = send(&app.base, method, path, h, json_body(&body)).await;
        refused(
            &r,
            &format!("{method} {path} with required fields missing: {body}"),
        );
    }
    // Fields that are present but empty are business refusals.
    let r = send(
        &app.base,
        "POST",
        "/user/addressBook",
        as_customer(&c.token),
        json_body(&json!({})),
    )
    .await;
    business(
        &r,
        "POST /user/addressBook with {}",
        "收货人、手机号和详细地址不能为空",
    );
    let r = send(
        &app.base,
        "PUT",
        "/admin/order/rejection",
        as_merchant(&admin.token),
        json_body(&json!({"id": 1})),
    )
    .await;
    business(
        &r,
        "PUT /admin/order/rejection without a reason",
        "请填写拒单原因",
    );
    let r = send(
        &app.base,
        "POST",
        "/user/user/login",
        HeaderMap::new(),
        json_body(&json!({"code": ""})),
    )
    .await;
    business(&r, "POST /user/user/login with an empty code", "登录失败");
    assert_eq!(
        snapshot(&app).await,
        before,
        "bodies with missing fields changed the database"
    );
}

/// A body without Content-Type, or with text/plain or a form Content-Type, is refused with a
/// 400 envelope even when the bytes are valid JSON; nothing is written.
async fn body_without_json_content_type_gets_400_envelope(backend: Backend) {
    let app = common::spawn(backend).await;
    let c = app.customer("wx-hostile-ctype").await;
    let admin = app.admin().await;
    let dish = app.first_dish(1).await;
    let before = snapshot(&app).await;
    let body = format!(r#"{{"dishId":{dish},"dishFlavor":""}}"#).into_bytes();
    for ct in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/xml"),
        Some(""),
    ] {
        let r = send(
            &app.base,
            "POST",
            "/user/shoppingCart/add",
            as_customer(&c.token),
            Payload::Raw(ct, body.clone()),
        )
        .await;
        bad_request(
            &r,
            &format!("POST /user/shoppingCart/add with valid JSON but Content-Type {ct:?}"),
        );
        let r = send(
            &app.base,
            "PUT",
            "/admin/order/confirm",
            as_merchant(&admin.token),
            Payload::Raw(ct, br#"{"id":1}"#.to_vec()),
        )
        .await;
        bad_request(
            &r,
            &format!("PUT /admin/order/confirm with Content-Type {ct:?}"),
        );
    }
    let r = send(
        &app.base,
        "POST",
        "/user/shoppingCart/add",
        as_customer(&c.token),
        Payload::Raw(
            Some("application/x-www-form-urlencoded"),
            format!("dishId={dish}").into_bytes(),
        ),
    )
    .await;
    bad_request(&r, "POST /user/shoppingCart/add with a form-encoded body");
    assert_eq!(
        snapshot(&app).await,
        before,
        "bodies without a JSON Content-Type changed the database"
    );
}

/// Sends a request with a chunked body of `total` bytes over a raw socket (so no
/// Content-Length announces the size) and returns the status code and the response text.
async fn send_chunked(app: &TestApp, path: &str, token: &str, total: usize) -> (u16, String) {
    let sock = tokio::net::TcpStream::connect(&app.host).await.unwrap();
    let (mut rd, mut wr) = sock.into_split();
    // Read while writing: the server may answer and close before it has read the whole body.
    let reader = tokio::spawn(async move {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(10), rd.read(&mut buf)).await
        {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        out
    });
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nauthentication: {token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        app.host
    );
    wr.write_all(head.as_bytes()).await.unwrap();
    let mut body = br#"{"dishId":1,"dishFlavor":""#.to_vec();
    body.resize(total, b'a');
    // Write errors are expected once the server has answered and closed.
    for chunk in body.chunks(8 * 1024) {
        let frame = [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
        if wr.write_all(&frame).await.is_err() {
            break;
        }
    }
    let _ = wr.write_all(b"0\r\n\r\n").await;
    let out = reader.await.unwrap();
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status line in {text:?}"));
    (status, text)
}

/// A body over 64 KiB (announced by Content-Length, or streamed chunked without one) is refused
/// (413, or 400 in the envelope), never a crash; the server keeps answering and writes nothing.
async fn huge_body_over_64_kib_is_refused(backend: Backend) {
    let app = common::spawn(backend).await;
    let c = app.customer("wx-hostile-huge").await;
    let dish = app.first_dish(1).await;
    let before = snapshot(&app).await;
    let flavor = "a".repeat(100 * 1024);
    // Over the limit: 413 (or 400) with the envelope, whoever sends it.
    let too_large = |r: &Reply, what: &str| {
        assert!(
            r.status == 413 || r.status == 400,
            "{what}: expected 413 (or 400) with the envelope, got HTTP {} {:?}",
            r.status,
            r.text
        );
        envelope_shape(r, what);
    };
    for (what, h) in [
        ("with a customer token", as_customer(&c.token)),
        ("without a token", HeaderMap::new()),
    ] {
        let r = send(
            &app.base,
            "POST",
            "/user/shoppingCart/add",
            h,
            json_body(&json!({"dishId": dish, "dishFlavor": flavor})),
        )
        .await;
        too_large(
            &r,
            &format!("POST /user/shoppingCart/add, 100 KiB body {what} (Content-Length)"),
        );
    }
    let r = send(
        &app.base,
        "POST",
        "/user/order/submit",
        as_customer(&c.token),
        json_body(&json!({"addressBookId": 1, "payMethod": 1, "remark": "备".repeat(30_000)})),
    )
    .await;
    too_large(&r, "POST /user/order/submit, 90 KiB body (Content-Length)");
    let r = send(
        &app.base,
        "PUT",
        "/admin/order/confirm",
        HeaderMap::new(),
        Payload::Raw(Some("application/json"), vec![b' '; 65 * 1024]),
    )
    .await;
    too_large(
        &r,
        "PUT /admin/order/confirm, 65 KiB of spaces (Content-Length)",
    );
    let (status, text) = send_chunked(&app, "/user/shoppingCart/add", &c.token, 200 * 1024).await;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or_default();
    too_large(
        &Reply {
            status,
            text: body.to_string(),
        },
        "POST /user/shoppingCart/add, 200 KiB chunked body without Content-Length",
    );
    // Still alive, and the same endpoint still works for a sane body.
    let ok = send(
        &app.base,
        "GET",
        "/user/shoppingCart/list",
        as_customer(&c.token),
        Payload::Empty,
    )
    .await;
    success(&ok, "the server answers after huge bodies");
    assert_eq!(
        snapshot(&app).await,
        before,
        "huge bodies changed the database"
    );
}

/// Unknown JSON properties are ignored and the request succeeds (the contract), including
/// properties that try to set what only the server decides: the owner (`userId`), the order's
/// status / payStatus / number / amount / shop, the address's default flag.
async fn unknown_json_properties_are_ignored(backend: Backend) {
    let app = common::spawn(backend).await;
    let c = app.customer("wx-hostile-unknown").await;
    let victim = app.customer("wx-hostile-unknown-victim").await;
    let admin = app.admin().await;
    let dish = app.first_dish(1).await;

    let r = send(
        &app.base,
        "POST",
        "/user/shoppingCart/add",
        as_customer(&c.token),
        json_body(&json!({"dishId": dish, "dishFlavor": "", "foo": 1, "nested": {"a": [1, 2]}, "userId": victim.id, "amount": 0.01, "number": 50})),
    )
    .await;
    success(&r, "cart add with unknown properties");
    let r = send(
        &app.base,
        "POST",
        "/user/addressBook",
        as_customer(&c.token),
        json_body(&json!({"consignee": "张三", "sex": "1", "phone": "13800000000", "detail": "软件园1号楼", "userId": victim.id, "id": 1, "isDefault": 1, "whatever": null})),
    )
    .await;
    success(
        &r,
        "address add with unknown properties and a foreign userId",
    );
    let (addr_id, addr_user, addr_default): (i64, i64, i64) =
        sqlx::query_as("SELECT id, user_id, is_default FROM address_book ORDER BY id DESC LIMIT 1")
            .fetch_one(app.state.store.pool())
            .await
            .unwrap();
    assert_eq!(addr_user, c.id, "the body's userId was not ignored");
    assert_eq!(
        addr_default, 0,
        "the body's isDefault was not ignored on add"
    );

    let r = send(
        &app.base,
        "POST",
        "/user/order/submit",
        as_customer(&c.token),
        json_body(&json!({"addressBookId": addr_id, "payMethod": 1, "remark": "", "amount": 0.01, "packAmount": 0, "userId": victim.id, "status": 5, "payStatus": 1, "number": "1", "shopId": 2, "orderTime": "2000-01-01 00:00", "unknown": [null]})),
    )
    .await;
    let v = success(&r, "submit with unknown properties");
    let order_id = v["data"]["id"].as_i64().unwrap();
    let number = v["data"]["orderNumber"].as_str().unwrap().to_string();
    assert_ne!(number, "1", "the body's number was not ignored");
    let (status, pay_status, user_id, shop_id, amount): (i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT status, pay_status, user_id, shop_id, amount FROM orders WHERE id = $1",
    )
    .bind(order_id)
    .fetch_one(app.state.store.pool())
    .await
    .unwrap();
    assert_eq!(
        (status, pay_status, user_id, shop_id),
        (1, 0, c.id, 1),
        "status / payStatus / userId / shopId from the body were not ignored"
    );
    assert!(
        amount > 1,
        "the body's amount (0.01) was trusted: {amount} fen"
    );

    let r = send(
        &app.base,
        "PUT",
        "/user/order/payment",
        as_customer(&c.token),
        json_body(&json!({"orderNumber": number, "payMethod": 1, "amount": 0, "extra": {"x": 1}})),
    )
    .await;
    success(&r, "payment with unknown properties");
    let r = send(
        &app.base,
        "PUT",
        "/admin/order/confirm",
        as_merchant(&admin.token),
        json_body(&json!({"id": order_id, "status": 5, "shopId": 2, "foo": "bar"})),
    )
    .await;
    success(&r, "confirm with unknown properties");
    assert_eq!(
        count(&app, "SELECT status FROM orders WHERE id = $1", order_id).await,
        3,
        "confirm moved the order to 3, not to the body's status"
    );
    let r = send(
        &app.base,
        "POST",
        "/admin/employee/login",
        HeaderMap::new(),
        json_body(&json!({"username": "admin", "password": "admin-pass-123", "shopId": 2, "role": "root"})),
    )
    .await;
    let v = success(&r, "merchant login with unknown properties");
    assert_eq!(
        v["data"]["shopId"], 1,
        "login's shopId from the body was not ignored"
    );
    let r = send(
        &app.base,
        "POST",
        "/user/user/login",
        HeaderMap::new(),
        json_body(
            &json!({"code": "wx-hostile-unknown", "openid": "someone-else", "id": victim.id}),
        ),
    )
    .await;
    let v = success(&r, "customer login with unknown properties");
    assert_eq!(
        v["data"]["id"], c.id,
        "login's id / openid from the body were not ignored"
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM address_book WHERE user_id = $1",
            victim.id
        )
        .await,
        0,
        "nothing was written for the victim"
    );
}

/// NUL characters (`\u0000` in JSON, `%00` in a query string) in every kind of text field.
/// PostgreSQL cannot store or compare them, so they must be refused as bad input (400), not
/// reach the database and come back as a 500.
async fn nul_characters_in_text_are_refused_not_500(backend: Backend) {
    let app = common::spawn(backend).await;
    let c = app.customer("wx-hostile-nul").await;
    let admin = app.admin().await;
    let dish = app.first_dish(1).await;
    let addr = c.address().await;
    c.post("/user/shoppingCart/add", json!({"dishId": dish}))
        .await;
    let before = snapshot(&app).await;
    let nul = "a\u{0}b";
    let customer_cases: Vec<(&str, &str, Value)> = vec![
        (
            "POST",
            "/user/shoppingCart/add",
            json!({"dishId": dish, "dishFlavor": nul}),
        ),
        (
            "POST",
            "/user/shoppingCart/sub",
            json!({"dishId": dish, "dishFlavor": nul}),
        ),
        (
            "POST",
            "/user/addressBook",
            json!({"consignee": nul, "phone": "1", "detail": "x"}),
        ),
        (
            "PUT",
            "/user/addressBook",
            json!({"id": addr, "consignee": "x", "phone": nul, "detail": "x"}),
        ),
        (
            "POST",
            "/user/order/submit",
            json!({"addressBookId": addr, "payMethod": 1, "remark": nul}),
        ),
        (
            "PUT",
            "/user/order/payment",
            json!({"orderNumber": nul, "payMethod": 1}),
        ),
        ("POST", "/user/user/login", json!({"code": nul})),
    ];
    for (method, path, body) in customer_cases {
        let r = send(
            &app.base,
            method,
            path,
            as_customer(&c.token),
            json_body(&body),
        )
        .await;
        let what = format!("{method} {path} with a NUL character in {body}");
        // The login hashes its code, so a NUL there may be harmless; everything else is 400.
        if path == "/user/user/login" {
            assert!(r.status < 500, "{what}");
        } else {
            bad_request(&r, &what);
        }
    }
    let r = send(
        &app.base,
        "POST",
        "/admin/employee/login",
        HeaderMap::new(),
        json_body(&json!({"username": "ad\u{0}min", "password": "admin-pass-123"})),
    )
    .await;
    bad_request(
        &r,
        "POST /admin/employee/login with a NUL character in the username",
    );
    let r = send(
        &app.base,
        "PUT",
        "/admin/order/rejection",
        as_merchant(&admin.token),
        json_body(&json!({"id": 1, "rejectionReason": nul})),
    )
    .await;
    refused(
        &r,
        "PUT /admin/order/rejection with a NUL character in the reason",
    );
    for q in ["number=%00", "phone=1%002", "number=a%00"] {
        let r = send(
            &app.base,
            "GET",
            &format!("/admin/order/conditionSearch?page=1&pageSize=10&{q}"),
            as_merchant(&admin.token),
            Payload::Empty,
        )
        .await;
        bad_request(
            &r,
            &format!("GET /admin/order/conditionSearch?{q} (a NUL in a text filter)"),
        );
    }
    // A NUL next to invalid UTF-8 in an ignored property (which a JSON value parser refuses).
    let r = send(
        &app.base,
        "POST",
        "/user/shoppingCart/add",
        as_customer(&c.token),
        Payload::Raw(
            Some("application/json"),
            [
                format!(r#"{{"dishId":{dish},"dishFlavor":"a\u0000b","junk":""#).as_bytes(),
                b"\xff\"}",
            ]
            .concat(),
        ),
    )
    .await;
    bad_request(
        &r,
        "cart add with a NUL in dishFlavor and invalid UTF-8 in an ignored property",
    );
    assert_eq!(
        snapshot(&app).await,
        before,
        "NUL characters changed the database"
    );
    // An escaped backslash followed by `u0000` is six ordinary characters, not a NUL.
    let r = send(
        &app.base,
        "POST",
        "/user/shoppingCart/add",
        as_customer(&c.token),
        Payload::Json(format!(r#"{{"dishId":{dish},"dishFlavor":"\\u0000"}}"#)),
    )
    .await;
    success(
        &r,
        r"cart add with the text \u0000 (escaped backslash) as the flavor",
    );
    let flavors: Vec<String> =
        sqlx::query_scalar("SELECT dish_flavor FROM shopping_cart WHERE user_id = $1")
            .bind(c.id)
            .fetch_all(app.state.store.pool())
            .await
            .unwrap();
    assert!(flavors.iter().any(|f| f == r"\u0000"), "{flavors:?}");
}

// ---------------------------------------------------------------------------------------------
// Ids in paths and query strings.

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
        // An empty `page=` is either treated as absent or refused; both are fine, a 5xx is not.
        if path.ends_with("page=&pageSize=") {
            if r.status == 400 {
                bad_request(&r, &format!("GET {path}"));
            }
            continue;
        }
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

// ---------------------------------------------------------------------------------------------
// Tokens.

/// Every merchant call on one order: details and each status action.
fn merchant_order_calls(id: i64) -> Vec<(&'static str, String, Option<Value>)> {
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

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn mint(secret: &[u8], alg: Algorithm, claims: &Value) -> String {
    jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(secret)).unwrap()
}

fn b64(v: &Value) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

async fn real_secret(app: &TestApp) -> String {
    sqlx::query_scalar("SELECT value FROM app_setting WHERE key = $1")
        .bind("jwt_secret")
        .fetch_one(app.state.store.pool())
        .await
        .expect("the generated token secret is kept in app_setting")
}

/// Missing, empty, garbage, forged (another secret), expired (the real secret), `alg: none`,
/// HS512, tampered, role-swapped and misplaced tokens: every one gets a bare 401 with an empty
/// body on every customer and merchant endpoint, before any body or path is looked at.
async fn bad_tokens_get_bare_401(backend: Backend) {
    let app = common::spawn(backend).await;
    let c = app.customer("wx-hostile-tokens").await;
    let admin = app.admin().await;
    let dish = app.first_dish(1).await;
    let (order_id, _) = c.paid_order(dish).await;
    let secret = real_secret(&app).await;
    let secret = secret.as_bytes();
    let other = sky_takeout::auth::random_string(48);
    let other = other.as_bytes();
    let now = now_secs();

    let claims = |uid: i64, shop: i64, role: &str, exp: i64| json!({"uid": uid, "shop": shop, "role": role, "exp": exp, "iat": now - 10});
    let merchant_claims = claims(1, 1, "merchant", now + 3600);
    let customer_claims = claims(c.id, 0, "customer", now + 3600);

    // Controls: the shape minted here with the real secret is accepted, so each 401 below comes
    // from the one defect of its token.
    let r = send(
        &app.base,
        "GET",
        "/admin/order/statistics",
        as_merchant(&mint(secret, Algorithm::HS256, &merchant_claims)),
        Payload::Empty,
    )
    .await;
    success(&r, "control: a merchant token minted with the real secret");
    let r = send(
        &app.base,
        "GET",
        "/user/shoppingCart/list",
        as_customer(&mint(secret, Algorithm::HS256, &customer_claims)),
        Payload::Empty,
    )
    .await;
    success(&r, "control: a customer token minted with the real secret");

    let tamper = |tok: &str, payload: &Value| {
        let parts: Vec<&str> = tok.split('.').collect();
        format!("{}.{}.{}", parts[0], b64(payload), parts[2])
    };
    let bad_for = |role: &str, uid: i64, shop: i64| -> Vec<(String, Vec<u8>)> {
        let good = claims(uid, shop, role, now + 3600);
        let valid = mint(secret, Algorithm::HS256, &good);
        let mut exp_missing = good.clone();
        exp_missing.as_object_mut().unwrap().remove("exp");
        let mut exp_string = good.clone();
        exp_string["exp"] = json!((now + 3600).to_string());
        vec![
            ("an empty token".into(), b"".to_vec()),
            ("a blank token".into(), b"   ".to_vec()),
            ("garbage".into(), b"abc".to_vec()),
            ("three garbage segments".into(), b"a.b.c".to_vec()),
            ("non-ASCII bytes".into(), b"\xff\xfe\xfd".to_vec()),
            (
                "a valid token behind 'Bearer '".into(),
                format!("Bearer {valid}").into_bytes(),
            ),
            (
                "a token forged with another secret".into(),
                mint(other, Algorithm::HS256, &good).into_bytes(),
            ),
            (
                "a token expired an hour ago, real secret".into(),
                mint(
                    secret,
                    Algorithm::HS256,
                    &claims(uid, shop, role, now - 3600),
                )
                .into_bytes(),
            ),
            (
                "a token expired a second ago, real secret".into(),
                mint(secret, Algorithm::HS256, &claims(uid, shop, role, now - 1)).into_bytes(),
            ),
            (
                "a token without exp, real secret".into(),
                mint(secret, Algorithm::HS256, &exp_missing).into_bytes(),
            ),
            (
                "a token with a string exp, real secret".into(),
                mint(secret, Algorithm::HS256, &exp_string).into_bytes(),
            ),
            (
                "an HS512 token, real secret".into(),
                mint(secret, Algorithm::HS512, &good).into_bytes(),
            ),
            (
                "an alg:none token".into(),
                format!(
                    "{}.{}.",
                    b64(&json!({"alg": "none", "typ": "JWT"})),
                    b64(&good)
                )
                .into_bytes(),
            ),
            (
                "a valid token with its payload swapped".into(),
                tamper(&valid, &claims(uid + 1, shop + 1, role, now + 7200)).into_bytes(),
            ),
            (
                "a token with an unknown role, real secret".into(),
                mint(
                    secret,
                    Algorithm::HS256,
                    &claims(uid, shop, "admin", now + 3600),
                )
                .into_bytes(),
            ),
            (
                "a token signed with an empty secret".into(),
                mint(b"", Algorithm::HS256, &good).into_bytes(),
            ),
        ]
    };

    let customer_eps: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", "/user/shoppingCart/list".into(), None),
        (
            "POST",
            "/user/shoppingCart/add".into(),
            Some(json!({"dishId": dish, "dishFlavor": ""})),
        ),
        ("DELETE", "/user/shoppingCart/clean".into(), None),
        (
            "POST",
            "/user/addressBook".into(),
            Some(json!({"consignee": "x", "phone": "1", "detail": "x"})),
        ),
        ("GET", "/user/addressBook/list".into(), None),
        ("GET", "/user/addressBook/1".into(), None),
        (
            "POST",
            "/user/order/submit".into(),
            Some(json!({"addressBookId": 1, "payMethod": 1})),
        ),
        (
            "PUT",
            "/user/order/payment".into(),
            Some(json!({"orderNumber": "1", "payMethod": 1})),
        ),
        (
            "GET",
            "/user/order/historyOrders?page=1&pageSize=10".into(),
            None,
        ),
        ("GET", format!("/user/order/orderDetail/{order_id}"), None),
        ("PUT", format!("/user/order/cancel/{order_id}"), None),
        ("POST", format!("/user/order/repetition/{order_id}"), None),
        ("GET", format!("/user/order/reminder/{order_id}"), None),
        ("GET", "/user/category/list".into(), None),
        ("GET", "/user/dish/list?categoryId=1".into(), None),
        // Auth comes before parsing: a bad path or body must not tell an anonymous caller more.
        ("GET", "/user/order/orderDetail/abc".into(), None),
        (
            "POST",
            "/user/shoppingCart/add".into(),
            Some(json!("not an object")),
        ),
    ];
    let mut merchant_eps: Vec<(&str, String, Option<Value>)> = merchant_order_calls(order_id);
    merchant_eps.extend([
        (
            "GET",
            "/admin/order/conditionSearch?page=1&pageSize=10".into(),
            None,
        ),
        ("GET", "/admin/order/statistics".into(), None),
        ("GET", "/admin/shop/status".into(), None),
        ("PUT", "/admin/shop/0".into(), None),
        ("GET", "/admin/alerts".into(), None),
        ("POST", "/admin/alerts/1/ack".into(), None),
        ("GET", "/admin/employee/me".into(), None),
        ("GET", "/admin/order/details/abc".into(), None),
        ("PUT", "/admin/order/confirm".into(), Some(json!([1, 2]))),
    ]);
    let before = snapshot(&app).await;
    let payload = |b: &Option<Value>| b.as_ref().map(json_body).unwrap_or(Payload::Empty);

    let mut customer_tokens: Vec<(String, HeaderMap)> = vec![
        ("no token at all".into(), HeaderMap::new()),
        (
            "a valid customer token in the merchant `token` header".into(),
            as_merchant(&c.token),
        ),
        (
            "a valid merchant token in `authentication`".into(),
            as_customer(&admin.token),
        ),
        (
            "a valid customer token as `Authorization: Bearer`".into(),
            headers(&[("authorization", format!("Bearer {}", c.token).as_bytes())]),
        ),
        (
            "a valid merchant session cookie".into(),
            headers(&[("cookie", admin.cookie.as_bytes())]),
        ),
        (
            "a merchant-role token forged with another secret".into(),
            as_customer(&mint(other, Algorithm::HS256, &merchant_claims)),
        ),
    ];
    for (what, tok) in bad_for("customer", c.id, 0) {
        customer_tokens.push((
            format!("{what} in `authentication`"),
            headers(&[("authentication", &tok)]),
        ));
    }
    for (method, path, body) in &customer_eps {
        for (what, h) in &customer_tokens {
            let r = send(&app.base, method, path, h.clone(), payload(body)).await;
            unauthorized(
                &r,
                &format!("customer endpoint {method} {path} with {what}"),
            );
        }
    }

    let mut merchant_tokens: Vec<(String, HeaderMap)> = vec![
        ("no token at all".into(), HeaderMap::new()),
        (
            "a valid customer token in `token`".into(),
            as_merchant(&c.token),
        ),
        (
            "a valid merchant token in the customer `authentication` header".into(),
            as_customer(&admin.token),
        ),
        (
            "a valid customer token as `Authorization: Bearer`".into(),
            headers(&[("authorization", format!("Bearer {}", c.token).as_bytes())]),
        ),
        (
            "a customer token in the session cookie".into(),
            headers(&[("cookie", format!("sky_session={}", c.token).as_bytes())]),
        ),
        (
            "a garbage session cookie".into(),
            headers(&[("cookie", b"sky_session=abc")]),
        ),
        (
            "a forged session cookie".into(),
            headers(&[(
                "cookie",
                format!(
                    "sky_session={}",
                    mint(other, Algorithm::HS256, &merchant_claims)
                )
                .as_bytes(),
            )]),
        ),
        (
            "a merchant token in the query string".into(),
            HeaderMap::new(),
        ),
    ];
    for (what, tok) in bad_for("merchant", 1, 1) {
        merchant_tokens.push((format!("{what} in `token`"), headers(&[("token", &tok)])));
        merchant_tokens.push((
            format!("{what} as Authorization Bearer"),
            headers(&[("authorization", &[b"Bearer ".as_slice(), &tok].concat())]),
        ));
    }
    for (method, path, body) in &merchant_eps {
        for (what, h) in &merchant_tokens {
            let path = if what.contains("query string") {
                let sep = if path.contains('?') { '&' } else { '?' };
                format!("{path}{sep}token={}", admin.token)
            } else {
                path.clone()
            };
            let r = send(&app.base, method, &path, h.clone(), payload(body)).await;
            unauthorized(
                &r,
                &format!("merchant endpoint {method} {path} with {what}"),
            );
        }
    }
    assert_eq!(
        snapshot(&app).await,
        before,
        "requests with bad tokens changed the database"
    );
    // Public paths stay public.
    let r = send(
        &app.base,
        "GET",
        "/user/shop/status",
        HeaderMap::new(),
        Payload::Empty,
    )
    .await;
    success(&r, "the public shop status needs no token");
}

// ---------------------------------------------------------------------------------------------
// Other people's things.

/// Alice touching Bob's orders (unpaid and paid): detail, cancel, repetition, reminder and
/// payment by order number all answer exactly what a non-existent order answers (订单不存在),
/// so ids and numbers cannot be probed; Bob's orders, Alice's cart and the alert log are
/// unchanged, and Alice's history does not list them.
async fn customer_cannot_touch_another_customers_order(backend: Backend) {
    let app = common::spawn(backend).await;
    let alice = app.customer("wx-hostile-alice").await;
    let bob = app.customer("wx-hostile-bob").await;
    let dish = app.first_dish(1).await;
    let (unpaid, unpaid_no) = bob.order(dish, 2, "bob's").await;
    let (paid, paid_no) = bob.paid_order(dish).await;
    let before = snapshot(&app).await;
    let ghost = 987_654_321_i64;

    let probe = |method: &'static str, path: String, body: Option<Value>| {
        let token = alice.token.clone();
        let base = app.base.clone();
        async move {
            let p = body.as_ref().map(json_body).unwrap_or(Payload::Empty);
            send(&base, method, &path, as_customer(&token), p).await
        }
    };
    for (label, id) in [("unpaid", unpaid), ("paid", paid)] {
        for (method, path) in [
            ("GET", "/user/order/orderDetail/"),
            ("PUT", "/user/order/cancel/"),
            ("POST", "/user/order/repetition/"),
            ("GET", "/user/order/reminder/"),
        ] {
            let theirs = probe(method, format!("{path}{id}"), None).await;
            business(
                &theirs,
                &format!("Alice {method} {path}{{Bob's {label} order}}"),
                NOT_FOUND,
            );
            let none = probe(method, format!("{path}{ghost}"), None).await;
            assert_eq!(
                theirs.text, none.text,
                "{method} {path}: Bob's order and a missing one must answer the same"
            );
        }
    }
    for (label, number) in [("unpaid", &unpaid_no), ("paid", &paid_no)] {
        let theirs = probe(
            "PUT",
            "/user/order/payment".into(),
            Some(json!({"orderNumber": number, "payMethod": 1})),
        )
        .await;
        business(
            &theirs,
            &format!("Alice pays Bob's {label} order by its number"),
            NOT_FOUND,
        );
        let none = probe(
            "PUT",
            "/user/order/payment".into(),
            Some(json!({"orderNumber": "17180000000000000", "payMethod": 1})),
        )
        .await;
        assert_eq!(
            theirs.text, none.text,
            "payment: Bob's number and a missing one must answer the same"
        );
    }
    let h = probe(
        "GET",
        "/user/order/historyOrders?page=1&pageSize=100".into(),
        None,
    )
    .await;
    let h = success(&h, "Alice's history");
    assert_eq!(
        h["data"]["total"], 0,
        "Alice's history lists Bob's orders: {h}"
    );
    assert_eq!(
        snapshot(&app).await,
        before,
        "Alice changed Bob's orders, her cart or the alert log"
    );
    // Bob can still do all of it himself.
    assert_eq!(
        bob.get(&format!("/user/order/orderDetail/{unpaid}")).await["code"],
        1
    );
    assert_eq!(
        bob.get(&format!("/user/order/reminder/{paid}")).await["code"],
        1
    );
}

/// A merchant of shop 2 touching shop 1's order: details, confirm, reject, cancel, delivery and
/// complete → 订单不存在; its search, statistics and alert list do not show it; acknowledging
/// shop 1's alert → 提醒不存在; nothing changes.
async fn merchant_of_another_shop_cannot_touch_the_order(backend: Backend) {
    let app = common::spawn(backend).await;
    let shop2 = app
        .add_shop("隔壁小馆", "xiaoguan", "xiaoguan-pass-1")
        .await;
    let other = app.merchant("xiaoguan", "xiaoguan-pass-1").await;
    assert_eq!(other.shop_id, shop2);
    let admin = app.admin().await;
    let c = app.customer("wx-hostile-shop1").await;
    let dish = app.first_dish(1).await;
    let (paid, number) = c.paid_order(dish).await;
    let (accepted, _) = c.paid_order(dish).await;
    assert_eq!(
        admin
            .put("/admin/order/confirm", json!({"id": accepted}))
            .await["code"],
        1
    );
    let alert_id: i64 = sqlx::query_scalar("SELECT MIN(id) FROM alert_log WHERE shop_id = 1")
        .fetch_one(app.state.store.pool())
        .await
        .unwrap();
    let before = snapshot(&app).await;

    let m = |method: &'static str, path: String, body: Option<Value>| {
        let base = app.base.clone();
        let token = other.token.clone();
        async move {
            let p = body.as_ref().map(json_body).unwrap_or(Payload::Empty);
            send(&base, method, &path, as_merchant(&token), p).await
        }
    };
    for id in [paid, accepted] {
        let cases = merchant_order_calls(id);
        for (method, path, body) in cases {
            let r = m(method, path.clone(), body.clone()).await;
            business(
                &r,
                &format!("shop 2's merchant: {method} {path} {body:?} on shop 1's order"),
                NOT_FOUND,
            );
        }
    }
    let v = success(
        &m(
            "GET",
            format!("/admin/order/conditionSearch?page=1&pageSize=100&number={number}"),
            None,
        )
        .await,
        "shop 2 searches shop 1's number",
    );
    assert_eq!(v["data"]["total"], 0, "{v}");
    let v = success(
        &m(
            "GET",
            "/admin/order/conditionSearch?page=1&pageSize=100".into(),
            None,
        )
        .await,
        "shop 2 lists orders",
    );
    assert_eq!(v["data"]["total"], 0, "{v}");
    let v = success(
        &m("GET", "/admin/order/statistics".into(), None).await,
        "shop 2 statistics",
    );
    assert_eq!(
        v["data"],
        json!({"toBeConfirmed": 0, "confirmed": 0, "deliveryInProgress": 0})
    );
    let v = success(
        &m("GET", "/admin/alerts".into(), None).await,
        "shop 2 alert list",
    );
    assert_eq!(v["data"], json!([]), "shop 2 sees shop 1's alerts: {v}");
    business(
        &m("POST", format!("/admin/alerts/{alert_id}/ack"), None).await,
        "shop 2 acknowledges shop 1's alert",
        "提醒不存在",
    );
    assert_eq!(
        snapshot(&app).await,
        before,
        "shop 2's merchant changed shop 1's orders or alerts"
    );
}

// ---------------------------------------------------------------------------------------------
// Reminders.

/// Reminders only for status 2, 3 and 4; 1 (unpaid), 5 (completed) and 6 (cancelled) get
/// 订单状态错误 and write no alert row.
async fn reminder_only_for_status_2_3_4(backend: Backend) {
    let app = common::spawn(backend).await;
    let c = app.customer("wx-hostile-remind-status").await;
    let admin = app.admin().await;
    let dish = app.first_dish(1).await;
    for status in 1..=6 {
        let id = order_in_status(&c, &admin, dish, status).await;
        assert_eq!(
            count(&app, "SELECT status FROM orders WHERE id = $1", id).await,
            status
        );
        let r = send(
            &app.base,
            "GET",
            &format!("/user/order/reminder/{id}"),
            as_customer(&c.token),
            Payload::Empty,
        )
        .await;
        let what = format!("reminder on an order in status {status}");
        if (2..=4).contains(&status) {
            assert_eq!(
                success(&r, &what),
                json!({"code": 1, "msg": null, "data": null})
            );
            assert_eq!(reminder_alerts(&app, id).await, 1, "{what}: one alert row");
        } else {
            business(&r, &what, BAD_STATUS);
            assert_eq!(reminder_alerts(&app, id).await, 0, "{what}: no alert row");
            let last: Option<i64> =
                sqlx::query_scalar("SELECT last_reminder_at FROM orders WHERE id = $1")
                    .bind(id)
                    .fetch_one(app.state.store.pool())
                    .await
                    .unwrap();
            assert_eq!(
                last, None,
                "{what}: the refused reminder claimed the window"
            );
        }
    }
}

/// Eight reminders for one order at the same moment → exactly one succeeds and writes an alert
/// row; the others (and a later one inside the 60 s window) are refused without a row; after
/// the window one more is allowed.
async fn reminder_at_most_once_per_window_even_concurrently(backend: Backend) {
    let app = common::spawn(backend).await;
    let c = app.customer("wx-hostile-remind-burst").await;
    let dish = app.first_dish(1).await;
    let (id, _) = c.paid_order(dish).await;
    let path = format!("/user/order/reminder/{id}");
    let replies = futures_util::future::join_all((0..8).map(|_| {
        send(
            &app.base,
            "GET",
            &path,
            as_customer(&c.token),
            Payload::Empty,
        )
    }))
    .await;
    let mut ok = 0;
    for r in &replies {
        let v = refused_or_ok(r, "one of 8 simultaneous reminders");
        if v["code"] == 1 {
            ok += 1;
        } else {
            assert_eq!(v["msg"], "催单过于频繁，请稍后再试", "{v}");
        }
    }
    assert_eq!(
        ok, 1,
        "exactly one of 8 simultaneous reminders succeeds: {replies:?}"
    );
    assert_eq!(
        reminder_alerts(&app, id).await,
        1,
        "one alert row for 8 simultaneous reminders"
    );
    app.clock.advance(Duration::from_secs(30));
    let r = send(
        &app.base,
        "GET",
        &path,
        as_customer(&c.token),
        Payload::Empty,
    )
    .await;
    business(
        &r,
        "a reminder 30 s later (inside the window)",
        "催单过于频繁，请稍后再试",
    );
    assert_eq!(reminder_alerts(&app, id).await, 1);
    app.clock.advance(Duration::from_secs(31));
    let r = send(
        &app.base,
        "GET",
        &path,
        as_customer(&c.token),
        Payload::Empty,
    )
    .await;
    success(&r, "a reminder 61 s after the first (window over)");
    assert_eq!(reminder_alerts(&app, id).await, 2);
}

fn refused_or_ok(r: &Reply, what: &str) -> Value {
    let v: Value = serde_json::from_str(&r.text).unwrap_or_else(|_| panic!("{what}: {r:?}"));
    if v["code"] == 1 {
        assert_eq!(r.status, 200, "{what}: {r:?}");
        v
    } else {
        refused(r, what)
    }
}

/// The reminder window holds across a restart of the app on the same database: remind, stop
/// the app, start a new one on the same database, remind again → refused, no second alert
/// row; once the window has passed (clock moved) it is allowed again.
async fn reminder_window_survives_a_restart(backend: Backend) {
    let app = common::spawn(backend).await;
    let c = app.customer("wx-hostile-remind-restart").await;
    let dish = app.first_dish(1).await;
    let (id, _) = c.paid_order(dish).await;
    let path = format!("/user/order/reminder/{id}");
    let r = send(
        &app.base,
        "GET",
        &path,
        as_customer(&c.token),
        Payload::Empty,
    )
    .await;
    success(&r, "first reminder");
    let url = app.database_url.clone();
    let dir = app.shutdown().await;
    let app = common::spawn_on(url, dir, |_| {}).await;
    let r = send(
        &app.base,
        "GET",
        &path,
        as_customer(&c.token),
        Payload::Empty,
    )
    .await;
    business(
        &r,
        "a second reminder right after a restart",
        "催单过于频繁，请稍后再试",
    );
    assert_eq!(
        reminder_alerts(&app, id).await,
        1,
        "the restart reopened the reminder window"
    );
    app.clock.advance(Duration::from_secs(61));
    let r = send(
        &app.base,
        "GET",
        &path,
        as_customer(&c.token),
        Payload::Empty,
    )
    .await;
    success(&r, "a reminder after the window, on the restarted app");
    assert_eq!(reminder_alerts(&app, id).await, 2);
}

// ---------------------------------------------------------------------------------------------
// Cart, address, submit.

/// The cart refuses a dish that does not exist, one taken off sale, one of another shop while
/// it holds shop 1's dishes (clear message), a set meal (setmealId only), a flavor over 50
/// characters, and removing what it does not hold; the cart is unchanged.
async fn cart_refuses_bad_dishes(backend: Backend) {
    let app = common::spawn(backend).await;
    let shop2 = app
        .add_shop("隔壁小馆", "xiaoguan2", "xiaoguan-pass-2")
        .await;
    let c = app.customer("wx-hostile-cart").await;
    let dish = app.first_dish(1).await;
    let other_shop_dish = app.first_dish(shop2).await;
    let off_sale: i64 = sqlx::query_scalar("SELECT MAX(id) FROM dish WHERE shop_id = 1")
        .fetch_one(app.state.store.pool())
        .await
        .unwrap();
    assert_ne!(off_sale, dish);
    sqlx::query("UPDATE dish SET status = 0 WHERE id = $1")
        .bind(off_sale)
        .execute(app.state.store.pool())
        .await
        .unwrap();
    assert_eq!(
        c.post(
            "/user/shoppingCart/add",
            json!({"dishId": dish, "dishFlavor": "微辣"})
        )
        .await["code"],
        1
    );
    let before = snapshot(&app).await;

    let add = |body: Value| {
        let base = app.base.clone();
        let token = c.token.clone();
        async move {
            send(
                &base,
                "POST",
                "/user/shoppingCart/add",
                as_customer(&token),
                json_body(&body),
            )
            .await
        }
    };
    business(
        &add(json!({"dishId": 987654321})).await,
        "a dish that does not exist",
        "菜品不存在或已停售",
    );
    business(
        &add(json!({"dishId": off_sale})).await,
        "a dish taken off sale",
        "菜品不存在或已停售",
    );
    let r = add(json!({"dishId": other_shop_dish})).await;
    business(
        &r,
        "a dish of shop 2 while the cart holds shop 1's",
        "购物车中已有其他店铺的菜品，请先清空购物车",
    );
    business(
        &add(json!({"setmealId": 1})).await,
        "setmealId only",
        "暂不支持套餐",
    );
    bad_request(
        &add(json!({"dishId": dish, "dishFlavor": "辣".repeat(51)})).await,
        "a 51-character flavor",
    );
    bad_request(
        &add(json!({"dishId": dish, "dishFlavor": "a".repeat(10_000)})).await,
        "a 10000-character flavor",
    );
    bad_request(
        &add(json!({"dishId": null, "setmealId": null})).await,
        "neither dishId nor setmealId",
    );
    let r = send(
        &app.base,
        "POST",
        "/user/shoppingCart/sub",
        as_customer(&c.token),
        json_body(&json!({"dishId": dish, "dishFlavor": "不辣"})),
    )
    .await;
    business(
        &r,
        "removing a flavor the cart does not hold",
        "购物车中没有该菜品",
    );
    let r = send(
        &app.base,
        "POST",
        "/user/shoppingCart/sub",
        as_customer(&c.token),
        json_body(&json!({"dishId": other_shop_dish})),
    )
    .await;
    business(
        &r,
        "removing a dish the cart does not hold",
        "购物车中没有该菜品",
    );
    assert_eq!(
        snapshot(&app).await,
        before,
        "refused cart changes changed the cart"
    );
    // A 50-character flavor is still fine.
    let r = add(json!({"dishId": dish, "dishFlavor": "辣".repeat(50)})).await;
    success(&r, "a 50-character flavor");
}

/// Addresses: fields too long → 400; required fields empty or blank → 收货人、手机号和详细地址不能为空;
/// reading, updating, deleting or making default someone else's address → 地址不存在, and
/// their address (and default flag) is unchanged.
async fn address_input_is_checked(backend: Backend) {
    let app = common::spawn(backend).await;
    let c = app.customer("wx-hostile-addr").await;
    let victim = app.customer("wx-hostile-addr-victim").await;
    let mine = c.address().await;
    let theirs = victim.address().await;
    assert_eq!(
        victim
            .put("/user/addressBook/default", json!({"id": theirs}))
            .await["code"],
        1
    );
    assert_eq!(
        c.put("/user/addressBook/default", json!({"id": mine}))
            .await["code"],
        1
    );
    let before = snapshot(&app).await;
    let base =
        json!({"consignee": "张三", "sex": "1", "phone": "13800000000", "detail": "软件园1号楼"});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let send_addr = |method: &'static str, body: Value| {
        let base = app.base.clone();
        let token = c.token.clone();
        async move {
            send(
                &base,
                method,
                "/user/addressBook",
                as_customer(&token),
                json_body(&body),
            )
            .await
        }
    };
    for (field, len) in [
        ("consignee", 65),
        ("phone", 65),
        ("sex", 65),
        ("label", 65),
        ("provinceName", 65),
        ("cityCode", 65),
        ("districtName", 65),
        ("detail", 201),
    ] {
        let long = "长".repeat(len);
        let r = send_addr("POST", with(field, json!(long))).await;
        bad_request(
            &r,
            &format!("add an address whose {field} has {len} characters"),
        );
        let mut body = with(field, json!(long));
        body["id"] = json!(mine);
        let r = send_addr("PUT", body).await;
        bad_request(
            &r,
            &format!("update an address whose {field} has {len} characters"),
        );
    }
    for (field, v) in [
        ("consignee", ""),
        ("phone", ""),
        ("detail", ""),
        ("consignee", "   "),
        ("phone", "\t"),
        ("detail", " \n "),
    ] {
        let r = send_addr("POST", with(field, json!(v))).await;
        business(
            &r,
            &format!("add an address with {field} = {v:?}"),
            "收货人、手机号和详细地址不能为空",
        );
    }
    // Someone else's address.
    let r = send(
        &app.base,
        "GET",
        &format!("/user/addressBook/{theirs}"),
        as_customer(&c.token),
        Payload::Empty,
    )
    .await;
    business(&r, "read someone else's address", NO_ADDRESS);
    let mut upd = with("consignee", json!("黑客"));
    upd["id"] = json!(theirs);
    business(
        &send_addr("PUT", upd.clone()).await,
        "update someone else's address",
        NO_ADDRESS,
    );
    upd["userId"] = json!(c.id);
    business(
        &send_addr("PUT", upd).await,
        "update someone else's address claiming their userId is mine",
        NO_ADDRESS,
    );
    let r = send(
        &app.base,
        "DELETE",
        &format!("/user/addressBook?id={theirs}"),
        as_customer(&c.token),
        Payload::Empty,
    )
    .await;
    business(&r, "delete someone else's address", NO_ADDRESS);
    let r = send(
        &app.base,
        "PUT",
        "/user/addressBook/default",
        as_customer(&c.token),
        json_body(&json!({"id": theirs})),
    )
    .await;
    business(&r, "make someone else's address my default", NO_ADDRESS);
    let list = c.get("/user/addressBook/list").await;
    assert_eq!(
        list["data"].as_array().unwrap().len(),
        1,
        "someone else's address shows in my list: {list}"
    );
    assert_eq!(
        snapshot(&app).await,
        before,
        "refused address requests changed the address book"
    );
}

/// Submit: payMethod 0 / 3 / -1, a 201-character remark, tablewareNumber -1 / 1000, a bad
/// estimatedDeliveryTime, someone else's address or none → refused; no order, no order line,
/// and the cart still holds its dishes.
async fn submit_input_is_checked(backend: Backend) {
    let app = common::spawn(backend).await;
    let c = app.customer("wx-hostile-submit").await;
    let victim = app.customer("wx-hostile-submit-victim").await;
    let dish = app.first_dish(1).await;
    let addr = c.address().await;
    let theirs = victim.address().await;
    assert_eq!(
        c.post("/user/shoppingCart/add", json!({"dishId": dish}))
            .await["code"],
        1
    );
    let before = snapshot(&app).await;
    let good = json!({"addressBookId": addr, "payMethod": 1, "remark": "", "estimatedDeliveryTime": "2030-01-01 12:00:00", "deliveryStatus": 1, "tablewareNumber": 1, "tablewareStatus": 1, "packAmount": 1, "amount": 0.01});
    let with = |k: &str, v: Value| {
        let mut b = good.clone();
        b[k] = v;
        b
    };
    let submit = |body: Value| {
        let base = app.base.clone();
        let token = c.token.clone();
        async move {
            send(
                &base,
                "POST",
                "/user/order/submit",
                as_customer(&token),
                json_body(&body),
            )
            .await
        }
    };
    for pm in [0, 3, -1, i64::MAX] {
        business(
            &submit(with("payMethod", json!(pm))).await,
            &format!("submit with payMethod {pm}"),
            "支付方式错误",
        );
    }
    business(
        &submit(with("remark", json!("字".repeat(201)))).await,
        "submit with a 201-character remark",
        "备注不能超过200字",
    );
    for n in [-1, 100, 1000, i64::MIN] {
        business(
            &submit(with("tablewareNumber", json!(n))).await,
            &format!("submit with tablewareNumber {n}"),
            "餐具数量错误",
        );
    }
    for t in [
        "tomorrow",
        "2030-02-30 12:00:00",
        "2030-01-01T12:00:00",
        "2030/01/01 12:00:00",
        "12:00:00",
        "2030-01-01 25:00:00",
        "9999999-01-01 00:00:00",
    ] {
        bad_request(
            &submit(with("estimatedDeliveryTime", json!(t))).await,
            &format!("submit with estimatedDeliveryTime {t:?}"),
        );
    }
    business(
        &submit(with("addressBookId", json!(theirs))).await,
        "submit with someone else's address",
        "用户地址为空，不能下单",
    );
    business(
        &submit(with("addressBookId", json!(-1))).await,
        "submit with address -1",
        "用户地址为空，不能下单",
    );
    assert_eq!(
        snapshot(&app).await,
        before,
        "refused submits wrote an order, a line or touched the cart"
    );
    // The same body with sane values goes through.
    let r = submit(with("remark", json!("字".repeat(200)))).await;
    success(&r, "submit with a 200-character remark");
}

backend_tests! {
    malformed_json_bodies_get_400_envelope => malformed_json_bodies_get_400_envelope,
    wrongly_typed_json_fields_get_400_envelope => wrongly_typed_json_fields_get_400_envelope,
    missing_required_fields_get_an_envelope => missing_required_fields_get_an_envelope,
    body_without_json_content_type_gets_400_envelope => body_without_json_content_type_gets_400_envelope,
    huge_body_over_64_kib_is_refused => huge_body_over_64_kib_is_refused,
    unknown_json_properties_are_ignored => unknown_json_properties_are_ignored,
    nul_characters_in_text_are_refused_not_500 => nul_characters_in_text_are_refused_not_500,
    hostile_ids_in_paths_and_queries => hostile_ids_in_paths_and_queries,
    hostile_query_strings => hostile_query_strings,
    bad_tokens_get_bare_401 => bad_tokens_get_bare_401,
    customer_cannot_touch_another_customers_order => customer_cannot_touch_another_customers_order,
    merchant_of_another_shop_cannot_touch_the_order => merchant_of_another_shop_cannot_touch_the_order,
    reminder_only_for_status_2_3_4 => reminder_only_for_status_2_3_4,
    reminder_at_most_once_per_window_even_concurrently => reminder_at_most_once_per_window_even_concurrently,
    reminder_window_survives_a_restart => reminder_window_survives_a_restart,
    cart_refuses_bad_dishes => cart_refuses_bad_dishes,
    address_input_is_checked => address_input_is_checked,
    submit_input_is_checked => submit_input_is_checked,
}
