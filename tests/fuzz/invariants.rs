//! The world a fuzz target runs in (the app, its router, the accounts and the id pools) and
//! the database snapshot invariants that show nothing was half-written.

use axum::Router;
use serde_json::{Value, json};
use sky_takeout::app::routes;
use sky_takeout::auth::Role;
use sqlx::AnyPool;
use tower_http::normalize_path::NormalizePath;

use crate::common::{self, Backend, TestApp};
use crate::strategies::{Pool, Pools};

/// A running app and what the generators pick from.
pub struct World {
    pub app: TestApp,
    pub service: NormalizePath<Router>,
    pub pools: Pools,
    /// Customer tokens (three customers).
    pub customers: Vec<String>,
    /// Merchant (token, cookie): shop 1's admin, shop 2's admin, shop 1's clerk.
    pub merchants: Vec<(String, String)>,
    /// A customer token of the app's secret, expired a day ago.
    pub expired: String,
}

impl World {
    /// The app on a fresh SQLite database (tweaked), with two shops, three customers with
    /// addresses and an order each, and the merchants logged in.
    pub async fn new(tweak: impl FnOnce(&mut sky_takeout::config::Settings)) -> World {
        let app = common::spawn_with(Backend::Sqlite, tweak).await;
        app.add_shop("第二家", "shop2", "shop2-pass-123").await;
        let admin = app.admin().await;
        let v = admin
            .post(
                "/admin/employee",
                json!({"username": "clerk", "name": "店员", "phone": "13800000001", "sex": "1", "idNumber": "110101199001011234"}),
            )
            .await;
        assert_eq!(v["code"], 1, "{v}");
        let shop2 = app.merchant("shop2", "shop2-pass-123").await;
        let clerk = app.merchant("clerk", "123456").await;
        let now = app.clock.now_ms();
        let mut customers = Vec::new();
        // Customers are rows with a token of the app's signer: in wechat mode the login would
        // need WeChat's code exchange.
        for openid in ["fuzz-a", "fuzz-b", "fuzz-c"] {
            let id =
                sky_takeout::store::customers::user_for_openid(app.state.store.pool(), openid, now)
                    .await
                    .unwrap();
            let token = app
                .state
                .tokens
                .issue(Role::Customer, id, 0, (now / 1000) as u64);
            let c = common::Customer {
                api: common::Api {
                    base: app.base.clone(),
                    token: token.clone(),
                    header: "authentication",
                    http: common::http(),
                },
                id,
            };
            let dish = app.first_dish(1).await;
            c.order(dish, 1, "").await;
            customers.push(token);
        }
        let expired =
            app.state
                .tokens
                .issue(Role::Customer, 1, 0, (now / 1000 - 86_400 * 3) as u64);
        let merchants = [&admin, &shop2, &clerk]
            .iter()
            .map(|m| (m.token.clone(), m.cookie.clone()))
            .collect();
        let service = routes::service(app.state.clone());
        let w = World {
            app,
            service,
            pools: Pools::default(),
            customers,
            merchants,
            expired,
        };
        w.refresh().await;
        w
    }

    pub fn pool(&self) -> &AnyPool {
        self.app.state.store.pool()
    }

    /// Reloads the newest rows of every pool.
    pub async fn refresh(&self) {
        let ids: [(Pool, &str); 8] = [
            (Pool::Shop, "SELECT id FROM shop"),
            (
                Pool::Category,
                "SELECT id FROM category ORDER BY id DESC LIMIT 40",
            ),
            (Pool::Dish, "SELECT id FROM dish ORDER BY id DESC LIMIT 40"),
            (
                Pool::Setmeal,
                "SELECT id FROM setmeal ORDER BY id DESC LIMIT 20",
            ),
            (
                Pool::Address,
                "SELECT id FROM address_book ORDER BY id DESC LIMIT 20",
            ),
            (
                Pool::Order,
                "SELECT id FROM orders ORDER BY id DESC LIMIT 20",
            ),
            (
                Pool::Employee,
                "SELECT id FROM employee ORDER BY id DESC LIMIT 20",
            ),
            (
                Pool::Alert,
                "SELECT id FROM alert_log ORDER BY id DESC LIMIT 20",
            ),
        ];
        for (pool, sql) in ids {
            let v: Vec<i64> = sqlx::query_scalar(sql)
                .fetch_all(self.pool())
                .await
                .unwrap();
            self.pools
                .set(pool, v.into_iter().map(|i| json!(i)).collect());
        }
        let orders: Vec<(String, i64)> =
            sqlx::query_as("SELECT number, amount FROM orders ORDER BY id DESC LIMIT 20")
                .fetch_all(self.pool())
                .await
                .unwrap();
        self.pools.set(
            Pool::OrderNumber,
            orders
                .iter()
                .map(|(n, _)| Value::String(n.clone()))
                .collect(),
        );
        self.pools.set(
            Pool::OrderAmount,
            orders.iter().map(|(_, a)| json!(a)).collect(),
        );
    }

    /// The snapshot invariants; `Err` names the first that fails and its count.
    pub async fn check(&self) -> Result<(), String> {
        check(self.pool()).await
    }

    /// Every file in the image folder is a picture the content check accepts.
    pub fn stored_images_are_pictures(&self) {
        let dir = match &self.app.state.settings.images.storage {
            sky_takeout::config::images::ImageStorage::Local { dir } => dir.clone(),
            _ => return,
        };
        for name in common::images::files_in(&dir) {
            let bytes = std::fs::read(dir.join(&name)).unwrap();
            assert!(
                sky_takeout::domain::image::check(&bytes).is_ok(),
                "stored file {name} is not a picture"
            );
        }
    }
}

/// The invariants, each a query counting the rows that break it.
pub const INVARIANTS: &[(&str, &str)] = &[
    (
        "orders without a line",
        "SELECT COUNT(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM order_detail d WHERE d.order_id = o.id)",
    ),
    (
        "lines without an order",
        "SELECT COUNT(*) FROM order_detail d WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = d.order_id)",
    ),
    (
        "alerts without their order (or in another shop)",
        "SELECT COUNT(*) FROM alert_log a WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = a.order_id AND o.shop_id = a.shop_id)",
    ),
    (
        "shops whose alert sequence is not gapless 1..alert_seq",
        "SELECT COUNT(*) FROM shop s WHERE s.alert_seq <> (SELECT COUNT(*) FROM alert_log a WHERE a.shop_id = s.id) \
         OR s.alert_seq <> (SELECT COUNT(DISTINCT a.seq) FROM alert_log a WHERE a.shop_id = s.id) \
         OR s.alert_seq <> COALESCE((SELECT MAX(a.seq) FROM alert_log a WHERE a.shop_id = s.id), 0)",
    ),
    (
        "paid orders without exactly one new-order alert",
        "SELECT COUNT(*) FROM orders o WHERE o.checkout_time IS NOT NULL AND \
         (SELECT COUNT(*) FROM alert_log a WHERE a.order_id = o.id AND a.type = 1 AND a.realert = 0) <> 1",
    ),
    (
        "unpaid orders with an alert",
        "SELECT COUNT(*) FROM orders o WHERE o.checkout_time IS NULL AND EXISTS (SELECT 1 FROM alert_log a WHERE a.order_id = o.id)",
    ),
    (
        "orders in no known status",
        "SELECT COUNT(*) FROM orders WHERE status NOT IN (1, 2, 3, 4, 5, 6, 7)",
    ),
    (
        "cart lines of no positive count",
        "SELECT COUNT(*) FROM shopping_cart WHERE number <= 0",
    ),
];

/// Runs every invariant query on `pool`.
pub async fn check(pool: &AnyPool) -> Result<(), String> {
    for (name, sql) in INVARIANTS {
        let n: i64 = sqlx::query_scalar(*sql)
            .fetch_one(pool)
            .await
            .map_err(|e| format!("{name}: query failed: {e}"))?;
        if n != 0 {
            return Err(format!("invariant broken: {n} {name}"));
        }
    }
    Ok(())
}
