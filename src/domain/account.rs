//! Merchant accounts (employees) and customers: login refusals, the employee record and the
//! rules of its fields (those the stock admin app checks, checked again here), and the rule
//! that decides whether a merchant's session is still current.

use super::Refusal;

/// Status of an account that may log in.
pub const ACTIVE: i64 = 1;
/// Status of a disabled account: its login is refused and its sessions are over.
pub const DISABLED: i64 = 0;
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

/// The password of a new employee (the course's `PasswordConstant.DEFAULT_PASSWORD`).
pub const DEFAULT_PASSWORD: &str = "123456";
/// Password change: the old password is wrong.
pub const PASSWORD_WRONG: Refusal = Refusal("密码错误");
/// Password change: any other failure (a new password the app would not accept, a race).
pub const PASSWORD_EDIT_FAILED: Refusal = Refusal("密码修改失败");
/// No such employee in the caller's shop.
pub const NO_EMPLOYEE: Refusal = Refusal("员工不存在");
/// A status other than 0 and 1.
pub const BAD_STATUS: Refusal = Refusal("账号状态错误");
/// The shop's owner account cannot be disabled.
pub const OWNER_CANNOT_BE_DISABLED: Refusal = Refusal("店铺管理员账号不能禁用");
/// Nobody disables the account they are using (they would lock themselves out mid-click).
pub const CANNOT_DISABLE_SELF: Refusal = Refusal("不能禁用当前登录的账号");
/// The owner's record is changed by the owner only (a renamed login would lock them out).
pub const OWNER_EDITS_OWNER: Refusal = Refusal("店铺管理员账号只能由本人修改");
/// The stock app's message for a bad account name.
pub const BAD_USERNAME: Refusal = Refusal("账号输入不符，请输入3-20个字符");
/// A missing display name.
pub const NO_NAME: Refusal = Refusal("请输入员工姓名");
/// A display name over [`MAX_NAME`] characters.
pub const LONG_NAME: Refusal = Refusal("员工姓名不能超过32个字符");
/// The stock app's message for a bad mobile number.
pub const BAD_PHONE: Refusal = Refusal("请输入正确的手机号!");
/// The stock app's message for a bad ID card number.
pub const BAD_ID_NUMBER: Refusal = Refusal("身份证号码不正确");
/// A sex other than `"1"` (男) and `"0"` (女).
pub const BAD_SEX: Refusal = Refusal("性别错误");

/// Longest display name, in characters (the course's `varchar(32)`).
pub const MAX_NAME: usize = 32;

/// A merchant account of one shop, as login and the session checks read it.
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
    /// The session generation a token issued now carries.
    pub session_gen: i64,
}

impl Employee {
    /// True when the account may log in and act.
    pub fn is_active(&self) -> bool {
        self.status == ACTIVE
    }
}

/// An employee as the back office shows it (never with a password or its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmployeeRecord {
    /// Id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Display name.
    pub name: String,
    /// Mobile number.
    pub phone: String,
    /// `"1"` 男 or `"0"` 女.
    pub sex: String,
    /// ID card number.
    pub id_number: String,
    /// [`ACTIVE`] or [`DISABLED`].
    pub status: i64,
    /// Created, Unix ms.
    pub created_at: i64,
    /// Last changed, Unix ms.
    pub updated_at: i64,
    /// Who created it (none for the accounts the seed and `shops add` create).
    pub create_user: Option<i64>,
    /// Who changed it last.
    pub update_user: Option<i64>,
}

/// The editable fields of an employee, validated ([`EmployeeFields::check`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmployeeFields {
    /// Login name.
    pub username: String,
    /// Display name (trimmed).
    pub name: String,
    /// Mobile number.
    pub phone: String,
    /// `"1"` or `"0"`.
    pub sex: String,
    /// ID card number.
    pub id_number: String,
}

impl EmployeeFields {
    /// Validates the fields as the stock app does before it sends them; `old_username` (on
    /// an edit) is accepted as it is even when it predates the rule (`shops add` accounts).
    pub fn check(
        username: &str,
        name: &str,
        phone: &str,
        sex: &str,
        id_number: &str,
        old_username: Option<&str>,
    ) -> Result<EmployeeFields, Refusal> {
        if old_username != Some(username) && !valid_username(username) {
            return Err(BAD_USERNAME);
        }
        let name = name.trim();
        if name.is_empty() || name.chars().any(char::is_control) {
            return Err(NO_NAME);
        }
        if name.chars().count() > MAX_NAME {
            return Err(LONG_NAME);
        }
        if !valid_phone(phone) {
            return Err(BAD_PHONE);
        }
        if sex != "0" && sex != "1" {
            return Err(BAD_SEX);
        }
        if !valid_id_number(id_number) {
            return Err(BAD_ID_NUMBER);
        }
        Ok(EmployeeFields {
            username: username.to_string(),
            name: name.to_string(),
            phone: phone.to_string(),
            sex: sex.to_string(),
            id_number: id_number.to_string(),
        })
    }
}

/// `^([a-z]|[0-9]){3,20}$`, the stock app's rule for an account name.
pub fn valid_username(s: &str) -> bool {
    (3..=20).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// `^1(3|4|5|6|7|8)\d{9}$`, the stock app's rule for a mobile number.
pub fn valid_phone(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 11
        && b[0] == b'1'
        && (b'3'..=b'8').contains(&b[1])
        && b.iter().all(u8::is_ascii_digit)
}

/// `(^\d{15}$)|(^\d{18}$)|(^\d{17}(\d|X|x)$)`, the stock app's rule for an ID card number.
pub fn valid_id_number(s: &str) -> bool {
    let b = s.as_bytes();
    match b.len() {
        15 => b.iter().all(u8::is_ascii_digit),
        18 => {
            b[..17].iter().all(u8::is_ascii_digit)
                && (b[17].is_ascii_digit() || b[17] == b'X' || b[17] == b'x')
        }
        _ => false,
    }
}

/// `^[0-9A-Za-z]{6,20}$`, the stock app's rule for a new password.
pub fn valid_new_password(s: &str) -> bool {
    (6..=20).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Which login a merchant token belongs to: the session generation of its account when it
/// was issued, and a random id of its own (0 in tokens issued before sessions had one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SessionId {
    /// The account's `session_gen` at login.
    pub generation: i64,
    /// Random, per login.
    pub sid: i64,
}

/// What decides whether an account's sessions are current. Every change of it (disable,
/// enable, password change) draws a new, larger `generation` from one counter, so of two states of
/// an account the one with the larger `generation` is the newer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionState {
    /// The account's shop.
    pub shop_id: i64,
    /// [`ACTIVE`] or [`DISABLED`].
    pub status: i64,
    /// The current generation: tokens issued since carry it.
    pub generation: i64,
    /// The one earlier login a password change kept (its `sid`), 0 for none.
    pub keep: i64,
}

impl SessionState {
    /// True when a token of `shop_id` and `session` is still a session of this account: the
    /// account is active, of that shop, and the token was issued since the last change (or
    /// is the login that made the last password change).
    pub fn admits(&self, shop_id: i64, session: SessionId) -> bool {
        self.status == ACTIVE
            && self.shop_id == shop_id
            && (session.generation == self.generation
                || (self.keep != 0 && session.sid == self.keep))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_follow_the_stock_app_rules() {
        let ok = EmployeeFields::check(
            "zhangsan01",
            " 张三 ",
            "13812345678",
            "0",
            "11010119900307123X",
            None,
        )
        .unwrap();
        assert_eq!(ok.name, "张三");
        let base = [
            "zhangsan01",
            "张三",
            "13812345678",
            "1",
            "110101199003071234",
        ];
        let with = |i: usize, v: &str| {
            let mut f = base;
            f[i] = v;
            EmployeeFields::check(f[0], f[1], f[2], f[3], f[4], None)
        };
        for bad in [
            "ab",
            "Zhang",
            "zhang san",
            "a%b_c",
            "x".repeat(21).as_str(),
            "",
        ] {
            assert_eq!(with(0, bad), Err(BAD_USERNAME), "{bad:?}");
        }
        assert_eq!(with(1, "  "), Err(NO_NAME));
        assert_eq!(with(1, "a\u{0}b"), Err(NO_NAME));
        assert_eq!(with(1, &"名".repeat(33)), Err(LONG_NAME));
        assert!(with(1, &"名".repeat(32)).is_ok());
        for bad in [
            "",
            "12812345678",
            "1381234567",
            "1381234567a",
            "139000011112",
        ] {
            assert_eq!(with(2, bad), Err(BAD_PHONE), "{bad:?}");
        }
        for bad in ["", "2", "男", "10"] {
            assert_eq!(with(3, bad), Err(BAD_SEX), "{bad:?}");
        }
        for bad in ["", "1234", "11010119900307123Y", "1101011990030712345"] {
            assert_eq!(with(4, bad), Err(BAD_ID_NUMBER), "{bad:?}");
        }
        assert!(with(4, "110101900307123").is_ok(), "15 digits");
    }

    #[test]
    fn an_unchanged_old_username_is_accepted() {
        let f = EmployeeFields::check(
            "Old-Style",
            "店长",
            "13812345678",
            "1",
            "110101199003071234",
            Some("Old-Style"),
        );
        assert!(f.is_ok());
        let renamed = EmployeeFields::check(
            "New-Style",
            "店长",
            "13812345678",
            "1",
            "110101199003071234",
            Some("Old-Style"),
        );
        assert_eq!(renamed, Err(BAD_USERNAME));
    }

    #[test]
    fn new_passwords_follow_the_stock_app_rule() {
        assert!(valid_new_password("newpass88"));
        assert!(valid_new_password("123456"));
        for bad in [
            "12345",
            "x".repeat(21).as_str(),
            "new pass",
            "密码123456",
            "abc_123",
        ] {
            assert!(!valid_new_password(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_session_is_current_until_its_account_changes() {
        let s = |generation, sid| SessionId { generation, sid };
        let state = SessionState {
            shop_id: 1,
            status: ACTIVE,
            generation: 7,
            keep: 0,
        };
        assert!(state.admits(1, s(7, 42)));
        assert!(!state.admits(2, s(7, 42)), "another shop");
        assert!(!state.admits(1, s(6, 42)), "issued before the last change");
        let disabled = SessionState {
            status: DISABLED,
            ..state
        };
        assert!(
            !disabled.admits(1, s(7, 42)),
            "a disabled account has no session"
        );
        let changed = SessionState {
            generation: 9,
            keep: 42,
            ..state
        };
        assert!(
            changed.admits(1, s(7, 42)),
            "the login that changed the password"
        );
        assert!(!changed.admits(1, s(7, 43)), "every other earlier login");
        assert!(changed.admits(1, s(9, 5)), "a login since");
        let legacy = SessionState { keep: 0, ..changed };
        assert!(!legacy.admits(1, s(7, 0)), "sid 0 is never kept");
    }
}
