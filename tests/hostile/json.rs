//! Malformed, wrongly-typed, missing and unknown JSON: a 400 envelope (or the contract's
//! business refusal for a missing field), never a 5xx, nothing written; unknown properties
//! are ignored.

use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::common::{self, Backend};
use crate::support::*;

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

/// Wrongly-typed JSON: a non-numeric string / array / object / fraction / bool / null / an
/// i64-overflowing number where a number is expected, an array, object or bool where a string
/// is expected → 400 envelope. (Numeric strings and numbers-as-text are Jackson's coercions,
/// which the stock clients rely on: `jackson_coercions_read_like_their_typed_twins`.)
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
            format!(r#"{{"dishId":{dish},"dishFlavor":["a"]}}"#),
        ),
        (
            "POST",
            "/user/shoppingCart/add",
            format!(r#"{{"dishId":{dish},"dishId":{dish}}}"#),
        ),
        ("POST", "/user/shoppingCart/add", r#"[]"#.into()),
        ("POST", "/user/shoppingCart/sub", r#"{"dishId":"x"}"#.into()),
        // Coercion reads only plain decimal numbers: everything else in a string stays wrong.
        ("POST", "/user/shoppingCart/add", r#"{"dishId":""}"#.into()),
        (
            "POST",
            "/user/shoppingCart/add",
            r#"{"dishId":" 1"}"#.into(),
        ),
        (
            "POST",
            "/user/shoppingCart/add",
            r#"{"dishId":"1.5"}"#.into(),
        ),
        (
            "POST",
            "/user/shoppingCart/add",
            r#"{"dishId":"1e3"}"#.into(),
        ),
        (
            "POST",
            "/user/shoppingCart/add",
            r#"{"dishId":"0x10"}"#.into(),
        ),
        (
            "POST",
            "/user/shoppingCart/add",
            r#"{"dishId":"99999999999999999999"}"#.into(),
        ),
        (
            "POST",
            "/user/order/submit",
            format!(r#"{{"addressBookId":{addr},"payMethod":1,"remark":true}}"#),
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
            format!(r#"{{"addressBookId":{addr},"payMethod":1,"estimatedDeliveryTime":20300101}}"#),
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
            r#"{"consignee":"张三","phone":"1","detail":"x","isDefault":"yes"}"#.into(),
        ),
        ("PUT", "/user/addressBook/default", r#"{"id":null}"#.into()),
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
        ("PUT", "/admin/order/confirm", r#"{"id":null}"#),
        ("PUT", "/admin/order/confirm", r#"{"id":[1]}"#),
        ("PUT", "/admin/order/confirm", r#"{"id":"abc"}"#),
        ("PUT", "/admin/order/confirm", r#"{"id":1.5}"#),
        ("PUT", "/admin/order/confirm", r#"{"id":"1.5"}"#),
        (
            "PUT",
            "/admin/order/confirm",
            r#"{"id":9223372036854775808}"#,
        ),
        (
            "PUT",
            "/admin/order/cancel",
            r#"{"id":1,"cancelReason":{"a":1}}"#,
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

/// Jackson's coercions, which the stock clients rely on, read exactly like their typed twins:
/// the order page's `{"id":"N"}` accepts and rejects, the mini-program's `"label":1` and a
/// numeric phone are stored as text, a numeric-string dish id adds to the same cart line as the
/// number, and the rest of the coerced fields (remark, tableware, pay method, login code)
/// behave as their plain forms do.
async fn jackson_coercions_read_like_their_typed_twins(backend: Backend) {
    let app = common::spawn(backend).await;
    let c = app.customer("wx-coercions").await;
    let admin = app.admin().await;
    let dish = app.first_dish(1).await;

    let v = c
        .post(
            "/user/shoppingCart/add",
            json!({"dishId": dish.to_string()}),
        )
        .await;
    assert_eq!(v["code"], 1, "numeric-string dishId: {v}");
    let v = c
        .post("/user/shoppingCart/add", json!({"dishId": dish}))
        .await;
    assert_eq!(v["code"], 1, "{v}");
    let cart = c.get("/user/shoppingCart/list").await;
    let lines = cart["data"].as_array().unwrap();
    assert_eq!(lines.len(), 1, "one line for \"{dish}\" and {dish}: {cart}");
    assert_eq!(lines[0]["number"], 2, "{cart}");

    let v = c
        .post(
            "/user/addressBook",
            json!({"consignee": "李四", "sex": 0, "phone": 13800000000_i64, "label": 1,
                   "detail": "软件园2号楼", "isDefault": "0"}),
        )
        .await;
    assert_eq!(v["code"], 1, "numeric label, sex, phone: {v}");
    let book = c.get("/user/addressBook/list").await;
    let a = &book["data"][0];
    assert_eq!(
        (&a["label"], &a["sex"], &a["phone"]),
        (&json!("1"), &json!("0"), &json!("13800000000")),
        "{book}"
    );
    let addr = a["id"].as_i64().unwrap();
    let v = c
        .put("/user/addressBook/default", json!({"id": addr.to_string()}))
        .await;
    assert_eq!(v["code"], 1, "{v}");
    assert_eq!(c.get("/user/addressBook/default").await["data"]["id"], addr);

    let v = c
        .post(
            "/user/order/submit",
            json!({"addressBookId": addr.to_string(), "payMethod": "1", "remark": 5,
                   "tablewareNumber": "2", "tablewareStatus": 0}),
        )
        .await;
    assert_eq!(v["code"], 1, "coerced submit: {v}");
    let (id, number) = (
        v["data"]["id"].as_i64().unwrap(),
        v["data"]["orderNumber"].as_str().unwrap().to_string(),
    );
    let detail = c.get(&format!("/user/order/orderDetail/{id}")).await;
    assert_eq!(
        (
            &detail["data"]["remark"],
            &detail["data"]["tablewareNumber"]
        ),
        (&json!("5"), &json!(2)),
        "{detail}"
    );
    let v = c.pay(&number).await;
    assert_eq!(v["code"], 1, "{v}");

    // The order page's dialog sends the id as a string (opened from an alert popup).
    let v = admin
        .put("/admin/order/confirm", json!({"id": id.to_string()}))
        .await;
    assert_eq!(v["code"], 1, "confirm with a string id: {v}");
    let d = admin.get(&format!("/admin/order/details/{id}")).await;
    assert_eq!(d["data"]["status"], 3, "{d}");
    let (other, _) = c.paid_order(dish).await;
    let v = admin
        .put(
            "/admin/order/rejection",
            json!({"id": other.to_string(), "rejectionReason": 42}),
        )
        .await;
    assert_eq!(
        v["code"], 1,
        "reject with a string id and a numeric reason: {v}"
    );
    let d = admin.get(&format!("/admin/order/details/{other}")).await;
    assert_eq!(
        (&d["data"]["status"], &d["data"]["rejectionReason"]),
        (&json!(6), &json!("42")),
        "{d}"
    );

    // A numeric login code is that code's text: the same customer as the string.
    let r = send(
        &app.base,
        "POST",
        "/user/user/login",
        HeaderMap::new(),
        Payload::Json(r#"{"code":123}"#.into()),
    )
    .await;
    let by_number: Value = serde_json::from_str(&r.text).unwrap();
    let by_text = app.customer("123").await;
    assert_eq!(by_number["data"]["id"], by_text.id, "{by_number}");
    // A numeric user name and password are text too: a wrong login, not a 400.
    let r = send(
        &app.base,
        "POST",
        "/admin/employee/login",
        HeaderMap::new(),
        Payload::Json(r#"{"username":1,"password":2}"#.into()),
    )
    .await;
    let v = refused(&r, "numeric user name");
    assert_eq!(r.status, 200, "{v}");
}

backend_tests! {
    malformed_json_bodies_get_400_envelope => malformed_json_bodies_get_400_envelope,
    wrongly_typed_json_fields_get_400_envelope => wrongly_typed_json_fields_get_400_envelope,
    missing_required_fields_get_an_envelope => missing_required_fields_get_an_envelope,
    unknown_json_properties_are_ignored => unknown_json_properties_are_ignored,
    jackson_coercions_read_like_their_typed_twins => jackson_coercions_read_like_their_typed_twins,
}
