//! SQL of orders and their lines. Every status change is conditional on the current status
//! (the state machine's `from_states`), so racing changes have exactly one winner.

use sqlx::AssertSqlSafe;
use sqlx::{AnyConnection, AnyPool};

use super::StoreError;
use crate::orders::state::{self, Action};

/// All columns of `orders`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderRow {
    pub id: i64,
    pub shop_id: i64,
    pub number: String,
    pub status: i64,
    pub user_id: i64,
    pub address_book_id: i64,
    pub order_time: i64,
    pub checkout_time: Option<i64>,
    pub pay_method: i64,
    pub pay_status: i64,
    pub amount: i64,
    pub remark: String,
    pub phone: String,
    pub address: String,
    pub user_name: String,
    pub consignee: String,
    pub cancel_reason: Option<String>,
    pub rejection_reason: Option<String>,
    pub cancel_time: Option<i64>,
    pub estimated_delivery_time: Option<i64>,
    pub delivery_status: i64,
    pub delivery_time: Option<i64>,
    pub pack_amount: i64,
    pub tableware_number: i64,
    pub tableware_status: i64,
    pub last_reminder_at: Option<i64>,
}

const ORDER_COLUMNS: &str = "id, shop_id, number, status, user_id, address_book_id, order_time, \
    checkout_time, pay_method, pay_status, amount, remark, phone, address, user_name, consignee, \
    cancel_reason, rejection_reason, cancel_time, estimated_delivery_time, delivery_status, \
    delivery_time, pack_amount, tableware_number, tableware_status, last_reminder_at";

/// One line of an order.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DetailRow {
    pub id: i64,
    pub order_id: i64,
    pub name: String,
    pub image: String,
    pub dish_id: Option<i64>,
    pub setmeal_id: Option<i64>,
    pub dish_flavor: String,
    pub number: i64,
    pub amount: i64,
}

/// A new order, before it has an id.
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub shop_id: i64,
    pub number: String,
    pub user_id: i64,
    pub address_book_id: i64,
    pub order_time: i64,
    pub pay_method: i64,
    pub amount: i64,
    pub remark: String,
    pub phone: String,
    pub address: String,
    pub user_name: String,
    pub consignee: String,
    pub estimated_delivery_time: Option<i64>,
    pub delivery_status: i64,
    pub pack_amount: i64,
    pub tableware_number: i64,
    pub tableware_status: i64,
}

/// Inserts an order (status 1, unpaid) and returns its id, or `None` when its number is
/// taken (the caller picks another; the transaction stays usable on both backends).
pub async fn insert(conn: &mut AnyConnection, o: &NewOrder) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO orders (shop_id, number, status, user_id, address_book_id, order_time, pay_method, \
         pay_status, amount, remark, phone, address, user_name, consignee, estimated_delivery_time, \
         delivery_status, pack_amount, tableware_number, tableware_status) \
         VALUES ($1, $2, 1, $3, $4, $5, $6, 0, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) ON CONFLICT (number) DO NOTHING RETURNING id",
    )
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

/// Inserts one order line.
#[allow(clippy::too_many_arguments)]
pub async fn insert_detail(
    conn: &mut AnyConnection,
    order_id: i64,
    name: &str,
    image: &str,
    dish_id: i64,
    dish_flavor: &str,
    number: i64,
    amount: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO order_detail (order_id, name, image, dish_id, dish_flavor, number, amount) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(order_id)
    .bind(name)
    .bind(image)
    .bind(dish_id)
    .bind(dish_flavor)
    .bind(number)
    .bind(amount)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An order by id.
pub async fn by_id<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    ex: E,
    id: i64,
) -> Result<Option<OrderRow>, StoreError> {
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
) -> Result<Option<OrderRow>, StoreError> {
    let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE number = $1");
    Ok(sqlx::query_as(AssertSqlSafe(sql))
        .bind(number)
        .fetch_optional(ex)
        .await?)
}

/// Lines of the given orders.
pub async fn details(pool: &AnyPool, order_ids: &[i64]) -> Result<Vec<DetailRow>, StoreError> {
    if order_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id, order_id, name, image, dish_id, setmeal_id, dish_flavor, number, amount \
         FROM order_detail WHERE order_id IN ({}) ORDER BY id",
        super::id_list(order_ids)
    );
    Ok(sqlx::query_as(AssertSqlSafe(sql)).fetch_all(pool).await?)
}

/// Who may change an order.
#[derive(Debug, Clone, Copy)]
pub enum Owner {
    /// A merchant of this shop.
    Shop(i64),
    /// This customer.
    User(i64),
}

/// Marks an unpaid order paid. Returns the row when this call made the change.
pub async fn mark_paid(
    conn: &mut AnyConnection,
    number: &str,
    transaction_id: Option<&str>,
    now: i64,
) -> Result<Option<(i64, i64)>, StoreError> {
    let sql = format!(
        "UPDATE orders SET status = 2, pay_status = 1, checkout_time = $1, transaction_id = $2, \
         last_alert_at = $1 WHERE number = $3 AND pay_status = 0 AND status IN ({}) RETURNING id, shop_id",
        state::sql_in(Action::Pay)
    );
    Ok(sqlx::query_as(AssertSqlSafe(sql))
        .bind(now)
        .bind(transaction_id)
        .bind(number)
        .fetch_optional(&mut *conn)
        .await?)
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
    let refund = "pay_status = CASE WHEN pay_status = 1 THEN 2 ELSE pay_status END";
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
        Owner::Shop(id) => ("shop_id", id),
        Owner::User(id) => ("user_id", id),
    };
    let sql = format!(
        "UPDATE orders SET status = {}{set} WHERE id = $1 AND {owner_col} = $2 AND status IN ({})",
        state::target(action).code(),
        state::sql_in(action)
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
    let done = sqlx::query(
        "UPDATE orders SET last_reminder_at = $1 WHERE id = $2 AND user_id = $3 AND status IN (2, 3, 4) \
         AND (last_reminder_at IS NULL OR last_reminder_at <= $4)",
    )
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
        "UPDATE orders SET status = 6, cancel_reason = '订单超时，自动取消', cancel_time = $1 \
         WHERE status IN ({}) AND pay_status = 0 AND order_time <= $2",
        state::sql_in(Action::PaymentTimeout)
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
        "UPDATE orders SET status = 5, delivery_time = $1 WHERE status IN ({}) AND order_time <= $2",
        state::sql_in(Action::Complete)
    );
    Ok(sqlx::query(AssertSqlSafe(sql))
        .bind(now)
        .bind(cutoff)
        .execute(&mut *conn)
        .await?
        .rows_affected())
}

/// Filters of the merchant's order search.
#[derive(Debug, Default, Clone)]
pub struct Search {
    pub shop_id: i64,
    pub number: Option<String>,
    pub phone: Option<String>,
    pub status: Option<i64>,
    pub begin: Option<i64>,
    pub end: Option<i64>,
    pub user_id: Option<i64>,
}

/// A page of orders (newest first) and the total count.
pub async fn search(
    pool: &AnyPool,
    f: &Search,
    offset: i64,
    limit: i64,
) -> Result<(i64, Vec<OrderRow>), StoreError> {
    // Fixed clause text with NULL-tolerant placeholders keeps the SQL constant and all
    // values bound, never spliced.
    let filter = "($1 = 0 OR shop_id = $1) AND ($2 IS NULL OR number LIKE $2) AND ($3 IS NULL OR phone LIKE $3) \
                  AND ($4 IS NULL OR status = $4) AND ($5 IS NULL OR order_time >= $5) \
                  AND ($6 IS NULL OR order_time <= $6) AND ($7 IS NULL OR user_id = $7)";
    let like = |s: &Option<String>| {
        s.as_ref()
            .map(|v| format!("%{}%", v.replace(['%', '_'], "")))
    };
    macro_rules! binds {
        ($q:expr) => {
            $q.bind(f.shop_id)
                .bind(like(&f.number))
                .bind(like(&f.phone))
                .bind(f.status)
                .bind(f.begin)
                .bind(f.end)
                .bind(f.user_id)
        };
    }
    let total: i64 = binds!(sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM orders WHERE {filter}"
    ))))
    .fetch_one(pool)
    .await?;
    let sql = format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE {filter} ORDER BY order_time DESC, id DESC LIMIT $8 OFFSET $9"
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
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT status, COUNT(*) FROM orders WHERE shop_id = $1 AND status IN (2, 3, 4) GROUP BY status",
    )
    .bind(shop_id)
    .fetch_all(pool)
    .await?;
    let get = |s| {
        rows.iter()
            .find(|(st, _)| *st == s)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    };
    Ok((get(2), get(3), get(4)))
}
