//! Logging in: merchants with a user name and password, customers with the mini-program's
//! `wx.login` code (traded for the openid at WeChat in wechat mode; mapped to a stable openid
//! in mock mode). Both end in a token of their role.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::Result;
use crate::auth::gate::PasswordGate;
use crate::auth::identity::Merchant;
use crate::auth::throttle::LoginThrottle;
use crate::auth::{Role, Tokens, hash_password};
use crate::config::PayMode;
use crate::domain::account::{
    BAD_LOGIN, Employee, LOCKED, LOGIN_BUSY, LOGIN_FAILED, PASSWORD_EDIT_FAILED, PASSWORD_WRONG,
    THROTTLED, WECHAT_LOGIN_OFF, valid_new_password,
};
use crate::domain::shop::ShopId;
use crate::payment::wechat_api::WechatClient;
use crate::store::{Store, customers, employees, shops};
use crate::time::Clock;

/// A known hash, so that an unknown user name costs the same time as a wrong password.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0Wc2xM3kz2g0rOQ5XSP3o1B2nv0fz7z1PNoJc7rEJ0M";
/// Longest user name and password looked at (longer ones are wrong without hashing them).
const MAX_USERNAME: usize = 64;
const MAX_PASSWORD: usize = 256;
/// Longest `wx.login` code sent on to WeChat.
const MAX_CODE: usize = 128;

/// A merchant's session.
#[derive(Debug, Clone)]
pub struct MerchantSession {
    /// The account.
    pub employee: Employee,
    /// Its token (also the session cookie's value).
    pub token: String,
    /// How long the token is valid.
    pub ttl: Duration,
}

/// A customer's session.
#[derive(Debug, Clone)]
pub struct CustomerSession {
    /// The customer's id.
    pub id: i64,
    /// Their openid.
    pub openid: String,
    /// Their token.
    pub token: String,
}

/// The account use cases. Cheap to clone.
#[derive(Clone)]
pub struct Accounts {
    store: Store,
    clock: Clock,
    tokens: Tokens,
    pay_mode: PayMode,
    wechat: Option<Arc<WechatClient>>,
    gate: PasswordGate,
    throttle: LoginThrottle,
}

impl Accounts {
    /// Use cases over this store, clock and token signer; `wechat` trades login codes in
    /// wechat mode.
    pub fn new(
        store: Store,
        clock: Clock,
        tokens: Tokens,
        pay_mode: PayMode,
        wechat: Option<Arc<WechatClient>>,
    ) -> Accounts {
        Accounts {
            store,
            clock,
            tokens,
            pay_mode,
            wechat,
            gate: PasswordGate::new(PasswordGate::default_concurrency(), Duration::from_secs(3)),
            throttle: LoginThrottle::default(),
        }
    }

    /// These use cases with this bound on password verifications and this login throttle
    /// (the settings'; `new` uses the defaults).
    pub fn with_login_limits(self, gate: PasswordGate, throttle: LoginThrottle) -> Accounts {
        Accounts {
            gate,
            throttle,
            ..self
        }
    }

    fn now_secs(&self) -> u64 {
        (self.clock.now_ms() / 1000) as u64
    }

    /// A merchant logs in from `client` (the throttle's address key): the same refusal for an
    /// unknown name and a wrong password (which take the same time), and a disabled account
    /// is locked. An account or address with too many recent failures is refused before any
    /// hashing; the verification itself waits for a slot of the bounded gate.
    pub async fn merchant_login(
        &self,
        username: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> Result<MerchantSession> {
        if username.len() > MAX_USERNAME || password.len() > MAX_PASSWORD {
            return Err(BAD_LOGIN.into());
        }
        let now = self.clock.now_ms();
        self.throttled(username, client, now)?;
        let emp = shops::employee_by_username(self.store.pool(), username).await?;
        let hash = emp
            .as_ref()
            .map(|e| e.password_hash.clone())
            .unwrap_or_else(|| DUMMY_HASH.to_string());
        let slot = self.gate.slot().await.map_err(|_| LOGIN_BUSY)?;
        // Again once a slot is free: failures recorded while this login waited count.
        self.throttled(username, client, self.clock.now_ms())?;
        let valid = slot.verify(password.to_string(), hash).await;
        let Some(employee) = emp.filter(|_| valid) else {
            metrics::counter!("sky_login_failures_total").increment(1);
            self.throttle.failed(username, client, now);
            return Err(BAD_LOGIN.into());
        };
        self.throttle.succeeded(username);
        if !employee.is_active() {
            return Err(LOCKED.into());
        }
        let token = self.tokens.issue_merchant(
            employee.id,
            employee.shop_id,
            employee.session_gen,
            self.now_secs(),
        );
        Ok(MerchantSession {
            employee,
            token,
            ttl: self.tokens.ttl(),
        })
    }

    /// Refuses a login the throttle has locked (the account, or the client address).
    fn throttled(&self, username: &str, client: Option<IpAddr>, now: i64) -> Result<()> {
        self.throttle
            .check(username, client, now)
            .map_err(|locked| {
                tracing::info!(?locked, "login refused: too many failures");
                metrics::counter!("sky_login_refused_total", "reason" => "throttled").increment(1);
                THROTTLED.into()
            })
    }

    /// The merchant account behind a session, while it still exists, is active and acts for
    /// the same shop; `None` when the session is over.
    pub async fn merchant(&self, employee_id: i64, shop_id: ShopId) -> Result<Option<Employee>> {
        let shop_id = shop_id.get();
        Ok(shops::employee_by_id(self.store.pool(), employee_id)
            .await?
            .filter(|e| e.is_active() && e.shop_id == shop_id))
    }

    /// The merchant changes their own password (`oldPassword` → `newPassword`, the stock app's
    /// rule `^[0-9A-Za-z]{6,20}$`). Every other session of the account ends (here at once,
    /// on other instances within a poll period); this one goes on, as the stock app's dialog
    /// expects (it stays on the page). A wrong old password answers `密码错误`, anything else
    /// `密码修改失败`.
    #[tracing::instrument(skip_all, fields(shop_id = m.shop_id.get(), employee_id = m.employee_id))]
    pub async fn change_password(&self, m: &Merchant, old: &str, new: &str) -> Result<()> {
        if !valid_new_password(new) {
            return Err(PASSWORD_EDIT_FAILED.into());
        }
        if old.len() > MAX_PASSWORD {
            return Err(PASSWORD_WRONG.into());
        }
        let emp = shops::employee_by_id(self.store.pool(), m.employee_id)
            .await?
            .filter(|e| e.shop_id == m.shop_id.get())
            .ok_or(PASSWORD_EDIT_FAILED)?;
        // Through the bounded gate, as the login: an outsider with a token can start it too.
        let valid = self
            .gate
            .verify(old.to_string(), emp.password_hash.clone())
            .await
            .map_err(|_| LOGIN_BUSY)?;
        if !valid {
            return Err(PASSWORD_WRONG.into());
        }
        let new_hash = hash_password(new.to_string()).await;
        let mut tx = self.store.begin().await?;
        let generation = employees::next_gen(tx.conn()).await?;
        let now = self.clock.now_ms();
        let keep = m.session.sid;
        // Only if the password is still the one just verified: of two concurrent changes one
        // wins, the other fails instead of silently undoing it.
        let state = employees::set_password(
            tx.conn(),
            emp.id,
            &emp.password_hash,
            &new_hash,
            generation,
            keep,
            now,
        )
        .await?
        .ok_or(PASSWORD_EDIT_FAILED)?;
        tx.commit().await?;
        if let Some(sessions) = self.tokens.sessions() {
            sessions.learn(emp.id, state);
        }
        Ok(())
    }

    /// A customer logs in with a `wx.login` code; the customer is found or created by openid.
    #[tracing::instrument(skip_all)]
    pub async fn customer_login(&self, code: &str) -> Result<CustomerSession> {
        let code = code.trim();
        if code.is_empty() || code.len() > MAX_CODE {
            return Err(LOGIN_FAILED.into());
        }
        let openid = match self.pay_mode {
            PayMode::Mock => mock_openid(code),
            PayMode::Wechat => {
                let wechat = self.wechat.as_ref().ok_or(WECHAT_LOGIN_OFF)?;
                wechat.login(code).await.map_err(|e| {
                    tracing::warn!(error = %e, "WeChat login failed");
                    LOGIN_FAILED
                })?
            }
        };
        let id =
            customers::user_for_openid(self.store.pool(), &openid, self.clock.now_ms()).await?;
        let token = self.tokens.issue(Role::Customer, id, 0, self.now_secs());
        Ok(CustomerSession { id, openid, token })
    }
}

/// A stable openid for a mock-mode code.
fn mock_openid(code: &str) -> String {
    let digest = Sha256::digest(code.as_bytes());
    let openid = format!(
        "mock-{}",
        digest
            .iter()
            .take(12)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    tracing::debug!(openid, "mock login: code mapped to a stable openid");
    openid
}
