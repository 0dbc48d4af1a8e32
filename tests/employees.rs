//! Employee management (员工管理) with the stock admin app's exact requests, its rules and
//! messages, and what disabling an account or changing a password does to its sessions: the
//! account's other REST sessions answer 401 and its sockets (legacy, richer protocol, SSE)
//! close at once, here with 4003. On SQLite and PostgreSQL; two instances on one PostgreSQL
//! are in `tests/cluster.rs`.

mod common;

use std::time::{Duration, Instant};

use common::{Backend, Merchant, TestApp, close_code, connect, next_json};
use futures_util::SinkExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

const WAIT: Duration = Duration::from_secs(10);

/// The 添加员工 form's body (sex `"0"` = 女).
fn zhang() -> Value {
    json!({"username": "zhangsan01", "name": "张三", "phone": "13812345678", "sex": "0", "idNumber": "110101199003071234"})
}

/// Adds an employee through the API as the app does; their id.
async fn add(admin: &Merchant, body: Value) -> i64 {
    let v = admin.post("/admin/employee", body.clone()).await;
    assert_eq!(
        v,
        json!({"code": 1, "msg": null, "data": null}),
        "add {body}"
    );
    find(admin, body["username"].as_str().unwrap()).await["id"]
        .as_i64()
        .unwrap()
}

/// The record of `username` on the shop's first page.
async fn find(admin: &Merchant, username: &str) -> Value {
    let page = admin.get("/admin/employee/page?page=1&pageSize=50").await;
    assert_eq!(page["code"], 1, "{page}");
    page["data"]["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["username"] == username)
        .cloned()
        .unwrap_or_else(|| panic!("{username} not listed: {page}"))
}

/// The HTTP status of a merchant GET with this token.
async fn status_of(app: &TestApp, path: &str, token: &str) -> u16 {
    app.http()
        .get(format!("{}{path}", app.base))
        .header("token", token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// A login's reply (code and message) for this user name and password.
async fn login_reply(app: &TestApp, username: &str, password: &str) -> Value {
    app.http()
        .post(format!("{}/admin/employee/login", app.base))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// 添加员工, the list, 修改 (posting the whole GET result back), 启用/禁用, exactly as the app
/// sends them; no password or hash in any reply; audit fields filled.
async fn the_admin_apps_requests(backend: Backend) {
    let app = common::spawn(backend).await;
    let admin = app.admin().await;
    let id = add(&admin, zhang()).await;

    let page = admin
        .get("/admin/employee/page?page=1&pageSize=10&name=%E5%BC%A0")
        .await;
    assert_eq!(page["data"]["total"], 1, "{page}");
    let listed = &page["data"]["records"][0];
    let one = admin.get(&format!("/admin/employee/{id}")).await["data"].clone();
    assert_eq!(listed, &one, "the list and the form read the same record");
    for key in ["username", "name", "phone", "sex", "idNumber"] {
        assert_eq!(one[key], zhang()[key], "{key}: {one}");
    }
    assert_eq!(one["status"], 1);
    let owner = find(&admin, "admin").await;
    let admin_id = owner["id"].clone();
    assert_eq!(
        owner["updateTime"], owner["createTime"],
        "the seed's account: {owner}"
    );
    assert!(
        !owner["updateTime"].as_str().unwrap().starts_with("1970"),
        "{owner}"
    );
    assert_eq!(
        (&one["createUser"], &one["updateUser"]),
        (&admin_id, &admin_id)
    );
    let minutes = regex_like_minutes(one["updateTime"].as_str().unwrap());
    assert!(minutes, "updateTime is yyyy-MM-dd HH:mm: {one}");
    for reply in [page.to_string(), one.to_string()] {
        assert!(!reply.contains("password"), "no password field: {reply}");
        assert!(!reply.contains("$argon2"), "no hash: {reply}");
    }

    // 修改: the app spreads the GET result back, adds the mapped sex and a password of ****.
    let mut edit = one.clone();
    edit["phone"] = json!("13900001111");
    edit["sex"] = json!("1");
    edit["password"] = json!("****");
    edit["status"] = json!(0);
    edit["createUser"] = json!(999);
    let v = admin.put("/admin/employee", edit).await;
    assert_eq!(v["code"], 1, "{v}");
    let after = admin.get(&format!("/admin/employee/{id}")).await["data"].clone();
    assert_eq!(
        (&after["phone"], &after["sex"]),
        (&json!("13900001111"), &json!("1"))
    );
    assert_eq!(after["status"], 1, "status is not an editable field");
    assert_eq!(after["createUser"], admin_id, "nor are the audit fields");
    assert_eq!(
        login_reply(&app, "zhangsan01", "123456").await["code"],
        1,
        "**** did not become the password"
    );

    // 禁用 / 启用: POST /admin/employee/status/{status}?id= with no body.
    let v = admin
        .post(&format!("/admin/employee/status/0?id={id}"), json!(null))
        .await;
    assert_eq!(v, json!({"code": 1, "msg": null, "data": null}));
    assert_eq!(find(&admin, "zhangsan01").await["status"], 0);
    let v = admin
        .post(&format!("/admin/employee/status/1?id={id}"), json!(null))
        .await;
    assert_eq!(v["code"], 1);
    assert_eq!(find(&admin, "zhangsan01").await["status"], 1);
    app.shutdown().await;
}

fn regex_like_minutes(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 16
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b' ',
            13 => *c == b':',
            _ => c.is_ascii_digit(),
        })
}

/// A new employee logs in with 123456; duplicates answer `'x'已存在` on add and edit; the name
/// filter is text (`%`, `_`); the page is the caller's shop only, newest first.
async fn defaults_duplicates_and_the_filter(backend: Backend) {
    let app = common::spawn(backend).await;
    let admin = app.admin().await;
    let zhang_id = add(&admin, zhang()).await;
    assert_eq!(login_reply(&app, "zhangsan01", "123456").await["code"], 1);
    let v = admin.post("/admin/employee", json!({"username": "zhangsan01", "name": "张三二", "phone": "13812345679", "sex": "1", "idNumber": "110101199003071235"})).await;
    assert_eq!(
        v,
        json!({"code": 0, "msg": "'zhangsan01'已存在", "data": null})
    );
    // `admin` exists in shop 1; a username is unique on the whole platform (login has no shop).
    let v = admin.post("/admin/employee", json!({"username": "admin", "name": "x", "phone": "13812345679", "sex": "1", "idNumber": "110101199003071235"})).await;
    assert_eq!(v["msg"], "'admin'已存在");
    let li = add(&admin, json!({"username": "lisi", "name": "李%四_", "phone": "13812345670", "sex": "1", "idNumber": "11010119900307123x"})).await;
    let mut rename = admin.get(&format!("/admin/employee/{li}")).await["data"].clone();
    rename["username"] = json!("zhangsan01");
    let v = admin.put("/admin/employee", rename).await;
    assert_eq!(v["msg"], "'zhangsan01'已存在");
    assert_eq!(
        find(&admin, "lisi").await["name"],
        "李%四_",
        "nothing changed"
    );

    let names = |v: Value| -> Vec<String> {
        v["data"]["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["username"].as_str().unwrap().to_string())
            .collect()
    };
    let all = admin
        .get("/admin/employee/page?page=1&pageSize=10&name=")
        .await;
    assert_eq!(
        names(all),
        ["lisi", "zhangsan01", "admin"],
        "newest first; empty name = all"
    );
    for (filter, expected) in [
        ("%25", vec!["lisi"]),
        ("_", vec!["lisi"]),
        ("%25%E5%9B%9B_", vec!["lisi"]),
        ("%E5%BC%A0", vec!["zhangsan01"]),
        ("x%25", vec![]),
    ] {
        let v = admin
            .get(&format!(
                "/admin/employee/page?page=1&pageSize=10&name={filter}"
            ))
            .await;
        assert_eq!(names(v), expected, "name={filter}");
    }
    let second = admin.get("/admin/employee/page?page=2&pageSize=2").await;
    assert_eq!(
        (second["data"]["total"].as_i64(), names(second)),
        (Some(3), vec!["admin".to_string()])
    );

    // Another shop sees only its own, and shop 1's ids are not found there.
    app.add_shop("小馆", "xiaoguan", "xiaoguan-pass").await;
    let other = app.merchant("xiaoguan", "xiaoguan-pass").await;
    let v = other.get("/admin/employee/page?page=1&pageSize=10").await;
    assert_eq!(names(v), ["xiaoguan"]);
    let v = other.get(&format!("/admin/employee/{zhang_id}")).await;
    assert_eq!(v, json!({"code": 0, "msg": "员工不存在", "data": null}));
    app.shutdown().await;
}

/// The shop's owner cannot be disabled (shop 1's `admin`, and the account `shops add` made),
/// nobody disables themselves, the owner's record is edited by the owner only, a status other
/// than 0/1 and an unknown id are refused; nothing changes.
async fn owner_self_and_bad_status(backend: Backend) {
    let app = common::spawn(backend).await;
    let admin = app.admin().await;
    let zhang_id = add(&admin, zhang()).await;
    let zhang = app.merchant("zhangsan01", "123456").await;
    let admin_id = find(&admin, "admin").await["id"].as_i64().unwrap();
    let refused = |v: Value, msg: &str| assert_eq!(v, json!({"code": 0, "msg": msg, "data": null}));

    refused(
        zhang
            .post(
                &format!("/admin/employee/status/0?id={admin_id}"),
                json!(null),
            )
            .await,
        "店铺管理员账号不能禁用",
    );
    refused(
        admin
            .post(
                &format!("/admin/employee/status/0?id={admin_id}"),
                json!(null),
            )
            .await,
        "店铺管理员账号不能禁用",
    );
    refused(
        zhang
            .post(
                &format!("/admin/employee/status/0?id={zhang_id}"),
                json!(null),
            )
            .await,
        "不能禁用当前登录的账号",
    );
    let mut owner = admin.get(&format!("/admin/employee/{admin_id}")).await["data"].clone();
    owner["name"] = json!("篡位者");
    owner["phone"] = json!("13812345678");
    owner["idNumber"] = json!("110101199003071234");
    refused(
        zhang.put("/admin/employee", owner.clone()).await,
        "店铺管理员账号只能由本人修改",
    );
    assert_eq!(
        admin.put("/admin/employee", owner).await["code"],
        1,
        "the owner edits their own record"
    );
    for status in ["2", "-1", "9999999999"] {
        refused(
            admin
                .post(
                    &format!("/admin/employee/status/{status}?id={zhang_id}"),
                    json!(null),
                )
                .await,
            "账号状态错误",
        );
    }
    refused(
        admin
            .post("/admin/employee/status/0?id=987654321", json!(null))
            .await,
        "员工不存在",
    );
    refused(admin.get("/admin/employee/987654321").await, "员工不存在");
    assert_eq!(find(&admin, "admin").await["status"], 1);
    assert_eq!(find(&admin, "zhangsan01").await["status"], 1);

    let shop2 = app.add_shop("小馆", "xiaoguan", "xiaoguan-pass").await;
    let owner2 = app.merchant("xiaoguan", "xiaoguan-pass").await;
    assert_eq!(owner2.shop_id, shop2);
    let owner2_id = find(&owner2, "xiaoguan").await["id"].as_i64().unwrap();
    refused(
        owner2
            .post(
                &format!("/admin/employee/status/0?id={owner2_id}"),
                json!(null),
            )
            .await,
        "店铺管理员账号不能禁用",
    );
    refused(
        admin
            .post(
                &format!("/admin/employee/status/0?id={owner2_id}"),
                json!(null),
            )
            .await,
        "员工不存在",
    );
    assert_eq!(
        status_of(&app, "/admin/employee/me", &owner2.token).await,
        200
    );
    app.shutdown().await;
}

/// The legacy socket (cookie), the richer socket (token) and the SSE stream of one merchant.
struct Screens {
    legacy: common::Ws,
    rich: common::Ws,
    sse: reqwest::Response,
}

async fn screens(m: &Merchant, app: &TestApp) -> Screens {
    let legacy = m.legacy_ws("staff").await;
    let (rich, _) = m.rich_ws(None).await;
    let sse = app
        .http()
        .get(format!("{}/ws/v2/sse", app.base))
        .header("cookie", &m.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(sse.status(), 200);
    Screens { legacy, rich, sse }
}

/// Reads the SSE body until it ends; true when it ended within `wait`.
async fn sse_ends(resp: &mut reqwest::Response, wait: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, resp.chunk()).await {
            Err(_) => return false,
            Ok(Ok(Some(_))) => continue,
            Ok(_) => return true,
        }
    }
}

impl Screens {
    /// Asserts all three end: the sockets with 4003, the stream by ending.
    async fn all_end(mut self) -> Duration {
        let t = Instant::now();
        assert_eq!(
            close_code(&mut self.legacy, WAIT).await,
            Some(4003),
            "legacy socket"
        );
        assert_eq!(
            close_code(&mut self.rich, WAIT).await,
            Some(4003),
            "richer socket"
        );
        assert!(sse_ends(&mut self.sse, WAIT).await, "SSE stream");
        t.elapsed()
    }

    /// Asserts all three are still open (nothing arrives but pings within `quiet`).
    async fn still_open(&mut self, quiet: Duration) {
        assert!(common::next_text(&mut self.legacy, quiet).await.is_none());
        assert!(next_json(&mut self.rich, quiet).await.is_none());
        self.rich
            .send(Message::text(r#"{"type":"ping"}"#))
            .await
            .expect("the richer socket is open");
        assert_eq!(
            next_json(&mut self.rich, WAIT).await.unwrap()["event"],
            "pong"
        );
        assert!(!sse_ends(&mut self.sse, quiet).await, "SSE stream goes on");
    }
}

/// Disabling an employee ends their sessions at once: their REST token answers 401, their
/// sockets close 4003, their SSE stream ends, a reconnect is refused; their login answers
/// 账号被锁定 only after the right password; enabling lets them log in again (the old token
/// stays void). A colleague's sessions are untouched.
async fn disabling_ends_every_session_at_once(backend: Backend) {
    let app = common::spawn(backend).await;
    let admin = app.admin().await;
    let id = add(&admin, zhang()).await;
    let zhang = app.merchant("zhangsan01", "123456").await;
    let mut admin_screens = screens(&admin, &app).await;
    let zhang_screens = screens(&zhang, &app).await;
    assert_eq!(
        status_of(&app, "/admin/order/statistics", &zhang.token).await,
        200
    );

    let v = admin
        .post(&format!("/admin/employee/status/0?id={id}"), json!(null))
        .await;
    assert_eq!(v["code"], 1);
    // At once: the very next request, no wait.
    assert_eq!(
        status_of(&app, "/admin/order/statistics", &zhang.token).await,
        401
    );
    assert_eq!(
        status_of(&app, "/admin/employee/me", &zhang.token).await,
        401
    );
    let took = zhang_screens.all_end().await;
    assert!(
        took < Duration::from_secs(2),
        "sockets closed at once, not after {took:?}"
    );
    let url = format!("{}/ws/x", app.ws_base);
    let own = format!("http://{}", app.host);
    match connect(&url, Some(&zhang.cookie), Some(&own)).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(
                resp.status().as_u16(),
                401,
                "reconnect refused: the session is over"
            )
        }
        Err(e) => panic!("reconnect: unexpected error {e}"),
        Ok(_) => panic!("reconnect accepted after the session ended"),
    }
    admin_screens.still_open(Duration::from_millis(300)).await;
    assert_eq!(
        status_of(&app, "/admin/order/statistics", &admin.token).await,
        200
    );

    assert_eq!(
        login_reply(&app, "zhangsan01", "123456").await,
        json!({"code": 0, "msg": "账号被锁定", "data": null})
    );
    assert_eq!(
        login_reply(&app, "zhangsan01", "wrong-1").await["msg"],
        "账号或密码错误",
        "no hint the account exists"
    );

    let v = admin
        .post(&format!("/admin/employee/status/1?id={id}"), json!(null))
        .await;
    assert_eq!(v["code"], 1);
    assert_eq!(
        status_of(&app, "/admin/order/statistics", &zhang.token).await,
        401,
        "the old token stays void"
    );
    let again = app.merchant("zhangsan01", "123456").await;
    assert_eq!(
        status_of(&app, "/admin/order/statistics", &again.token).await,
        200
    );
    let mut s = screens(&again, &app).await;
    s.still_open(Duration::from_millis(200)).await;
    app.shutdown().await;
}

/// `PUT /admin/employee/editPassword`: a wrong old password answers 密码错误, a new one the app
/// would refuse 密码修改失败; a change ends every other session (REST and sockets) at once and
/// keeps the one that made it; the old password no longer logs in, the new one does; a change
/// from a later login ends the earlier kept one.
async fn a_password_change_ends_the_other_sessions(backend: Backend) {
    let app = common::spawn(backend).await;
    let admin = app.admin().await;
    add(&admin, zhang()).await;
    let here = app.merchant("zhangsan01", "123456").await;
    let elsewhere = app.merchant("zhangsan01", "123456").await;
    let mut here_screens = screens(&here, &app).await;
    let elsewhere_screens = screens(&elsewhere, &app).await;
    let change = |old: &str, new: &str| json!({"oldPassword": old, "newPassword": new});

    let v = here
        .put(
            "/admin/employee/editPassword",
            change("000000", "newpass88"),
        )
        .await;
    assert_eq!(v, json!({"code": 0, "msg": "密码错误", "data": null}));
    for bad in ["12345", "new pass 1", "密码密码密码", &"a".repeat(21), ""] {
        let v = here
            .put("/admin/employee/editPassword", change("123456", bad))
            .await;
        assert_eq!(v["msg"], "密码修改失败", "{bad:?}");
    }
    assert_eq!(
        status_of(&app, "/admin/order/statistics", &elsewhere.token).await,
        200,
        "failed changes end nothing"
    );

    let v = here
        .put(
            "/admin/employee/editPassword",
            change("123456", "newpass88"),
        )
        .await;
    assert_eq!(v, json!({"code": 1, "msg": null, "data": null}));
    assert_eq!(
        status_of(&app, "/admin/order/statistics", &elsewhere.token).await,
        401
    );
    elsewhere_screens.all_end().await;
    assert_eq!(
        status_of(&app, "/admin/order/statistics", &here.token).await,
        200,
        "the changer stays logged in"
    );
    here_screens.still_open(Duration::from_millis(300)).await;
    assert_eq!(
        login_reply(&app, "zhangsan01", "123456").await["msg"],
        "账号或密码错误"
    );
    let later = app.merchant("zhangsan01", "newpass88").await;
    assert_eq!(
        status_of(&app, "/admin/order/statistics", &admin.token).await,
        200,
        "other accounts untouched"
    );

    let v = later
        .put(
            "/admin/employee/editPassword",
            change("newpass88", "again123"),
        )
        .await;
    assert_eq!(v["code"], 1);
    assert_eq!(
        status_of(&app, "/admin/order/statistics", &here.token).await,
        401,
        "the earlier kept login ends"
    );
    here_screens.all_end().await;
    assert_eq!(
        status_of(&app, "/admin/order/statistics", &later.token).await,
        200
    );
    app.merchant("zhangsan01", "again123").await;
    app.shutdown().await;
}

/// Two concurrent adds of one user name: one wins, the other answers `'x'已存在`, never a 5xx;
/// one row.
async fn concurrent_adds_of_one_username(backend: Backend) {
    let app = common::spawn(backend).await;
    let admin = app.admin().await;
    for round in 0..5 {
        let username = format!("racer{round}");
        let body = |phone: &str| json!({"username": username, "name": "赛跑", "phone": phone, "sex": "1", "idNumber": "110101199003071234"});
        let (a, b) = tokio::join!(
            admin.post("/admin/employee", body("13800000001")),
            admin.post("/admin/employee", body("13800000002"))
        );
        let mut codes = [a["code"].as_i64(), b["code"].as_i64()];
        codes.sort();
        assert_eq!(codes, [Some(0), Some(1)], "{a} {b}");
        let loser = if a["code"] == 0 { &a } else { &b };
        assert_eq!(loser["msg"], format!("'{username}'已存在"));
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM employee WHERE username = $1")
            .bind(&username)
            .fetch_one(app.state.store.pool())
            .await
            .unwrap();
        assert_eq!(rows, 1);
    }
    app.shutdown().await;
}

backend_tests!(
    the_admin_apps_requests => the_admin_apps_requests,
    defaults_duplicates_and_the_filter => defaults_duplicates_and_the_filter,
    owner_self_and_bad_status => owner_self_and_bad_status,
    disabling_ends_every_session_at_once => disabling_ends_every_session_at_once,
    a_password_change_ends_the_other_sessions => a_password_change_ends_the_other_sessions,
    concurrent_adds_of_one_username => concurrent_adds_of_one_username,
);
