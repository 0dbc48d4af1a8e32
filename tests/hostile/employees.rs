//! Employee management and the password change under hostile input: wrong types, huge,
//! negative and fractional ids, another shop's employees, user names with `%` or NUL,
//! oversized fields, customer tokens. Clear errors in the envelope, never a 5xx, and the
//! employee table (including hashes and session generations) unchanged.

use serde_json::json;

use crate::common::{self, Backend, TestApp};
use crate::support::*;

/// (id, shop, username, name, hash, phone, sex, id number, status, generation, kept login)
type Row = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    i64,
);

async fn employees(app: &TestApp) -> Vec<Row> {
    sqlx::query_as(
        "SELECT id, shop_id, username, name, password_hash, phone, sex, id_number, status, \
         session_gen, session_keep FROM employee ORDER BY id",
    )
    .fetch_all(app.state.store.pool())
    .await
    .unwrap()
}

fn valid() -> serde_json::Value {
    json!({"username": "hostile01", "name": "张三", "phone": "13812345678", "sex": "1", "idNumber": "110101199003071234"})
}

fn with(key: &str, value: serde_json::Value) -> Payload {
    let mut v = valid();
    v[key] = value;
    json_body(&v)
}

async fn employee_input_is_refused_cleanly(backend: Backend) {
    let app = common::spawn(backend).await;
    let admin = app.admin().await;
    app.add_shop("小馆", "xiaoguan", "xiaoguan-pass").await;
    let theirs: i64 = sqlx::query_scalar("SELECT id FROM employee WHERE username = 'xiaoguan'")
        .fetch_one(app.state.store.pool())
        .await
        .unwrap();
    let mine: i64 = sqlx::query_scalar("SELECT id FROM employee WHERE username = 'admin'")
        .fetch_one(app.state.store.pool())
        .await
        .unwrap();
    let customer = app.customer("wx-hostile-employees").await;
    let before = employees(&app).await;
    let m = || as_merchant(&admin.token);
    let call = |method: &'static str, path: String, body: Payload| {
        let base = app.base.clone();
        let h = m();
        async move { send(&base, method, &path, h, body).await }
    };

    // Unparseable or wrongly typed bodies: 400 in the envelope.
    for (what, body) in [
        ("an array", Payload::Json("[]".into())),
        ("a string", Payload::Json("\"x\"".into())),
        ("not JSON", Payload::Json("{username:".into())),
        ("a list as username", with("username", json!(["a"]))),
        ("an object as name", with("name", json!({"a": 1}))),
        (
            "a NUL in the username",
            with("username", json!("hostile\u{0}01")),
        ),
        ("a NUL in the name", with("name", json!("张\u{0}三"))),
        (
            "no content type",
            Payload::Raw(None, valid().to_string().into_bytes()),
        ),
        (
            "a repeated key",
            Payload::Json(r#"{"username":"a","username":"b"}"#.into()),
        ),
    ] {
        bad_request(
            &call("POST", "/admin/employee".into(), body).await,
            &format!("add with {what}"),
        );
    }
    // Well-formed but against the rules: business refusals with the app's messages.
    for (what, body, msg) in [
        (
            "a % in the username",
            with("username", json!("a%b_c")),
            "账号输入不符，请输入3-20个字符",
        ),
        (
            "a space in the username",
            with("username", json!("zhang san")),
            "账号输入不符，请输入3-20个字符",
        ),
        (
            "a 10 000-character username",
            with("username", json!("a".repeat(10_000))),
            "账号输入不符，请输入3-20个字符",
        ),
        (
            "no username",
            with("username", json!(null)),
            "账号输入不符，请输入3-20个字符",
        ),
        (
            "a 10 000-character name",
            with("name", json!("名".repeat(10_000))),
            "员工姓名不能超过32个字符",
        ),
        ("a blank name", with("name", json!("   ")), "请输入员工姓名"),
        (
            "SQL in the phone",
            with("phone", json!("13812345678' OR 1=1 --")),
            "请输入正确的手机号!",
        ),
        ("sex 2", with("sex", json!("2")), "性别错误"),
        (
            "a 20-digit id number",
            with("idNumber", json!("1".repeat(20))),
            "身份证号码不正确",
        ),
    ] {
        business(
            &call("POST", "/admin/employee".into(), body).await,
            &format!("add with {what}"),
            msg,
        );
    }
    let huge = with("name", json!("x".repeat(70 * 1024)));
    let r = call("POST", "/admin/employee".into(), huge).await;
    assert_eq!(r.status, 413, "a body over the limit: {:?}", r.text);
    envelope_shape(&r, "a body over the limit");

    // Ids: unparseable ones are 400, absent, negative or another shop's are 员工不存在.
    let update = |id: serde_json::Value| {
        let mut v = valid();
        v["id"] = id;
        json_body(&v)
    };
    for id in [
        json!("abc"),
        json!(1.5),
        json!("99999999999999999999"),
        json!([1]),
        json!(null),
    ] {
        bad_request(
            &call("PUT", "/admin/employee".into(), update(id.clone())).await,
            &format!("edit id {id}"),
        );
    }
    for id in [
        json!(-1),
        json!(0),
        json!(i64::MAX),
        json!(theirs),
        json!(theirs.to_string()),
    ] {
        business(
            &call("PUT", "/admin/employee".into(), update(id.clone())).await,
            &format!("edit id {id}"),
            "员工不存在",
        );
    }
    for id in ["abc", "1.5", "99999999999999999999", "%00"] {
        bad_request(
            &call("GET", format!("/admin/employee/{id}"), Payload::Empty).await,
            &format!("get {id}"),
        );
    }
    for id in [
        "-5".to_string(),
        "0".into(),
        i64::MAX.to_string(),
        theirs.to_string(),
    ] {
        business(
            &call("GET", format!("/admin/employee/{id}"), Payload::Empty).await,
            &format!("get {id}"),
            "员工不存在",
        );
    }
    for path in [
        "/admin/employee/status/abc?id=2",
        "/admin/employee/status/1?id=abc",
        "/admin/employee/status/1",
        "/admin/employee/status/0?id=99999999999999999999",
        "/admin/employee/status/0?id=1,2",
        "/admin/employee/status/0.5?id=2",
    ] {
        bad_request(&call("POST", path.into(), Payload::Empty).await, path);
    }
    for (path, msg) in [
        (
            format!("/admin/employee/status/0?id={theirs}"),
            "员工不存在",
        ),
        (
            format!("/admin/employee/status/1?id={theirs}"),
            "员工不存在",
        ),
        ("/admin/employee/status/0?id=-3".to_string(), "员工不存在"),
        (
            format!("/admin/employee/status/7?id={mine}"),
            "账号状态错误",
        ),
        (
            format!("/admin/employee/status/0?id={mine}"),
            "店铺管理员账号不能禁用",
        ),
    ] {
        business(
            &call("POST", path.clone(), Payload::Empty).await,
            &path,
            msg,
        );
    }

    // The page: absurd paging is clamped, a NUL is 400, an endless name matches nothing.
    let r = call(
        "GET",
        "/admin/employee/page?page=-1&pageSize=-5".into(),
        Payload::Empty,
    )
    .await;
    assert_eq!(
        success(&r, "negative paging")["data"]["records"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let r = call(
        "GET",
        "/admin/employee/page?page=1&pageSize=99999999999".into(),
        Payload::Empty,
    )
    .await;
    success(&r, "a huge page size");
    bad_request(
        &call(
            "GET",
            "/admin/employee/page?page=abc".into(),
            Payload::Empty,
        )
        .await,
        "page=abc",
    );
    bad_request(
        &call(
            "GET",
            "/admin/employee/page?name=%00".into(),
            Payload::Empty,
        )
        .await,
        "name=%00",
    );
    let long = format!("/admin/employee/page?name={}", "%E5%BC%A0".repeat(2000));
    let r = call("GET", long, Payload::Empty).await;
    assert_eq!(success(&r, "a 2000-character name")["data"]["total"], 0);

    // The password change: absurd input fails without changing anything.
    let pw = |old: serde_json::Value, new: serde_json::Value| {
        json_body(&json!({"oldPassword": old, "newPassword": new}))
    };
    for (what, body, msg) in [
        (
            "a 10 000-character old password",
            pw(json!("x".repeat(10_000)), json!("abcdef1")),
            "密码错误",
        ),
        (
            "a wrong old password",
            pw(json!("admin-pass-124"), json!("abcdef1")),
            "密码错误",
        ),
        (
            "a 10 000-character new password",
            pw(json!("admin-pass-123"), json!("x".repeat(10_000))),
            "密码修改失败",
        ),
        (
            "a new password with symbols",
            pw(json!("admin-pass-123"), json!("abc'; --")),
            "密码修改失败",
        ),
        (
            "no new password",
            pw(json!("admin-pass-123"), json!(null)),
            "密码修改失败",
        ),
    ] {
        business(
            &call("PUT", "/admin/employee/editPassword".into(), body).await,
            what,
            msg,
        );
    }
    for (what, body) in [
        ("a list", pw(json!(["admin-pass-123"]), json!("abcdef1"))),
        ("a NUL", pw(json!("admin-pass-123"), json!("abc\u{0}def1"))),
        ("not JSON", Payload::Json("{".into())),
    ] {
        bad_request(
            &call("PUT", "/admin/employee/editPassword".into(), body).await,
            what,
        );
    }

    // A customer's token opens none of it.
    for (method, path) in [
        ("POST", "/admin/employee"),
        ("PUT", "/admin/employee"),
        ("GET", "/admin/employee/page"),
        ("GET", "/admin/employee/1"),
        ("POST", "/admin/employee/status/0?id=1"),
        ("PUT", "/admin/employee/editPassword"),
    ] {
        let r = send(
            &app.base,
            method,
            path,
            as_customer(&customer.token),
            json_body(&valid()),
        )
        .await;
        unauthorized(&r, &format!("{method} {path} with a customer token"));
    }
    assert_eq!(employees(&app).await, before, "nothing was written");
    app.shutdown().await;
}

backend_tests!(employee_input => employee_input_is_refused_cleanly);
