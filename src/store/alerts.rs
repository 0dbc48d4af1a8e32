//! SQL of the durable alert log.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, AssertSqlSafe, FromRow, Row};

use super::{Store, StoreError, id_list};
use crate::domain::alert::{AlertRecord, TYPE_NEW_ORDER, content_for};
use crate::domain::status::Status;

from_row!(AlertRecord {
    id,
    shop_id,
    seq,
    kind = "type",
    realert,
    order_id,
    order_number,
    content,
    created_at,
});

const COLUMNS: &str =
    "id, shop_id, seq, type, realert, order_id, order_number, content, created_at";

/// An alert row with its handled flag (`handled_at` set).
fn with_handled(row: &AnyRow) -> Result<(AlertRecord, bool), sqlx::Error> {
    let handled: Option<i64> = row.try_get("handled_at")?;
    Ok((AlertRecord::from_row(row)?, handled.is_some()))
}

/// Appends an alert in the caller's transaction. Bumping `shop.alert_seq` takes the shop row's
/// write lock until commit, so sequence numbers are gapless and follow commit order.
pub async fn insert(
    conn: &mut AnyConnection,
    shop_id: i64,
    kind: i64,
    realert: i64,
    order_id: i64,
    order_number: &str,
    now: i64,
) -> Result<AlertRecord, StoreError> {
    let content = content_for(order_number);
    insert_content(
        conn,
        shop_id,
        kind,
        realert,
        order_id,
        order_number,
        content,
        now,
    )
    .await
}

/// Takes the shop's next alert sequence number (`$1` the shop).
pub(crate) const NEXT_SEQ: &str =
    "UPDATE shop SET alert_seq = alert_seq + 1 WHERE id = $1 RETURNING alert_seq";

/// Appends an alert row (`$1`…`$8`: shop, seq, type, realert, order id, order number, content,
/// created at); [`INSERT`] and the SQLite writer's [`insert_sqlite`] share it.
macro_rules! insert_row {
    () => {
        "INSERT INTO alert_log (shop_id, seq, type, realert, order_id, order_number, content, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    };
}

/// Appends an alert row ([`insert_row`]'s parameters) and answers its id.
pub(crate) const INSERT: &str = concat!(insert_row!(), " RETURNING id");

/// [`insert_content`] on the SQLite writer thread's connection, in its transaction. No
/// `RETURNING`: SQLite gathers a `RETURNING` statement's rows in an ephemeral table (a
/// B-tree opened, a 4 KiB page zeroed, closed again, for every run); the writer holds the
/// database's only write transaction, so reading the sequence back and `last_insert_rowid`
/// give the same values.
pub(crate) fn insert_sqlite(
    conn: &rusqlite::Connection,
    a: AlertRecord,
) -> rusqlite::Result<AlertRecord> {
    conn.prepare_cached("UPDATE shop SET alert_seq = alert_seq + 1 WHERE id = ?1")?
        .execute([a.shop_id])?;
    let seq: i64 = conn
        .prepare_cached("SELECT alert_seq FROM shop WHERE id = ?1")?
        .query_row([a.shop_id], |r| r.get(0))?;
    conn.prepare_cached(insert_row!())?
        .execute(rusqlite::params![
            a.shop_id,
            seq,
            a.kind,
            a.realert,
            a.order_id,
            a.order_number,
            a.content,
            a.created_at
        ])?;
    let id = conn.last_insert_rowid();
    Ok(AlertRecord { id, seq, ..a })
}

/// [`insert`] with the content already made.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_content(
    conn: &mut AnyConnection,
    shop_id: i64,
    kind: i64,
    realert: i64,
    order_id: i64,
    order_number: &str,
    content: String,
    now: i64,
) -> Result<AlertRecord, StoreError> {
    let seq: i64 = sqlx::query_scalar(NEXT_SEQ)
        .bind(shop_id)
        .fetch_one(&mut *conn)
        .await?;
    let id: i64 = sqlx::query_scalar(INSERT)
        .bind(shop_id)
        .bind(seq)
        .bind(kind)
        .bind(realert)
        .bind(order_id)
        .bind(order_number)
        .bind(&content)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?;
    Ok(AlertRecord {
        id,
        shop_id,
        seq,
        kind,
        realert,
        order_id,
        order_number: order_number.to_string(),
        content,
        created_at: now,
    })
}

/// Alerts committed but not yet published, oldest first (for the relay's recovery scan).
pub async fn unpublished(
    pool: &AnyPool,
    older_than: i64,
    limit: i64,
) -> Result<Vec<AlertRecord>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM alert_log WHERE published_at IS NULL AND created_at <= $1 ORDER BY id LIMIT $2"
    );
    Ok(sqlx::query_as(AssertSqlSafe(sql))
        .bind(older_than)
        .bind(limit)
        .fetch_all(pool)
        .await?)
}

/// A per-alert timestamp set once, in batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// `published_at`: the relay published the alert.
    Published,
    /// `delivered_at`: a screen received the alert (drives the stock page's replay).
    Delivered,
}

/// Sets the mark's timestamp on these alerts where it is not set yet, in a write
/// transaction. On PostgreSQL the rows are locked in id order first, so two mark writers
/// (published and delivered, of this or another instance) never deadlock, which PostgreSQL
/// would only detect after a second while the relay waits. On SQLite it is one job on the
/// writer thread (`super::writer`), sharing a transaction with whatever else is queued.
pub async fn mark(store: &Store, mark: Mark, ids: &[i64], now: i64) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    let column = match mark {
        Mark::Published => "published_at",
        Mark::Delivered => "delivered_at",
    };
    if let Some(writer) = store.writer() {
        // one cached statement run per id: a seek each, no statement to parse per batch
        let sql = format!("UPDATE alert_log SET {column} = ?1 WHERE id = ?2 AND {column} IS NULL");
        let ids = ids.to_vec();
        writer
            .run(move |conn| {
                let mut update = conn.prepare_cached(&sql)?;
                for id in ids {
                    update.execute(rusqlite::params![now, id])?;
                }
                Ok(())
            })
            .await?;
        return Ok(());
    }
    // PostgreSQL (the only store without a writer thread): one statement, one round trip,
    // instead of BEGIN, a locking SELECT, the UPDATE and COMMIT. The sub-select locks the rows
    // in id order, so two instances marking overlapping batches cannot deadlock. It is sent
    // as a simple query: the id list differs from batch to batch, so a prepared statement
    // would cost a parse round trip of its own and churn the statement cache.
    let sql = format!(
        "UPDATE alert_log SET {column} = {now} WHERE id IN (SELECT id FROM alert_log \
         WHERE id IN ({list}) AND {column} IS NULL ORDER BY id FOR UPDATE) AND {column} IS NULL",
        list = id_list(ids),
    );
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(store.pool())
        .await?;
    Ok(())
}

/// The shop's last sequence number given out (0 when none).
pub async fn max_seq(pool: &AnyPool, shop_id: i64) -> Result<i64, StoreError> {
    let seq: Option<i64> = sqlx::query_scalar("SELECT alert_seq FROM shop WHERE id = $1")
        .bind(shop_id)
        .fetch_optional(pool)
        .await?;
    Ok(seq.unwrap_or(0))
}

/// The last sequence of each of these shops.
pub async fn max_seqs(pool: &AnyPool, shop_ids: &[i64]) -> Result<Vec<(i64, i64)>, StoreError> {
    if shop_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id, alert_seq FROM shop WHERE id IN ({})",
        id_list(shop_ids)
    );
    Ok(sqlx::query_as(AssertSqlSafe(sql)).fetch_all(pool).await?)
}

/// A shop's alerts with `after < seq <= upto`, oldest first, at most `limit`.
pub async fn range(
    pool: &AnyPool,
    shop_id: i64,
    after: i64,
    upto: i64,
    limit: i64,
) -> Result<Vec<(AlertRecord, bool)>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS}, handled_at FROM alert_log WHERE shop_id = $1 AND seq > $2 AND seq <= $3 \
         ORDER BY seq LIMIT $4"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(shop_id)
        .bind(after)
        .bind(upto)
        .bind(limit)
        .fetch_all(pool)
        .await?;
    Ok(rows.iter().map(with_handled).collect::<Result<_, _>>()?)
}

/// Alerts of a shop with `seq <= upto` that no screen has received and nobody handled, or
/// that were raised at or after `since` (ms; received elsewhere or not).
pub async fn undelivered(
    pool: &AnyPool,
    shop_id: i64,
    upto: i64,
    since: i64,
    limit: i64,
) -> Result<Vec<AlertRecord>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM alert_log WHERE shop_id = $1 AND seq <= $2 \
         AND ((delivered_at IS NULL AND handled_at IS NULL) OR created_at >= $3) \
         ORDER BY seq LIMIT $4"
    );
    Ok(sqlx::query_as(AssertSqlSafe(sql))
        .bind(shop_id)
        .bind(upto)
        .bind(since)
        .bind(limit)
        .fetch_all(pool)
        .await?)
}

/// Ids of a shop's unhandled alerts, newest first.
pub async fn unhandled_ids(
    pool: &AnyPool,
    shop_id: i64,
    limit: i64,
) -> Result<Vec<i64>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM alert_log WHERE shop_id = $1 AND handled_at IS NULL ORDER BY seq DESC LIMIT $2",
    )
    .bind(shop_id)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// A page of a shop's alerts, newest first, optionally only unhandled ones.
pub async fn page(
    pool: &AnyPool,
    shop_id: i64,
    before_seq: i64,
    only_unhandled: bool,
    limit: i64,
) -> Result<Vec<(AlertRecord, bool)>, StoreError> {
    let filter = if only_unhandled {
        "AND handled_at IS NULL"
    } else {
        ""
    };
    let sql = format!(
        "SELECT {COLUMNS}, handled_at FROM alert_log WHERE shop_id = $1 AND seq < $2 {filter} \
         ORDER BY seq DESC LIMIT $3"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(shop_id)
        .bind(before_seq)
        .bind(limit)
        .fetch_all(pool)
        .await?;
    Ok(rows.iter().map(with_handled).collect::<Result<_, _>>()?)
}

/// Marks one alert (and the other unhandled alerts of the same order and type, i.e. its
/// re-alerts) handled. Returns the ids it changed and the order id.
pub async fn handle_alert(
    conn: &mut AnyConnection,
    shop_id: i64,
    alert_id: i64,
    by: i64,
    now: i64,
) -> Result<Option<(i64, Vec<i64>)>, StoreError> {
    let row: Option<(i64, i64)> =
        sqlx::query_as("SELECT order_id, type FROM alert_log WHERE id = $1 AND shop_id = $2")
            .bind(alert_id)
            .bind(shop_id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((order_id, kind)) = row else {
        return Ok(None);
    };
    let ids = sqlx::query_scalar(
        "UPDATE alert_log SET handled_at = $1, handled_by = $2 \
         WHERE order_id = $3 AND type = $4 AND handled_at IS NULL RETURNING id",
    )
    .bind(now)
    .bind(by)
    .bind(order_id)
    .bind(kind)
    .fetch_all(&mut *conn)
    .await?;
    Ok(Some((order_id, ids)))
}

/// Marks every unhandled alert of an order handled (the order was accepted, rejected or
/// cancelled). Returns the ids it changed.
pub async fn handle_order(
    conn: &mut AnyConnection,
    order_id: i64,
    by: Option<i64>,
    now: i64,
) -> Result<Vec<i64>, StoreError> {
    Ok(sqlx::query_scalar(
        "UPDATE alert_log SET handled_at = $1, handled_by = $2 \
         WHERE order_id = $3 AND handled_at IS NULL RETURNING id",
    )
    .bind(now)
    .bind(by)
    .bind(order_id)
    .fetch_all(&mut *conn)
    .await?)
}

/// A paid order due for a re-alert.
#[derive(Debug, sqlx::FromRow)]
pub struct RealertDue {
    /// The order.
    pub order_id: i64,
    /// Its shop.
    pub shop_id: i64,
    /// Its number.
    pub number: String,
    /// How many re-alerts it already had.
    pub realert_count: i64,
}

/// The order's new-order alert was not handled yet.
fn not_handled() -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM alert_log a WHERE a.order_id = orders.id \
         AND a.type = {TYPE_NEW_ORDER} AND a.handled_at IS NOT NULL)"
    )
}

/// Status of orders that re-alerts are for: paid, waiting for acceptance.
const WAITING: Status = Status::AwaitingAcceptance;

/// Orders awaiting acceptance, not handled, with fewer than `max` re-alerts, whose last
/// new-order alert is older than `first_cutoff` (none yet) or `repeat_cutoff` (after one).
pub async fn realert_due(
    pool: &AnyPool,
    first_cutoff: i64,
    repeat_cutoff: i64,
    max: i64,
    limit: i64,
) -> Result<Vec<RealertDue>, StoreError> {
    let sql = format!(
        "SELECT id AS order_id, shop_id, number, realert_count FROM orders \
         WHERE status = {waiting} AND realert_count < $1 \
           AND ((realert_count = 0 AND last_alert_at <= $2) OR (realert_count > 0 AND last_alert_at <= $3)) \
           AND {not_handled} ORDER BY id LIMIT $4",
        waiting = WAITING.code(),
        not_handled = not_handled(),
    );
    Ok(sqlx::query_as(AssertSqlSafe(sql))
        .bind(max)
        .bind(first_cutoff)
        .bind(repeat_cutoff)
        .bind(limit)
        .fetch_all(pool)
        .await?)
}

/// Claims the next re-alert of an order: a conditional update on the count that was read,
/// so two ticks or two instances never raise the same re-alert twice. True when claimed.
pub async fn claim_realert(
    conn: &mut AnyConnection,
    order_id: i64,
    seen_count: i64,
    now: i64,
) -> Result<bool, StoreError> {
    let sql = format!(
        "UPDATE orders SET realert_count = realert_count + 1, last_alert_at = $1 \
         WHERE id = $2 AND status = {waiting} AND realert_count = $3 AND {not_handled}",
        waiting = WAITING.code(),
        not_handled = not_handled(),
    );
    let done = sqlx::query(AssertSqlSafe(sql))
        .bind(now)
        .bind(order_id)
        .bind(seen_count)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
