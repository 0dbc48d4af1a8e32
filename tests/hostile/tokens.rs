//! Missing, garbage, forged, expired and wrong-role tokens: a bare 401 everywhere.

use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::common::{self, Backend, TestApp};
use crate::support::*;

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The HMAC algorithms a token may name.
#[derive(Clone, Copy)]
enum Algorithm {
    HS256,
    HS512,
}

/// A JWT minted by hand (header, claims, HMAC with ring), independent of the crate under test
/// and of jsonwebtoken's provider, which only knows HS256.
fn mint(secret: &[u8], alg: Algorithm, claims: &Value) -> String {
    let (name, hmac_alg) = match alg {
        Algorithm::HS256 => ("HS256", ring::hmac::HMAC_SHA256),
        Algorithm::HS512 => ("HS512", ring::hmac::HMAC_SHA512),
    };
    let message = format!(
        "{}.{}",
        b64(&json!({"typ": "JWT", "alg": name})),
        b64(claims)
    );
    let tag = ring::hmac::sign(&ring::hmac::Key::new(hmac_alg, secret), message.as_bytes());
    use base64::Engine as _;
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag.as_ref());
    format!("{message}.{sig}")
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
    // The Authorization form is accepted for merchants, so its 401s below come from the token
    // behind `Bearer `, not from the header being ignored.
    let minted = mint(secret, Algorithm::HS256, &merchant_claims);
    for (what, h) in [
        (
            "control: a minted merchant token as `Authorization: Bearer`",
            headers(&[("authorization", format!("Bearer {minted}").as_bytes())]),
        ),
        (
            "control: the login's merchant token as `Authorization: Bearer`",
            headers(&[(
                "authorization",
                format!("Bearer {}", admin.token).as_bytes(),
            )]),
        ),
    ] {
        let r = send(
            &app.base,
            "GET",
            "/admin/order/statistics",
            h,
            Payload::Empty,
        )
        .await;
        success(&r, what);
    }

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

/// A validly signed customer token whose customer no longer exists (the same
/// `SKY_JWT_SECRET`, the database recreated): the writes that would reference the customer
/// answer 401 (the client logs in again) instead of failing a foreign key with a 500, and no
/// customer endpoint answers 5xx.
async fn a_token_of_a_customer_that_is_gone_gets_401(backend: Backend) {
    let secret = "a-fixed-secret-for-both-databases-0123456789";
    let old = common::spawn_with(backend, |s| s.jwt_secret = Some(secret.into())).await;
    let c = old.customer("wx-gone").await;
    let dish = old.first_dish(1).await;
    let (order_id, _) = c.paid_order(dish).await;
    let token = c.token.clone();
    old.shutdown().await;
    let app = common::spawn_with(backend, |s| s.jwt_secret = Some(secret.into())).await;
    let before = snapshot(&app).await;
    let h = || as_customer(&token);
    for (path, body) in [
        (
            "/user/shoppingCart/add",
            json!({"dishId": dish, "dishFlavor": ""}),
        ),
        (
            "/user/addressBook",
            json!({"consignee": "张三", "sex": "1", "phone": "13800000000", "detail": "x"}),
        ),
    ] {
        let r = send(&app.base, "POST", path, h(), json_body(&body)).await;
        unauthorized(&r, &format!("POST {path} for a customer that is gone"));
    }
    for (method, path) in [
        ("POST", format!("/user/order/repetition/{order_id}")),
        ("POST", "/user/order/submit".to_string()),
        ("GET", "/user/shoppingCart/list".to_string()),
        ("DELETE", "/user/shoppingCart/clean".to_string()),
        ("GET", "/user/addressBook/list".to_string()),
        ("GET", format!("/user/order/reminder/{order_id}")),
        ("PUT", "/user/order/payment".to_string()),
    ] {
        let body = json!({"addressBookId": 1, "payMethod": 1, "orderNumber": "1"});
        let r = send(&app.base, method, &path, h(), json_body(&body)).await;
        assert!(r.status < 500, "{method} {path}: {r:?}");
    }
    assert_eq!(
        snapshot(&app).await,
        before,
        "nothing was written for a customer that is gone"
    );
}

/// A merchant token signed with the real secret but naming no real shop (0, which the order
/// search once read as "every shop", or a negative id): refused with a bare 401 on every
/// merchant endpoint and socket, so no query can widen to other shops' rows.
async fn a_merchant_token_for_no_real_shop_is_refused(backend: Backend) {
    let app = common::spawn(backend).await;
    let c = app.customer("wx-sentinel").await;
    c.paid_order(app.first_dish(1).await).await;
    let secret = real_secret(&app).await;
    let now = now_secs();
    for shop in [0, -1, i64::MIN] {
        let claims =
            json!({"uid": 1, "shop": shop, "role": "merchant", "exp": now + 3600, "iat": now});
        let token = mint(secret.as_bytes(), Algorithm::HS256, &claims);
        for path in [
            "/admin/order/conditionSearch?page=1&pageSize=10",
            "/admin/order/statistics",
            "/admin/shop/status",
            "/admin/alerts",
        ] {
            let r = send(&app.base, "GET", path, as_merchant(&token), Payload::Empty).await;
            unauthorized(&r, &format!("GET {path} with a token for shop {shop}"));
        }
        let url = format!("{}/ws/sentinel", app.ws_base);
        let cookie = format!("sky_session={token}");
        let refused = common::connect(&url, Some(&cookie), None).await;
        assert!(
            matches!(&refused, Err(tokio_tungstenite::tungstenite::Error::Http(r)) if r.status() == 401),
            "a socket for shop {shop}: {:?}",
            refused.map(|_| "accepted")
        );
    }
}

backend_tests! {
    bad_tokens_get_bare_401 => bad_tokens_get_bare_401,
    sentinel_shop => a_merchant_token_for_no_real_shop_is_refused,
    gone_customer => a_token_of_a_customer_that_is_gone_gets_401,
}
