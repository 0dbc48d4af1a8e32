//! Shops: open or closed, and new shops with their first merchant account (the CLI's
//! `shops add`).

use super::Result;
use crate::auth::hash_password;
use crate::blobs::{Blobs, demo};
use crate::domain::Refusal;
use crate::domain::image::UPLOAD_FAILED;
use crate::domain::shop::ShopId;
use crate::domain::shop::{self, CLOSED};
use crate::store::seed::{self, NewShop};
use crate::store::{Store, shops};
use crate::time::Clock;

/// A new shop needs a name.
pub const NO_NAME: Refusal = Refusal("店铺名称不能为空");
/// Its merchant account needs a user name.
pub const NO_USERNAME: Refusal = Refusal("账号不能为空");
/// …that nobody has.
pub const USERNAME_TAKEN: Refusal = Refusal("账号已存在");
/// …and a password of at least [`MIN_PASSWORD`] characters.
pub const SHORT_PASSWORD: Refusal = Refusal("密码至少8位");
/// Shortest password of a new merchant account.
pub const MIN_PASSWORD: usize = 8;

/// What a new shop is made of.
#[derive(Debug, Clone)]
pub struct ShopRequest {
    /// Shop name.
    pub name: String,
    /// Login of its first merchant account.
    pub admin_username: String,
    /// Its password.
    pub admin_password: String,
    /// Also create the demo menu.
    pub demo_menu: bool,
}

/// The shop use cases. Cheap to clone.
#[derive(Clone)]
pub struct Shops {
    store: Store,
    clock: Clock,
    blobs: Blobs,
}

impl Shops {
    /// Use cases over this store and clock; the demo menu's pictures go to `blobs`.
    pub fn new(store: Store, clock: Clock, blobs: Blobs) -> Shops {
        Shops {
            store,
            clock,
            blobs,
        }
    }

    /// The shop's status: open or closed (closed for a shop that does not exist).
    pub async fn status(&self, shop_id: i64) -> Result<i64> {
        Ok(shops::shop_status(self.store.pool(), shop_id)
            .await?
            .unwrap_or(CLOSED))
    }

    /// Opens or closes the merchant's shop.
    #[tracing::instrument(skip_all, fields(shop_id = shop_id.get()))]
    pub async fn set_status(&self, shop_id: ShopId, status: i64) -> Result<()> {
        let shop_id = shop_id.get();
        let status = shop::parse_status(status)?;
        shops::set_shop_status(self.store.pool(), shop_id, status).await?;
        Ok(())
    }

    /// Creates a shop, its first merchant account and optionally the demo menu, in one
    /// transaction; returns the shop's id.
    pub async fn create(&self, r: &ShopRequest) -> Result<i64> {
        let (name, username) = (r.name.trim(), r.admin_username.trim());
        if name.is_empty() {
            return Err(NO_NAME.into());
        }
        if username.is_empty() {
            return Err(NO_USERNAME.into());
        }
        if r.admin_password.len() < MIN_PASSWORD {
            return Err(SHORT_PASSWORD.into());
        }
        if shops::employee_by_username(self.store.pool(), &r.admin_username)
            .await?
            .is_some()
        {
            return Err(USERNAME_TAKEN.into());
        }
        let hash = hash_password(r.admin_password.clone()).await;
        let pictures = match r.demo_menu {
            true => Some(demo::store(&self.blobs).await.map_err(|e| {
                tracing::error!(error = %e, "storing the demo pictures failed");
                UPLOAD_FAILED
            })?),
            false => None,
        };
        let new = NewShop {
            name,
            admin_username: username,
            admin_password_hash: &hash,
            demo_menu: r.demo_menu,
            pictures: pictures.as_ref(),
        };
        Ok(seed::create_shop(&self.store, &new, self.clock.now_ms()).await?)
    }

    /// Ids and names of all shops.
    pub async fn list(&self) -> Result<Vec<(i64, String)>> {
        Ok(shops::list_shops(self.store.pool()).await?)
    }
}
