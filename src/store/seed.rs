//! Shops with their first merchant account and (optionally) a demo menu; the demo data of an
//! empty database.

use sqlx::{AnyConnection, AssertSqlSafe};

use super::{Store, StoreError, WriteTx, menu, shops};
use crate::domain::image::DemoPictures;
use crate::domain::menu::DISH_CATEGORY;

/// A demo dish: name, price in fen, description, has the spice flavor.
type DemoDish = (&'static str, i64, &'static str, bool);

/// The demo menu: categories and their dishes.
const DEMO_MENU: &[(&str, &[DemoDish])] = &[
    (
        "热菜",
        &[
            ("宫保鸡丁", 3800, "花生、鸡丁、干辣椒", true),
            ("鱼香肉丝", 3200, "经典川味", true),
            ("麻婆豆腐", 2200, "麻辣鲜香", true),
            ("红烧肉", 4800, "肥而不腻", false),
        ],
    ),
    (
        "主食",
        &[
            ("米饭", 200, "东北大米", false),
            ("扬州炒饭", 1800, "蛋炒饭", false),
            ("牛肉面", 2600, "手工拉面", true),
        ],
    ),
    (
        "饮品",
        &[
            ("酸梅汤", 600, "冰镇", false),
            ("豆浆", 400, "现磨", false),
            ("可乐", 500, "330ml", false),
        ],
    ),
];

const SPICE: &str = r#"["不辣","微辣","中辣","重辣"]"#;

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
        for (sort, (category, dishes)) in DEMO_MENU.iter().enumerate() {
            let cat = menu::insert_category(
                tx.conn(),
                shop_id,
                DISH_CATEGORY,
                category,
                sort as i64 + 1,
                now,
            )
            .await?;
            for (name, price, description, spicy) in dishes.iter() {
                let dish =
                    menu::insert_dish(tx.conn(), shop_id, cat, name, *price, description, now)
                        .await?;
                if *spicy {
                    menu::insert_flavor(tx.conn(), dish, "辣度", SPICE).await?;
                }
            }
        }
        if let Some(pictures) = s.pictures {
            set_pictures(tx.conn(), shop_id, pictures).await?;
        }
    }
    Ok(shop_id)
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
