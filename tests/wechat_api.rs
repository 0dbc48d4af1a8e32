//! Wechat mode end to end against a fake WeChat (an axum server on 127.0.0.1 started by each
//! test), on SQLite and PostgreSQL: the customer logs in with a `wx.login` code traded at
//! `jscode2session`; `PUT /user/order/payment` creates a JSAPI order at WeChat Pay, signed with
//! the merchant key (the fake checks the signature with the merchant public key, and the body),
//! checks the platform signature of the reply and answers `wx.requestPayment` parameters signed
//! with the merchant key; the order stays unpaid until a verified notification pays it and the
//! merchant's screen hears it. A reply with a bad signature, a WeChat error, someone else's
//! order, a paid or cancelled order: refused, nothing paid.
//!
//! The app is configured through `SettingsLayer::resolve`, as from flags or the environment,
//! with the key files written to a temp dir.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use common::wechat::{
    API_V3_KEY, MCHID, PLATFORM_SERIAL, merchant_key_pem, merchant_public_pem, platform, rogue,
};
use common::{Backend, TestApp};
use serde_json::{Value, json};
use sky_takeout::config::PayMode;
use sky_takeout::config::layer::SettingsLayer;
use sky_takeout::config::wechat::WechatSettings;
use sky_takeout::payment::rsa_public::RsaPublicKey;

const MERCHANT_SERIAL: &str = "444F4864EA9B34415B8FE37A4C0CD53A5C33B0A1";
const APPID: &str = "wxd678efh567hg6787";
const APP_SECRET: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
const NOTIFY_URL: &str = "https://shop.example.com/notify/paySuccess";
const JSAPI_PATH: &str = "/v3/pay/transactions/jsapi";
const WAIT: Duration = Duration::from_secs(5);
const QUIET: Duration = Duration::from_millis(800);

/// True when `signature_b64` is the merchant's RSA-SHA256 signature of `message`.
fn merchant_signed(message: &str, signature_b64: &str) -> bool {
    let key = RsaPublicKey::from_pem(merchant_public_pem()).unwrap();
    BASE64
        .decode(signature_b64)
        .is_ok_and(|sig| key.verifies(message.as_bytes(), &sig))
}

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

/// How the fake WeChat Pay answers a well-formed JSAPI order.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Reply {
    /// 200 `{"prepay_id":"wx123"}` signed with the platform key.
    Good = 0,
    /// The same reply signed with another key.
    BadSignature = 1,
    /// 400 `{"code":"PARAM_ERROR",…}`.
    Error = 2,
}

/// The fake WeChat: `jscode2session` and the JSAPI order. Whatever it finds wrong in a request
/// goes to `problems` (the tests require it empty) and gets an error reply.
#[derive(Clone, Default)]
struct Fake {
    reply: Arc<AtomicU8>,
    orders: Arc<Mutex<Vec<Value>>>,
    problems: Arc<Mutex<Vec<String>>>,
}

impl Fake {
    /// Starts the fake on 127.0.0.1; returns it and its base URL.
    async fn start() -> (Fake, String) {
        let fake = Fake::default();
        let router = axum::Router::new()
            .route("/sns/jscode2session", get(jscode2session))
            .route(JSAPI_PATH, post(jsapi))
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        (fake, format!("http://{addr}"))
    }

    fn set_reply(&self, reply: Reply) {
        self.reply.store(reply as u8, Ordering::SeqCst);
    }

    fn problem(&self, p: String) {
        self.problems.lock().unwrap().push(p);
    }

    fn problems(&self) -> Vec<String> {
        self.problems.lock().unwrap().clone()
    }

    /// The bodies of the JSAPI orders received (only those that passed every check).
    fn orders(&self) -> Vec<Value> {
        self.orders.lock().unwrap().clone()
    }
}

/// `GET /sns/jscode2session`: codes `good-…` are valid (openid `o-<code>`), others are not.
/// Answers `text/plain` JSON, as WeChat does.
async fn jscode2session(
    State(fake): State<Fake>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let param = |k: &str| q.get(k).map(String::as_str).unwrap_or_default();
    let reply = if param("appid") != APPID || param("secret") != APP_SECRET {
        fake.problem(format!("jscode2session: wrong appid or secret: {q:?}"));
        json!({"errcode": 40125, "errmsg": "invalid appsecret"})
    } else if param("grant_type") != "authorization_code" {
        fake.problem(format!(
            "jscode2session: grant_type {:?}",
            param("grant_type")
        ));
        json!({"errcode": 40002, "errmsg": "invalid grant_type"})
    } else if let Some(code) = q.get("js_code").filter(|c| c.starts_with("good-")) {
        json!({"session_key": "c2Vzc2lvbi1rZXk=", "openid": format!("o-{code}")})
    } else {
        json!({"errcode": 40029, "errmsg": "invalid code, rid: 6666"})
    };
    (
        [("content-type", "text/plain")],
        serde_json::to_string(&reply).unwrap(),
    )
        .into_response()
}

/// The fields of `Authorization: WECHATPAY2-SHA256-RSA2048 k="v",…`.
fn auth_fields(header: &str) -> Option<HashMap<String, String>> {
    let rest = header.strip_prefix("WECHATPAY2-SHA256-RSA2048 ")?;
    rest.split(',')
        .map(|kv| {
            let (k, v) = kv.split_once('=')?;
            let v = v.strip_prefix('"')?.strip_suffix('"')?;
            Some((k.trim().to_string(), v.to_string()))
        })
        .collect()
}

/// Every problem of a JSAPI order request (empty when it is what WeChat Pay expects).
fn check_jsapi(headers: &HeaderMap, body: &[u8]) -> Vec<String> {
    let mut problems = Vec::new();
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    if header("accept") != "application/json" {
        problems.push(format!("Accept: {:?}", header("accept")));
    }
    if !header("content-type").starts_with("application/json") {
        problems.push(format!("Content-Type: {:?}", header("content-type")));
    }
    let Some(auth) = auth_fields(&header("authorization")) else {
        problems.push(format!("Authorization: {:?}", header("authorization")));
        return problems;
    };
    let field = |k: &str| auth.get(k).cloned().unwrap_or_default();
    if field("mchid") != MCHID {
        problems.push(format!("Authorization mchid {:?}", field("mchid")));
    }
    if field("serial_no") != MERCHANT_SERIAL {
        problems.push(format!("Authorization serial_no {:?}", field("serial_no")));
    }
    let ts: i64 = field("timestamp").parse().unwrap_or(0);
    if (now_secs() - ts).abs() > 60 {
        problems.push(format!("Authorization timestamp {:?}", field("timestamp")));
    }
    if field("nonce_str").is_empty() {
        problems.push("Authorization nonce_str is empty".into());
    }
    let message = format!(
        "POST\n{JSAPI_PATH}\n{}\n{}\n{}\n",
        field("timestamp"),
        field("nonce_str"),
        String::from_utf8_lossy(body)
    );
    if !merchant_signed(&message, &field("signature")) {
        problems.push("Authorization signature does not verify with the merchant key".into());
    }
    let Ok(b) = serde_json::from_slice::<Value>(body) else {
        problems.push("body is not JSON".into());
        return problems;
    };
    let number = b["out_trade_no"].as_str().unwrap_or_default();
    let expected = [
        ("appid", json!(APPID)),
        ("mchid", json!(MCHID)),
        ("notify_url", json!(NOTIFY_URL)),
        ("description", json!(format!("苍穹外卖订单 {number}"))),
    ];
    for (k, v) in expected {
        if b[k] != v {
            problems.push(format!("body {k}: {} (expected {v})", b[k]));
        }
    }
    if number.is_empty() {
        problems.push("body out_trade_no is empty".into());
    }
    if b["amount"]["total"].as_i64().is_none_or(|t| t <= 0) || b["amount"]["currency"] != "CNY" {
        problems.push(format!("body amount: {}", b["amount"]));
    }
    if b["payer"]["openid"]
        .as_str()
        .is_none_or(|o| !o.starts_with("o-good-"))
    {
        problems.push(format!("body payer: {}", b["payer"]));
    }
    problems
}

/// `POST /v3/pay/transactions/jsapi`.
async fn jsapi(State(fake): State<Fake>, headers: HeaderMap, body: Bytes) -> Response {
    let problems = check_jsapi(&headers, &body);
    if !problems.is_empty() {
        for p in problems {
            fake.problem(p);
        }
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"code": "SIGN_ERROR", "message": "签名错误"})),
        )
            .into_response();
    }
    fake.orders
        .lock()
        .unwrap()
        .push(serde_json::from_slice(&body).unwrap());
    let signer = match fake.reply.load(Ordering::SeqCst) {
        0 => platform(),
        1 => rogue(),
        _ => {
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({"code": "PARAM_ERROR", "message": "参数错误"})),
            )
                .into_response();
        }
    };
    let reply = br#"{"prepay_id":"wx123"}"#;
    let ts = now_secs().to_string();
    let nonce = sky_takeout::auth::random_string(32);
    (
        [
            ("content-type", "application/json".to_string()),
            ("request-id", "08F78BB5AF0610D302".to_string()),
            ("wechatpay-timestamp", ts.clone()),
            ("wechatpay-nonce", nonce.clone()),
            ("wechatpay-signature", signer.sign(&ts, &nonce, reply)),
            ("wechatpay-serial", PLATFORM_SERIAL.to_string()),
        ],
        reply.to_vec(),
    )
        .into_response()
}

/// Wechat settings as resolved from flags / environment, pointed at the fake.
fn wechat_settings(base: &str) -> WechatSettings {
    let dir = tempfile::tempdir().unwrap();
    let merchant_key = dir.path().join("apiclient_key.pem");
    let platform_key = dir.path().join("wechatpay_platform.pem");
    std::fs::write(&merchant_key, merchant_key_pem().as_bytes()).unwrap();
    std::fs::write(&platform_key, platform().public_key_pem()).unwrap();
    let settings = SettingsLayer {
        pay_mode: Some("wechat".into()),
        wechat_api_v3_key: Some(API_V3_KEY.into()),
        wechat_platform_key: Some(platform_key),
        wechat_platform_serial: Some(PLATFORM_SERIAL.into()),
        wechat_mchid: Some(MCHID.into()),
        wechat_appid: Some(APPID.into()),
        wechat_app_secret: Some(APP_SECRET.into()),
        wechat_merchant_key: Some(merchant_key),
        wechat_merchant_serial: Some(MERCHANT_SERIAL.into()),
        wechat_notify_url: Some(NOTIFY_URL.into()),
        wechat_pay_base: Some(format!("{base}/")),
        wechat_login_base: Some(base.into()),
        ..Default::default()
    }
    .resolve()
    .expect("wechat settings resolve");
    assert_eq!(settings.pay_mode, PayMode::Wechat);
    settings.wechat.unwrap()
}

/// A fake WeChat and the app in wechat mode pointed at it.
async fn spawn(backend: Backend) -> (Fake, TestApp) {
    let (fake, base) = Fake::start().await;
    let wechat = wechat_settings(&base);
    let app = common::spawn_with(backend, move |s| {
        s.pay_mode = PayMode::Wechat;
        s.wechat = Some(wechat);
    })
    .await;
    (fake, app)
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

async fn login(app: &TestApp, code: &str) -> Value {
    http()
        .post(format!("{}/user/user/login", app.base))
        .json(&json!({"code": code}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn pay(c: &common::Customer, number: &str) -> Value {
    c.put(
        "/user/order/payment",
        json!({"orderNumber": number, "payMethod": 1}),
    )
    .await
}

#[track_caller]
fn refused(v: &Value, msg: &str, what: &str) {
    assert_eq!(
        (&v["code"], &v["msg"]),
        (&json!(0), &json!(msg)),
        "{what}: {v}"
    );
}

/// (status, pay_status)
async fn order_state(app: &TestApp, id: i64) -> (i64, i64) {
    sqlx::query_as("SELECT status, pay_status FROM orders WHERE id = $1")
        .bind(id)
        .fetch_one(app.state.store.pool())
        .await
        .unwrap()
}

async fn order_amount(app: &TestApp, id: i64) -> i64 {
    sqlx::query_scalar("SELECT amount FROM orders WHERE id = $1")
        .bind(id)
        .fetch_one(app.state.store.pool())
        .await
        .unwrap()
}

async fn alert_rows(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM alert_log")
        .fetch_one(app.state.store.pool())
        .await
        .unwrap()
}

/// Login with a good code; payment answers signed `wx.requestPayment` parameters for the
/// prepay id and leaves the order unpaid; the verified notification then pays it and the
/// merchant's screen gets the type-1 frame; paying again is 该订单已支付.
async fn login_prepay_then_notification_pays(backend: Backend) {
    let (fake, app) = spawn(backend).await;

    let v = login(&app, "good-alice").await;
    assert_eq!(v["code"], 1, "login with a good code: {v}");
    assert_eq!(v["data"]["openid"], "o-good-alice", "{v}");
    assert!(v["data"]["token"].as_str().is_some_and(|t| !t.is_empty()));
    let id = v["data"]["id"].as_i64().unwrap();
    let again = login(&app, "good-alice").await;
    assert_eq!(
        again["data"]["id"], id,
        "the same openid is the same customer"
    );
    for bad in ["bad-code", "0a3Xkl000uNgOS1tfr000B5cTw3Xkl0z"] {
        refused(&login(&app, bad).await, "登录失败", "a code WeChat refuses");
    }
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM \"user\"")
        .fetch_one(app.state.store.pool())
        .await
        .unwrap();
    assert_eq!(users, 1, "a refused login created a customer");

    let admin = app.admin().await;
    let mut screen = admin.legacy_ws("wechat").await;
    let c = app.customer("good-alice").await;
    assert_eq!(c.id, id);
    let dish = app.first_dish(1).await;
    let (order_id, number) = c.order(dish, 2, "少辣").await;
    let amount = order_amount(&app, order_id).await;

    let v = pay(&c, &number).await;
    assert_eq!(
        v["code"],
        1,
        "payment: {v} (fake saw {:?})",
        fake.problems()
    );
    let d = &v["data"];
    assert_eq!(d["packageStr"], "prepay_id=wx123", "{v}");
    assert_eq!(d["signType"], "RSA", "{v}");
    let nonce = d["nonceStr"].as_str().unwrap();
    assert!(!nonce.is_empty());
    let ts = d["timeStamp"].as_str().unwrap();
    assert!((now_secs() - ts.parse::<i64>().unwrap()).abs() < 60, "{v}");
    let message = format!("{APPID}\n{ts}\n{nonce}\nprepay_id=wx123\n");
    assert!(
        merchant_signed(&message, d["paySign"].as_str().unwrap()),
        "paySign does not verify over appid, timeStamp, nonceStr, packageStr: {v}"
    );
    assert!(fake.problems().is_empty(), "{:?}", fake.problems());
    let orders = fake.orders();
    assert_eq!(orders.len(), 1, "{orders:?}");
    assert_eq!(orders[0]["out_trade_no"], number.as_str());
    assert_eq!(orders[0]["amount"]["total"], amount);
    assert_eq!(orders[0]["payer"]["openid"], "o-good-alice");

    assert_eq!(
        order_state(&app, order_id).await,
        (1, 0),
        "prepay paid the order"
    );
    assert_eq!(alert_rows(&app).await, 0);
    assert_eq!(common::next_text(&mut screen, QUIET).await, None);

    let tx = json!({
        "mchid": MCHID, "appid": APPID, "out_trade_no": number,
        "transaction_id": format!("42000000012024{number}"), "trade_type": "JSAPI",
        "trade_state": "SUCCESS", "trade_state_desc": "支付成功", "bank_type": "OTHERS",
        "success_time": "2024-06-10T14:13:20+08:00", "payer": {"openid": "o-good-alice"},
        "amount": {"total": amount, "payer_total": amount, "currency": "CNY", "payer_currency": "CNY"}
    });
    let (h, body) = platform().notification(&tx, now_secs(), "nonce-paid");
    let reply = common::wechat::notify(&app.base, &h, &body).await;
    assert_eq!(
        reply,
        (200, json!({"code": "SUCCESS", "message": "SUCCESS"}))
    );
    assert_eq!(order_state(&app, order_id).await, (2, 1));
    let frame = common::next_text(&mut screen, WAIT)
        .await
        .expect("a type-1 frame");
    assert_eq!(
        frame,
        format!(r#"{{"type":1,"orderId":{order_id},"content":"订单号：{number}"}}"#)
    );
    assert_eq!(common::next_text(&mut screen, QUIET).await, None);

    refused(
        &pay(&c, &number).await,
        "该订单已支付",
        "paying a paid order",
    );
    assert_eq!(
        fake.orders().len(),
        1,
        "a paid order went to WeChat Pay again"
    );
}

/// A reply whose platform signature does not verify, and a WeChat Pay error: 微信支付下单失败,
/// the order unpaid, no alert. The order can still be paid afterwards.
async fn refused_prepay_pays_nothing(backend: Backend) {
    let (fake, app) = spawn(backend).await;
    let admin = app.admin().await;
    let mut screen = admin.legacy_ws("wechat").await;
    let c = app.customer("good-bob").await;
    let dish = app.first_dish(1).await;
    let (order_id, number) = c.order(dish, 1, "").await;

    fake.set_reply(Reply::BadSignature);
    refused(
        &pay(&c, &number).await,
        "微信支付下单失败",
        "a reply signed by another key",
    );
    assert_eq!(fake.orders().len(), 1, "the request did reach WeChat Pay");
    fake.set_reply(Reply::Error);
    refused(
        &pay(&c, &number).await,
        "微信支付下单失败",
        "a WeChat Pay error",
    );
    assert_eq!(fake.orders().len(), 2);
    assert!(fake.problems().is_empty(), "{:?}", fake.problems());
    assert_eq!(order_state(&app, order_id).await, (1, 0));
    assert_eq!(alert_rows(&app).await, 0);
    assert_eq!(common::next_text(&mut screen, QUIET).await, None);

    fake.set_reply(Reply::Good);
    let v = pay(&c, &number).await;
    assert_eq!(v["data"]["packageStr"], "prepay_id=wx123", "{v}");
    assert_eq!(order_state(&app, order_id).await, (1, 0));
}

/// Someone else's order and an unknown number are 订单不存在, a cancelled order is 订单状态错误;
/// none reaches WeChat Pay.
async fn others_and_cancelled_orders_are_refused(backend: Backend) {
    let (fake, app) = spawn(backend).await;
    let alice = app.customer("good-alice").await;
    let mallory = app.customer("good-mallory").await;
    let dish = app.first_dish(1).await;
    let (order_id, number) = alice.order(dish, 1, "").await;

    refused(
        &pay(&mallory, &number).await,
        "订单不存在",
        "someone else's order",
    );
    refused(
        &pay(&alice, "17180000000000000").await,
        "订单不存在",
        "an unknown order number",
    );
    let v = alice
        .put(&format!("/user/order/cancel/{order_id}"), json!({}))
        .await;
    assert_eq!(v["code"], 1, "cancel: {v}");
    refused(
        &pay(&alice, &number).await,
        "订单状态错误",
        "a cancelled order",
    );
    assert!(fake.orders().is_empty(), "{:?}", fake.orders());
    assert!(fake.problems().is_empty(), "{:?}", fake.problems());
    assert_eq!(order_state(&app, order_id).await.1, 0);
    assert_eq!(alert_rows(&app).await, 0);
}

backend_tests! {
    login_prepay_then_notification_pays => login_prepay_then_notification_pays,
    refused_prepay_pays_nothing => refused_prepay_pays_nothing,
    others_and_cancelled_orders_are_refused => others_and_cancelled_orders_are_refused,
}
