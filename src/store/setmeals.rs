//! SQL of the merchant's set meals and their dishes: the page (with each category's name from
//! a join), one set meal, the dishes of a page of them (one query), insert, update, dishes
//! replaced, status (and the stop that follows a dish's), delete. Every statement is bound to
//! the merchant's shop.

use sqlx::AssertSqlSafe;
use sqlx::{AnyConnection, AnyPool};

use super::catalog::{Lock, NameTaken, Named, lock_clause, name_taken, prefixed};
use super::menu::SETMEAL_COLUMNS;
use super::{StoreError, WriteTx, id_list};
use crate::domain::menu::{DISABLED, ENABLED, Setmeal, SetmealDish};

from_row!(SetmealDish {
    id,
    setmeal_id,
    dish_id,
    name,
    price,
    copies,
});

/// What the set meal page is filtered by (all optional).
#[derive(Debug, Clone, Default)]
pub struct SetmealFilter {
    /// Names containing this.
    pub name: Option<String>,
    /// Of this category.
    pub category_id: Option<i64>,
    /// Of this status.
    pub status: Option<i64>,
}

/// A page of the shop's set meals (newest first) with their category names, and the count
/// of all matches.
pub async fn page(
    pool: &AnyPool,
    shop_id: i64,
    f: &SetmealFilter,
    (offset, limit): (i64, i64),
) -> Result<(i64, Vec<Named<Setmeal>>), StoreError> {
    let filter = "s.shop_id = $1 AND ($2 IS NULL OR s.name LIKE $2 ESCAPE '\\') \
                  AND ($3 IS NULL OR s.category_id = $3) AND ($4 IS NULL OR s.status = $4)";
    let pattern = f.name.as_deref().map(super::like_contains);
    macro_rules! binds {
        ($q:expr) => {
            $q.bind(shop_id)
                .bind(&pattern)
                .bind(f.category_id)
                .bind(f.status)
        };
    }
    let total: i64 = binds!(sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM setmeal s WHERE {filter}"
    ))))
    .fetch_one(pool)
    .await?;
    let sql = format!(
        "SELECT {}, c.name AS category_name FROM setmeal s LEFT JOIN category c ON c.id = s.category_id \
         WHERE {filter} ORDER BY s.created_at DESC, s.id DESC LIMIT $5 OFFSET $6",
        prefixed(SETMEAL_COLUMNS, "s")
    );
    let rows = binds!(sqlx::query_as(AssertSqlSafe(sql)))
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?;
    Ok((total, rows))
}

/// The shop's set meal with this id, with its category's name.
pub async fn by_id(
    pool: &AnyPool,
    shop_id: i64,
    id: i64,
) -> Result<Option<Named<Setmeal>>, StoreError> {
    let sql = format!(
        "SELECT {}, c.name AS category_name FROM setmeal s LEFT JOIN category c ON c.id = s.category_id \
         WHERE s.id = $1 AND s.shop_id = $2",
        prefixed(SETMEAL_COLUMNS, "s")
    );
    Ok(sqlx::query_as(AssertSqlSafe(sql))
        .bind(id)
        .bind(shop_id)
        .fetch_optional(pool)
        .await?)
}

/// The dishes of these set meals (one query), in the order they were saved.
pub async fn dishes_of<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    ex: E,
    setmeal_ids: &[i64],
) -> Result<Vec<SetmealDish>, StoreError> {
    if setmeal_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id, setmeal_id, dish_id, name, price, copies FROM setmeal_dish \
         WHERE setmeal_id IN ({}) ORDER BY id",
        id_list(setmeal_ids)
    );
    Ok(sqlx::query_as(AssertSqlSafe(sql)).fetch_all(ex).await?)
}

/// The shop's set meals among `ids`, locked until the transaction ends (another shop's ids
/// are simply not found).
pub async fn lock(
    tx: &mut WriteTx,
    shop_id: i64,
    ids: &[i64],
    lock: Lock,
) -> Result<Vec<Setmeal>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {SETMEAL_COLUMNS} FROM setmeal WHERE shop_id = $1 AND id IN ({}) ORDER BY id{}",
        id_list(ids),
        lock_clause(tx.backend(), lock)
    );
    Ok(sqlx::query_as(AssertSqlSafe(sql))
        .bind(shop_id)
        .fetch_all(&mut *tx.conn())
        .await?)
}

/// A set meal's fields as written.
#[derive(Debug, Clone, Copy)]
pub struct SetmealFields<'a> {
    /// Its category.
    pub category_id: i64,
    /// Name.
    pub name: &'a str,
    /// Price, in fen.
    pub price: i64,
    /// Image URL.
    pub image: &'a str,
    /// Description.
    pub description: &'a str,
}

/// Inserts a set meal of the shop with this status; its id, or [`NameTaken`].
pub async fn insert(
    conn: &mut AnyConnection,
    shop_id: i64,
    s: &SetmealFields<'_>,
    status: i64,
    (by, now): (Option<i64>, i64),
) -> Result<Result<i64, NameTaken>, StoreError> {
    let done = sqlx::query_scalar(
        "INSERT INTO setmeal (shop_id, category_id, name, price, status, description, image, \
         created_at, updated_at, create_user, update_user) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $9) RETURNING id",
    )
    .bind(shop_id)
    .bind(s.category_id)
    .bind(s.name)
    .bind(s.price)
    .bind(status)
    .bind(s.description)
    .bind(s.image)
    .bind(now)
    .bind(by)
    .fetch_one(&mut *conn)
    .await;
    name_taken(done, "setmeal")
}

/// Rewrites a set meal's fields (not its status); [`NameTaken`] when another set meal of the
/// shop has the name.
pub async fn update(
    conn: &mut AnyConnection,
    id: i64,
    s: &SetmealFields<'_>,
    (by, now): (i64, i64),
) -> Result<Result<(), NameTaken>, StoreError> {
    let done = sqlx::query(
        "UPDATE setmeal SET category_id = $2, name = $3, price = $4, image = $5, \
         description = $6, updated_at = $7, update_user = $8 WHERE id = $1",
    )
    .bind(id)
    .bind(s.category_id)
    .bind(s.name)
    .bind(s.price)
    .bind(s.image)
    .bind(s.description)
    .bind(now)
    .bind(by)
    .execute(&mut *conn)
    .await;
    Ok(name_taken(done, "setmeal")?.map(|_| ()))
}

/// A dish as a set meal holds it: the dish (id, name, price) and its copies.
#[derive(Debug, Clone, Copy)]
pub struct Portion<'a> {
    /// The dish.
    pub dish_id: i64,
    /// Its name now.
    pub name: &'a str,
    /// Its price now, in fen.
    pub price: i64,
    /// How many.
    pub copies: i64,
}

/// Replaces a set meal's dishes with these, in one insert.
pub async fn replace_dishes(
    conn: &mut AnyConnection,
    setmeal_id: i64,
    portions: &[Portion<'_>],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM setmeal_dish WHERE setmeal_id = $1")
        .bind(setmeal_id)
        .execute(&mut *conn)
        .await?;
    if portions.is_empty() {
        return Ok(());
    }
    let rows: Vec<String> = (0..portions.len())
        .map(|i| {
            let p = 4 * i + 2;
            format!("($1, ${p}, ${}, ${}, ${})", p + 1, p + 2, p + 3)
        })
        .collect();
    let sql = format!(
        "INSERT INTO setmeal_dish (setmeal_id, dish_id, name, price, copies) VALUES {}",
        rows.join(", ")
    );
    let mut q = sqlx::query(AssertSqlSafe(sql)).bind(setmeal_id);
    for p in portions {
        q = q.bind(p.dish_id).bind(p.name).bind(p.price).bind(p.copies);
    }
    q.execute(&mut *conn).await?;
    Ok(())
}

/// Sets the status of these set meals (already found to be the shop's).
pub async fn set_status(
    conn: &mut AnyConnection,
    ids: &[i64],
    status: i64,
    (by, now): (i64, i64),
) -> Result<(), StoreError> {
    let sql = format!(
        "UPDATE setmeal SET status = $1, updated_at = $2, update_user = $3 WHERE id IN ({})",
        id_list(ids)
    );
    sqlx::query(AssertSqlSafe(sql))
        .bind(status)
        .bind(now)
        .bind(by)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Takes off sale every set meal on sale that holds one of these dishes (they were just
/// taken off sale); returns how many.
pub async fn stop_holding(
    conn: &mut AnyConnection,
    dish_ids: &[i64],
    (by, now): (i64, i64),
) -> Result<u64, StoreError> {
    let sql = format!(
        "UPDATE setmeal SET status = $1, updated_at = $2, update_user = $3 WHERE status = $4 \
         AND id IN (SELECT setmeal_id FROM setmeal_dish WHERE dish_id IN ({}))",
        id_list(dish_ids)
    );
    Ok(sqlx::query(AssertSqlSafe(sql))
        .bind(DISABLED)
        .bind(now)
        .bind(by)
        .bind(ENABLED)
        .execute(&mut *conn)
        .await?
        .rows_affected())
}

/// True when any of these set meals holds a dish off sale.
pub async fn hold_stopped_dish(
    conn: &mut AnyConnection,
    setmeal_ids: &[i64],
) -> Result<bool, StoreError> {
    let sql = format!(
        "SELECT COUNT(*) FROM setmeal_dish sd JOIN dish d ON d.id = sd.dish_id \
         WHERE sd.setmeal_id IN ({}) AND d.status <> $1",
        id_list(setmeal_ids)
    );
    let n: i64 = sqlx::query_scalar(AssertSqlSafe(sql))
        .bind(ENABLED)
        .fetch_one(&mut *conn)
        .await?;
    Ok(n > 0)
}

/// Deletes these set meals (already locked and off sale), their dishes and the cart lines
/// that still hold them.
pub async fn delete(conn: &mut AnyConnection, ids: &[i64]) -> Result<(), StoreError> {
    let list = id_list(ids);
    for table in ["setmeal_dish", "shopping_cart"] {
        let sql = format!("DELETE FROM {table} WHERE setmeal_id IN ({list})");
        sqlx::query(AssertSqlSafe(sql)).execute(&mut *conn).await?;
    }
    let sql = format!("DELETE FROM setmeal WHERE id IN ({list})");
    sqlx::query(AssertSqlSafe(sql)).execute(&mut *conn).await?;
    Ok(())
}
