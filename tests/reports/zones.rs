//! A shop in a DST zone (`--time-zone America/New_York`): 2024-03-10 has 23 hours and
//! 2024-11-03 has 25; orders just inside each end of those days land on them, which no fixed
//! offset gets right for both. One query over the range (three spans of constant offset).

use chrono::{NaiveDateTime, TimeZone};
use serde_json::json;

use crate::common::{self, Backend};

async fn dst_days(backend: Backend) {
    let zone = chrono_tz::America::New_York;
    let app = common::spawn_with(backend, |s| {
        s.time_zone = zone;
        s.payment_timeout = std::time::Duration::from_secs(100 * 365 * 86_400);
    })
    .await;
    let admin = app.admin().await;
    let c = app.customer("wx-report-dst").await;
    let address = c.address().await;
    let dish = app.first_dish(1).await;
    let at = |s: &str| {
        let t = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        zone.from_local_datetime(&t)
            .earliest()
            .unwrap()
            .timestamp_millis()
    };
    // Local times: before and after each day's ends (EST −5, EDT −4).
    for local in [
        "2024-03-09 23:30", // 03-10 04:30 UTC
        "2024-03-10 00:30", // 05:30 UTC
        "2024-03-10 23:30", // 03-11 03:30 UTC (EDT)
        "2024-03-11 00:30", // 04:30 UTC: a fixed −5 would call it 03-10
        "2024-11-03 00:30", // 04:30 UTC (EDT)
        "2024-11-03 23:30", // 11-04 04:30 UTC (EST): a fixed −4 would call it 11-04
    ] {
        app.clock.set_now(at(local));
        let v = c
            .post(
                "/user/shoppingCart/add",
                json!({"dishId": dish, "dishFlavor": ""}),
            )
            .await;
        assert_eq!(v["code"], 1, "{v}");
        let v = c.post("/user/order/submit", json!({"addressBookId": address, "payMethod": 1, "deliveryStatus": 1, "tablewareNumber": 1, "tablewareStatus": 1})).await;
        assert_eq!(v["code"], 1, "{v}");
    }
    let o = admin
        .get("/admin/report/ordersStatistics?begin=2024-03-09&end=2024-11-04")
        .await;
    let counts: Vec<i64> = o["data"]["orderCountList"]
        .as_str()
        .unwrap()
        .split(',')
        .map(|n| n.parse().unwrap())
        .collect();
    let dates: Vec<String> = o["data"]["dateList"]
        .as_str()
        .unwrap()
        .split(',')
        .map(String::from)
        .collect();
    let on = |d: &str| counts[dates.iter().position(|x| x == d).unwrap()];
    assert_eq!(
        (on("2024-03-09"), on("2024-03-10"), on("2024-03-11")),
        (1, 2, 1)
    );
    assert_eq!(
        (on("2024-11-02"), on("2024-11-03"), on("2024-11-04")),
        (0, 2, 0)
    );
    assert_eq!(counts.iter().sum::<i64>(), 6);
    // The first order is the customer's first in the shop: a new user of 03-09 in New York.
    let u = admin
        .get("/admin/report/userStatistics?begin=2024-03-09&end=2024-03-10")
        .await;
    assert_eq!(u["data"]["newUserList"], "1,0");
    app.shutdown().await;
}

backend_tests!(a_dst_zone_has_23_and_25_hour_days => dst_days);
