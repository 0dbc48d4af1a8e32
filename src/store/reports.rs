//! SQL of the workspace and the reports. Each series is one grouped query over one shop's
//! orders, the same text on SQLite and PostgreSQL: the range's spans of constant UTC offset
//! (`calendar::spans`, usually one) are a `VALUES` table joined with an index range scan of
//! `orders(shop_id, order_time, …)`, and rows are grouped by their local day number
//! `(order_time + offset) / DAY_MS`. Days without rows are zeros, filled in here.

use std::collections::HashMap;

use sqlx::{AnyPool, AssertSqlSafe};

use super::StoreError;
use crate::domain::calendar::{DAY_MS, DayRange, Tz, day_number, spans};
use crate::domain::menu::ENABLED;
use crate::domain::report::{DayFigures, VALID};
use crate::domain::status::Status;

/// `WITH spans(lo, hi, shift) AS (VALUES ($n, $n+1, $n+2), …)`, placeholders from `$first`.
fn spans_cte(count: usize, first: usize) -> String {
    let rows: Vec<String> = (0..count)
        .map(|i| {
            let n = first + 3 * i;
            format!("(${n}, ${}, ${})", n + 1, n + 2)
        })
        .collect();
    format!("spans(lo, hi, shift) AS (VALUES {})", rows.join(", "))
}

/// The local day expression of a time column joined with `spans`.
fn local_day(column: &str) -> String {
    format!("({column} + spans.shift) / {DAY_MS}")
}

/// Binds every span's three values, in order.
macro_rules! bind_spans {
    ($q:expr, $spans:expr) => {{
        let mut q = $q;
        for s in $spans {
            q = q.bind(s.start).bind(s.end).bind(s.offset_ms);
        }
        q
    }};
}

/// The SQL of [`order_days`] for `spans` spans: `$1` the shop, then each span's three values.
/// Public for the query-plan tests and the benchmark.
pub fn order_days_sql(spans: usize) -> String {
    format!(
        "WITH {cte} \
         SELECT {day} AS local_day, COUNT(*) AS orders, \
                COUNT(CASE WHEN o.status = {valid} THEN 1 END) AS valid, \
                CAST(COALESCE(SUM(CASE WHEN o.status = {valid} THEN o.amount END), 0) AS BIGINT) AS turnover \
         FROM spans JOIN orders o \
           ON o.shop_id = $1 AND o.order_time >= spans.lo AND o.order_time < spans.hi \
         GROUP BY local_day",
        cte = spans_cte(spans, 2),
        day = local_day("o.order_time"),
        valid = VALID.code(),
    )
}

/// Per day of `range`: orders (any status), valid orders and turnover. `new_users` is 0 here
/// (see [`first_orders`]).
pub async fn order_days(
    pool: &AnyPool,
    shop_id: i64,
    zone: Tz,
    range: DayRange,
) -> Result<Vec<DayFigures>, StoreError> {
    let (start, end) = range.bounds_ms(zone);
    let spans = spans(zone, start, end);
    let sql = order_days_sql(spans.len());
    let q = sqlx::query_as::<_, (i64, i64, i64, i64)>(AssertSqlSafe(sql)).bind(shop_id);
    let rows = bind_spans!(q, &spans).fetch_all(pool).await?;
    let by_day: HashMap<i64, (i64, i64, i64)> = rows
        .into_iter()
        .map(|(d, o, v, t)| (d, (o, v, t)))
        .collect();
    Ok(range
        .days()
        .map(|day| {
            let (orders, valid, turnover_fen) =
                by_day.get(&day_number(day)).copied().unwrap_or_default();
            DayFigures {
                orders,
                valid,
                turnover_fen,
                new_users: 0,
            }
        })
        .collect())
}

/// The SQL of [`first_orders`]: `$1` the shop, `$2` and `$3` the range's bounds, then the
/// spans. Public for the query-plan tests and the benchmark.
pub fn first_orders_sql(spans: usize) -> String {
    format!(
        "WITH firsts AS ( \
           SELECT MIN(order_time) AS t FROM orders \
           WHERE shop_id = $1 AND order_time < $3 GROUP BY user_id), \
         {cte} \
         SELECT CAST(0 AS BIGINT) AS in_range, CAST(0 AS BIGINT) AS local_day, COUNT(*) AS n \
         FROM firsts WHERE firsts.t < $2 \
         UNION ALL \
         SELECT CAST(1 AS BIGINT), {day}, COUNT(*) \
         FROM spans JOIN firsts ON firsts.t >= spans.lo AND firsts.t < spans.hi \
         GROUP BY {day}",
        cte = spans_cte(spans, 4),
        day = local_day("firsts.t"),
    )
}

/// The shop's customers by the day of their first order in it (any status): how many had
/// one before `range`, and how many have theirs on each day of it.
pub async fn first_orders(
    pool: &AnyPool,
    shop_id: i64,
    zone: Tz,
    range: DayRange,
) -> Result<(i64, Vec<i64>), StoreError> {
    let (start, end) = range.bounds_ms(zone);
    let spans = spans(zone, start, end);
    let sql = first_orders_sql(spans.len());
    let q = sqlx::query_as::<_, (i64, i64, i64)>(AssertSqlSafe(sql))
        .bind(shop_id)
        .bind(start)
        .bind(end);
    let rows = bind_spans!(q, &spans).fetch_all(pool).await?;
    let before = rows.iter().find(|r| r.0 == 0).map_or(0, |r| r.2);
    let by_day: HashMap<i64, i64> = rows
        .iter()
        .filter(|r| r.0 == 1)
        .map(|r| (r.1, r.2))
        .collect();
    let days = range
        .days()
        .map(|d| by_day.get(&day_number(d)).copied().unwrap_or(0))
        .collect();
    Ok((before, days))
}

/// The SQL of [`top`]: `$1` the shop, `$2`/`$3` the bounds, `$4` the limit. Public for the
/// query-plan tests and the benchmark.
pub fn top_sql() -> String {
    format!(
        "SELECT d.name, CAST(SUM(d.number) AS BIGINT) AS sold \
         FROM orders o JOIN order_detail d ON d.order_id = o.id \
         WHERE o.shop_id = $1 AND o.status = {valid} AND o.order_time >= $2 AND o.order_time < $3 \
         GROUP BY d.name ORDER BY sold DESC, MIN(d.id) LIMIT $4",
        valid = VALID.code(),
    )
}

/// The best sellers in `[start, end)`: dish and set-meal lines of completed orders alike,
/// summed by name, most first (ties: the name first sold first), at most `limit`.
pub async fn top(
    pool: &AnyPool,
    shop_id: i64,
    (start, end): (i64, i64),
    limit: i64,
) -> Result<Vec<(String, i64)>, StoreError> {
    let sql = top_sql();
    Ok(sqlx::query_as(AssertSqlSafe(sql))
        .bind(shop_id)
        .bind(start)
        .bind(end)
        .bind(limit)
        .fetch_all(pool)
        .await?)
}

/// The SQL of [`status_counts_between`]: `$1` the shop, `$2`/`$3` the bounds; one row of
/// counts. (Not `GROUP BY status`: SQLite would then read the shop's whole history through
/// `orders_shop_status` to save a sort, instead of today's range of `orders_shop_time`.)
pub fn status_counts_sql() -> String {
    let count = |s: Status| format!("COUNT(CASE WHEN status = {} THEN 1 END)", s.code());
    format!(
        "SELECT {}, {}, {}, {}, COUNT(*) FROM orders \
         WHERE shop_id = $1 AND order_time >= $2 AND order_time < $3",
        count(Status::AwaitingAcceptance),
        count(Status::Accepted),
        count(Status::Completed),
        count(Status::Cancelled),
    )
}

/// The shop's orders placed in `[start, end)`: (awaiting acceptance, accepted, completed,
/// cancelled, all).
pub async fn status_counts_between(
    pool: &AnyPool,
    shop_id: i64,
    (start, end): (i64, i64),
) -> Result<(i64, i64, i64, i64, i64), StoreError> {
    Ok(sqlx::query_as(AssertSqlSafe(status_counts_sql()))
        .bind(shop_id)
        .bind(start)
        .bind(end)
        .fetch_one(pool)
        .await?)
}

/// Which menu table [`on_sale_counts`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MenuTable {
    /// `dish`.
    Dish,
    /// `setmeal`.
    Setmeal,
}

/// The shop's dishes or set meals: (on sale, not on sale).
pub async fn on_sale_counts(
    pool: &AnyPool,
    shop_id: i64,
    table: MenuTable,
) -> Result<(i64, i64), StoreError> {
    let table = match table {
        MenuTable::Dish => "dish",
        MenuTable::Setmeal => "setmeal",
    };
    let sql = format!(
        "SELECT COUNT(CASE WHEN status = {ENABLED} THEN 1 END), COUNT(CASE WHEN status <> {ENABLED} THEN 1 END) \
         FROM {table} WHERE shop_id = $1"
    );
    Ok(sqlx::query_as(AssertSqlSafe(sql))
        .bind(shop_id)
        .fetch_one(pool)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_table_numbers_its_placeholders() {
        assert_eq!(
            spans_cte(2, 4),
            "spans(lo, hi, shift) AS (VALUES ($4, $5, $6), ($7, $8, $9))"
        );
        assert_eq!(local_day("o.t"), "(o.t + spans.shift) / 86400000");
    }
}
