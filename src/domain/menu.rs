//! The menu: categories, dishes and their flavors.

use super::Refusal;

/// Status of a category or dish on sale.
pub const ENABLED: i64 = 1;
/// Category type of dishes (2 is set meals).
pub const DISH_CATEGORY: i64 = 1;
/// The dish does not exist or is off sale.
pub const NOT_ON_SALE: Refusal = Refusal("菜品不存在或已停售");

/// A category of a shop's menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    /// Id.
    pub id: i64,
    /// Its shop.
    pub shop_id: i64,
    /// 1 dishes, 2 set meals.
    pub kind: i64,
    /// Name.
    pub name: String,
    /// Position in the menu.
    pub sort: i64,
    /// [`ENABLED`] or not.
    pub status: i64,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// A dish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dish {
    /// Id.
    pub id: i64,
    /// Its shop.
    pub shop_id: i64,
    /// Its category.
    pub category_id: i64,
    /// Name.
    pub name: String,
    /// Price, in fen.
    pub price: i64,
    /// Image URL.
    pub image: String,
    /// Description.
    pub description: String,
    /// [`ENABLED`] (on sale) or not.
    pub status: i64,
    /// Unix ms.
    pub updated_at: i64,
}

impl Dish {
    /// True when the dish may be ordered.
    pub fn on_sale(&self) -> bool {
        self.status == ENABLED
    }
}

/// A dish flavor: a name and a JSON list of choices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flavor {
    /// Id.
    pub id: i64,
    /// Its dish.
    pub dish_id: i64,
    /// Name (辣度…).
    pub name: String,
    /// JSON list of the choices.
    pub value: String,
}
