//! SQL of the customers' address books.

use sqlx::AssertSqlSafe;
use sqlx::{AnyConnection, AnyPool};

use super::StoreError;
use crate::domain::address::{Address, DEFAULT, NOT_DEFAULT};

from_row!(Address {
    id,
    user_id,
    consignee,
    sex,
    phone,
    province_code,
    province_name,
    city_code,
    city_name,
    district_code,
    district_name,
    detail,
    label,
    is_default,
});

const ADDRESS_COLUMNS: &str = "id, user_id, consignee, sex, phone, province_code, province_name, city_code, \
    city_name, district_code, district_name, detail, label, is_default";

/// A customer's addresses.
pub async fn addresses(pool: &AnyPool, user_id: i64) -> Result<Vec<Address>, StoreError> {
    let sql = format!("SELECT {ADDRESS_COLUMNS} FROM address_book WHERE user_id = $1 ORDER BY id");
    Ok(sqlx::query_as(AssertSqlSafe(sql))
        .bind(user_id)
        .fetch_all(pool)
        .await?)
}

/// One of the customer's addresses.
pub async fn address<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    ex: E,
    user_id: i64,
    id: i64,
) -> Result<Option<Address>, StoreError> {
    let sql = format!("SELECT {ADDRESS_COLUMNS} FROM address_book WHERE user_id = $1 AND id = $2");
    Ok(sqlx::query_as(AssertSqlSafe(sql))
        .bind(user_id)
        .bind(id)
        .fetch_optional(ex)
        .await?)
}

/// The customer's default address.
pub async fn default_address(pool: &AnyPool, user_id: i64) -> Result<Option<Address>, StoreError> {
    let sql = format!(
        "SELECT {ADDRESS_COLUMNS} FROM address_book WHERE user_id = $1 AND is_default = {DEFAULT} LIMIT 1"
    );
    Ok(sqlx::query_as(AssertSqlSafe(sql))
        .bind(user_id)
        .fetch_optional(pool)
        .await?)
}

/// Adds an address (not default); returns its id.
pub async fn insert_address(pool: &AnyPool, a: &Address) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO address_book (user_id, consignee, sex, phone, province_code, province_name, city_code, \
         city_name, district_code, district_name, detail, label, is_default) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
    )
    .bind(a.user_id)
    .bind(&a.consignee)
    .bind(&a.sex)
    .bind(&a.phone)
    .bind(&a.province_code)
    .bind(&a.province_name)
    .bind(&a.city_code)
    .bind(&a.city_name)
    .bind(&a.district_code)
    .bind(&a.district_name)
    .bind(&a.detail)
    .bind(&a.label)
    .bind(NOT_DEFAULT)
    .fetch_one(pool)
    .await?)
}

/// Updates one of the customer's addresses; true when it exists.
pub async fn update_address(pool: &AnyPool, a: &Address) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE address_book SET consignee = $1, sex = $2, phone = $3, province_code = $4, province_name = $5, \
         city_code = $6, city_name = $7, district_code = $8, district_name = $9, detail = $10, label = $11 \
         WHERE id = $12 AND user_id = $13",
    )
    .bind(&a.consignee)
    .bind(&a.sex)
    .bind(&a.phone)
    .bind(&a.province_code)
    .bind(&a.province_name)
    .bind(&a.city_code)
    .bind(&a.city_name)
    .bind(&a.district_code)
    .bind(&a.district_name)
    .bind(&a.detail)
    .bind(&a.label)
    .bind(a.id)
    .bind(a.user_id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes one of the customer's addresses; true when it existed.
pub async fn delete_address(pool: &AnyPool, user_id: i64, id: i64) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM address_book WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Makes one address the default (and no other); true when it exists.
pub async fn set_default_address(
    conn: &mut AnyConnection,
    user_id: i64,
    id: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE address_book SET is_default = CASE WHEN id = $1 THEN $3 ELSE $4 END WHERE user_id = $2",
    )
    .bind(id)
    .bind(user_id)
    .bind(DEFAULT)
    .bind(NOT_DEFAULT)
        .execute(&mut *conn)
        .await?;
    let exists: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM address_book WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .fetch_one(&mut *conn)
            .await?;
    Ok(done.rows_affected() > 0 && exists == 1)
}
