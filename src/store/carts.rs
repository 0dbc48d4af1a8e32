//! SQL of the shopping carts. A line is one item (a dish or a set meal) with one flavor:
//! the unique key `shopping_cart_line` (user, dish or 0, set meal or 0, flavor) makes adding
//! one more a single upsert, so two concurrent adds never make two lines.

use sqlx::AnyConnection;
use sqlx::AssertSqlSafe;

use super::StoreError;
use crate::domain::cart::{CartItem, CartLine};

from_row!(CartLine {
    id,
    user_id,
    shop_id,
    dish_id,
    setmeal_id,
    dish_flavor,
    name,
    image,
    number,
    amount,
    created_at,
});

const CART_COLUMNS: &str = "id, user_id, shop_id, dish_id, setmeal_id, dish_flavor, name, image, \
    number, amount, created_at";

/// The customer's cart, oldest line first.
pub async fn cart<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    ex: E,
    user_id: i64,
) -> Result<Vec<CartLine>, StoreError> {
    let sql = format!("SELECT {CART_COLUMNS} FROM shopping_cart WHERE user_id = $1 ORDER BY id");
    Ok(sqlx::query_as(AssertSqlSafe(sql))
        .bind(user_id)
        .fetch_all(ex)
        .await?)
}

/// What is added: the item, its shop, name, image and unit price (fen) as shown now.
#[derive(Debug, Clone, Copy)]
pub struct Addition<'a> {
    /// The dish or set meal.
    pub item: CartItem,
    /// Its shop.
    pub shop_id: i64,
    /// Its name.
    pub name: &'a str,
    /// Its image.
    pub image: &'a str,
    /// Its price, in fen.
    pub price: i64,
    /// The chosen flavor.
    pub flavor: &'a str,
}

/// Adds `count` of an item (with this flavor) to the cart: one more on its line, or a new line.
pub async fn add(
    conn: &mut AnyConnection,
    user_id: i64,
    a: &Addition<'_>,
    count: i64,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO shopping_cart (user_id, shop_id, dish_id, setmeal_id, dish_flavor, name, image, number, amount, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (user_id, COALESCE(dish_id, 0), COALESCE(setmeal_id, 0), dish_flavor) \
         DO UPDATE SET number = shopping_cart.number + excluded.number",
    )
    .bind(user_id)
    .bind(a.shop_id)
    .bind(a.item.dish_id())
    .bind(a.item.setmeal_id())
    .bind(a.flavor)
    .bind(a.name)
    .bind(a.image)
    .bind(count)
    .bind(a.price)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Removes one of an item (with this flavor) from the cart; true when the line existed.
pub async fn sub(
    conn: &mut AnyConnection,
    user_id: i64,
    item: CartItem,
    flavor: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE shopping_cart SET number = number - 1 WHERE user_id = $1 AND COALESCE(dish_id, 0) = $2 \
         AND COALESCE(setmeal_id, 0) = $3 AND dish_flavor = $4 AND number > 0",
    )
    .bind(user_id)
    .bind(item.dish_id().unwrap_or(0))
    .bind(item.setmeal_id().unwrap_or(0))
    .bind(flavor)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM shopping_cart WHERE user_id = $1 AND number <= 0")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Empties the cart.
pub async fn clear(conn: &mut AnyConnection, user_id: i64) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM shopping_cart WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
