//! Bad submit input: refused with the contract's messages, no order written.

use serde_json::{Value, json};

use crate::common::{self, Backend};
use crate::support::*;

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
    submit_input_is_checked => submit_input_is_checked,
}
