//! SQL of orders and their lines. Every status change is conditional on the current status
//! (the state machine's `from_states`), so racing changes have exactly one winner. Status
//! codes come from the domain's constants.

use sqlx::AssertSqlSafe;
use sqlx::{AnyConnection, AnyPool};

use super::{Store, StoreError};
use crate::domain::alert::AlertRecord;
use crate::domain::order::{Order, OrderFilter, OrderLine, OrderScope};
use crate::domain::shop::ShopId;
use crate::domain::status::{self as state, Action, PayStatus, Status};

from_row!(Order {
    id,
    shop_id,
    number,
    status,
    user_id,
    address_book_id,
    order_time,
    checkout_time,
    pay_method,
    pay_status,
    amount,
    remark,
    phone,
    address,
    user_name,
    consignee,
    cancel_reason,
    rejection_reason,
    cancel_time,
    estimated_delivery_time,
    delivery_status,
    delivery_time,
    pack_amount,
    tableware_number,
    tableware_status,
    last_reminder_at,
});

const ORDER_COLUMNS: &str = "id, shop_id, number, status, user_id, address_book_id, order_time, \
    checkout_time, pay_method, pay_status, amount, remark, phone, address, user_name, consignee, \
    cancel_reason, rejection_reason, cancel_time, estimated_delivery_time, delivery_status, \
    delivery_time, pack_amount, tableware_number, tableware_status, last_reminder_at";

from_row!(OrderLine {
    id,
    order_id,
    name,
    image,
    dish_id,
    setmeal_id,
    dish_flavor,
    number,
    amount,
});

/// `a,b,c` of these statuses' codes, for `status IN (…)`; the codes are the domain's own
/// constants, never input.
pub(crate) fn status_list(statuses: &[Status]) -> String {
    statuses
        .iter()
        .map(|s| s.code().to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// The `status IN (…)` list of the statuses `action` is allowed from.
pub(crate) fn sql_in(action: Action) -> String {
    status_list(state::from_states(action))
}

/// A new order, before it has an id.
#[derive(Debug, Clone)]
pub struct NewOrder {
    /// The shop every line belongs to.
    pub shop_id: i64,
    /// Order number (drawn again on a clash).
    pub number: String,
    /// The customer.
    pub user_id: i64,
    /// The chosen address.
    pub address_book_id: i64,
    /// Now, Unix ms.
    pub order_time: i64,
    /// As chosen.
    pub pay_method: i64,
    /// Computed total, in fen.
    pub amount: i64,
    /// The customer's remark.
    pub remark: String,
    /// Consignee's phone.
    pub phone: String,
    /// One-line address.
    pub address: String,
    /// The customer's name.
    pub user_name: String,
    /// Consignee.
    pub consignee: String,
    /// As asked, Unix ms.
    pub estimated_delivery_time: Option<i64>,
    /// 1 as soon as possible, 0 at the chosen time.
    pub delivery_status: i64,
    /// Packing fee, in fen.
    pub pack_amount: i64,
    /// Sets of tableware.
    pub tableware_number: i64,
    /// 1 as many as dishes, 0 a given number.
    pub tableware_status: i64,
}

/// Inserts an order (pending payment, unpaid) and returns its id, or `None` when its number is
/// taken (the caller picks another; the transaction stays usable on both backends).
pub async fn insert(conn: &mut AnyConnection, o: &NewOrder) -> Result<Option<i64>, StoreError> {
    let sql = format!(
        "INSERT INTO orders (shop_id, number, status, user_id, address_book_id, order_time, pay_method, \
         pay_status, amount, remark, phone, address, user_name, consignee, estimated_delivery_time, \
         delivery_status, pack_amount, tableware_number, tableware_status) \
         VALUES ($1, $2, {pending}, $3, $4, $5, $6, {unpaid}, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
         ON CONFLICT (number) DO NOTHING RETURNING id",
        pending = Status::PendingPayment.code(),
        unpaid = PayStatus::Unpaid.code(),
    );
    Ok(sqlx::query_scalar(AssertSqlSafe(sql))
        .bind(o.shop_id)
        .bind(&o.number)
        .bind(o.user_id)
        .bind(o.address_book_id)
        .bind(o.order_time)
        .bind(o.pay_method)
        .bind(o.amount)
        .bind(&o.remark)
        .bind(&o.phone)
        .bind(&o.address)
        .bind(&o.user_name)
        .bind(&o.consignee)
        .bind(o.estimated_delivery_time)
        .bind(o.delivery_status)
        .bind(o.pack_amount)
        .bind(o.tableware_number)
        .bind(o.tableware_status)
        .fetch_optional(&mut *conn)
        .await?)
}

/// Inserts one order line (`id` and `order_id` of `line` are ignored).
pub async fn insert_line(
    conn: &mut AnyConnection,
    order_id: i64,
    line: &OrderLine,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO order_detail (order_id, name, image, dish_id, setmeal_id, dish_flavor, number, amount) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(order_id)
    .bind(&line.name)
    .bind(&line.image)
    .bind(line.dish_id)
    .bind(line.setmeal_id)
    .bind(&line.dish_flavor)
    .bind(line.number)
    .bind(line.amount)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An order by id.
pub async fn by_id<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    ex: E,
    id: i64,
) -> Result<Option<Order>, StoreError> {
    let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1");
    Ok(sqlx::query_as(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(ex)
        .await?)
}

/// An order by number.
pub async fn by_number<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    ex: E,
    number: &str,
) -> Result<Option<Order>, StoreError> {
    let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE number = $1");
    Ok(sqlx::query_as(AssertSqlSafe(sql))
        .bind(number)
        .fetch_optional(ex)
        .await?)
}

/// Lines of the given orders.
pub async fn lines<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    ex: E,
    order_ids: &[i64],
) -> Result<Vec<OrderLine>, StoreError> {
    if order_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id, order_id, name, image, dish_id, setmeal_id, dish_flavor, number, amount \
         FROM order_detail WHERE order_id IN ({}) ORDER BY id",
        super::id_list(order_ids)
    );
    Ok(sqlx::query_as(AssertSqlSafe(sql)).fetch_all(ex).await?)
}

/// Who may change an order.
#[derive(Debug, Clone, Copy)]
pub enum Owner {
    /// A merchant of this shop.
    Shop(ShopId),
    /// This customer.
    User(i64),
}

/// A payment to record: the order (by number) and what it must still match.
#[derive(Debug, Clone, Copy)]
pub struct Payment<'a> {
    /// The order's number.
    pub number: &'a str,
    /// Only this customer's order (a customer paying), or any (a verified notification).
    pub user_id: Option<i64>,
    /// Only at this amount in fen (WeChat's reported total), or any.
    pub amount: Option<i64>,
    /// WeChat Pay's transaction id, when known.
    pub transaction_id: Option<&'a str>,
    /// Unix ms: the checkout time and the alert's time.
    pub now: i64,
}

/// The conditional `UPDATE orders` of a payment (`$1` now, `$2` transaction id, `$3` number,
/// then the user and the amount when given) and the next free placeholder number.
fn paid_update(p: &Payment<'_>) -> (String, usize) {
    let mut sql = format!(
        "UPDATE orders SET status = {to}, pay_status = {paid}, checkout_time = $1, transaction_id = $2, \
         last_alert_at = $1 WHERE number = $3 AND pay_status = {unpaid} AND status IN ({from})",
        to = state::target(Action::Pay).code(),
        paid = PayStatus::Paid.code(),
        unpaid = PayStatus::Unpaid.code(),
        from = sql_in(Action::Pay),
    );
    let mut next = 4;
    if p.user_id.is_some() {
        sql.push_str(&format!(" AND user_id = ${next}"));
        next += 1;
    }
    if p.amount.is_some() {
        sql.push_str(&format!(" AND amount = ${next}"));
        next += 1;
    }
    (sql, next)
}

/// Binds [`paid_update`]'s parameters, in its order.
fn bind_paid<'q, O>(
    q: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments>,
    p: &Payment<'q>,
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments> {
    let mut q = q.bind(p.now).bind(p.transaction_id).bind(p.number);
    if let Some(u) = p.user_id {
        q = q.bind(u);
    }
    if let Some(a) = p.amount {
        q = q.bind(a);
    }
    q
}

/// Marks an unpaid order paid and appends its alert (`kind`, content `content`) as one
/// atomic write: on PostgreSQL a single statement (the order's update, the shop's sequence
/// bump and the alert's insert chained in data-modifying CTEs, one round trip, no
/// `BEGIN`/`COMMIT`); on SQLite one job on the writer thread (`super::writer`): the order's
/// update, the shop's sequence and the alert row in its transaction, under the writer lock.
/// Either way the alert row commits with the payment and takes the shop's next sequence in
/// commit order. `None`
/// when nothing matched (unknown number, another customer's, another amount, or not payable
/// any more): nothing changed.
pub async fn mark_paid_alerting(
    store: &Store,
    p: &Payment<'_>,
    kind: i64,
    content: &str,
) -> Result<Option<AlertRecord>, StoreError> {
    let (update, next) = paid_update(p);
    if let Some(writer) = store.writer() {
        // One job on the writer thread: the order's update, the shop's sequence, the alert
        // row. No `RETURNING` (an ephemeral table per run on SQLite, see
        // `alerts::insert_sqlite`): the order is read back by its unique number, in the same
        // write transaction.
        let mut args: Vec<rusqlite::types::Value> = vec![
            p.now.into(),
            p.transaction_id.map(str::to_string).into(),
            p.number.to_string().into(),
        ];
        args.extend(p.user_id.map(Into::into));
        args.extend(p.amount.map(Into::into));
        let alert = AlertRecord {
            id: 0,
            shop_id: 0,
            seq: 0,
            kind,
            realert: 0,
            order_id: 0,
            order_number: p.number.to_string(),
            content: content.to_string(),
            created_at: p.now,
        };
        return writer
            .run(move |conn| {
                if conn
                    .prepare_cached(&update)?
                    .execute(rusqlite::params_from_iter(args))?
                    == 0
                {
                    return Ok(None);
                }
                let (order_id, shop_id): (i64, i64) = conn
                    .prepare_cached("SELECT id, shop_id FROM orders WHERE number = ?1")?
                    .query_row([&alert.order_number], |r| Ok((r.get(0)?, r.get(1)?)))?;
                super::alerts::insert_sqlite(
                    conn,
                    AlertRecord {
                        shop_id,
                        order_id,
                        ..alert
                    },
                )
                .map(Some)
            })
            .await;
    }
    let sql = format!(
        "WITH o AS ({update} RETURNING id, shop_id), \
         s AS (UPDATE shop SET alert_seq = shop.alert_seq + 1 FROM o WHERE shop.id = o.shop_id \
               RETURNING shop.id AS shop_id, shop.alert_seq AS seq, o.id AS order_id) \
         INSERT INTO alert_log (shop_id, seq, type, realert, order_id, order_number, content, created_at) \
         SELECT shop_id, seq, ${k}, 0, order_id, $3, ${c}, $1 FROM s RETURNING id, shop_id, seq, order_id",
        k = next,
        c = next + 1,
    );
    // `fetch_all`, not `fetch_optional`: the statement is its own transaction, whose
    // commit (deferred constraints and triggers) is reported after the row; a reader that
    // stops at the row would answer "paid" for a payment that was rolled back.
    let rows: Vec<(i64, i64, i64, i64)> = bind_paid(sqlx::query_as(AssertSqlSafe(sql)), p)
        .bind(kind)
        .bind(content)
        .fetch_all(store.pool())
        .await?;
    Ok(rows
        .into_iter()
        .next()
        .map(|(id, shop_id, seq, order_id)| AlertRecord {
            id,
            shop_id,
            seq,
            kind,
            realert: 0,
            order_id,
            order_number: p.number.to_string(),
            content: content.to_string(),
            created_at: p.now,
        }))
}

/// `pay_status` after a cancel or a rejection: a paid order is refunded.
fn refund_clause() -> String {
    format!(
        "pay_status = CASE WHEN pay_status = {paid} THEN {refunded} ELSE pay_status END",
        paid = PayStatus::Paid.code(),
        refunded = PayStatus::Refunded.code(),
    )
}

/// Applies a merchant or customer action. True when this call made the change.
pub async fn apply(
    conn: &mut AnyConnection,
    order_id: i64,
    owner: Owner,
    action: Action,
    reason: Option<&str>,
    now: i64,
) -> Result<bool, StoreError> {
    let refund = refund_clause();
    // (SET clause, binds the reason as $3, binds `now` as $3 or $4)
    let (set, with_reason, with_now) = match action {
        Action::Reject => (
            format!(", rejection_reason = $3, cancel_time = $4, {refund}"),
            true,
            true,
        ),
        Action::CustomerCancel | Action::MerchantCancel | Action::PaymentTimeout => (
            format!(", cancel_reason = $3, cancel_time = $4, {refund}"),
            true,
            true,
        ),
        Action::Complete => (", delivery_time = $3".to_string(), false, true),
        Action::Confirm | Action::Deliver | Action::Pay => (String::new(), false, false),
    };
    let (owner_col, owner_id) = match owner {
        Owner::Shop(id) => ("shop_id", id.get()),
        Owner::User(id) => ("user_id", id),
    };
    let sql = format!(
        "UPDATE orders SET status = {}{set} WHERE id = $1 AND {owner_col} = $2 AND status IN ({})",
        state::target(action).code(),
        sql_in(action)
    );
    let mut q = sqlx::query(AssertSqlSafe(sql))
        .bind(order_id)
        .bind(owner_id);
    if with_reason {
        q = q.bind(reason.unwrap_or_default().to_string());
    }
    if with_now {
        q = q.bind(now);
    }
    let done = q.execute(&mut *conn).await?;
    Ok(done.rows_affected() == 1)
}

/// Claims a reminder slot: true when the order is the customer's, in a remindable status and
/// was not reminded within the window. Kept in the database so limits hold across restarts
/// and instances.
pub async fn claim_reminder(
    conn: &mut AnyConnection,
    order_id: i64,
    user_id: i64,
    now: i64,
    window_ms: i64,
) -> Result<bool, StoreError> {
    let sql = format!(
        "UPDATE orders SET last_reminder_at = $1 WHERE id = $2 AND user_id = $3 AND status IN ({}) \
         AND (last_reminder_at IS NULL OR last_reminder_at <= $4)",
        status_list(state::REMINDABLE)
    );
    let done = sqlx::query(AssertSqlSafe(sql))
        .bind(now)
        .bind(order_id)
        .bind(user_id)
        .bind(now - window_ms)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Cancels every unpaid order placed before `cutoff`. Returns how many.
pub async fn cancel_unpaid_before(
    conn: &mut AnyConnection,
    cutoff: i64,
    now: i64,
) -> Result<u64, StoreError> {
    let sql = format!(
        "UPDATE orders SET status = {to}, cancel_reason = '订单超时，自动取消', cancel_time = $1 \
         WHERE status IN ({from}) AND pay_status = {unpaid} AND order_time <= $2",
        to = state::target(Action::PaymentTimeout).code(),
        from = sql_in(Action::PaymentTimeout),
        unpaid = PayStatus::Unpaid.code(),
    );
    Ok(sqlx::query(AssertSqlSafe(sql))
        .bind(now)
        .bind(cutoff)
        .execute(&mut *conn)
        .await?
        .rows_affected())
}

/// Completes every order out for delivery since before `cutoff` (its checkout). Returns how many.
pub async fn complete_delivering_before(
    conn: &mut AnyConnection,
    cutoff: i64,
    now: i64,
) -> Result<u64, StoreError> {
    let sql = format!(
        "UPDATE orders SET status = {}, delivery_time = $1 WHERE status IN ({}) AND order_time <= $2",
        state::target(Action::Complete).code(),
        sql_in(Action::Complete)
    );
    Ok(sqlx::query(AssertSqlSafe(sql))
        .bind(now)
        .bind(cutoff)
        .execute(&mut *conn)
        .await?
        .rows_affected())
}

/// A page of one shop's or one customer's orders (newest first) and the total count.
pub async fn search(
    pool: &AnyPool,
    scope: OrderScope,
    f: &OrderFilter,
    offset: i64,
    limit: i64,
) -> Result<(i64, Vec<Order>), StoreError> {
    // The owner is always bound, by a column named here and nowhere else: no value can widen
    // the search. Fixed clause text with NULL-tolerant placeholders keeps the SQL constant
    // and all values bound, never spliced.
    let (owner_col, owner) = match scope {
        OrderScope::Shop(shop) => ("shop_id", shop.get()),
        OrderScope::Customer(user) => ("user_id", user),
    };
    let filter = format!(
        "{owner_col} = $1 AND ($2 IS NULL OR number LIKE $2 ESCAPE '\\') AND ($3 IS NULL OR phone LIKE $3 ESCAPE '\\') \
         AND ($4 IS NULL OR status = $4) AND ($5 IS NULL OR order_time >= $5) \
         AND ($6 IS NULL OR order_time <= $6)"
    );
    let like = |s: &Option<String>| s.as_deref().map(super::like_contains);
    macro_rules! binds {
        ($q:expr) => {
            $q.bind(owner)
                .bind(like(&f.number))
                .bind(like(&f.phone))
                .bind(f.status)
                .bind(f.begin)
                .bind(f.end)
        };
    }
    let total: i64 = binds!(sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM orders WHERE {filter}"
    ))))
    .fetch_one(pool)
    .await?;
    let sql = format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE {filter} ORDER BY order_time DESC, id DESC LIMIT $7 OFFSET $8"
    );
    let rows = binds!(sqlx::query_as(AssertSqlSafe(sql)))
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?;
    Ok((total, rows))
}

/// Counts of a shop's orders awaiting acceptance, accepted and out for delivery.
pub async fn statistics(pool: &AnyPool, shop_id: i64) -> Result<(i64, i64, i64), StoreError> {
    let counted = [
        Status::AwaitingAcceptance,
        Status::Accepted,
        Status::Delivering,
    ];
    let sql = format!(
        "SELECT status, COUNT(*) FROM orders WHERE shop_id = $1 AND status IN ({}) GROUP BY status",
        status_list(&counted)
    );
    let rows: Vec<(i64, i64)> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(shop_id)
        .fetch_all(pool)
        .await?;
    let get = |s: Status| {
        rows.iter()
            .find(|(st, _)| *st == s.code())
            .map(|(_, n)| *n)
            .unwrap_or(0)
    };
    Ok((get(counted[0]), get(counted[1]), get(counted[2])))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::*;

    #[test]
    fn sql_lists_match_the_table() {
        assert_eq!(sql_in(CustomerCancel), "1,2");
        assert_eq!(sql_in(MerchantCancel), "1,2,3,4");
        assert_eq!(status_list(state::REMINDABLE), "2,3,4");
    }
}
