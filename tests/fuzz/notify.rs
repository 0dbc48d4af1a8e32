//! `/notify/paySuccess` in wechat mode: generated headers (signature by the platform, by a
//! rogue key, garbage or missing; timestamps now, skewed or not numbers; serials; nonces) and
//! bodies (the envelope's fields of any type, the resource encrypted with the right key or
//! another, its ciphertext cut or garbage, the transaction's fields of any type, its order and
//! amount right, off or absent, every trade state). New unpaid orders are placed as the run
//! goes, so valid notifications keep paying orders.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use serde_json::{Value, json};
use sky_takeout::app::listener::Peer;
use sky_takeout::config::PayMode;
use sky_takeout::config::wechat::WechatSettings;

use crate::common::wechat::{
    API_V3_KEY, MCHID, PLATFORM_SERIAL, merchant_key_pem, platform, rogue,
};
use crate::invariants::World;
use crate::strategies::{J, Pool, any_json, text};

/// A settings tweak: wechat mode with the test keys, WeChat itself unreachable.
pub fn wechat_mode(s: &mut sky_takeout::config::Settings) {
    let closed = format!("http://127.0.0.1:{}", crate::common::free_port());
    s.pay_mode = PayMode::Wechat;
    s.wechat = Some(WechatSettings {
        api_v3_key: API_V3_KEY.into(),
        platform_key_pem: platform().public_key_pem(),
        platform_serial: Some(PLATFORM_SERIAL.into()),
        mchid: MCHID.into(),
        max_skew_secs: 300,
        appid: "wxd678efh567hg6787".into(),
        app_secret: "app-secret-for-tests".into(),
        merchant_key_pem: merchant_key_pem(),
        merchant_serial: "MERCHANT-SERIAL-1".into(),
        notify_url: "https://shop.example.com/notify/paySuccess".into(),
        pay_base: closed.clone(),
        login_base: closed,
    });
}

#[derive(Debug, Clone)]
enum Amount {
    Exact,
    Off(i64),
    Other(J),
}

#[derive(Debug, Clone)]
enum Cipher {
    Valid,
    OtherKey,
    Cut(Index),
    Garbage(String),
}

#[derive(Debug, Clone)]
enum Sig {
    Valid,
    Rogue,
    Garbage(String),
    Missing,
}

#[derive(Debug, Clone)]
struct Case {
    order: Index,
    amount: Amount,
    trade_state: J,
    mchid: J,
    /// Fields of the transaction replaced by anything.
    tx_noise: Vec<(String, J)>,
    cipher: Cipher,
    aad: J,
    algorithm: J,
    /// The whole envelope replaced by this value.
    envelope: Option<J>,
    sig: Sig,
    skew_secs: i64,
    timestamp_text: Option<String>,
    nonce: String,
    serial: Option<String>,
}

fn case() -> impl Strategy<Value = Case> {
    let amount = prop_oneof![
        6 => Just(Amount::Exact),
        1 => prop_oneof![Just(1i64), Just(-1), Just(-100_000)].prop_map(Amount::Off),
        1 => any_json().prop_map(Amount::Other),
    ];
    let state = prop_oneof![
        6 => Just(J::Str("SUCCESS".into())),
        1 => proptest::sample::select(vec!["REFUND", "NOTPAY", "CLOSED", "PAYERROR", "success"]).prop_map(|s| J::Str(s.into())),
        1 => any_json(),
    ];
    let mchid = prop_oneof![6 => Just(J::Str(MCHID.into())), 1 => any_json()];
    let cipher = prop_oneof![
        6 => Just(Cipher::Valid),
        1 => Just(Cipher::OtherKey),
        1 => any::<Index>().prop_map(Cipher::Cut),
        1 => text().prop_map(Cipher::Garbage),
    ];
    let aad = prop_oneof![8 => Just(J::Str("transaction".into())), 1 => any_json()];
    let algorithm = prop_oneof![8 => Just(J::Str("AEAD_AES_256_GCM".into())), 1 => any_json()];
    let sig = prop_oneof![
        6 => Just(Sig::Valid),
        1 => Just(Sig::Rogue),
        1 => text().prop_map(Sig::Garbage),
        1 => Just(Sig::Missing),
    ];
    let header_part = (
        sig,
        prop_oneof![6 => Just(0i64), 1 => -1000i64..1000, 1 => Just(i64::MAX / 2)],
        proptest::option::weighted(0.05, text()),
        prop_oneof![6 => Just("nonce-fuzz".to_string()), 1 => text()],
        prop_oneof![6 => Just(Some(PLATFORM_SERIAL.to_string())), 1 => Just(None), 1 => text().prop_map(Some)],
    );
    let body_part = (
        any::<Index>(),
        amount,
        state,
        mchid,
        proptest::collection::vec(
            (
                proptest::sample::select(vec![
                    "out_trade_no",
                    "transaction_id",
                    "amount",
                    "payer",
                    "appid",
                    "success_time",
                ])
                .prop_map(String::from),
                any_json(),
            ),
            0..2,
        ),
        cipher,
        aad,
        algorithm,
        proptest::option::weighted(0.05, any_json()),
    );
    (body_part, header_part).prop_map(
        |(
            (order, amount, trade_state, mchid, tx_noise, cipher, aad, algorithm, envelope),
            (sig, skew_secs, timestamp_text, nonce, serial),
        )| Case {
            order,
            amount,
            trade_state,
            mchid,
            tx_noise,
            cipher,
            aad,
            algorithm,
            envelope,
            sig,
            skew_secs,
            timestamp_text,
            nonce,
            serial,
        },
    )
}

fn resource_nonce() -> String {
    sky_takeout::auth::random_string(12)
}

fn body(w: &World, c: &Case, now: i64) -> Vec<u8> {
    let p = &w.pools;
    if let Some(e) = &c.envelope {
        return e.value(p).to_string().into_bytes();
    }
    let number = J::Ref(Pool::OrderNumber, c.order, false).value(p);
    let amount = J::Ref(Pool::OrderAmount, c.order, false).value(p);
    let total = match &c.amount {
        Amount::Exact => amount,
        Amount::Off(d) => json!(amount.as_i64().unwrap_or(0).saturating_add(*d)),
        Amount::Other(j) => j.value(p),
    };
    let mut tx = json!({
        "mchid": c.mchid.value(p), "appid": "wxd678efh567hg6787", "out_trade_no": number,
        "transaction_id": format!("4200000001{}", now), "trade_type": "JSAPI",
        "trade_state": c.trade_state.value(p), "trade_state_desc": "支付成功", "bank_type": "OTHERS",
        "success_time": "2024-06-10T14:13:20+08:00", "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        "amount": {"total": total, "payer_total": total, "currency": "CNY", "payer_currency": "CNY"}
    });
    for (k, v) in &c.tx_noise {
        tx[k.as_str()] = v.value(p);
    }
    let plain = tx.to_string().into_bytes();
    let nonce = resource_nonce();
    let aad = c.aad.value(p);
    let aad_text = aad.as_str().unwrap_or("transaction").to_string();
    let ciphertext = match &c.cipher {
        Cipher::Valid => platform().encrypt(&plain, &nonce, &aad_text),
        Cipher::OtherKey => crate::common::wechat_signer::Signer::new(
            crate::common::wechat_signer::PLATFORM_KEY,
            "zyxwvutsrqponmlkZYXWVUTSRQPONMLK",
            PLATFORM_SERIAL,
        )
        .encrypt(&plain, &nonce, &aad_text),
        Cipher::Cut(i) => {
            let full = platform().encrypt(&plain, &nonce, &aad_text);
            full[..i.index(full.len())].to_string()
        }
        Cipher::Garbage(g) => g.clone(),
    };
    json!({
        "id": format!("EV-{now}"), "create_time": "2024-06-10T14:13:20+08:00",
        "resource_type": "encrypt-resource", "event_type": "TRANSACTION.SUCCESS", "summary": "支付成功",
        "resource": {"original_type": "transaction", "algorithm": c.algorithm.value(p),
            "ciphertext": ciphertext, "associated_data": aad, "nonce": nonce}
    })
    .to_string()
    .into_bytes()
}

fn request(w: &World, c: &Case) -> Option<Request<Body>> {
    let now = w.app.clock.now_ms() / 1000;
    let body = body(w, c, now);
    let ts = c
        .timestamp_text
        .clone()
        .unwrap_or_else(|| now.saturating_add(c.skew_secs).to_string());
    let signature = match &c.sig {
        Sig::Valid => Some(platform().sign(&ts, &c.nonce, &body)),
        Sig::Rogue => Some(rogue().sign(&ts, &c.nonce, &body)),
        Sig::Garbage(g) => Some(g.clone()),
        Sig::Missing => None,
    };
    let mut req = Request::builder()
        .method("POST")
        .uri("/notify/paySuccess")
        .header("content-type", "application/json")
        .header("wechatpay-signature-type", "WECHATPAY2-SHA256-RSA2048");
    for (name, v) in [
        ("wechatpay-timestamp", Some(ts.clone())),
        ("wechatpay-nonce", Some(c.nonce.clone())),
        ("wechatpay-signature", signature),
        ("wechatpay-serial", c.serial.clone()),
    ] {
        if let Some(v) = v {
            let v = axum::http::HeaderValue::from_str(&v).ok()?;
            req = req.header(name, v);
        }
    }
    let mut req = req.body(Body::from(body)).ok()?;
    req.extensions_mut()
        .insert(ConnectInfo(Peer(SocketAddr::from((
            [127, 0, 0, 1],
            40_002,
        )))));
    Some(req)
}

/// Places a new unpaid order for one of the customers (so valid notifications keep paying),
/// best effort: the generated requests may have closed the shop or stopped the dish.
pub async fn new_order(w: &World, i: usize) {
    let token = &w.customers[i % w.customers.len()];
    let http = crate::common::http();
    let call = |m: reqwest::Method, path: &str, body: Option<Value>| {
        let mut rb = http
            .request(m, format!("{}{path}", w.app.base))
            .header("authentication", token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        async move {
            let text = rb.send().await.ok()?.text().await.ok()?;
            serde_json::from_str::<Value>(&text).ok()
        }
    };
    use reqwest::Method;
    let dish = w.app.first_dish(1).await;
    call(Method::DELETE, "/user/shoppingCart/clean", None).await;
    call(
        Method::POST,
        "/user/shoppingCart/add",
        Some(json!({"dishId": dish, "dishFlavor": ""})),
    )
    .await;
    call(Method::POST, "/user/addressBook", Some(json!({"consignee": "张三", "sex": "1", "phone": "13800000000", "detail": "软件园1号楼"}))).await;
    let Some(list) = call(Method::GET, "/user/addressBook/list", None).await else {
        return;
    };
    let Some(addr) = list["data"]
        .as_array()
        .and_then(|a| a.last())
        .and_then(|a| a["id"].as_i64())
    else {
        return;
    };
    call(
        Method::POST,
        "/user/order/submit",
        Some(json!({"addressBookId": addr, "payMethod": 1, "remark": "", "estimatedDeliveryTime": "2030-01-01 12:00:00", "tablewareNumber": 1})),
    )
    .await;
}

/// The notification target: `cases` generated notifications; every reply is WeChat's JSON
/// shape and never a 5xx; the invariants hold throughout.
pub fn run(w: Arc<World>, rt: &tokio::runtime::Runtime, cases: u32) {
    let mut runner = crate::runner("notify", cases);
    let n = std::sync::atomic::AtomicU64::new(0);
    let result = runner.run(&case(), |c| {
        let i = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        rt.block_on(async {
            if i.is_multiple_of(20) {
                new_order(&w, i as usize).await;
                w.refresh().await;
                w.check().await.map_err(TestCaseError::fail)?;
            }
            let Some(req) = request(&w, &c) else {
                return Ok(());
            };
            let (status, body) = crate::http::send(&w, req, "notify").await?;
            let v: Value = serde_json::from_slice(&body).map_err(|_| {
                TestCaseError::fail(format!(
                    "notify HTTP {status}: not WeChat's JSON: {:?}",
                    String::from_utf8_lossy(&body)
                ))
            })?;
            prop_assert!(
                v["code"] == "SUCCESS" || v["code"] == "FAIL",
                "notify HTTP {status}: {v}"
            );
            Ok(())
        })
    });
    if let Err(e) = result {
        panic!("notification fuzzing failed: {e}");
    }
    rt.block_on(async { w.check().await })
        .expect("invariants after the run");
    let paid: i64 = rt.block_on(async {
        sqlx::query_scalar("SELECT COUNT(*) FROM orders WHERE checkout_time IS NOT NULL")
            .fetch_one(w.pool())
            .await
            .unwrap()
    });
    println!("notify: {paid} orders paid by generated notifications");
    assert!(paid > 0, "no generated notification ever paid an order");
    crate::report("notify", n.into_inner());
}
