//! Bodies the JSON extractor never sees as JSON: no or a wrong Content-Type, more than
//! 64 KiB (announced or chunked), and NUL characters, which PostgreSQL cannot store.

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{self, Backend, TestApp};
use crate::support::*;

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

/// Writes raw request bytes (then optionally half-closes) and reads the whole reply until the
/// server closes or 5 s pass: (head lower-cased, body).
async fn raw_exchange(app: &TestApp, request: &[u8], half_close: bool) -> (String, String) {
    let mut sock = tokio::net::TcpStream::connect(&app.host).await.unwrap();
    sock.write_all(request).await.unwrap();
    if half_close {
        sock.shutdown().await.unwrap();
    }
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(5), sock.read(&mut buf)).await {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&out).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (head.to_ascii_lowercase(), body.to_string())
}

/// A malformed (broken chunked encoding) or truncated (shorter than its Content-Length)
/// notification body is answered in WeChat's reply shape, `{"code":"FAIL","message":…}` as
/// JSON, not as text/plain: WeChat reads that shape and retries.
async fn broken_notification_bodies_get_wechat_json(backend: Backend) {
    let app = common::spawn(backend).await;
    let host = &app.host;
    let cases: [(&str, Vec<u8>, bool); 2] = [
        (
            "broken chunked encoding",
            format!("POST /notify/paySuccess HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{{}}\r\n").into_bytes(),
            false,
        ),
        (
            "a body cut short of its Content-Length",
            format!("POST /notify/paySuccess HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{{\"id\":\"EV-1\"").into_bytes(),
            true,
        ),
    ];
    for (what, request, half_close) in cases {
        let (head, body) = raw_exchange(&app, &request, half_close).await;
        assert!(head.starts_with("http/1.1 400"), "{what}: {head}");
        assert!(
            head.contains("content-type: application/json"),
            "{what}: {head}"
        );
        let v: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{what}: {body:?}"));
        assert_eq!(v["code"], "FAIL", "{what}: {v}");
        assert!(v["message"].is_string(), "{what}: {v}");
    }
}

/// After a 413 the server closes the connection (it does not read the rest of the body), so
/// it says so: `Connection: close`, then the end of the connection, on a keep-alive request.
async fn a_413_says_connection_close(backend: Backend) {
    let app = common::spawn(backend).await;
    let host = &app.host;
    let request = format!(
        "POST /user/user/login HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{\"code\":\""
    );
    let started = std::time::Instant::now();
    let (head, body) = raw_exchange(&app, request.as_bytes(), false).await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "and the server closed it"
    );
    assert!(head.starts_with("http/1.1 413"), "{head}");
    assert!(head.contains("connection: close"), "{head}");
    let v: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{body:?}"));
    assert_eq!(v["code"], 0, "{v}");
}

backend_tests! {
    broken_notification_bodies_get_wechat_json => broken_notification_bodies_get_wechat_json,
    a_413_says_connection_close => a_413_says_connection_close,
    body_without_json_content_type_gets_400_envelope => body_without_json_content_type_gets_400_envelope,
    huge_body_over_64_kib_is_refused => huge_body_over_64_kib_is_refused,
    nul_characters_in_text_are_refused_not_500 => nul_characters_in_text_are_refused_not_500,
}
