//! The menu as customers read it: a shop's enabled categories, and the dishes on sale in a
//! category with their flavors.

use super::Result;
use crate::domain::menu::{Category, Dish, Flavor};
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
}
