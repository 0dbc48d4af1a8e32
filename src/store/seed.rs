//! Shops with their first merchant account and (optionally) a demo menu; the demo data of an
//! empty database. The demo menu has both kinds of category (dishes, set meals), flavors from
//! the stock admin app's presets, and set meals on sale made of the demo dishes; every item's
//! picture is the demo picture of its name (`DemoPictures`, stored through the image storage).

use sqlx::{AnyConnection, AssertSqlSafe};

use super::catalog::NameTaken;
use super::categories::{self, NewCategory};
use super::dishes::{self, DishFields};
use super::setmeals::{self, Portion, SetmealFields};
use super::{Store, StoreError, WriteTx, shops};
use crate::domain::image::DemoPictures;
use crate::domain::menu::{DISH_CATEGORY, ENABLED, SETMEAL_CATEGORY};

/// A demo dish: name, price in fen, description, names of its flavors (of [`FLAVOR_PRESETS`]).
type DemoDish = (&'static str, i64, &'static str, &'static [&'static str]);

/// A demo set meal: name, price in fen, description, its dishes (name, copies).
type DemoSetmeal = (
    &'static str,
    i64,
    &'static str,
    &'static [(&'static str, i64)],
);

/// The demo dishes, by category.
const DISH_MENU: &[(&str, &[DemoDish])] = &[
    (
        "热菜",
        &[
            ("宫保鸡丁", 3800, "花生、鸡丁、干辣椒", &["辣度", "忌口"]),
            ("鱼香肉丝", 3200, "经典川味", &["辣度"]),
            ("麻婆豆腐", 2200, "麻辣鲜香", &["辣度"]),
            ("红烧肉", 4800, "肥而不腻", &[]),
        ],
    ),
    (
        "主食",
        &[
            ("米饭", 200, "东北大米", &[]),
            ("扬州炒饭", 1800, "蛋炒饭", &["忌口"]),
            ("牛肉面", 2600, "手工拉面", &["辣度", "忌口"]),
        ],
    ),
    (
        "饮品",
        &[
            ("酸梅汤", 600, "冰镇", &["甜味", "温度"]),
            ("豆浆", 400, "现磨", &["甜味", "温度"]),
            ("可乐", 500, "330ml", &["温度"]),
        ],
    ),
];

/// The demo set meals (on sale), by set-meal category, made of the demo dishes.
const SETMEAL_MENU: &[(&str, &[DemoSetmeal])] = &[
    (
        "人气套餐",
        &[
            (
                "单人川味套餐",
                4200,
                "宫保鸡丁配米饭和酸梅汤",
                &[("宫保鸡丁", 1), ("米饭", 1), ("酸梅汤", 1)],
            ),
            (
                "双人分享套餐",
                7900,
                "两道川菜、两碗米饭、两杯可乐",
                &[("宫保鸡丁", 1), ("鱼香肉丝", 1), ("米饭", 2), ("可乐", 2)],
            ),
        ],
    ),
    (
        "商务套餐",
        &[(
            "商务简餐",
            5200,
            "红烧肉、米饭、豆浆",
            &[("红烧肉", 1), ("米饭", 1), ("豆浆", 1)],
        )],
    ),
];

/// The stock admin app's flavor presets (`addDishtype.vue#getFlavorListHand`): name and the
/// choices as the JSON array text both clients `JSON.parse`.
const FLAVOR_PRESETS: &[(&str, &str)] = &[
    ("甜味", r#"["无糖","少糖","半糖","多糖","全糖"]"#),
    ("温度", r#"["热饮","常温","去冰","少冰","多冰"]"#),
    ("忌口", r#"["不要葱","不要蒜","不要香菜","不要辣"]"#),
    ("辣度", r#"["不辣","微辣","中辣","重辣"]"#),
];

/// A new shop with its first merchant account.
pub struct NewShop<'a> {
    /// Shop name.
    pub name: &'a str,
    /// Login of the merchant account.
    pub admin_username: &'a str,
    /// Argon2 hash of its password.
    pub admin_password_hash: &'a str,
    /// Also create the demo menu.
    pub demo_menu: bool,
    /// Pictures of the demo menu's dishes and set meals (stored already), by name.
    pub pictures: Option<&'a DemoPictures>,
}

/// Creates a shop, its merchant account and optionally the demo menu, in one transaction.
pub async fn create_shop(store: &Store, s: &NewShop<'_>, now: i64) -> Result<i64, StoreError> {
    let mut tx = store.begin().await?;
    let id = create_shop_in(&mut tx, s, now).await?;
    tx.commit().await?;
    Ok(id)
}

async fn create_shop_in(tx: &mut WriteTx, s: &NewShop<'_>, now: i64) -> Result<i64, StoreError> {
    let shop_id = shops::insert_shop(tx.conn(), s.name, now).await?;
    shops::insert_employee(
        tx.conn(),
        shop_id,
        s.admin_username,
        "管理员",
        s.admin_password_hash,
        now,
    )
    .await?;
    if s.demo_menu {
        demo_menu(tx, shop_id, now).await?;
        if let Some(pictures) = s.pictures {
            set_pictures(tx.conn(), shop_id, pictures).await?;
        }
    }
    Ok(shop_id)
}

/// The demo menu of a new shop: categories, dishes with flavors, set meals, all on sale.
async fn demo_menu(tx: &mut WriteTx, shop_id: i64, now: i64) -> Result<(), StoreError> {
    let mut dish_ids: Vec<(&str, i64, i64)> = Vec::new();
    let mut sort = 0;
    for (category, dishes) in DISH_MENU {
        sort += 1;
        let cat = category_of(tx, shop_id, DISH_CATEGORY, category, sort, now).await?;
        for &(name, price, description, flavors) in dishes.iter() {
            let fields = DishFields {
                category_id: cat,
                name,
                price,
                image: "",
                description,
            };
            let id = dishes::insert(tx.conn(), shop_id, &fields, ENABLED, (None, now)).await?;
            let id = seeded(id, name)?;
            let chosen: Vec<(String, String)> = flavors
                .iter()
                .filter_map(|f| FLAVOR_PRESETS.iter().find(|(preset, _)| preset == f))
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect();
            dishes::replace_flavors(tx.conn(), id, &chosen).await?;
            dish_ids.push((name, id, price));
        }
    }
    for (category, setmeals) in SETMEAL_MENU {
        sort += 1;
        let cat = category_of(tx, shop_id, SETMEAL_CATEGORY, category, sort, now).await?;
        for &(name, price, description, portions) in setmeals.iter() {
            let fields = SetmealFields {
                category_id: cat,
                name,
                price,
                image: "",
                description,
            };
            let id = setmeals::insert(tx.conn(), shop_id, &fields, ENABLED, (None, now)).await?;
            let id = seeded(id, name)?;
            let portions: Vec<Portion> = portions
                .iter()
                .filter_map(|&(dish, copies)| {
                    let &(name, dish_id, price) = dish_ids.iter().find(|d| d.0 == dish)?;
                    Some(Portion {
                        dish_id,
                        name,
                        price,
                        copies,
                    })
                })
                .collect();
            setmeals::replace_dishes(tx.conn(), id, &portions).await?;
        }
    }
    Ok(())
}

/// Gives each dish and set meal of the shop that has no picture the demo picture of its name
/// (or the fallback picture).
async fn set_pictures(
    conn: &mut AnyConnection,
    shop_id: i64,
    pictures: &DemoPictures,
) -> Result<(), StoreError> {
    for table in ["dish", "setmeal"] {
        let rows: Vec<(i64, String)> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT id, name FROM {table} WHERE shop_id = $1 AND image = '' ORDER BY id"
        )))
        .bind(shop_id)
        .fetch_all(&mut *conn)
        .await?;
        for (id, name) in rows {
            sqlx::query(AssertSqlSafe(format!(
                "UPDATE {table} SET image = $1 WHERE id = $2"
            )))
            .bind(pictures.url_for(&name))
            .bind(id)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

/// True when [`seed_demo`] has not run on this database yet (checked before the demo
/// pictures are stored, so a restart stores nothing).
pub async fn unseeded(store: &Store) -> Result<bool, StoreError> {
    let seeded: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM app_setting WHERE key = 'seeded'")
        .fetch_one(store.pool())
        .await?;
    Ok(seeded == 0)
}

async fn category_of(
    tx: &mut WriteTx,
    shop_id: i64,
    kind: i64,
    name: &str,
    sort: i64,
    now: i64,
) -> Result<i64, StoreError> {
    let new = NewCategory {
        shop_id,
        kind,
        name,
        sort,
        status: ENABLED,
        by: None,
    };
    seeded(categories::insert(tx.conn(), &new, now).await?, name)
}

/// A demo row's id; the demo names are distinct in a new shop, so a taken one is a bug here.
fn seeded(id: Result<i64, NameTaken>, name: &str) -> Result<i64, StoreError> {
    id.map_err(|NameTaken| {
        StoreError::Db(sqlx::Error::Protocol(format!(
            "demo menu: the name {name} is taken twice"
        )))
    })
}

/// Seeds an empty database once (shop 1 "苍穹外卖" with the demo menu and `admin`). Returns
/// true when this call seeded it. Safe when several instances start together: the claim of
/// the `seeded` key and the seed commit as one transaction.
pub async fn seed_demo(
    store: &Store,
    admin_password_hash: &str,
    pictures: Option<&DemoPictures>,
    now: i64,
) -> Result<bool, StoreError> {
    let mut tx = store.begin().await?;
    if !shops::claim_once(tx.conn(), "seeded").await? {
        return Ok(false);
    }
    let has_shops: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM shop")
        .fetch_one(&mut *tx.conn())
        .await?;
    if has_shops > 0 {
        tx.commit().await?;
        return Ok(false);
    }
    let shop = NewShop {
        name: "苍穹外卖",
        admin_username: "admin",
        admin_password_hash,
        demo_menu: true,
        pictures,
    };
    create_shop_in(&mut tx, &shop, now).await?;
    tx.commit().await?;
    Ok(true)
}
