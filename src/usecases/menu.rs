//! The menu as customers read it: a shop's enabled categories, the dishes on sale in a
//! category with their flavors, the set meals on sale in a category, and what a set meal on
//! sale holds. Read from the database on every call (indexed, one query per kind of row): no
//! cache can serve a dish or set meal after it was taken off sale.

use super::Result;
use crate::domain::menu::{Category, Dish, Flavor, SETMEAL_NOT_ON_SALE, Setmeal, SetmealItem};
use crate::store::{Store, menu};

/// The menu use cases. Cheap to clone.
#[derive(Clone)]
pub struct Menu {
    store: Store,
}

impl Menu {
    /// Use cases over this store.
    pub fn new(store: Store) -> Menu {
        Menu { store }
    }

    /// The shop's enabled categories (optionally of one type), in menu order.
    pub async fn categories(&self, shop_id: i64, kind: Option<i64>) -> Result<Vec<Category>> {
        Ok(menu::categories(self.store.pool(), shop_id, kind).await?)
    }

    /// The dishes on sale in a category, each with its flavors.
    pub async fn dishes(&self, category_id: i64) -> Result<Vec<(Dish, Vec<Flavor>)>> {
        let dishes = menu::dishes_in(self.store.pool(), category_id).await?;
        let ids: Vec<i64> = dishes.iter().map(|d| d.id).collect();
        let flavors = menu::flavors(self.store.pool(), &ids).await?;
        Ok(dishes
            .into_iter()
            .map(|d| {
                let mine = flavors.iter().filter(|f| f.dish_id == d.id).cloned();
                let mine = mine.collect();
                (d, mine)
            })
            .collect())
    }

    /// The set meals on sale in a category.
    pub async fn setmeals(&self, category_id: i64) -> Result<Vec<Setmeal>> {
        Ok(menu::setmeals_in(self.store.pool(), category_id).await?)
    }

    /// What a set meal on sale holds; 套餐不存在或已停售 for one that is absent or off sale
    /// (a set meal always holds at least one dish).
    pub async fn setmeal_items(&self, setmeal_id: i64) -> Result<Vec<SetmealItem>> {
        let items = menu::setmeal_items(self.store.pool(), setmeal_id).await?;
        if items.is_empty() {
            return Err(SETMEAL_NOT_ON_SALE.into());
        }
        Ok(items)
    }
}
