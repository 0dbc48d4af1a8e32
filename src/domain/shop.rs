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
    fn only_open_and_closed() {
        assert_eq!(parse_status(1), Ok(OPEN));
        assert_eq!(parse_status(0), Ok(CLOSED));
        for bad in [-1, 2, i64::MAX] {
            assert_eq!(parse_status(bad), Err(BAD_STATUS));
        }
    }
}
