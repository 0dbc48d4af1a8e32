//! Set meals: the page (with category names and dishes, one query each), one set meal, add,
//! edit (dishes replaced in the same transaction), 启售/停售 (启售 only when every dish is on
//! sale), delete.

use super::{Catalog, Listing, NO_PRICE, SetmealDetail, SetmealFilter, SetmealInput};
use super::{all_found, named};
use crate::domain::catalog::{
    self, DISH_NOT_FOUND, NEEDS_SETMEAL_CATEGORY, NO_NAME, SETMEAL_HAS_STOPPED_DISH,
    SETMEAL_NOT_FOUND, SETMEAL_ON_SALE, distinct,
};
use crate::domain::menu::{DISABLED, Dish, ENABLED, SETMEAL_CATEGORY, Setmeal};
use crate::store::catalog::{Lock, Named};
use crate::store::setmeals::{self as sql, Portion, SetmealFields};
use crate::store::{WriteTx, categories, dishes};
use crate::usecases::Result;

/// A set meal's fields checked: (name, category, price, image, description).
type Checked = (String, i64, i64, String, String);

impl Catalog {
    /// A page of the shop's set meals, newest first, each with its category's name and dishes.
    pub async fn setmeal_page(
        &self,
        shop_id: i64,
        filter: &SetmealFilter,
        paging: (i64, i64),
    ) -> Result<Listing<SetmealDetail>> {
        let (total, rows) = sql::page(self.store.pool(), shop_id, filter, paging).await?;
        let items = self.with_dishes(rows).await?;
        Ok(Listing { total, items })
    }

    /// The shop's set meal with its category's name and dishes.
    pub async fn setmeal(&self, shop_id: i64, id: i64) -> Result<SetmealDetail> {
        let row = sql::by_id(self.store.pool(), shop_id, id).await?;
        let row = row.ok_or(SETMEAL_NOT_FOUND)?;
        let mut one = self.with_dishes(vec![row]).await?;
        Ok(one.remove(0))
    }

    async fn with_dishes(&self, rows: Vec<Named<Setmeal>>) -> Result<Vec<SetmealDetail>> {
        let ids: Vec<i64> = rows.iter().map(|r| r.item.id).collect();
        let mut dishes = sql::dishes_of(self.store.pool(), &ids).await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let (mine, rest) = dishes.drain(..).partition(|d| d.setmeal_id == r.item.id);
                dishes = rest;
                SetmealDetail {
                    setmeal: r.item,
                    category_name: r.category_name,
                    dishes: mine,
                }
            })
            .collect())
    }

    /// Adds a set meal of the shop's dishes (停售 unless `status` says 1, which needs every
    /// dish on sale); its id.
    #[tracing::instrument(skip_all, fields(shop_id = shop_id))]
    pub async fn add_setmeal(&self, shop_id: i64, by: i64, input: SetmealInput) -> Result<i64> {
        let status = catalog::status(input.status.unwrap_or(DISABLED))?;
        let wanted = catalog::setmeal_dishes(input.dishes.as_deref().unwrap_or_default())?;
        let (name, category_id, price, image, description) = check_setmeal(&input, None)?;
        let mut tx = self.begin(shop_id).await?;
        setmeal_category(&mut tx, shop_id, category_id).await?;
        let found = portions_of(&mut tx, shop_id, &wanted).await?;
        if status == ENABLED && found.iter().any(|d| !d.on_sale()) {
            return Err(SETMEAL_HAS_STOPPED_DISH.into());
        }
        let fields = SetmealFields {
            category_id,
            name: &name,
            price,
            image: &image,
            description: &description,
        };
        let now = self.clock.now_ms();
        let id = sql::insert(tx.conn(), shop_id, &fields, status, (Some(by), now)).await?;
        let id = named(id, &name)?;
        sql::replace_dishes(tx.conn(), id, &portions(&wanted, &found)).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Edits the shop's set meal: the given fields (its status stays), and its dishes
    /// replaced when given, in one transaction. A set meal on sale cannot take in a dish off
    /// sale.
    #[tracing::instrument(skip_all, fields(shop_id = shop_id, setmeal_id = id))]
    pub async fn update_setmeal(
        &self,
        shop_id: i64,
        by: i64,
        id: i64,
        input: SetmealInput,
    ) -> Result<()> {
        let wanted = input.dishes.as_deref().map(catalog::setmeal_dishes);
        let wanted = wanted.transpose()?;
        let mut tx = self.begin(shop_id).await?;
        let locked = sql::lock(&mut tx, shop_id, &[id], Lock::Update).await?;
        let old = locked.first().ok_or(SETMEAL_NOT_FOUND)?;
        let (name, category_id, price, image, description) = check_setmeal(&input, Some(old))?;
        if category_id != old.category_id {
            setmeal_category(&mut tx, shop_id, category_id).await?;
        }
        if let Some(wanted) = &wanted {
            let found = portions_of(&mut tx, shop_id, wanted).await?;
            if old.on_sale() && found.iter().any(|d| !d.on_sale()) {
                return Err(SETMEAL_HAS_STOPPED_DISH.into());
            }
            sql::replace_dishes(tx.conn(), id, &portions(wanted, &found)).await?;
        }
        let fields = SetmealFields {
            category_id,
            name: &name,
            price,
            image: &image,
            description: &description,
        };
        // A refusal from here on (the name is taken) rolls the new dishes back too.
        let now = self.clock.now_ms();
        named(sql::update(tx.conn(), id, &fields, (by, now)).await?, &name)?;
        tx.commit().await?;
        Ok(())
    }

    /// 启售 (1) or 停售 (0) the shop's set meals; 启售 is refused while one of them holds a
    /// dish off sale.
    #[tracing::instrument(skip_all, fields(shop_id = shop_id))]
    pub async fn setmeal_status(
        &self,
        shop_id: i64,
        by: i64,
        ids: &[i64],
        status: i64,
    ) -> Result<()> {
        let status = catalog::status(status)?;
        let ids = distinct(ids);
        let mut tx = self.begin(shop_id).await?;
        let found = sql::lock(&mut tx, shop_id, &ids, Lock::Update).await?;
        all_found(&ids, &found, SETMEAL_NOT_FOUND)?;
        if status == ENABLED && sql::hold_stopped_dish(tx.conn(), &ids).await? {
            return Err(SETMEAL_HAS_STOPPED_DISH.into());
        }
        let now = self.clock.now_ms();
        sql::set_status(tx.conn(), &ids, status, (by, now)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes the shop's set meals with their dishes (and the cart lines holding them), all
    /// or none: refused when one is on sale.
    #[tracing::instrument(skip_all, fields(shop_id = shop_id))]
    pub async fn delete_setmeals(&self, shop_id: i64, ids: &[i64]) -> Result<()> {
        let ids = distinct(ids);
        let mut tx = self.begin(shop_id).await?;
        let found = sql::lock(&mut tx, shop_id, &ids, Lock::Update).await?;
        all_found(&ids, &found, SETMEAL_NOT_FOUND)?;
        if found.iter().any(Setmeal::on_sale) {
            return Err(SETMEAL_ON_SALE.into());
        }
        sql::delete(tx.conn(), &ids).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The set meal's fields from the input over the old set meal's (none on create: then name,
/// category and price are required), checked.
fn check_setmeal(input: &SetmealInput, old: Option<&Setmeal>) -> Result<Checked> {
    let name = input.name.as_deref().or(old.map(|s| s.name.as_str()));
    let name = catalog::name(name.ok_or(NO_NAME)?)?;
    let category_id = input.category_id.or(old.map(|s| s.category_id));
    let category_id = category_id.ok_or(NEEDS_SETMEAL_CATEGORY)?;
    let price = catalog::price(input.price.or(old.map(|s| s.price)).ok_or(NO_PRICE)?)?;
    let image = input.image.as_deref().or(old.map(|s| s.image.as_str()));
    let image = catalog::image(image.unwrap_or_default())?;
    let description = input.description.as_deref();
    let description = description.or(old.map(|s| s.description.as_str()));
    let description = catalog::description(description.unwrap_or_default())?;
    Ok((name, category_id, price, image, description))
}

/// Refuses a category that is not one of the shop's set-meal categories.
async fn setmeal_category(tx: &mut WriteTx, shop_id: i64, category_id: i64) -> Result<()> {
    match categories::by_id(tx.conn(), shop_id, category_id).await? {
        Some(c) if c.kind == SETMEAL_CATEGORY => Ok(()),
        _ => Err(NEEDS_SETMEAL_CATEGORY.into()),
    }
}

/// The shop's dishes a set meal is to hold, share-locked; refused unless each is found.
async fn portions_of(tx: &mut WriteTx, shop_id: i64, wanted: &[(i64, i64)]) -> Result<Vec<Dish>> {
    let ids: Vec<i64> = wanted.iter().map(|(id, _)| *id).collect();
    let found = dishes::lock(tx, shop_id, &ids, Lock::Share).await?;
    all_found(&ids, &found, DISH_NOT_FOUND)?;
    Ok(found)
}

/// The rows a set meal holds: each wanted dish with its name and price now, in the order
/// given.
fn portions<'a>(wanted: &[(i64, i64)], found: &'a [Dish]) -> Vec<Portion<'a>> {
    wanted
        .iter()
        .filter_map(|&(dish_id, copies)| {
            let d = found.iter().find(|d| d.id == dish_id)?;
            Some(Portion {
                dish_id,
                name: &d.name,
                price: d.price,
                copies,
            })
        })
        .collect()
}
