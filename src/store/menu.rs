//! SQL of the menu as customers read it: enabled categories, dishes and set meals on sale,
//! flavors, what a set meal holds, and which cart items are still on sale. "On sale" is the
//! domain's [`ENABLED`] status. (The merchant's writes are in `categories`, `dishes` and
//! `setmeals`.)

use sqlx::AnyPool;
use sqlx::AssertSqlSafe;

use super::catalog::{Lock, lock_clause};
use super::{StoreError, WriteTx};
use crate::domain::cart::CartItem;
use crate::domain::menu::{Category, Dish, ENABLED, Flavor, Setmeal, SetmealItem};

from_row!(Category {
    id,
    shop_id,
    kind = "type",
    name,
    sort,
    status,
    created_at,
    updated_at,
    create_user,
    update_user,
});

from_row!(Dish {
    id,
    shop_id,
    category_id,
    name,
    price,
    image,
    description,
    status,
    created_at,
    updated_at,
    create_user,
    update_user,
});

from_row!(Flavor {
    id,
    dish_id,
    name,
    value,
});

from_row!(Setmeal {
    id,
    shop_id,
    category_id,
    name,
    price,
    status,
    description,
    image,
    created_at,
    updated_at,
    create_user,
    update_user,
});

from_row!(SetmealItem {
    name,
    copies,
    image,
    description,
});

/// The columns of [`Category`].
pub(crate) const CATEGORY_COLUMNS: &str =
    "id, shop_id, type, name, sort, status, created_at, updated_at, create_user, update_user";
/// The columns of [`Dish`].
pub(crate) const DISH_COLUMNS: &str = "id, shop_id, category_id, name, price, image, description, \
    status, created_at, updated_at, create_user, update_user";
/// The columns of [`Setmeal`].
pub(crate) const SETMEAL_COLUMNS: &str = "id, shop_id, category_id, name, price, status, \
    description, image, created_at, updated_at, create_user, update_user";

/// Enabled categories of a shop, optionally of one type, by sort order (then newest first, as
/// the course orders them).
pub async fn categories(
    pool: &AnyPool,
    shop_id: i64,
    kind: Option<i64>,
) -> Result<Vec<Category>, StoreError> {
    let sql = format!(
        "SELECT {CATEGORY_COLUMNS} FROM category \
         WHERE shop_id = $1 AND status = $3 AND ($2 IS NULL OR type = $2) \
         ORDER BY sort, created_at DESC, id DESC"
    );
    Ok(sqlx::query_as(AssertSqlSafe(sql))
        .bind(shop_id)
        .bind(kind)
        .bind(ENABLED)
        .fetch_all(pool)
        .await?)
}

/// Dishes on sale in a category.
pub async fn dishes_in(pool: &AnyPool, category_id: i64) -> Result<Vec<Dish>, StoreError> {
    let sql = format!(
        "SELECT {DISH_COLUMNS} FROM dish WHERE category_id = $1 AND status = $2 ORDER BY id"
    );
    Ok(sqlx::query_as(AssertSqlSafe(sql))
        .bind(category_id)
        .bind(ENABLED)
        .fetch_all(pool)
        .await?)
}

/// Set meals on sale in a category.
pub async fn setmeals_in(pool: &AnyPool, category_id: i64) -> Result<Vec<Setmeal>, StoreError> {
    let sql = format!(
        "SELECT {SETMEAL_COLUMNS} FROM setmeal WHERE category_id = $1 AND status = $2 ORDER BY id"
    );
    Ok(sqlx::query_as(AssertSqlSafe(sql))
        .bind(category_id)
        .bind(ENABLED)
        .fetch_all(pool)
        .await?)
}

/// What a set meal on sale holds, as the customer sees it (the dish's current image and
/// description); empty when the set meal is off sale or absent.
pub async fn setmeal_items(
    pool: &AnyPool,
    setmeal_id: i64,
) -> Result<Vec<SetmealItem>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT sd.name, sd.copies, d.image, d.description FROM setmeal_dish sd \
         JOIN setmeal s ON s.id = sd.setmeal_id JOIN dish d ON d.id = sd.dish_id \
         WHERE sd.setmeal_id = $1 AND s.status = $2 ORDER BY sd.id",
    )
    .bind(setmeal_id)
    .bind(ENABLED)
    .fetch_all(pool)
    .await?)
}

/// Dishes by id (on sale or not), share-locked until the transaction ends: a cart line or
/// a set meal referring to them commits before they can be deleted.
pub async fn dishes_for_share(tx: &mut WriteTx, ids: &[i64]) -> Result<Vec<Dish>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {DISH_COLUMNS} FROM dish WHERE id IN ({}) ORDER BY id{}",
        super::id_list(ids),
        lock_clause(tx.backend(), Lock::Share)
    );
    Ok(sqlx::query_as(AssertSqlSafe(sql))
        .fetch_all(&mut *tx.conn())
        .await?)
}

/// Set meals by id (on sale or not), share-locked until the transaction ends.
pub async fn setmeals_for_share(tx: &mut WriteTx, ids: &[i64]) -> Result<Vec<Setmeal>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {SETMEAL_COLUMNS} FROM setmeal WHERE id IN ({}) ORDER BY id{}",
        super::id_list(ids),
        lock_clause(tx.backend(), Lock::Share)
    );
    Ok(sqlx::query_as(AssertSqlSafe(sql))
        .fetch_all(&mut *tx.conn())
        .await?)
}

/// Which of these cart items are on sale now (two indexed queries, whatever the count).
pub async fn on_sale(tx: &mut WriteTx, items: &[CartItem]) -> Result<Vec<CartItem>, StoreError> {
    let dish_ids: Vec<i64> = items.iter().filter_map(|i| i.dish_id()).collect();
    let setmeal_ids: Vec<i64> = items.iter().filter_map(|i| i.setmeal_id()).collect();
    let mut sold = Vec::with_capacity(items.len());
    for (table, ids) in [("dish", &dish_ids), ("setmeal", &setmeal_ids)] {
        if ids.is_empty() {
            continue;
        }
        let sql = format!(
            "SELECT id FROM {table} WHERE status = $1 AND id IN ({})",
            super::id_list(ids)
        );
        let on: Vec<i64> = sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(ENABLED)
            .fetch_all(&mut *tx.conn())
            .await?;
        let wrap = if table == "dish" {
            CartItem::Dish
        } else {
            CartItem::Setmeal
        };
        sold.extend(on.into_iter().map(wrap));
    }
    Ok(sold)
}

/// Flavors of the given dishes (one query), in the order they were saved.
pub async fn flavors<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    ex: E,
    dish_ids: &[i64],
) -> Result<Vec<Flavor>, StoreError> {
    if dish_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id, dish_id, name, value FROM dish_flavor WHERE dish_id IN ({}) ORDER BY id",
        super::id_list(dish_ids)
    );
    Ok(sqlx::query_as(AssertSqlSafe(sql)).fetch_all(ex).await?)
}
