//! Categories: the page, the enabled list, add (disabled), rename or move, enable or
//! disable, delete (only when it holds no dish and no set meal).

use super::{Catalog, CategoryInput, Listing, named};
use crate::domain::catalog::{
    self, BAD_KIND, CATEGORY_HAS_DISHES, CATEGORY_HAS_SETMEALS, CATEGORY_NOT_FOUND, NO_NAME,
};
use crate::domain::menu::{Category, DISABLED};
use crate::store::categories::{self as sql, NewCategory};
use crate::store::menu;
use crate::usecases::Result;

impl Catalog {
    /// A page of the shop's categories of any status (optionally named like `name`, of one
    /// type), by sort order then newest first.
    pub async fn category_page(
        &self,
        shop_id: i64,
        name: Option<&str>,
        kind: Option<i64>,
        paging: (i64, i64),
    ) -> Result<Listing<Category>> {
        let (total, items) = sql::page(self.store.pool(), shop_id, name, kind, paging).await?;
        Ok(Listing { total, items })
    }

    /// The shop's enabled categories, optionally of one type (the stock forms' selects).
    pub async fn category_list(&self, shop_id: i64, kind: Option<i64>) -> Result<Vec<Category>> {
        Ok(menu::categories(self.store.pool(), shop_id, kind).await?)
    }

    /// Adds a category, disabled (it is listed to customers once enabled); its id.
    #[tracing::instrument(skip_all, fields(shop_id = shop_id))]
    pub async fn add_category(&self, shop_id: i64, by: i64, input: CategoryInput) -> Result<i64> {
        let kind = catalog::kind(input.kind.ok_or(BAD_KIND)?)?;
        let name = catalog::name(input.name.as_deref().ok_or(NO_NAME)?)?;
        let sort = catalog::sort(input.sort.unwrap_or(0))?;
        let mut tx = self.begin(shop_id).await?;
        let new = NewCategory {
            shop_id,
            kind,
            name: &name,
            sort,
            status: DISABLED,
            by: Some(by),
        };
        let id = named(
            sql::insert(tx.conn(), &new, self.clock.now_ms()).await?,
            &name,
        )?;
        tx.commit().await?;
        Ok(id)
    }

    /// Renames and/or moves the shop's category (its type never changes: it would strand
    /// the dishes or set meals it holds).
    #[tracing::instrument(skip_all, fields(shop_id = shop_id, category_id = id))]
    pub async fn update_category(
        &self,
        shop_id: i64,
        by: i64,
        id: i64,
        input: CategoryInput,
    ) -> Result<()> {
        let name = input.name.as_deref().map(catalog::name).transpose()?;
        let sort = input.sort.map(catalog::sort).transpose()?;
        let mut tx = self.begin(shop_id).await?;
        let now = self.clock.now_ms();
        let written = sql::update(tx.conn(), (shop_id, id), name.as_deref(), sort, (by, now));
        if !named(written.await?, name.as_deref().unwrap_or_default())? {
            return Err(CATEGORY_NOT_FOUND.into());
        }
        tx.commit().await?;
        Ok(())
    }

    /// Enables (1) or disables (0) the shop's category.
    #[tracing::instrument(skip_all, fields(shop_id = shop_id, category_id = id))]
    pub async fn category_status(&self, shop_id: i64, by: i64, id: i64, status: i64) -> Result<()> {
        let status = catalog::status(status)?;
        let mut tx = self.begin(shop_id).await?;
        let now = self.clock.now_ms();
        if !sql::set_status(tx.conn(), (shop_id, id), status, (by, now)).await? {
            return Err(CATEGORY_NOT_FOUND.into());
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes the shop's category, unless it holds a dish or a set meal (of any status).
    #[tracing::instrument(skip_all, fields(shop_id = shop_id, category_id = id))]
    pub async fn delete_category(&self, shop_id: i64, id: i64) -> Result<()> {
        let mut tx = self.begin(shop_id).await?;
        if sql::by_id(tx.conn(), shop_id, id).await?.is_none() {
            return Err(CATEGORY_NOT_FOUND.into());
        }
        let (dishes, setmeals) = sql::holds(tx.conn(), id).await?;
        if dishes > 0 {
            return Err(CATEGORY_HAS_DISHES.into());
        }
        if setmeals > 0 {
            return Err(CATEGORY_HAS_SETMEALS.into());
        }
        sql::delete(tx.conn(), shop_id, id).await?;
        tx.commit().await?;
        Ok(())
    }
}
