//! Shops: open or closed.

use super::Refusal;

/// Shop status: taking orders.
pub const OPEN: i64 = 1;
/// Shop status: closed.
pub const CLOSED: i64 = 0;
/// The shop is closed (or does not exist): no order.
pub const IS_CLOSED: Refusal = Refusal("店铺已打烊");
/// Not a shop status.
pub const BAD_STATUS: Refusal = Refusal("店铺状态错误");

/// A real shop's id: always positive. Merchant identities carry one, so no merchant query
/// can be handed 0 (which an "any shop" filter would read as every shop) or a negative id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ShopId(i64);

impl ShopId {
    /// The id, when it can name a shop (`> 0`).
    pub fn new(id: i64) -> Option<ShopId> {
        (id > 0).then_some(ShopId(id))
    }

    /// The id as stored.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl std::fmt::Display for ShopId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Checks a status a merchant wants to set: [`OPEN`] or [`CLOSED`].
pub fn parse_status(status: i64) -> Result<i64, Refusal> {
    match status {
        OPEN | CLOSED => Ok(status),
        _ => Err(BAD_STATUS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shop_id_is_positive() {
        assert_eq!(ShopId::new(7).map(ShopId::get), Some(7));
        for bad in [0, -1, i64::MIN] {
            assert_eq!(ShopId::new(bad), None);
        }
    }

    #[test]
    fn only_open_and_closed() {
        assert_eq!(parse_status(1), Ok(OPEN));
        assert_eq!(parse_status(0), Ok(CLOSED));
        for bad in [-1, 2, i64::MAX] {
            assert_eq!(parse_status(bad), Err(BAD_STATUS));
        }
    }
}
