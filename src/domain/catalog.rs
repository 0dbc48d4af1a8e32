//! The merchant's rules for the menu (categories, dishes with flavors, set meals): what a
//! valid field is, and the course's refusals, word for word (`MessageConstant`). The rules
//! that need the database (a category still holding dishes, a dish in a set meal…) are
//! applied by the catalog use cases with these messages.

use super::Refusal;
use super::menu::{DISABLED, DISH_CATEGORY, ENABLED, SETMEAL_CATEGORY};

/// `CATEGORY_BE_RELATED_BY_DISH` (ASCII comma, as the course writes it).
pub const CATEGORY_HAS_DISHES: Refusal = Refusal("当前分类关联了菜品,不能删除");
/// `CATEGORY_BE_RELATED_BY_SETMEAL`.
pub const CATEGORY_HAS_SETMEALS: Refusal = Refusal("当前分类关联了套餐,不能删除");
/// `DISH_ON_SALE`.
pub const DISH_ON_SALE: Refusal = Refusal("起售中的菜品不能删除");
/// `SETMEAL_ON_SALE`.
pub const SETMEAL_ON_SALE: Refusal = Refusal("起售中的套餐不能删除");
/// `DISH_BE_RELATED_BY_SETMEAL`.
pub const DISH_IN_SETMEAL: Refusal = Refusal("当前菜品关联了套餐,不能删除");
/// `SETMEAL_ENABLE_FAILED`: a set meal on sale holds only dishes on sale.
pub const SETMEAL_HAS_STOPPED_DISH: Refusal = Refusal("套餐内包含未启售菜品，无法启售");
/// No such category in the merchant's shop (also another shop's: ids cannot be probed).
pub const CATEGORY_NOT_FOUND: Refusal = Refusal("分类不存在");
/// No such dish in the merchant's shop.
pub const DISH_NOT_FOUND: Refusal = Refusal("菜品不存在");
/// No such set meal in the merchant's shop.
pub const SETMEAL_NOT_FOUND: Refusal = Refusal("套餐不存在");
/// A dish needs a dish category of the shop (the stock form's own words).
pub const NEEDS_DISH_CATEGORY: Refusal = Refusal("请选择菜品分类");
/// A set meal needs a set-meal category of the shop (the stock form's own words).
pub const NEEDS_SETMEAL_CATEGORY: Refusal = Refusal("请选择套餐分类");
/// A category type other than 1 (dishes) or 2 (set meals).
pub const BAD_KIND: Refusal = Refusal("分类类型错误");
/// A status other than 0 or 1.
pub const BAD_STATUS: Refusal = Refusal("状态错误");
/// An empty name.
pub const NO_NAME: Refusal = Refusal("名称不能为空");
/// A name over [`MAX_NAME`] characters.
pub const LONG_NAME: Refusal = Refusal("名称不能超过32个字符");
/// A sort position outside 0–99 (the stock form's own words).
pub const BAD_SORT: Refusal = Refusal("排序只能输入0-99数字");
/// A price of zero or less.
pub const PRICE_NOT_POSITIVE: Refusal = Refusal("价格必须大于0");
/// A price over [`MAX_PRICE`].
pub const PRICE_TOO_HIGH: Refusal = Refusal("价格不能超过999999.99");
/// A description over [`MAX_DESCRIPTION`] characters.
pub const LONG_DESCRIPTION: Refusal = Refusal("描述不能超过255个字符");
/// An image URL over [`MAX_IMAGE`] characters.
pub const LONG_IMAGE: Refusal = Refusal("图片地址过长");
/// More than [`MAX_FLAVORS`] flavors.
pub const TOO_MANY_FLAVORS: Refusal = Refusal("口味最多10种");
/// A flavor without a name (the stock form's 添加口味 row left unchosen).
pub const NO_FLAVOR_NAME: Refusal = Refusal("口味名称不能为空");
/// Two flavors of one dish with one name.
pub const DUPLICATE_FLAVOR: Refusal = Refusal("口味名称重复");
/// A flavor `value` that is not a JSON array of 1–20 short, non-empty strings.
pub const BAD_FLAVOR_VALUE: Refusal = Refusal("口味选项必须是1到20个选项的JSON数组");
/// A set meal without dishes (the stock form's own words).
pub const NO_DISHES: Refusal = Refusal("套餐下菜品不能为空");
/// More than [`MAX_SETMEAL_DISHES`] dishes in a set meal.
pub const TOO_MANY_DISHES: Refusal = Refusal("套餐菜品最多50种");
/// One dish twice in a set meal.
pub const DUPLICATE_DISH: Refusal = Refusal("套餐内菜品重复");
/// Copies outside 1–[`MAX_COPIES`].
pub const BAD_COPIES: Refusal = Refusal("菜品份数必须在1到99之间");

/// Longest name of a category, dish, set meal or flavor (the course's `varchar(32)`).
pub const MAX_NAME: usize = 32;
/// Highest price, in fen: 999999.99, the stock form's limit.
pub const MAX_PRICE: i64 = 99_999_999;
/// Longest description (the course's `varchar(255)`).
pub const MAX_DESCRIPTION: usize = 255;
/// Longest image URL.
pub const MAX_IMAGE: usize = 500;
/// Most flavors of a dish.
pub const MAX_FLAVORS: usize = 10;
/// Most choices of a flavor.
pub const MAX_FLAVOR_CHOICES: usize = 20;
/// Longest stored flavor value (the course's `varchar(255)`).
pub const MAX_FLAVOR_VALUE: usize = 255;
/// Most dishes of a set meal.
pub const MAX_SETMEAL_DISHES: usize = 50;
/// Most copies of one dish in a set meal.
pub const MAX_COPIES: i64 = 99;

/// A name, trimmed: not empty, at most [`MAX_NAME`] characters.
pub fn name(text: &str) -> Result<String, Refusal> {
    let text = text.trim();
    if text.is_empty() {
        return Err(NO_NAME);
    }
    if text.chars().count() > MAX_NAME {
        return Err(LONG_NAME);
    }
    Ok(text.to_string())
}

/// A category type: [`DISH_CATEGORY`] or [`SETMEAL_CATEGORY`].
pub fn kind(kind: i64) -> Result<i64, Refusal> {
    match kind {
        DISH_CATEGORY | SETMEAL_CATEGORY => Ok(kind),
        _ => Err(BAD_KIND),
    }
}

/// A status: [`ENABLED`] or [`DISABLED`].
pub fn status(status: i64) -> Result<i64, Refusal> {
    match status {
        ENABLED | DISABLED => Ok(status),
        _ => Err(BAD_STATUS),
    }
}

/// A category's sort position: 0–99.
pub fn sort(sort: i64) -> Result<i64, Refusal> {
    if (0..=99).contains(&sort) {
        Ok(sort)
    } else {
        Err(BAD_SORT)
    }
}

/// A price in fen: more than 0, at most [`MAX_PRICE`].
pub fn price(fen: i64) -> Result<i64, Refusal> {
    match fen {
        ..=0 => Err(PRICE_NOT_POSITIVE),
        1..=MAX_PRICE => Ok(fen),
        _ => Err(PRICE_TOO_HIGH),
    }
}

/// A description (trimmed), at most [`MAX_DESCRIPTION`] characters.
pub fn description(text: &str) -> Result<String, Refusal> {
    let text = text.trim();
    if text.chars().count() > MAX_DESCRIPTION {
        return Err(LONG_DESCRIPTION);
    }
    Ok(text.to_string())
}

/// An image URL (trimmed; empty for none), at most [`MAX_IMAGE`] characters.
pub fn image(text: &str) -> Result<String, Refusal> {
    let text = text.trim();
    if text.chars().count() > MAX_IMAGE {
        return Err(LONG_IMAGE);
    }
    Ok(text.to_string())
}

/// A dish's flavors as the clients send them (`value` a JSON-encoded array of strings, which
/// both clients `JSON.parse`): at most [`MAX_FLAVORS`], each named (a name at most
/// [`MAX_NAME`] characters), no name twice, each value an array of 1 to
/// [`MAX_FLAVOR_CHOICES`] non-empty choices of at most [`MAX_NAME`] characters, none with a
/// control character (a NUL or a line break hidden in the encoded text). Anything
/// else is refused rather than stored, since a value the clients cannot parse breaks the
/// mini-program's flavor popup. Returns (name, value) with the value re-encoded compactly,
/// as `JSON.stringify` writes it.
pub fn flavors(given: &[(String, String)]) -> Result<Vec<(String, String)>, Refusal> {
    if given.len() > MAX_FLAVORS {
        return Err(TOO_MANY_FLAVORS);
    }
    let mut out: Vec<(String, String)> = Vec::with_capacity(given.len());
    for (raw_name, raw_value) in given {
        let name = raw_name.trim();
        if name.is_empty() {
            return Err(NO_FLAVOR_NAME);
        }
        if name.chars().count() > MAX_NAME {
            return Err(LONG_NAME);
        }
        if out.iter().any(|(n, _)| n == name) {
            return Err(DUPLICATE_FLAVOR);
        }
        out.push((name.to_string(), flavor_value(raw_value)?));
    }
    Ok(out)
}

/// One flavor's value: a JSON array of choices, re-encoded.
fn flavor_value(raw: &str) -> Result<String, Refusal> {
    let choices: Vec<String> = serde_json::from_str(raw).map_err(|_| BAD_FLAVOR_VALUE)?;
    let choices: Vec<&str> = choices.iter().map(|c| c.trim()).collect();
    let fits = |c: &&str| {
        !c.is_empty() && c.chars().count() <= MAX_NAME && !c.chars().any(char::is_control)
    };
    if choices.is_empty() || choices.len() > MAX_FLAVOR_CHOICES || !choices.iter().all(fits) {
        return Err(BAD_FLAVOR_VALUE);
    }
    let value = serde_json::to_string(&choices).map_err(|_| BAD_FLAVOR_VALUE)?;
    if value.chars().count() > MAX_FLAVOR_VALUE {
        return Err(BAD_FLAVOR_VALUE);
    }
    Ok(value)
}

/// A set meal's dishes as (dish id, copies): at least one, at most [`MAX_SETMEAL_DISHES`],
/// no dish twice, 1–[`MAX_COPIES`] copies each. (Whether each dish is the shop's is the use
/// case's to check.)
pub fn setmeal_dishes(given: &[(i64, i64)]) -> Result<Vec<(i64, i64)>, Refusal> {
    if given.is_empty() {
        return Err(NO_DISHES);
    }
    if given.len() > MAX_SETMEAL_DISHES {
        return Err(TOO_MANY_DISHES);
    }
    let mut out: Vec<(i64, i64)> = Vec::with_capacity(given.len());
    for &(dish_id, copies) in given {
        if !(1..=MAX_COPIES).contains(&copies) {
            return Err(BAD_COPIES);
        }
        if out.iter().any(|(d, _)| *d == dish_id) {
            return Err(DUPLICATE_DISH);
        }
        out.push((dish_id, copies));
    }
    Ok(out)
}

/// Distinct ids, in the order first given (a batch naming one id twice acts on it once).
pub fn distinct(ids: &[i64]) -> Vec<i64> {
    let mut out: Vec<i64> = Vec::with_capacity(ids.len());
    for &id in ids {
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flavor(name: &str, value: &str) -> (String, String) {
        (name.to_string(), value.to_string())
    }

    #[test]
    fn names_are_trimmed_non_empty_and_short() {
        assert_eq!(name("  川湘小炒 "), Ok("川湘小炒".to_string()));
        assert_eq!(name(" \t"), Err(NO_NAME));
        assert_eq!(name(&"菜".repeat(32)), Ok("菜".repeat(32)));
        assert_eq!(name(&"菜".repeat(33)), Err(LONG_NAME));
    }

    #[test]
    fn kinds_statuses_sorts_and_prices() {
        assert_eq!((kind(1), kind(2)), (Ok(1), Ok(2)));
        assert_eq!((kind(0), kind(3)), (Err(BAD_KIND), Err(BAD_KIND)));
        assert_eq!(
            (status(0), status(1), status(2)),
            (Ok(0), Ok(1), Err(BAD_STATUS))
        );
        assert_eq!(
            (sort(0), sort(99), sort(100), sort(-1)),
            (Ok(0), Ok(99), Err(BAD_SORT), Err(BAD_SORT))
        );
        assert_eq!(price(0), Err(PRICE_NOT_POSITIVE));
        assert_eq!(price(-5), Err(PRICE_NOT_POSITIVE));
        assert_eq!(price(1), Ok(1));
        assert_eq!(price(MAX_PRICE), Ok(MAX_PRICE));
        assert_eq!(price(MAX_PRICE + 1), Err(PRICE_TOO_HIGH));
        assert_eq!(description(&"字".repeat(256)), Err(LONG_DESCRIPTION));
        assert_eq!(image(&"a".repeat(501)), Err(LONG_IMAGE));
    }

    #[test]
    fn flavor_values_are_json_arrays_of_choices() {
        let ok = flavors(&[flavor("辣度", r#"[ "不辣", "微辣" ]"#)]).unwrap();
        assert_eq!(ok, vec![flavor("辣度", r#"["不辣","微辣"]"#)]);
        for bad in [
            "不辣",
            "",
            "[]",
            r#"["不辣", 1]"#,
            r#"{"a":"b"}"#,
            r#"[""]"#,
            r#"["不辣""#,
            r#""[\"不辣\"]""#,
            r#"["\u0000"]"#,
            r#"["a\nb"]"#,
        ] {
            assert_eq!(
                flavors(&[flavor("辣度", bad)]),
                Err(BAD_FLAVOR_VALUE),
                "{bad}"
            );
        }
        let many = serde_json::to_string(&vec!["x"; 21]).unwrap();
        assert_eq!(flavors(&[flavor("辣度", &many)]), Err(BAD_FLAVOR_VALUE));
        let long = serde_json::to_string(&vec!["口味口味口味口味口味"; 20]).unwrap();
        assert_eq!(flavors(&[flavor("辣度", &long)]), Err(BAD_FLAVOR_VALUE));
    }

    #[test]
    fn flavors_are_named_once_and_few() {
        let v = r#"["a"]"#;
        assert_eq!(flavors(&[flavor(" ", v)]), Err(NO_FLAVOR_NAME));
        assert_eq!(
            flavors(&[flavor("辣度", v), flavor(" 辣度", v)]),
            Err(DUPLICATE_FLAVOR)
        );
        let eleven: Vec<_> = (0..11).map(|i| flavor(&format!("f{i}"), v)).collect();
        assert_eq!(flavors(&eleven), Err(TOO_MANY_FLAVORS));
        assert_eq!(flavors(&eleven[..10]).map(|f| f.len()), Ok(10));
        assert_eq!(flavors(&[]), Ok(vec![]));
    }

    #[test]
    fn setmeal_dishes_need_one_to_fifty_distinct_dishes() {
        assert_eq!(setmeal_dishes(&[]), Err(NO_DISHES));
        assert_eq!(setmeal_dishes(&[(1, 2), (3, 1)]), Ok(vec![(1, 2), (3, 1)]));
        assert_eq!(setmeal_dishes(&[(1, 1), (1, 2)]), Err(DUPLICATE_DISH));
        assert_eq!(setmeal_dishes(&[(1, 0)]), Err(BAD_COPIES));
        assert_eq!(setmeal_dishes(&[(1, 100)]), Err(BAD_COPIES));
        let many: Vec<(i64, i64)> = (1..=51).map(|i| (i, 1)).collect();
        assert_eq!(setmeal_dishes(&many), Err(TOO_MANY_DISHES));
        assert_eq!(distinct(&[3, 1, 3, 2, 1]), vec![3, 1, 2]);
        assert_eq!(crate::domain::already_exists("川菜"), "'川菜'已存在");
    }
}
