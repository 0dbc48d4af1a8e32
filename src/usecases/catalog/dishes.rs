//! Dishes: the page (with category names and flavors, one query each), one dish, the dishes
//! on sale (the set-meal form's picker), add, edit (flavors replaced in the same
//! transaction), 启售/停售 (停售 stops the set meals that hold it), delete.

use super::{Catalog, DishDetail, DishFilter, DishInput, Listing, NO_PRICE, all_found, named};
use crate::domain::catalog::{
    self, DISH_IN_SETMEAL, DISH_NOT_FOUND, DISH_ON_SALE, NEEDS_DISH_CATEGORY, NO_NAME, distinct,
};
use crate::domain::menu::{DISABLED, DISH_CATEGORY, Dish};
use crate::store::catalog::{Lock, Named};
use crate::store::dishes::{self as sql, DishFields};
use crate::store::{WriteTx, categories, menu, setmeals};
use crate::usecases::Result;

/// A dish's fields checked: (name, category, price, image, description).
type Checked = (String, i64, i64, String, String);

impl Catalog {
    /// A page of the shop's dishes, newest first, each with its category's name and flavors.
    pub async fn dish_page(
        &self,
        shop_id: i64,
        filter: &DishFilter,
        paging: (i64, i64),
    ) -> Result<Listing<DishDetail>> {
        let (total, rows) = sql::page(self.store.pool(), shop_id, filter, paging).await?;
        let items = self.with_flavors(rows).await?;
        Ok(Listing { total, items })
    }

    /// The shop's dish with its category's name and flavors.
    pub async fn dish(&self, shop_id: i64, id: i64) -> Result<DishDetail> {
        let row = sql::by_id(self.store.pool(), shop_id, id).await?;
        let row = row.ok_or(DISH_NOT_FOUND)?;
        let mut one = self.with_flavors(vec![row]).await?;
        Ok(one.remove(0))
    }

    /// The shop's dishes on sale, of one category or all of them, newest first.
    pub async fn dishes_on_sale(
        &self,
        shop_id: i64,
        category_id: Option<i64>,
    ) -> Result<Vec<Dish>> {
        Ok(sql::on_sale(self.store.pool(), shop_id, category_id).await?)
    }

    async fn with_flavors(&self, rows: Vec<Named<Dish>>) -> Result<Vec<DishDetail>> {
        let ids: Vec<i64> = rows.iter().map(|r| r.item.id).collect();
        let mut flavors = menu::flavors(self.store.pool(), &ids).await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let (mine, rest) = flavors.drain(..).partition(|f| f.dish_id == r.item.id);
                flavors = rest;
                DishDetail {
                    dish: r.item,
                    category_name: r.category_name,
                    flavors: mine,
                }
            })
            .collect())
    }

    /// Adds a dish with its flavors (停售 unless `status` says 1); its id.
    #[tracing::instrument(skip_all, fields(shop_id = shop_id))]
    pub async fn add_dish(&self, shop_id: i64, by: i64, input: DishInput) -> Result<i64> {
        let status = catalog::status(input.status.unwrap_or(DISABLED))?;
        let flavors = catalog::flavors(input.flavors.as_deref().unwrap_or_default())?;
        let (name, category_id, price, image, description) = check_dish(&input, None)?;
        let mut tx = self.begin(shop_id).await?;
        dish_category(&mut tx, shop_id, category_id).await?;
        let fields = DishFields {
            category_id,
            name: &name,
            price,
            image: &image,
            description: &description,
        };
        let now = self.clock.now_ms();
        let id = sql::insert(tx.conn(), shop_id, &fields, status, (Some(by), now)).await?;
        let id = named(id, &name)?;
        sql::replace_flavors(tx.conn(), id, &flavors).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Edits the shop's dish: the given fields (its status stays), and its flavors replaced
    /// when given, in one transaction; the set meals holding it keep its new name and price.
    #[tracing::instrument(skip_all, fields(shop_id = shop_id, dish_id = id))]
    pub async fn update_dish(
        &self,
        shop_id: i64,
        by: i64,
        id: i64,
        input: DishInput,
    ) -> Result<()> {
        let flavors = input.flavors.as_deref().map(catalog::flavors).transpose()?;
        let mut tx = self.begin(shop_id).await?;
        let found = sql::lock(&mut tx, shop_id, &[id], Lock::Update).await?;
        let old = found.first().ok_or(DISH_NOT_FOUND)?;
        let (name, category_id, price, image, description) = check_dish(&input, Some(old))?;
        if category_id != old.category_id {
            dish_category(&mut tx, shop_id, category_id).await?;
        }
        let fields = DishFields {
            category_id,
            name: &name,
            price,
            image: &image,
            description: &description,
        };
        if let Some(flavors) = flavors {
            sql::replace_flavors(tx.conn(), id, &flavors).await?;
        }
        // A refusal from here on (the name is taken) rolls the new flavors back too.
        let now = self.clock.now_ms();
        named(sql::update(tx.conn(), id, &fields, (by, now)).await?, &name)?;
        tx.commit().await?;
        Ok(())
    }

    /// 启售 (1) or 停售 (0) the shop's dishes; 停售 also takes every set meal holding one of
    /// them off sale, in the same transaction.
    #[tracing::instrument(skip_all, fields(shop_id = shop_id))]
    pub async fn dish_status(&self, shop_id: i64, by: i64, ids: &[i64], status: i64) -> Result<()> {
        let status = catalog::status(status)?;
        let ids = distinct(ids);
        let mut tx = self.begin(shop_id).await?;
        let found = sql::lock(&mut tx, shop_id, &ids, Lock::Update).await?;
        all_found(&ids, &found, DISH_NOT_FOUND)?;
        let now = self.clock.now_ms();
        sql::set_status(tx.conn(), &ids, status, (by, now)).await?;
        if status == DISABLED {
            setmeals::stop_holding(tx.conn(), &ids, (by, now)).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes the shop's dishes with their flavors (and the cart lines holding them), all or
    /// none: refused when one is on sale or in a set meal.
    #[tracing::instrument(skip_all, fields(shop_id = shop_id))]
    pub async fn delete_dishes(&self, shop_id: i64, ids: &[i64]) -> Result<()> {
        let ids = distinct(ids);
        let mut tx = self.begin(shop_id).await?;
        // Locked for update: a customer adding one to a cart (which share-locks it) commits
        // first, and its cart line is then deleted here too.
        let found = sql::lock(&mut tx, shop_id, &ids, Lock::Update).await?;
        all_found(&ids, &found, DISH_NOT_FOUND)?;
        if found.iter().any(Dish::on_sale) {
            return Err(DISH_ON_SALE.into());
        }
        if sql::in_setmeals(tx.conn(), &ids).await? {
            return Err(DISH_IN_SETMEAL.into());
        }
        sql::delete(tx.conn(), &ids).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The dish's fields from the input over the old dish's (none on create: then name,
/// category and price are required), checked.
fn check_dish(input: &DishInput, old: Option<&Dish>) -> Result<Checked> {
    let name = input.name.as_deref().or(old.map(|d| d.name.as_str()));
    let name = catalog::name(name.ok_or(NO_NAME)?)?;
    let category_id = input.category_id.or(old.map(|d| d.category_id));
    let category_id = category_id.ok_or(NEEDS_DISH_CATEGORY)?;
    let price = catalog::price(input.price.or(old.map(|d| d.price)).ok_or(NO_PRICE)?)?;
    let image = input.image.as_deref().or(old.map(|d| d.image.as_str()));
    let image = catalog::image(image.unwrap_or_default())?;
    let description = input.description.as_deref();
    let description = description.or(old.map(|d| d.description.as_str()));
    let description = catalog::description(description.unwrap_or_default())?;
    Ok((name, category_id, price, image, description))
}

/// Refuses a category that is not one of the shop's dish categories.
async fn dish_category(tx: &mut WriteTx, shop_id: i64, category_id: i64) -> Result<()> {
    match categories::by_id(tx.conn(), shop_id, category_id).await? {
        Some(c) if c.kind == DISH_CATEGORY => Ok(()),
        _ => Err(NEEDS_DISH_CATEGORY.into()),
    }
}
