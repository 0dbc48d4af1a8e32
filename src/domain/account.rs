//! Merchant accounts (employees) and customers.

use super::Refusal;

/// Status of an account that may log in.
pub const ACTIVE: i64 = 1;
/// Wrong user name or password (the same text for both, so names cannot be probed).
pub const BAD_LOGIN: Refusal = Refusal("账号或密码错误");
/// The account is disabled.
pub const LOCKED: Refusal = Refusal("账号被锁定");
/// Too many failed logins for the account or from the address: locked for the lockout
/// window (`SKY_LOGIN_LOCKOUT_SECS`), without looking at the password.
pub const THROTTLED: Refusal = Refusal("登录失败次数过多，请稍后再试");
/// Too many logins being checked at once: no slot came free in time.
pub const LOGIN_BUSY: Refusal = Refusal("登录繁忙，请稍后再试");
/// The customer login failed: a bad or used code, or WeChat unreachable.
pub const LOGIN_FAILED: Refusal = Refusal("登录失败");
/// Wechat mode without the WeChat client.
pub const WECHAT_LOGIN_OFF: Refusal = Refusal("微信登录未配置");

/// A merchant account of one shop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Employee {
    /// Id.
    pub id: i64,
    /// The shop it acts for.
    pub shop_id: i64,
    /// Login name.
    pub username: String,
    /// Display name.
    pub name: String,
    /// Argon2 hash of the password.
    pub password_hash: String,
    /// [`ACTIVE`] or disabled.
    pub status: i64,
}

impl Employee {
    /// True when the account may log in and act.
    pub fn is_active(&self) -> bool {
        self.status == ACTIVE
    }
}
