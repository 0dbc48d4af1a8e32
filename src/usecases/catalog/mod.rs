//! The merchant's menu (分类管理, 菜品管理, 套餐管理): categories, dishes with their flavors,
//! set meals with their dishes. Everything is bound to the merchant's shop: another shop's id
//! answers as a missing one and changes nothing, in batches too. Each write is one
//! transaction that first takes the shop's catalog lock (`store::catalog::lock_shop`), so the
//! rules that span tables hold under concurrent writes:
//!
//! - a new category starts disabled; a category holding dishes or set meals (of any status)
//!   cannot be deleted;
//! - a dish or set meal on sale cannot be deleted, nor a dish in a set meal;
//! - taking a dish off sale takes every set meal holding it off sale; a set meal holding a
//!   dish off sale cannot go on sale (nor an on-sale set meal be edited to hold one);
//! - in a shop, no two categories, no two dishes and no two set meals share a name
//!   (`'<name>'已存在`);
//! - editing a dish replaces its flavors, editing a set meal its dishes, in that same
//!   transaction; a status changes only through 启售/停售 (an edit posting `status` back
//!   leaves it), so the two rules above cannot be bypassed;
//! - every write records the employee (`update_user`, and `create_user` on insert).
//!
//! The field rules and messages are the domain's (`domain::catalog`).

mod categories;
mod dishes;
mod setmeals;

use super::{Error, Result};
use crate::domain::Refusal;
use crate::domain::already_exists;
use crate::domain::menu::{Dish, Flavor, Setmeal, SetmealDish};
use crate::store::catalog::NameTaken;
use crate::store::{Store, WriteTx, catalog};
use crate::time::Clock;

pub use crate::store::dishes::DishFilter;
pub use crate::store::setmeals::SetmealFilter;

/// A page of rows and the count of all that match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing<T> {
    /// Count of all matches.
    pub total: i64,
    /// This page.
    pub items: Vec<T>,
}

/// A dish with its category's name and its flavors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DishDetail {
    /// The dish.
    pub dish: Dish,
    /// Its category's name.
    pub category_name: Option<String>,
    /// Its flavors, in the order they were saved.
    pub flavors: Vec<Flavor>,
}

/// A set meal with its category's name and its dishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetmealDetail {
    /// The set meal.
    pub setmeal: Setmeal,
    /// Its category's name.
    pub category_name: Option<String>,
    /// Its dishes, in the order they were saved.
    pub dishes: Vec<SetmealDish>,
}

/// A category as the merchant writes it (fields absent from the request are `None`).
#[derive(Debug, Clone, Default)]
pub struct CategoryInput {
    /// 1 dishes, 2 set meals (only read on create).
    pub kind: Option<i64>,
    /// Name.
    pub name: Option<String>,
    /// Sort position, 0–99.
    pub sort: Option<i64>,
}

/// A dish as the merchant writes it (on update, an absent field keeps its value; present
/// flavors replace them all).
#[derive(Debug, Clone, Default)]
pub struct DishInput {
    /// Name.
    pub name: Option<String>,
    /// Its category (of dishes, of the shop).
    pub category_id: Option<i64>,
    /// Price, in fen.
    pub price: Option<i64>,
    /// Image URL.
    pub image: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// 0 or 1; read only on create (default 0, 停售).
    pub status: Option<i64>,
    /// (name, JSON array of choices).
    pub flavors: Option<Vec<(String, String)>>,
}

/// A set meal as the merchant writes it (on update, an absent field keeps its value; present
/// dishes replace them all).
#[derive(Debug, Clone, Default)]
pub struct SetmealInput {
    /// Name.
    pub name: Option<String>,
    /// Its category (of set meals, of the shop).
    pub category_id: Option<i64>,
    /// Price, in fen.
    pub price: Option<i64>,
    /// Image URL.
    pub image: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// 0 or 1; read only on create (default 0, 停售).
    pub status: Option<i64>,
    /// (dish id, copies).
    pub dishes: Option<Vec<(i64, i64)>>,
}

/// No price given for a new dish or set meal.
pub const NO_PRICE: Refusal = Refusal("请填写价格");

/// The merchant's menu use cases. Cheap to clone.
#[derive(Clone)]
pub struct Catalog {
    store: Store,
    clock: Clock,
}

impl Catalog {
    /// Use cases over this store and clock.
    pub fn new(store: Store, clock: Clock) -> Catalog {
        Catalog { store, clock }
    }

    /// A write transaction holding the shop's catalog lock.
    async fn begin(&self, shop_id: i64) -> Result<WriteTx> {
        let mut tx = self.store.begin().await?;
        catalog::lock_shop(&mut tx, shop_id).await?;
        Ok(tx)
    }
}

/// The store's answer to a write that names something, as the use case's: a taken name is
/// `'<name>'已存在`.
fn named<T>(written: std::result::Result<T, NameTaken>, name: &str) -> Result<T> {
    written.map_err(|NameTaken| Error::Refused(already_exists(name)))
}

/// The refusal `missing` unless each of the (distinct) `ids` was found (`found` rows).
fn all_found<T>(ids: &[i64], found: &[T], missing: Refusal) -> Result<()> {
    if found.len() == ids.len() {
        Ok(())
    } else {
        Err(missing.into())
    }
}
