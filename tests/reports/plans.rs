//! The query plans of the report queries, on SQLite and PostgreSQL: with 40,000 orders in 200
//! shops over a year (written by one recursive INSERT … SELECT, the same text on both), each
//! series reads an index range of one shop's entries (migration 0005's on SQLite), never a
//! scan of `orders`. The
//! plans are printed (`cargo test --test reports plans -- --nocapture`).

use sky_takeout::store::reports::{first_orders_sql, order_days_sql, status_counts_sql, top_sql};
use sqlx::{AnyPool, Row};

use crate::common::{self, Backend};

/// `sql` with `$n` replaced by the values (highest number first, so `$1` leaves `$10` alone).
fn literal(sql: &str, values: &[i64]) -> String {
    let mut out = sql.to_string();
    for (i, v) in values.iter().enumerate().rev() {
        out = out.replace(&format!("${}", i + 1), &v.to_string());
    }
    out
}

async fn exec(pool: &AnyPool, sql: &str) {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(pool)
        .await
        .unwrap();
}

async fn plan(pool: &AnyPool, backend: Backend, sql: &str) -> String {
    let explain = match backend {
        Backend::Sqlite => format!("EXPLAIN QUERY PLAN {sql}"),
        Backend::Postgres => format!("EXPLAIN {sql}"),
    };
    let rows = sqlx::query(sqlx::AssertSqlSafe(explain))
        .fetch_all(pool)
        .await
        .unwrap();
    let col = if backend == Backend::Sqlite { 3 } else { 0 };
    rows.iter()
        .map(|r| r.get::<String, _>(col))
        .collect::<Vec<_>>()
        .join("\n")
}

async fn plans(backend: Backend) {
    let app = common::spawn(backend).await;
    let pool = app.state.store.pool();
    exec(pool, "WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < 200) \
                INSERT INTO shop (id, name, status, alert_seq, created_at) SELECT i, 'p', 1, 0, 0 FROM n").await;
    exec(
        pool,
        "WITH RECURSIVE n(i) AS (SELECT 1000 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) \
                INSERT INTO \"user\" (id, openid, created_at) SELECT i, 'plan' || i, 0 FROM n",
    )
    .await;
    exec(pool, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40000) \
                INSERT INTO orders (id, shop_id, number, status, user_id, address_book_id, order_time, pay_method, pay_status, amount) \
                SELECT 100000 + i, 1 + i % 200, 'p' || i, 1 + i % 6, 1000 + i % 4000, 0, 1700000000000 + CAST(i AS BIGINT) * 780000, 1, 1, 100 FROM n").await;
    exec(pool, "INSERT INTO order_detail (order_id, name, number, amount) SELECT id, 'x', 1, 100 FROM orders").await;
    exec(pool, "ANALYZE").await;
    let (lo, hi) = (1_700_000_000_000i64, 1_700_000_000_000 + 30 * 86_400_000);
    let span = [lo, hi, 8 * 3_600_000];
    let cases = [
        (
            "order_days",
            literal(&order_days_sql(1), &[&[7][..], &span].concat()),
            "orders_shop_time",
        ),
        (
            "first_orders",
            literal(&first_orders_sql(1), &[&[7, lo, hi][..], &span].concat()),
            "orders_shop_user",
        ),
        (
            "top",
            literal(&top_sql(), &[7, lo, hi, 10]),
            "orders_shop_status",
        ),
        (
            "status_between",
            literal(&status_counts_sql(), &[7, lo, lo + 86_400_000]),
            "orders_shop_time",
        ),
    ];
    for (name, sql, index) in cases {
        let p = plan(pool, backend, &sql).await;
        println!("--- {backend:?} {name}\n{p}");
        // SQLite's choice is deterministic; PostgreSQL's index among the shop's may vary with
        // its statistics: there, any index scan of `orders` (no sequential scan) is required.
        let ok = match backend {
            Backend::Sqlite => p.contains(index),
            Backend::Postgres => p.contains("Index") && p.contains("orders_shop"),
        };
        assert!(ok, "{backend:?} {name} uses {index}:\n{p}");
        let scans_orders = match backend {
            Backend::Sqlite => p
                .lines()
                .any(|l| l.trim_start().starts_with("SCAN o") || l.contains("SCAN orders")),
            Backend::Postgres => p.contains("Seq Scan on orders"),
        };
        assert!(!scans_orders, "{backend:?} {name} scans orders:\n{p}");
    }
    app.shutdown().await;
}

backend_tests!(the_report_queries_read_their_indexes => plans);
