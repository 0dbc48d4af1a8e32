//! The shopping cart: add (a dish or a set meal on sale), remove, list, empty. The one-shop
//! rule and the 999 cap are the domain's (`domain::cart`), applied here after the customer's
//! row lock, so two racing adds cannot both pass them on the cart they read.

use super::Result;
use crate::domain::cart::{self, CartItem, CartLine, NOT_IN_CART};
use crate::domain::menu::{NOT_ON_SALE, SETMEAL_NOT_ON_SALE};
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

    /// Adds one of a dish or set meal on sale (a dish with this flavor; a set meal has none)
    /// to the customer's cart. The item is share-locked while the line is written, so it
    /// cannot be deleted under the new line.
    #[tracing::instrument(skip_all, fields(user_id = user_id))]
    pub async fn add(&self, user_id: i64, item: CartItem, flavor: &str) -> Result<()> {
        let mut tx = self.store.begin().await?;
        if !customers::lock(&mut tx, user_id).await? {
            return Err(super::Error::SessionOver);
        }
        let (shop_id, name, image, price) = match item {
            CartItem::Dish(id) => {
                let found = menu::dishes_for_share(&mut tx, &[id]).await?;
                let d = found.into_iter().find(|d| d.on_sale()).ok_or(NOT_ON_SALE)?;
                (d.shop_id, d.name, d.image, d.price)
            }
            CartItem::Setmeal(id) => {
                let found = menu::setmeals_for_share(&mut tx, &[id]).await?;
                let s = found.into_iter().find(|s| s.on_sale());
                let s = s.ok_or(SETMEAL_NOT_ON_SALE)?;
                (s.shop_id, s.name, s.image, s.price)
            }
        };
        let held = carts::cart(tx.conn(), user_id).await?;
        cart::check_add(&held, shop_id, 1)?;
        let addition = Addition {
            item,
            shop_id,
            name: &name,
            image: &image,
            price,
            flavor: if item.setmeal_id().is_some() {
                ""
            } else {
                flavor
            },
        };
        carts::add(tx.conn(), user_id, &addition, 1, self.clock.now_ms()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes one of a dish (with this flavor) or of a set meal from the customer's cart,
    /// on sale or not.
    #[tracing::instrument(skip_all, fields(user_id = user_id))]
    pub async fn sub(&self, user_id: i64, item: CartItem, flavor: &str) -> Result<()> {
        let flavor = if item.setmeal_id().is_some() {
            ""
        } else {
            flavor
        };
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
