//! The menu: categories, dishes and their flavors, and set meals with their dishes. The
//! merchant's rules for changing them are [`super::catalog`]'s.

use super::Refusal;

/// Status of a category (enabled), a dish or a set meal (on sale, 起售).
pub const ENABLED: i64 = 1;
/// Status of a disabled category, or a dish or set meal off sale (停售).
pub const DISABLED: i64 = 0;
/// Category type of dishes.
pub const DISH_CATEGORY: i64 = 1;
/// Category type of set meals.
pub const SETMEAL_CATEGORY: i64 = 2;
/// The dish does not exist or is off sale.
pub const NOT_ON_SALE: Refusal = Refusal("菜品不存在或已停售");
/// The set meal does not exist or is off sale.
pub const SETMEAL_NOT_ON_SALE: Refusal = Refusal("套餐不存在或已停售");

/// A category of a shop's menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    /// Id.
    pub id: i64,
    /// Its shop.
    pub shop_id: i64,
    /// [`DISH_CATEGORY`] or [`SETMEAL_CATEGORY`].
    pub kind: i64,
    /// Name.
    pub name: String,
    /// Position in the menu.
    pub sort: i64,
    /// [`ENABLED`] or [`DISABLED`].
    pub status: i64,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
    /// The employee who created it (none for demo data).
    pub create_user: Option<i64>,
    /// The employee who changed it last.
    pub update_user: Option<i64>,
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
    /// [`ENABLED`] (on sale) or [`DISABLED`].
    pub status: i64,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
    /// The employee who created it (none for demo data).
    pub create_user: Option<i64>,
    /// The employee who changed it last.
    pub update_user: Option<i64>,
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
    /// JSON list of the choices (`["不辣","微辣"]`).
    pub value: String,
}

/// A set meal (套餐): dishes sold together at one price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setmeal {
    /// Id.
    pub id: i64,
    /// Its shop.
    pub shop_id: i64,
    /// Its category (of [`SETMEAL_CATEGORY`]).
    pub category_id: i64,
    /// Name.
    pub name: String,
    /// Price, in fen.
    pub price: i64,
    /// [`ENABLED`] (on sale) or [`DISABLED`].
    pub status: i64,
    /// Description.
    pub description: String,
    /// Image URL.
    pub image: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
    /// The employee who created it (none for demo data).
    pub create_user: Option<i64>,
    /// The employee who changed it last.
    pub update_user: Option<i64>,
}

impl Setmeal {
    /// True when the set meal may be ordered.
    pub fn on_sale(&self) -> bool {
        self.status == ENABLED
    }
}

/// A dish of a set meal: name and price are the dish's, copied when the set meal is saved
/// (and kept in step when the dish changes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetmealDish {
    /// Id.
    pub id: i64,
    /// Its set meal.
    pub setmeal_id: i64,
    /// The dish.
    pub dish_id: i64,
    /// The dish's name.
    pub name: String,
    /// The dish's price, in fen.
    pub price: i64,
    /// How many of the dish the set meal holds.
    pub copies: i64,
}

/// What a customer sees of a set meal's dish (the mini-program's detail popup).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetmealItem {
    /// The dish's name.
    pub name: String,
    /// How many.
    pub copies: i64,
    /// The dish's image.
    pub image: String,
    /// The dish's description.
    pub description: String,
}
