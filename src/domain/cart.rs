//! The shopping cart and its rules: one shop per cart (and so per order) and at most
//! [`MAX_ITEMS`] items. Adding a dish or a set meal, and copying an old order back (再来一单),
//! both go through [`check_add`]; submitting goes through [`shop_of`] and [`unavailable`]: a
//! line whose dish or set meal was taken off sale (or deleted) since it was added is never
//! ordered.

use super::Refusal;

/// Most items a cart holds.
pub const MAX_ITEMS: i64 = 999;
/// The cart holds another shop's dishes.
pub const OTHER_SHOP: Refusal = Refusal("购物车中已有其他店铺的菜品，请先清空购物车");
/// The cart is full.
pub const FULL: Refusal = Refusal("购物车已满");
/// Nothing to order.
pub const EMPTY: Refusal = Refusal("购物车数据为空，不能下单");
/// Removing what the cart does not hold.
pub const NOT_IN_CART: Refusal = Refusal("购物车中没有该菜品");
/// Nothing of an old order can be ordered again: every dish and set meal of it is off sale.
pub const NOTHING_TO_REPEAT: Refusal = Refusal("订单中的菜品和套餐均已停售");

/// What a cart line holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CartItem {
    /// A dish.
    Dish(i64),
    /// A set meal.
    Setmeal(i64),
}

impl CartItem {
    /// The dish id, for a dish.
    pub fn dish_id(self) -> Option<i64> {
        match self {
            CartItem::Dish(id) => Some(id),
            CartItem::Setmeal(_) => None,
        }
    }

    /// The set meal id, for a set meal.
    pub fn setmeal_id(self) -> Option<i64> {
        match self {
            CartItem::Setmeal(id) => Some(id),
            CartItem::Dish(_) => None,
        }
    }
}

/// A line of a shopping cart: one item with one flavor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartLine {
    /// Id.
    pub id: i64,
    /// The customer.
    pub user_id: i64,
    /// The shop of the item.
    pub shop_id: i64,
    /// The dish, for a dish line.
    pub dish_id: Option<i64>,
    /// The set meal, for a set meal line.
    pub setmeal_id: Option<i64>,
    /// Chosen flavor ('' for none).
    pub dish_flavor: String,
    /// Item name when added.
    pub name: String,
    /// Item image when added.
    pub image: String,
    /// How many.
    pub number: i64,
    /// Unit price when added, in fen.
    pub amount: i64,
    /// When added, Unix ms.
    pub created_at: i64,
}

impl CartLine {
    /// The dish or set meal the line holds (the table's check makes it exactly one).
    pub fn item(&self) -> CartItem {
        match (self.dish_id, self.setmeal_id) {
            (Some(dish), _) => CartItem::Dish(dish),
            (None, setmeal) => CartItem::Setmeal(setmeal.unwrap_or_default()),
        }
    }
}

/// The first line of the cart whose item is not among those `on_sale` (taken off sale or
/// deleted since it was added), if any: an order is never submitted with such a line.
pub fn unavailable<'a>(cart: &'a [CartLine], on_sale: &[CartItem]) -> Option<&'a CartLine> {
    cart.iter().find(|l| !on_sale.contains(&l.item()))
}

/// The refusal of a submit that holds an item no longer on sale, naming it.
pub fn no_longer_sold(line: &CartLine) -> String {
    format!("'{}'已停售，请从购物车中移除后再下单", line.name)
}

/// May `count` items of `shop_id` join this cart? Only if every line is of that shop and the
/// cart stays within [`MAX_ITEMS`].
pub fn check_add(cart: &[CartLine], shop_id: i64, count: i64) -> Result<(), Refusal> {
    if cart.iter().any(|l| l.shop_id != shop_id) {
        return Err(OTHER_SHOP);
    }
    let held: i64 = cart.iter().map(|l| l.number).sum();
    if held.saturating_add(count) > MAX_ITEMS {
        return Err(FULL);
    }
    Ok(())
}

/// The one shop every line of the cart belongs to: refuses an empty cart and one that holds
/// several shops (which no order can carry: each shop hears only its own orders).
pub fn shop_of(cart: &[CartLine]) -> Result<i64, Refusal> {
    let first = cart.first().ok_or(EMPTY)?;
    if cart.iter().any(|l| l.shop_id != first.shop_id) {
        return Err(OTHER_SHOP);
    }
    Ok(first.shop_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(shop_id: i64, number: i64) -> CartLine {
        CartLine {
            id: 1,
            user_id: 1,
            shop_id,
            dish_id: Some(1),
            setmeal_id: None,
            dish_flavor: String::new(),
            name: "宫保鸡丁".into(),
            image: String::new(),
            number,
            amount: 3800,
            created_at: 0,
        }
    }

    #[test]
    fn one_shop_per_cart() {
        assert_eq!(check_add(&[], 2, 1), Ok(()));
        assert_eq!(check_add(&[line(1, 1)], 1, 1), Ok(()));
        assert_eq!(check_add(&[line(1, 1)], 2, 1), Err(OTHER_SHOP));
    }

    #[test]
    fn at_most_999_items() {
        assert_eq!(check_add(&[line(1, 998)], 1, 1), Ok(()));
        assert_eq!(check_add(&[line(1, 999)], 1, 1), Err(FULL));
        assert_eq!(check_add(&[line(1, 500), line(1, 480)], 1, 19), Ok(()));
        assert_eq!(check_add(&[line(1, 500), line(1, 480)], 1, 20), Err(FULL));
        assert_eq!(check_add(&[], 1, i64::MAX), Err(FULL));
    }

    #[test]
    fn lines_no_longer_on_sale_are_found() {
        let mut meal = line(1, 1);
        meal.dish_id = None;
        meal.setmeal_id = Some(7);
        meal.name = "双人餐".into();
        assert_eq!(meal.item(), CartItem::Setmeal(7));
        let cart = [line(1, 1), meal.clone()];
        assert_eq!(
            unavailable(&cart, &[CartItem::Dish(1), CartItem::Setmeal(7)]),
            None
        );
        assert_eq!(
            unavailable(&cart, &[CartItem::Dish(1), CartItem::Dish(7)]),
            Some(&meal)
        );
        assert_eq!(unavailable(&cart, &[]).map(|l| l.id), Some(1));
        assert_eq!(
            no_longer_sold(&meal),
            "'双人餐'已停售，请从购物车中移除后再下单"
        );
    }

    #[test]
    fn submit_needs_one_shop() {
        assert_eq!(shop_of(&[]), Err(EMPTY));
        assert_eq!(shop_of(&[line(3, 1), line(3, 2)]), Ok(3));
        assert_eq!(shop_of(&[line(1, 1), line(2, 1)]), Err(OTHER_SHOP));
    }
}
