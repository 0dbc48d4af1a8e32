//! The workspace's and the reports' JSON, figure by figure, against what `month` placed.

use chrono::NaiveDate;
use serde_json::{Value, json};

use crate::common::Merchant;
use crate::month::{self, Expect, Month, days, java_yuan};

fn data(v: Value) -> Value {
    assert_eq!(v["code"], 1, "{v}");
    v["data"].clone()
}

fn joined<T: ToString>(items: impl IntoIterator<Item = T>) -> String {
    items
        .into_iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

fn rate(num: f64, den: i64) -> f64 {
    if den == 0 || num == 0.0 {
        0.0
    } else {
        num / den as f64
    }
}

/// 工作台 of each shop, "today" being 2024-07-01 in Shanghai.
pub async fn workspace(m: &Month) {
    let today = [month::local(month::NOW).date()];
    for (shop, merchant) in m.merchants.iter().enumerate() {
        let (e, _) = m.expect(shop, &today);
        let e = e[0];
        let b = data(merchant.get("/admin/workspace/businessData").await);
        let turnover = e.turnover as f64 / 100.0;
        assert_eq!(
            b,
            json!({
                "turnover": turnover,
                "validOrderCount": e.valid,
                "orderCompletionRate": rate(e.valid as f64, e.orders),
                "unitPrice": rate(turnover, e.valid),
                "newUsers": e.new_users,
            }),
            "shop {shop} businessData"
        );
        assert!(
            b["turnover"].is_f64() && b["unitPrice"].is_f64(),
            "Doubles: {b}"
        );

        let today_orders = m
            .orders
            .iter()
            .filter(|o| o.shop == shop && o.day() == today[0]);
        let count = |s: i64| today_orders.clone().filter(|o| o.status == s).count();
        let o = data(merchant.get("/admin/workspace/overviewOrders").await);
        assert_eq!(
            o,
            json!({"waitingOrders": count(2), "deliveredOrders": count(3), "completedOrders": count(5),
                   "cancelledOrders": count(6), "allOrders": today_orders.clone().count()}),
            "shop {shop} overviewOrders"
        );
        let (sold, off) = m.dishes[shop];
        assert_eq!(
            data(merchant.get("/admin/workspace/overviewDishes").await),
            json!({"sold": sold, "discontinued": off})
        );
        let (sold, off) = m.meals[shop];
        assert_eq!(
            data(merchant.get("/admin/workspace/overviewSetmeals").await),
            json!({"sold": sold, "discontinued": off})
        );
    }
    // Spelled out for shop 0: 4 orders today, 1 completed, G's first order is today.
    let b = data(m.merchants[0].get("/admin/workspace/businessData").await);
    assert_eq!(
        (
            b["validOrderCount"].as_i64(),
            b["orderCompletionRate"].as_f64(),
            b["newUsers"].as_i64()
        ),
        (Some(1), Some(0.25), Some(1))
    );
    let o = data(m.merchants[0].get("/admin/workspace/overviewOrders").await);
    assert_eq!(
        o,
        json!({"waitingOrders": 1, "deliveredOrders": 0, "completedOrders": 1, "cancelledOrders": 1, "allOrders": 4})
    );
    assert_eq!(
        data(
            m.merchants[0]
                .get("/admin/workspace/overviewSetmeals")
                .await
        ),
        // Three demo set meals: one stopped before the month, one stopped with its dish (可乐).
        json!({"sold": 1, "discontinued": 2})
    );
}

/// The four series of `shop` over `begin..=end`, each compared with the expectation.
async fn series(m: &Month, shop: usize, begin: &str, end: &str) {
    let merchant: &Merchant = &m.merchants[shop];
    let range = days(begin, end);
    let (e, before) = m.expect(shop, &range);
    let q = format!("begin={begin}&end={end}");
    let dates = joined(range.iter().map(|d: &NaiveDate| d.format("%Y-%m-%d")));
    let what = format!("shop {shop} {begin}..{end}");

    let t = data(
        merchant
            .get(&format!("/admin/report/turnoverStatistics?{q}"))
            .await,
    );
    assert_eq!(
        t,
        json!({"dateList": dates, "turnoverList": joined(e.iter().map(|d| java_yuan(d.turnover)))}),
        "{what}"
    );

    let u = data(
        merchant
            .get(&format!("/admin/report/userStatistics?{q}"))
            .await,
    );
    let totals = e.iter().scan(before, |sum, d: &Expect| {
        *sum += d.new_users;
        Some(*sum)
    });
    assert_eq!(
        u,
        json!({"dateList": dates, "totalUserList": joined(totals), "newUserList": joined(e.iter().map(|d| d.new_users))}),
        "{what}"
    );

    let o = data(
        merchant
            .get(&format!("/admin/report/ordersStatistics?{q}"))
            .await,
    );
    let (all, valid): (i64, i64) = (
        e.iter().map(|d| d.orders).sum(),
        e.iter().map(|d| d.valid).sum(),
    );
    assert_eq!(
        o,
        json!({"dateList": dates, "orderCountList": joined(e.iter().map(|d| d.orders)),
               "validOrderCountList": joined(e.iter().map(|d| d.valid)),
               "totalOrderCount": all, "validOrderCount": valid, "orderCompletionRate": rate(valid as f64, all)}),
        "{what}"
    );

    let top = m.expect_top(shop, &range);
    let t10 = data(merchant.get(&format!("/admin/report/top10?{q}")).await);
    assert_eq!(
        t10,
        json!({"nameList": joined(top.iter().map(|t| &t.0)), "numberList": joined(top.iter().map(|t| t.1))}),
        "{what}"
    );
}

/// 数据统计 for every shop over June, parts of it, one day, and a month reaching into the future.
pub async fn reports(m: &Month) {
    for shop in 0..3 {
        series(m, shop, "2024-06-01", "2024-06-30").await;
    }
    for (begin, end) in [
        ("2024-06-03", "2024-06-03"),
        ("2024-06-14", "2024-06-16"),
        ("2024-06-16", "2024-06-20"),
        ("2024-07-01", "2024-07-31"),
        ("2023-07-02", "2024-07-01"),
    ] {
        series(m, 0, begin, end).await;
    }
    // Spelled out: the boundaries of the local day.
    let admin = &m.merchants[0];
    // 06-03 07:30 (06-02 23:30 UTC), 08:30 (06-03 00:30 UTC), 09:00: one local day.
    let o = data(
        admin
            .get("/admin/report/ordersStatistics?begin=2024-06-02&end=2024-06-04")
            .await,
    );
    assert_eq!(
        (
            o["orderCountList"].as_str(),
            o["validOrderCountList"].as_str()
        ),
        (Some("0,3,0"), Some("0,2,0"))
    );
    // 06-14 23:59, 06-15 00:01, 06-16 00:00:00.000 (exactly midnight: the new day).
    let o = data(
        admin
            .get("/admin/report/ordersStatistics?begin=2024-06-14&end=2024-06-16")
            .await,
    );
    assert_eq!(o["orderCountList"], "1,1,1");
    let u = data(
        m.merchants[0]
            .get("/admin/report/userStatistics?begin=2024-06-14&end=2024-06-16")
            .await,
    );
    // E (05-28), A (06-01), B (06-03) before; F's first order is 06-15 00:01.
    assert_eq!(
        (u["newUserList"].as_str(), u["totalUserList"].as_str()),
        (Some("0,1,0"), Some("3,4,4"))
    );
    // Top 10 of June: twelve names sold (ten dishes, two set meals); the last two are cut.
    let t = data(
        m.merchants[0]
            .get("/admin/report/top10?begin=2024-06-01&end=2024-06-30")
            .await,
    );
    assert_eq!(t["numberList"], "12,11,10,9,8,7,6,5,4,3");
    assert_eq!(
        t["nameList"],
        "宫保鸡丁,麻婆豆腐,单人川味套餐,红烧肉,扬州炒饭,牛肉面,酸梅汤,豆浆,双人分享套餐,鱼香肉丝",
        "{t}"
    );
}
