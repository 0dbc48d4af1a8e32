//! Bad addresses and someone else's address: refused, nothing changed.

use serde_json::{Value, json};

use crate::common::{self, Backend};
use crate::support::*;

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

backend_tests! {
    address_input_is_checked => address_input_is_checked,
}
