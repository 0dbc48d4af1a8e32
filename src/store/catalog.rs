//! What the SQL of the menu's tables shares: the per-shop catalog lock, row locks that only
//! PostgreSQL needs, the unique names turned into a value, and rows that carry
//! their category's name from a join.

use sqlx::any::AnyRow;
use sqlx::error::ErrorKind;
use sqlx::{FromRow, Row};

use super::{Backend, StoreError, WriteTx};

/// The name is taken in the shop (the unique index `<table>_shop_name` refused the write).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameTaken;

/// Makes the merchant writes of one shop's catalog (categories, dishes, flavors, set meals)
/// run one at a time, until the transaction ends. The rules that span tables (a category
/// deleted while a dish is added to it, a dish stopped while a set meal of it is started or
/// edited, a dish deleted while a set meal takes it in) are then decided on what the
/// transaction reads, whatever the order of the row locks, and two such writes can never
/// deadlock. Menu writes are rare and short, so the shop's catalog as the unit costs nothing.
/// On PostgreSQL this is a transaction-scoped advisory lock (the shop row itself is not used:
/// payments update it for their alert sequence); SQLite's write transactions already run one
/// at a time.
pub async fn lock_shop(tx: &mut WriteTx, shop_id: i64) -> Result<(), StoreError> {
    if tx.backend() == Backend::Postgres {
        // The two-key form is a key space of its own (the leader election uses a one-key
        // lock); 0x4341 ("CA", catalog) names ours; the modulo keeps any id an `integer`.
        sqlx::query("SELECT pg_advisory_xact_lock(17217, CAST($1 % 2147483647 AS INTEGER))")
            .bind(shop_id)
            .execute(&mut *tx.conn())
            .await?;
    }
    Ok(())
}

/// How a read inside a write transaction locks the rows it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// Other transactions may read and share-lock them, not change or delete them.
    Share,
    /// Nobody else may lock, change or delete them.
    Update,
}

/// The locking clause for this backend (PostgreSQL row locks; nothing on SQLite, whose write
/// transactions run one at a time).
pub(crate) fn lock_clause(backend: Backend, lock: Lock) -> &'static str {
    match (backend, lock) {
        (Backend::Sqlite, _) => "",
        (Backend::Postgres, Lock::Share) => " FOR SHARE",
        (Backend::Postgres, Lock::Update) => " FOR UPDATE",
    }
}

/// Turns the refusal of the unique index `<table>_shop_name` into [`NameTaken`]; every other
/// failure stays an error. PostgreSQL names the index; SQLite names the columns
/// (`UNIQUE constraint failed: dish.shop_id, dish.name`).
pub(crate) fn name_taken<T>(
    result: Result<T, sqlx::Error>,
    table: &str,
) -> Result<Result<T, NameTaken>, StoreError> {
    match result {
        Ok(v) => Ok(Ok(v)),
        Err(e) if is_name_violation(&e, table) => Ok(Err(NameTaken)),
        Err(e) => Err(e.into()),
    }
}

fn is_name_violation(e: &sqlx::Error, table: &str) -> bool {
    let Some(db) = e.as_database_error() else {
        return false;
    };
    if db.kind() != ErrorKind::UniqueViolation {
        return false;
    }
    match db.constraint() {
        Some(index) => index == format!("{table}_shop_name"),
        None => db.message().contains(&format!("{table}.name")),
    }
}

/// These comma-separated columns, each prefixed with a table alias (`d.id, d.name…`).
pub(crate) fn prefixed(columns: &str, alias: &str) -> String {
    columns
        .split(',')
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A row with the name of its category (`LEFT JOIN category`, `NULL` when it has none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named<T> {
    /// The row.
    pub item: T,
    /// Its category's name.
    pub category_name: Option<String>,
}

impl<'r, T: FromRow<'r, AnyRow>> FromRow<'r, AnyRow> for Named<T> {
    fn from_row(row: &'r AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Named {
            item: T::from_row(row)?,
            category_name: row.try_get("category_name")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_get_their_alias() {
        assert_eq!(
            prefixed("id, name,\n    status", "d"),
            "d.id, d.name, d.status"
        );
    }

    #[test]
    fn locks_only_on_postgres() {
        assert_eq!(lock_clause(Backend::Sqlite, Lock::Update), "");
        assert_eq!(lock_clause(Backend::Postgres, Lock::Share), " FOR SHARE");
        assert_eq!(lock_clause(Backend::Postgres, Lock::Update), " FOR UPDATE");
    }
}
