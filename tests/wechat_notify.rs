//! `POST /notify/paySuccess`, the WeChat Pay API-v3 payment notification, over real HTTP on
//! SQLite and PostgreSQL: a verified notification pays the order once and raises exactly one
//! type-1 alert (also when WeChat repeats it, or sends it twice at the same moment); forged,
//! tampered, stale, wrong-serial, wrong-merchant, wrong-amount and unknown-order notifications
//! are refused and change nothing; other trade states are acknowledged and ignored; in mock
//! mode the endpoint does not exist.
//!
//! Customer login needs the real WeChat code exchange in wechat mode (tests/wechat_api.rs runs
//! it against a fake WeChat), so here the customer is a `user` row with a token minted by the
//! app's own token signer; everything else goes through the normal HTTP endpoints. The WeChat
//! API bases point at a closed local port: WeChat is unreachable.

mod common;

use std::sync::OnceLock;
use std::time::Duration;

use common::wechat::{
    API_V3_KEY, MCHID, PLATFORM_SERIAL as SERIAL, merchant_key_pem, notify, platform, rogue,
};
use common::wechat_signer::{PLATFORM_KEY, Signer};
use common::{Backend, TestApp};
use serde_json::{Value, json};
use sky_takeout::auth::Role;
use sky_takeout::config::PayMode;
use sky_takeout::config::wechat::WechatSettings;
use sky_takeout::payment::wechat::NotifyHeaders;

const OTHER_API_V3_KEY: &str = "zyxwvutsrqponmlkZYXWVUTSRQPONMLK";
const WAIT: Duration = Duration::from_secs(5);
const QUIET: Duration = Duration::from_millis(800);

/// The real platform key but a different API-v3 key (resource encrypted for someone else).
fn other_key() -> &'static Signer {
    static S: OnceLock<Signer> = OnceLock::new();
    S.get_or_init(|| Signer::new(PLATFORM_KEY, OTHER_API_V3_KEY, SERIAL))
}

/// A local URL where nothing listens (the port was free a moment ago).
fn closed_base() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}")
}

async fn spawn_wechat(backend: Backend) -> TestApp {
    let pem = platform().public_key_pem();
    let unreachable = closed_base();
    common::spawn_with(backend, move |s| {
        s.pay_mode = PayMode::Wechat;
        s.wechat = Some(WechatSettings {
            api_v3_key: API_V3_KEY.into(),
            platform_key_pem: pem,
            platform_serial: Some(SERIAL.into()),
            mchid: MCHID.into(),
            max_skew_secs: 300,
            appid: "wxd678efh567hg6787".into(),
            app_secret: "app-secret-for-tests".into(),
            merchant_key_pem: merchant_key_pem(),
            merchant_serial: "MERCHANT-SERIAL-1".into(),
            notify_url: "https://shop.example.com/notify/paySuccess".into(),
            pay_base: unreachable.clone(),
            login_base: unreachable,
        });
    })
    .await
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// A customer made without the WeChat login: a `user` row and a token from the app's signer.
struct Shopper {
    base: String,
    token: String,
    id: i64,
}

impl Shopper {
    async fn new(app: &TestApp, openid: &str) -> Shopper {
        let now = app.clock.now_ms();
        let id =
            sky_takeout::store::customers::user_for_openid(app.state.store.pool(), openid, now)
                .await
                .unwrap();
        let token = app
            .state
            .tokens
            .issue(Role::Customer, id, 0, (now / 1000) as u64);
        Shopper {
            base: app.base.clone(),
            token,
            id,
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut rb = http()
            .request(method, format!("{}{path}", self.base))
            .header("authentication", &self.token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let resp = rb.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        assert_eq!(status, 200, "{path}: HTTP {status}: {text}");
        serde_json::from_str(&text).unwrap()
    }

    /// Cart (one dish), address, submit; returns (id, number, amount in fen from the table).
    async fn order(&self, app: &TestApp) -> (i64, String, i64) {
        let dish = app.first_dish(1).await;
        let v = self
            .call(
                reqwest::Method::POST,
                "/user/shoppingCart/add",
                Some(json!({"dishId": dish, "dishFlavor": ""})),
            )
            .await;
        assert_eq!(v["code"], 1, "cart: {v}");
        let v = self
            .call(
                reqwest::Method::POST,
                "/user/addressBook",
                Some(json!({"consignee": "张三", "sex": "1", "phone": "13800000000", "detail": "软件园1号楼"})),
            )
            .await;
        assert_eq!(v["code"], 1, "address: {v}");
        let list = self
            .call(reqwest::Method::GET, "/user/addressBook/list", None)
            .await;
        let addr = list["data"].as_array().unwrap().last().unwrap()["id"]
            .as_i64()
            .unwrap();
        let v = self
            .call(
                reqwest::Method::POST,
                "/user/order/submit",
                Some(json!({"addressBookId": addr, "payMethod": 1, "remark": "", "estimatedDeliveryTime": "2030-01-01 12:00:00", "tablewareNumber": 1})),
            )
            .await;
        assert_eq!(v["code"], 1, "submit: {v}");
        let id = v["data"]["id"].as_i64().unwrap();
        let number = v["data"]["orderNumber"].as_str().unwrap().to_string();
        let amount: i64 = sqlx::query_scalar("SELECT amount FROM orders WHERE id = $1")
            .bind(id)
            .fetch_one(app.state.store.pool())
            .await
            .unwrap();
        (id, number, amount)
    }
}

/// A decrypted transaction as WeChat Pay sends it.
fn transaction(number: &str, amount: i64, state: &str, mchid: &str) -> Value {
    json!({
        "mchid": mchid, "appid": "wxd678efh567hg6787", "out_trade_no": number,
        "transaction_id": format!("42000000012024{number}"), "trade_type": "JSAPI",
        "trade_state": state, "trade_state_desc": "支付成功", "bank_type": "OTHERS",
        "success_time": "2024-06-10T14:13:20+08:00", "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        "amount": {"total": amount, "payer_total": amount, "currency": "CNY", "payer_currency": "CNY"}
    })
}

fn now_secs(app: &TestApp) -> i64 {
    app.clock.now_ms() / 1000
}

#[track_caller]
fn acknowledged(reply: &(u16, Value), what: &str) {
    assert_eq!(
        (reply.0, &reply.1),
        (200, &json!({"code": "SUCCESS", "message": "SUCCESS"})),
        "{what}"
    );
}

#[track_caller]
fn refused(reply: &(u16, Value), what: &str) {
    assert!(
        (400..500).contains(&reply.0),
        "{what}: expected a 4xx refusal, got HTTP {} {}",
        reply.0,
        reply.1
    );
    assert_eq!(reply.1["code"], "FAIL", "{what}: {}", reply.1);
    assert!(reply.1["message"].is_string(), "{what}: {}", reply.1);
}

/// (status, pay_status, checkout_time set?, transaction_id)
async fn order_state(app: &TestApp, id: i64) -> (i64, i64, bool, Option<String>) {
    let (s, p, c, t): (i64, i64, Option<i64>, Option<String>) = sqlx::query_as(
        "SELECT status, pay_status, checkout_time, transaction_id FROM orders WHERE id = $1",
    )
    .bind(id)
    .fetch_one(app.state.store.pool())
    .await
    .unwrap();
    (s, p, c.is_some(), t)
}

async fn new_order_alerts(app: &TestApp, id: i64) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM alert_log WHERE order_id = $1 AND type = 1")
        .bind(id)
        .fetch_one(app.state.store.pool())
        .await
        .unwrap()
}

/// Exactly one type-1 frame for this order, then silence.
async fn exactly_one_frame(ws: &mut common::Ws, id: i64, number: &str, what: &str) {
    let frame = common::next_text(ws, WAIT)
        .await
        .unwrap_or_else(|| panic!("{what}: no type-1 frame"));
    assert_eq!(
        frame,
        format!(r#"{{"type":1,"orderId":{id},"content":"订单号：{number}"}}"#),
        "{what}"
    );
    assert_eq!(
        common::next_text(ws, QUIET).await,
        None,
        "{what}: a second frame"
    );
}

/// A valid notification pays the order (status 2, payStatus 1) and raises one frame; the same
/// notification again, and a retry with fresh headers, are acknowledged and change nothing.
async fn valid_notification_pays_once_and_alerts_once(backend: Backend) {
    let app = spawn_wechat(backend).await;
    let admin = app.admin().await;
    let mut screen = admin.legacy_ws("x").await;
    let shopper = Shopper::new(&app, "wx-notify-valid").await;
    let (id, number, amount) = shopper.order(&app).await;
    assert_eq!(order_state(&app, id).await, (1, 0, false, None));

    let tx = transaction(&number, amount, "SUCCESS", MCHID);
    let (h, body) = platform().notification(&tx, now_secs(&app), "nonce-1");
    acknowledged(&notify(&app.base, &h, &body).await, "a valid notification");
    let (status, pay_status, checkout, txid) = order_state(&app, id).await;
    assert_eq!(
        (status, pay_status, checkout),
        (2, 1, true),
        "the order is paid"
    );
    assert_eq!(txid.as_deref(), tx["transaction_id"].as_str());
    let d = shopper
        .call(
            reqwest::Method::GET,
            &format!("/user/order/orderDetail/{id}"),
            None,
        )
        .await;
    assert_eq!(
        (
            d["data"]["status"].as_i64(),
            d["data"]["payStatus"].as_i64()
        ),
        (Some(2), Some(1)),
        "{d}"
    );
    exactly_one_frame(&mut screen, id, &number, "a valid notification").await;
    assert_eq!(new_order_alerts(&app, id).await, 1);

    acknowledged(
        &notify(&app.base, &h, &body).await,
        "the same notification again",
    );
    let (h2, body2) = platform().notification(&tx, now_secs(&app), "nonce-2");
    acknowledged(
        &notify(&app.base, &h2, &body2).await,
        "a retry with fresh headers",
    );
    assert_eq!(
        common::next_text(&mut screen, QUIET).await,
        None,
        "a repeated notification raised a second frame"
    );
    assert_eq!(
        new_order_alerts(&app, id).await,
        1,
        "a repeated notification wrote a second alert"
    );
    assert_eq!(order_state(&app, id).await.0, 2);
}

/// Two identical notifications at the same moment on a fresh order: both acknowledged,
/// exactly one alert row and one frame.
async fn simultaneous_identical_notifications_alert_once(backend: Backend) {
    let app = spawn_wechat(backend).await;
    let admin = app.admin().await;
    let mut screen = admin.legacy_ws("x").await;
    let shopper = Shopper::new(&app, "wx-notify-twins").await;
    for round in 0..3 {
        let (id, number, amount) = shopper.order(&app).await;
        let tx = transaction(&number, amount, "SUCCESS", MCHID);
        let (h, body) = platform().notification(&tx, now_secs(&app), "nonce-twin");
        let (a, b) = tokio::join!(notify(&app.base, &h, &body), notify(&app.base, &h, &body));
        acknowledged(
            &a,
            &format!("round {round}: first of two simultaneous notifications"),
        );
        acknowledged(
            &b,
            &format!("round {round}: second of two simultaneous notifications"),
        );
        assert_eq!(order_state(&app, id).await.0, 2);
        assert_eq!(
            new_order_alerts(&app, id).await,
            1,
            "round {round}: alert rows"
        );
        exactly_one_frame(&mut screen, id, &number, &format!("round {round}")).await;
    }
}

/// Forged signature, tampered body, stale and future timestamps, wrong serial, missing headers,
/// another merchant's mchid, a wrong amount, an unknown order number, a resource encrypted with
/// another API-v3 key and a signed non-notification: each refused with `{"code":"FAIL"}`, the
/// order unchanged, no alert row, no frame.
async fn bad_notifications_are_refused_and_change_nothing(backend: Backend) {
    let app = spawn_wechat(backend).await;
    let admin = app.admin().await;
    let mut screen = admin.legacy_ws("x").await;
    let shopper = Shopper::new(&app, "wx-notify-bad").await;
    let (id, number, amount) = shopper.order(&app).await;
    let now = now_secs(&app);
    let good = transaction(&number, amount, "SUCCESS", MCHID);

    let mut cases: Vec<(&str, NotifyHeaders, Vec<u8>)> = Vec::new();
    let (h, b) = rogue().notification(&good, now, "n-forged");
    cases.push(("a signature by another key", h, b));
    let (mut h, b) = platform().notification(&good, now, "n-garbage-sig");
    h.signature = "bm90IGEgc2lnbmF0dXJl".into();
    cases.push(("a garbage signature", h, b));
    let (h, b) = platform().notification(&good, now, "n-tampered");
    let tampered = String::from_utf8(b.clone())
        .unwrap()
        .replace("支付成功", "支付成功!");
    assert_ne!(tampered.as_bytes(), b.as_slice());
    cases.push(("a tampered body", h, tampered.into_bytes()));
    let (mut h, b) = platform().notification(&good, now, "n-nonce");
    h.nonce = "another-nonce".into();
    cases.push(("a nonce other than the signed one", h, b));
    let (h, b) = platform().notification(&good, now - 600, "n-stale");
    cases.push(("a timestamp 10 minutes old", h, b));
    let (h, b) = platform().notification(&good, now + 600, "n-future");
    cases.push(("a timestamp 10 minutes ahead", h, b));
    let (mut h, b) = platform().notification(&good, now, "n-serial");
    h.serial = "0000000000000000000000000000000000000000".into();
    cases.push(("a wrong platform serial", h, b));
    for missing in ["timestamp", "nonce", "signature", "serial"] {
        let (mut h, b) = platform().notification(&good, now, "n-missing");
        match missing {
            "timestamp" => h.timestamp.clear(),
            "nonce" => h.nonce.clear(),
            "signature" => h.signature.clear(),
            _ => h.serial.clear(),
        }
        cases.push((
            match missing {
                "timestamp" => "no Wechatpay-Timestamp",
                "nonce" => "no Wechatpay-Nonce",
                "signature" => "no Wechatpay-Signature",
                _ => "no Wechatpay-Serial",
            },
            h,
            b,
        ));
    }
    let (h, b) = platform().notification(
        &transaction(&number, amount, "SUCCESS", "1900000002"),
        now,
        "n-mchid",
    );
    cases.push(("another merchant's mchid", h, b));
    let (h, b) = platform().notification(
        &transaction(&number, amount - 1, "SUCCESS", MCHID),
        now,
        "n-less",
    );
    cases.push(("one fen less than the order", h, b));
    let (h, b) = platform().notification(
        &transaction(&number, amount + 100, "SUCCESS", MCHID),
        now,
        "n-more",
    );
    cases.push(("one yuan more than the order", h, b));
    let (h, b) = platform().notification(&transaction(&number, 1, "SUCCESS", MCHID), now, "n-cent");
    cases.push(("an amount of 1 fen", h, b));
    let (h, b) = platform().notification(
        &transaction("17180000000000000", amount, "SUCCESS", MCHID),
        now,
        "n-unknown",
    );
    cases.push(("an unknown out_trade_no", h, b));
    let (h, b) = other_key().notification(&good, now, "n-key");
    cases.push(("a resource encrypted with another API-v3 key", h, b));
    let mut no_amount = good.clone();
    no_amount.as_object_mut().unwrap().remove("amount");
    let (h, b) = platform().notification(&no_amount, now, "n-noamount");
    cases.push(("a transaction without amount", h, b));
    let mut string_amount = good.clone();
    string_amount["amount"]["total"] = json!(amount.to_string());
    let (h, b) = platform().notification(&string_amount, now, "n-stramount");
    cases.push(("an amount.total that is a string", h, b));
    for (what, raw) in [
        ("a signed body that is not a notification", b"{}".to_vec()),
        ("a signed body that is not JSON", b"not json".to_vec()),
        ("a signed empty body", Vec::new()),
    ] {
        let ts = now.to_string();
        let h = NotifyHeaders {
            signature: platform().sign(&ts, "n-raw", &raw),
            timestamp: ts,
            nonce: "n-raw".into(),
            serial: SERIAL.into(),
        };
        cases.push((what, h, raw));
    }

    for (what, h, body) in &cases {
        let reply = notify(&app.base, h, body).await;
        refused(&reply, what);
        assert_eq!(
            order_state(&app, id).await,
            (1, 0, false, None),
            "{what}: the order changed"
        );
        assert_eq!(
            new_order_alerts(&app, id).await,
            0,
            "{what}: an alert row was written"
        );
    }
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM alert_log")
        .fetch_one(app.state.store.pool())
        .await
        .unwrap();
    assert_eq!(total, 0, "refused notifications wrote alert rows");
    assert_eq!(
        common::next_text(&mut screen, QUIET).await,
        None,
        "a refused notification raised a frame"
    );
    // The order is still payable by a genuine notification afterwards.
    let (h, b) = platform().notification(&good, now_secs(&app), "n-genuine");
    acknowledged(
        &notify(&app.base, &h, &b).await,
        "the genuine notification after the refused ones",
    );
    exactly_one_frame(&mut screen, id, &number, "the genuine notification").await;
}

/// trade_state other than SUCCESS (NOTPAY, CLOSED, PAYERROR, USERPAYING, REFUND) is
/// acknowledged with SUCCESS so WeChat stops retrying, and nothing changes.
async fn non_success_trade_state_is_acknowledged_and_ignored(backend: Backend) {
    let app = spawn_wechat(backend).await;
    let admin = app.admin().await;
    let mut screen = admin.legacy_ws("x").await;
    let shopper = Shopper::new(&app, "wx-notify-states").await;
    let (id, number, amount) = shopper.order(&app).await;
    for state in [
        "NOTPAY",
        "CLOSED",
        "PAYERROR",
        "USERPAYING",
        "REFUND",
        "REVOKED",
        "success",
    ] {
        let (h, b) = platform().notification(
            &transaction(&number, amount, state, MCHID),
            now_secs(&app),
            "n-state",
        );
        acknowledged(
            &notify(&app.base, &h, &b).await,
            &format!("trade_state {state}"),
        );
        assert_eq!(
            order_state(&app, id).await,
            (1, 0, false, None),
            "trade_state {state} changed the order"
        );
        assert_eq!(
            new_order_alerts(&app, id).await,
            0,
            "trade_state {state} wrote an alert"
        );
    }
    assert_eq!(common::next_text(&mut screen, QUIET).await, None);
}

/// In wechat mode the mock shortcuts are closed: with WeChat unreachable the login fails
/// (登录失败) and `PUT /user/order/payment` fails (微信支付下单失败) without paying the order.
async fn wechat_mode_refuses_mock_login_and_mock_payment(backend: Backend) {
    let app = spawn_wechat(backend).await;
    let v: Value = http()
        .post(format!("{}/user/user/login", app.base))
        .json(&json!({"code": "wx-code"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (&v["code"], &v["msg"]),
        (&json!(0), &json!("登录失败")),
        "login with WeChat unreachable: {v}"
    );
    let shopper = Shopper::new(&app, "wx-notify-mockpay").await;
    let (id, number, _) = shopper.order(&app).await;
    let v = shopper
        .call(
            reqwest::Method::PUT,
            "/user/order/payment",
            Some(json!({"orderNumber": number, "payMethod": 1})),
        )
        .await;
    assert_eq!(
        (&v["code"], &v["msg"]),
        (&json!(0), &json!("微信支付下单失败")),
        "payment with WeChat unreachable: {v}"
    );
    assert_eq!(order_state(&app, id).await, (1, 0, false, None));
    assert_eq!(new_order_alerts(&app, id).await, 0);
    assert!(shopper.id > 0);
}

/// In mock mode `POST /notify/paySuccess` does not exist: 404, even for a well-signed body,
/// and the order stays unpaid.
async fn notify_is_404_in_mock_mode(backend: Backend) {
    let app = common::spawn(backend).await;
    let c = app.customer("wx-notify-mock").await;
    let dish = app.first_dish(1).await;
    let (id, number) = c.order(dish, 1, "").await;
    let amount: i64 = sqlx::query_scalar("SELECT amount FROM orders WHERE id = $1")
        .bind(id)
        .fetch_one(app.state.store.pool())
        .await
        .unwrap();
    let (h, b) = platform().notification(
        &transaction(&number, amount, "SUCCESS", MCHID),
        now_secs(&app),
        "n-mock",
    );
    let resp = http()
        .post(format!("{}/notify/paySuccess", app.base))
        .header("Wechatpay-Timestamp", &h.timestamp)
        .header("Wechatpay-Nonce", &h.nonce)
        .header("Wechatpay-Signature", &h.signature)
        .header("Wechatpay-Serial", &h.serial)
        .header("content-type", "application/json")
        .body(b)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404, "notify in mock mode");
    assert_eq!(order_state(&app, id).await, (1, 0, false, None));
    assert_eq!(new_order_alerts(&app, id).await, 0);
}

backend_tests! {
    valid_notification_pays_once_and_alerts_once => valid_notification_pays_once_and_alerts_once,
    simultaneous_identical_notifications_alert_once => simultaneous_identical_notifications_alert_once,
    bad_notifications_are_refused_and_change_nothing => bad_notifications_are_refused_and_change_nothing,
    non_success_trade_state_is_acknowledged_and_ignored => non_success_trade_state_is_acknowledged_and_ignored,
    wechat_mode_refuses_mock_login_and_mock_payment => wechat_mode_refuses_mock_login_and_mock_payment,
    notify_is_404_in_mock_mode => notify_is_404_in_mock_mode,
}
