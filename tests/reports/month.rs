//! A known month of orders, placed through the real API with the injectable clock: June 2024
//! in Asia/Shanghai, three shops, every status, dish and set-meal lines, customers whose first
//! order (per shop) falls on different days, one before the month, orders at 23:59 and 00:01
//! local time and on both sides of midnight UTC (08:00 local), then "today" = 2024-07-01.
//!
//! The set meals are the demo menu's (three per shop; the third is stopped through the admin
//! API before the month), bought through the cart like dishes; one dish is stopped through the
//! admin API at the end (which also stops a set meal holding it). Only one order's time is set
//! with SQL: to exactly local midnight (the API's clock ticks on between set and submit).

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use serde_json::json;

use crate::common::{self, Backend, Customer, Merchant, TestApp};

pub const ZONE: Tz = chrono_tz::Asia::Shanghai;
/// What the clock reads when the figures are fetched (local).
pub const NOW: &str = "2024-07-01 12:00";

/// An item of an order: the shop's n-th dish, or its n-th set meal.
#[derive(Clone, Copy)]
pub enum Item {
    Dish(usize),
    Meal(usize),
}
use Item::{Dish, Meal};

/// Cancelled by the customer before paying (status 6 in the end; a plain 6 is rejected by the
/// merchant after paying).
const WITHDRAWN: i64 = 60;

/// A shop's dishes and set meals, (id, name) each.
type ShopMenu = (Vec<(i64, String)>, Vec<(i64, String)>);

/// What each order of the month is: shop index, local time, customer, lines, final status.
type Spec = (
    usize,
    &'static str,
    &'static str,
    &'static [(Item, i64)],
    i64,
);

#[rustfmt::skip]
const ORDERS: &[Spec] = &[
    (0, "2024-05-28 10:00", "e", &[(Dish(0), 1)], 5),                    // before the month
    (0, "2024-06-01 00:01", "a", &[(Dish(0), 12)], 5),
    (0, "2024-06-01 12:00", "a", &[(Dish(1), 1)], 6),                    // rejected after paying
    (0, "2024-06-03 07:30", "b", &[(Dish(2), 11), (Meal(0), 10)], 5),   // 2024-06-02 23:30 UTC
    (0, "2024-06-03 08:30", "b", &[(Dish(3), 9)], 5),                    // 2024-06-03 00:30 UTC
    (0, "2024-06-03 09:00", "e", &[(Dish(1), 1)], 1),                    // never paid
    (0, "2024-06-10 11:00", "a", &[(Dish(4), 1)], 2),
    (0, "2024-06-14 23:59", "b", &[(Dish(5), 8)], 5),
    (0, "2024-06-15 00:01", "f", &[(Dish(6), 7)], 5),
    (0, "2024-06-16 00:00", "a", &[(Dish(7), 6)], 5),                    // exactly midnight
    (0, "2024-06-20 18:00", "c", &[(Dish(8), 5), (Meal(1), 4)], 5),
    (0, "2024-06-20 19:00", "c", &[(Dish(9), 4)], 3),
    (0, "2024-06-25 12:00", "f", &[(Dish(0), 1)], 4),
    (0, "2024-06-30 23:59", "a", &[(Dish(1), 3), (Dish(4), 2), (Dish(9), 1)], 5),
    (0, "2024-07-01 00:01", "b", &[(Dish(2), 1)], 5),                    // today
    (0, "2024-07-01 10:00", "g", &[(Dish(3), 1)], 2),
    (0, "2024-07-01 10:30", "g", &[(Dish(3), 1)], WITHDRAWN),
    (0, "2024-07-01 11:00", "a", &[(Dish(4), 1)], 1),
    (1, "2024-06-03 12:00", "d", &[(Dish(0), 5)], 5),
    (1, "2024-06-10 12:00", "c", &[(Dish(0), 1)], 5),
    (1, "2024-06-20 12:00", "a", &[(Dish(1), 2)], 5),
    (1, "2024-07-01 09:00", "d", &[(Dish(0), 1)], 5),
];

/// An order as placed: enough to compute every expected figure without the server's SQL.
#[derive(Debug, Clone)]
pub struct Placed {
    pub shop: usize,
    pub at: NaiveDateTime,
    pub customer: &'static str,
    pub status: i64,
    pub amount: i64,
    /// (name, quantity) of each line.
    pub lines: Vec<(String, i64)>,
}

impl Placed {
    pub fn day(&self) -> NaiveDate {
        self.at.date()
    }
}

/// The month, ready to be asked for its figures.
pub struct Month {
    pub app: TestApp,
    /// The merchants of shops 0, 1, 2 (shop 2 has no orders).
    pub merchants: Vec<Merchant>,
    pub orders: Vec<Placed>,
    /// (on sale, not on sale) dishes and set meals of each shop, counted from plain rows.
    pub dishes: Vec<(i64, i64)>,
    pub meals: Vec<(i64, i64)>,
}

pub fn local(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
}

pub fn local_ms(t: NaiveDateTime) -> i64 {
    ZONE.from_local_datetime(&t)
        .single()
        .unwrap()
        .timestamp_millis()
}

async fn exec(app: &TestApp, sql: &str, binds: &[i64]) {
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()));
    for b in binds {
        q = q.bind(*b);
    }
    q.execute(app.state.store.pool()).await.unwrap();
}

async fn scalar(app: &TestApp, sql: &'static str, id: i64) -> i64 {
    sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(app.state.store.pool())
        .await
        .unwrap()
}

/// The shop's dishes and set meals (id, name) in id order; the third set meal is stopped
/// (through the admin API), so the shop has two on sale and one not.
async fn menu(app: &TestApp, m: &Merchant, shop: i64) -> ShopMenu {
    let pool = app.state.store.pool();
    let rows = |table: &'static str| {
        sqlx::query_as::<_, (i64, String)>(sqlx::AssertSqlSafe(format!(
            "SELECT id, name FROM {table} WHERE shop_id = $1 ORDER BY id"
        )))
        .bind(shop)
        .fetch_all(pool)
    };
    let dishes = rows("dish").await.unwrap();
    let meals = rows("setmeal").await.unwrap();
    assert!(dishes.len() >= 10, "the demo menu has at least ten dishes");
    assert_eq!(meals.len(), 3, "the demo menu has three set meals");
    let v = m
        .post(
            &format!("/admin/setmeal/status/0?id={}", meals[2].0),
            json!({}),
        )
        .await;
    assert_eq!(v["code"], 1, "stop a set meal: {v}");
    (dishes, meals)
}

/// Places one order at its local time and takes it to its status; returns it as placed.
async fn place(
    app: &TestApp,
    m: &Merchant,
    c: &Customer,
    address: i64,
    menu: &ShopMenu,
    spec: &Spec,
) -> Placed {
    let (shop, at, who, items, status) = *spec;
    let at = local(at);
    app.clock.set_now(local_ms(at));
    let mut lines = Vec::new();
    for (item, n) in items {
        let (body, name) = match item {
            Dish(i) => (
                json!({"dishId": menu.0[*i].0, "dishFlavor": ""}),
                &menu.0[*i].1,
            ),
            Meal(i) => (json!({"setmealId": menu.1[*i].0}), &menu.1[*i].1),
        };
        for _ in 0..*n {
            let v = c.post("/user/shoppingCart/add", body.clone()).await;
            assert_eq!(v["code"], 1, "cart: {v}");
        }
        lines.push((name.clone(), *n));
    }
    let v = c.post("/user/order/submit", json!({"addressBookId": address, "payMethod": 1, "remark": "", "deliveryStatus": 1, "tablewareNumber": 1, "tablewareStatus": 1})).await;
    assert_eq!(v["code"], 1, "submit: {v}");
    let (id, number) = (
        v["data"]["id"].as_i64().unwrap(),
        v["data"]["orderNumber"].as_str().unwrap().to_string(),
    );
    if at.time() == chrono::NaiveTime::MIN {
        exec(
            app,
            "UPDATE orders SET order_time = $1 WHERE id = $2",
            &[local_ms(at), id],
        )
        .await;
    }
    advance(m, c, id, &number, status).await;
    let status = if status == WITHDRAWN { 6 } else { status };
    let amount = scalar(app, "SELECT amount FROM orders WHERE id = $1", id).await;
    assert_eq!(
        scalar(app, "SELECT status FROM orders WHERE id = $1", id).await,
        status
    );
    Placed {
        shop,
        at,
        customer: who,
        status,
        amount,
        lines,
    }
}

/// Takes a new order to `status` the way the clients do.
async fn advance(m: &Merchant, c: &Customer, id: i64, number: &str, status: i64) {
    let ok = |v: serde_json::Value| assert_eq!(v["code"], 1, "{v}");
    if status == 1 {
        return;
    }
    if status == WITHDRAWN {
        return ok(c.put(&format!("/user/order/cancel/{id}"), json!({})).await);
    }
    ok(c.pay(number).await);
    if status == 6 {
        return ok(m
            .put(
                "/admin/order/rejection",
                json!({"id": id, "rejectionReason": "菜品已售完"}),
            )
            .await);
    }
    if status >= 3 {
        ok(m.put("/admin/order/confirm", json!({"id": id})).await);
    }
    if status >= 4 {
        ok(m.put(&format!("/admin/order/delivery/{id}"), json!({}))
            .await);
    }
    if status >= 5 {
        ok(m.put(&format!("/admin/order/complete/{id}"), json!({}))
            .await);
    }
}

/// Builds the month on a fresh server (scheduled tasks kept from touching it).
pub async fn build(backend: Backend) -> Month {
    let app = common::spawn_with(backend, |s| {
        s.payment_timeout = std::time::Duration::from_secs(100 * 365 * 86_400);
        s.delivery_complete_after = std::time::Duration::from_secs(100 * 365 * 86_400);
        s.realert = None;
    })
    .await;
    let shop1 = app.add_shop("报表二店", "report2", "report-pass-2").await;
    let shop2 = app.add_shop("报表三店", "report3", "report-pass-3").await;
    let merchants = vec![
        app.admin().await,
        app.merchant("report2", "report-pass-2").await,
        app.merchant("report3", "report-pass-3").await,
    ];
    let shop_ids = [1, shop1, shop2];
    let mut menus = Vec::new();
    for (i, id) in shop_ids.iter().enumerate() {
        menus.push(menu(&app, &merchants[i], *id).await);
    }
    // Everyone logs in before the clock moves (tokens expire by the real clock).
    let mut customers: HashMap<&str, (Customer, i64)> = HashMap::new();
    for spec in ORDERS {
        if !customers.contains_key(spec.2) {
            let c = app.customer(&format!("wx-report-{}", spec.2)).await;
            let address = c.address().await;
            customers.insert(spec.2, (c, address));
        }
    }
    let mut orders = Vec::new();
    for spec in ORDERS {
        let (c, address) = &customers[spec.2];
        orders.push(place(&app, &merchants[spec.0], c, *address, &menus[spec.0], spec).await);
    }
    // One dish of shop 0 off sale (its set meals stop with it).
    let v = merchants[0]
        .post(
            &format!("/admin/dish/status/0?id={}", menus[0].0[9].0),
            json!({}),
        )
        .await;
    assert_eq!(v["code"], 1, "stop a dish: {v}");
    app.clock.set_now(local_ms(local(NOW)));
    let mut dishes = Vec::new();
    let mut meals = Vec::new();
    for id in shop_ids {
        dishes.push(on_sale(&app, "dish", id).await);
        meals.push(on_sale(&app, "setmeal", id).await);
    }
    Month {
        app,
        merchants,
        orders,
        dishes,
        meals,
    }
}

/// (status 1, other) rows of a menu table, counted in Rust from the plain rows.
async fn on_sale(app: &TestApp, table: &str, shop: i64) -> (i64, i64) {
    let statuses: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT status FROM {table} WHERE shop_id = $1"
    )))
    .bind(shop)
    .fetch_all(app.state.store.pool())
    .await
    .unwrap();
    let sold = statuses.iter().filter(|s| **s == 1).count() as i64;
    (sold, statuses.len() as i64 - sold)
}

/// Expected figures of one day, computed from the orders as placed.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Expect {
    pub orders: i64,
    pub valid: i64,
    pub turnover: i64,
    pub new_users: i64,
}

impl Month {
    /// Per day of `days` for `shop`: orders, valid, turnover, new users; and the number of
    /// the shop's customers whose first order came before the first day.
    pub fn expect(&self, shop: usize, days: &[NaiveDate]) -> (Vec<Expect>, i64) {
        let mut first: BTreeMap<&str, NaiveDateTime> = BTreeMap::new();
        for o in self.orders.iter().filter(|o| o.shop == shop) {
            let f = first.entry(o.customer).or_insert(o.at);
            *f = (*f).min(o.at);
        }
        let per_day = days
            .iter()
            .map(|d| {
                let mine = self
                    .orders
                    .iter()
                    .filter(|o| o.shop == shop && o.day() == *d);
                let valid: Vec<&Placed> = mine.clone().filter(|o| o.status == 5).collect();
                Expect {
                    orders: mine.count() as i64,
                    valid: valid.len() as i64,
                    turnover: valid.iter().map(|o| o.amount).sum(),
                    new_users: first.values().filter(|t| t.date() == *d).count() as i64,
                }
            })
            .collect();
        let before = first.values().filter(|t| t.date() < days[0]).count() as i64;
        (per_day, before)
    }

    /// The best sellers (name, quantity) of completed orders of `shop` within `days`.
    pub fn expect_top(&self, shop: usize, days: &[NaiveDate]) -> Vec<(String, i64)> {
        let mut sold: Vec<(String, i64)> = Vec::new();
        for o in self
            .orders
            .iter()
            .filter(|o| o.shop == shop && o.status == 5 && days.contains(&o.day()))
        {
            for (name, n) in &o.lines {
                match sold.iter_mut().find(|(s, _)| s == name) {
                    Some(e) => e.1 += n,
                    None => sold.push((name.clone(), *n)),
                }
            }
        }
        sold.sort_by_key(|s| std::cmp::Reverse(s.1)); // stable: ties keep the order first sold
        sold.truncate(10);
        sold
    }
}

/// Every day from `begin` to `end`, inclusive.
pub fn days(begin: &str, end: &str) -> Vec<NaiveDate> {
    let (b, e) = (
        begin.parse::<NaiveDate>().unwrap(),
        end.parse::<NaiveDate>().unwrap(),
    );
    b.iter_days().take_while(|d| *d <= e).collect()
}

/// Yuan as Java's `Double.toString` prints a value with at most two decimals below 10⁷.
pub fn java_yuan(fen: i64) -> String {
    match fen % 100 {
        0 => format!("{}.0", fen / 100),
        c if c % 10 == 0 => format!("{}.{}", fen / 100, c / 10),
        c => format!("{}.{c:02}", fen / 100),
    }
}
