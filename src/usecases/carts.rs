//! The shopping cart: add, remove, list, empty. The one-shop rule and the 999 cap are the
//! domain's (`domain::cart`), applied here after the customer's row lock, so two racing adds
//! cannot both pass them on the cart they read.

use super::Result;
use crate::domain::cart::{self, CartItem, CartLine, NO_SETMEALS, NOT_IN_CART};
use crate::domain::menu::NOT_ON_SALE;
use crate::store::carts::Addition;
use crate::store::{Store, carts, customers, menu};
use crate::time::Clock;

/// The cart use cases. Cheap to clone.
#[derive(Clone)]
pub struct Carts {
    store: Store,
    clock: Clock,
}

impl Carts {
    /// Use cases over this store and clock.
    pub fn new(store: Store, clock: Clock) -> Carts {
        Carts { store, clock }
    }

    /// Adds one of a dish on sale (with this flavor) to the customer's cart.
    #[tracing::instrument(skip_all, fields(user_id = user_id))]
    pub async fn add(&self, user_id: i64, item: CartItem, flavor: &str) -> Result<()> {
        let CartItem::Dish(dish_id) = item else {
            return Err(NO_SETMEALS.into());
        };
        let mut tx = self.store.begin().await?;
        if !customers::lock(&mut tx, user_id).await? {
            return Err(super::Error::SessionOver);
        }
        let dish = menu::dish(tx.conn(), dish_id)
            .await?
            .filter(|d| d.on_sale())
            .ok_or(NOT_ON_SALE)?;
        let held = carts::cart(tx.conn(), user_id).await?;
        cart::check_add(&held, dish.shop_id, 1)?;
        let addition = Addition {
            item,
            shop_id: dish.shop_id,
            name: &dish.name,
            image: &dish.image,
            price: dish.price,
            flavor,
        };
        carts::add(tx.conn(), user_id, &addition, 1, self.clock.now_ms()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes one of a dish (with this flavor) from the customer's cart.
    #[tracing::instrument(skip_all, fields(user_id = user_id))]
    pub async fn sub(&self, user_id: i64, item: CartItem, flavor: &str) -> Result<()> {
        if let CartItem::Setmeal(_) = item {
            return Err(NO_SETMEALS.into());
        }
        let mut tx = self.store.begin().await?;
        let found = carts::sub(tx.conn(), user_id, item, flavor).await?;
        tx.commit().await?;
        if !found {
            return Err(NOT_IN_CART.into());
        }
        Ok(())
    }

    /// The customer's cart, oldest line first.
    pub async fn list(&self, user_id: i64) -> Result<Vec<CartLine>> {
        Ok(carts::cart(self.store.pool(), user_id).await?)
    }

    /// Empties the customer's cart.
    #[tracing::instrument(skip_all, fields(user_id = user_id))]
    pub async fn clean(&self, user_id: i64) -> Result<()> {
        let mut tx = self.store.begin().await?;
        carts::clear(tx.conn(), user_id).await?;
        tx.commit().await?;
        Ok(())
    }
}
