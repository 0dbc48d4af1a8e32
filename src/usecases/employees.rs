//! Employee management (员工管理): the accounts of the caller's shop, added with the default
//! password, listed, read, edited, enabled and disabled. Every call is bound to the caller's
//! shop: another shop's employee answers as one that does not exist and changes nothing.
//!
//! Disabling (and enabling) draws a new session generation in the same transaction and hands
//! the new state to the session states right after the commit, so the account's sessions and
//! sockets on this instance end before the reply, and on the others within a poll period.
//! The shop's owner (its first account) cannot be disabled, nobody disables the account they
//! are using, and the owner's record is edited by the owner only.

use super::{Error, Result};
use crate::auth::hash_password;
use crate::auth::sessions::Sessions;
use crate::domain::account::{
    ACTIVE, BAD_STATUS, CANNOT_DISABLE_SELF, DEFAULT_PASSWORD, DISABLED, EmployeeFields,
    EmployeeRecord, MAX_NAME, NO_EMPLOYEE, OWNER_CANNOT_BE_DISABLED, OWNER_EDITS_OWNER,
};
use crate::domain::already_exists;
use crate::store::Store;
use crate::store::employees::{self, Saved};
use crate::time::Clock;

/// A new employee's fields as sent (validated by the use case); a missing one is empty.
#[derive(Debug, Clone, Default)]
pub struct EmployeeInput {
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
}

/// An edit: the fields sent; `None` keeps the stored value (the app sends them all, with the
/// rest of the record, which is ignored).
#[derive(Debug, Clone, Default)]
pub struct EmployeeChanges {
    /// Login name.
    pub username: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Mobile number.
    pub phone: Option<String>,
    /// Sex.
    pub sex: Option<String>,
    /// ID card number.
    pub id_number: Option<String>,
}

/// A page of employees and how many match in all.
#[derive(Debug, Clone)]
pub struct EmployeePage {
    /// How many match the filter.
    pub total: i64,
    /// This page, newest first.
    pub records: Vec<EmployeeRecord>,
}

/// The employee use cases. Cheap to clone.
#[derive(Clone)]
pub struct Employees {
    store: Store,
    clock: Clock,
    sessions: Sessions,
}

impl Employees {
    /// Use cases over this store and clock, ending sessions through `sessions`.
    pub fn new(store: Store, clock: Clock, sessions: Sessions) -> Employees {
        Employees {
            store,
            clock,
            sessions,
        }
    }

    /// Adds an active employee to the shop, with the default password `123456` (hashed like
    /// every password); `by` is the employee who adds it. Its id.
    #[tracing::instrument(skip_all, fields(shop_id = shop_id))]
    pub async fn add(&self, shop_id: i64, by: i64, input: &EmployeeInput) -> Result<i64> {
        let i = input;
        let f = EmployeeFields::check(&i.username, &i.name, &i.phone, &i.sex, &i.id_number, None)?;
        let hash = hash_password(DEFAULT_PASSWORD.to_string()).await;
        let now = self.clock.now_ms();
        match employees::insert(self.store.pool(), shop_id, &f, &hash, by, now).await? {
            Saved::Done(id) => Ok(id),
            Saved::Taken => Err(Error::Refused(already_exists(&f.username))),
            Saved::Missing => Err(NO_EMPLOYEE.into()),
        }
    }

    /// A page of the shop's employees, newest first; with `name`, those whose name contains
    /// it (as text: `%` and `_` are not wildcards).
    pub async fn page(
        &self,
        shop_id: i64,
        name: Option<&str>,
        offset: i64,
        limit: i64,
    ) -> Result<EmployeePage> {
        let name = name.map(str::trim).filter(|n| !n.is_empty());
        if name.is_some_and(|n| n.chars().count() > MAX_NAME) {
            // No name is longer: nothing matches, and no query is needed to say so.
            return Ok(EmployeePage {
                total: 0,
                records: Vec::new(),
            });
        }
        let (total, records) =
            employees::page(self.store.pool(), shop_id, name, offset, limit).await?;
        Ok(EmployeePage { total, records })
    }

    /// Employee `id` of the shop.
    pub async fn get(&self, shop_id: i64, id: i64) -> Result<EmployeeRecord> {
        Ok(employees::get(self.store.pool(), shop_id, id)
            .await?
            .ok_or(NO_EMPLOYEE)?)
    }

    /// Changes the editable fields of employee `id` (user name, name, phone, sex, ID number);
    /// `by` is the employee who edits. A taken user name answers `'x'已存在`.
    #[tracing::instrument(skip_all, fields(shop_id = shop_id, employee_id = id))]
    pub async fn update(&self, shop_id: i64, by: i64, id: i64, c: &EmployeeChanges) -> Result<()> {
        let pool = self.store.pool();
        let cur = employees::get(pool, shop_id, id)
            .await?
            .ok_or(NO_EMPLOYEE)?;
        if id != by && employees::owner_id(pool, shop_id).await? == Some(id) {
            return Err(OWNER_EDITS_OWNER.into());
        }
        let pick = |v: &Option<String>, old: &str| v.clone().unwrap_or_else(|| old.to_string());
        let f = EmployeeFields::check(
            &pick(&c.username, &cur.username),
            &pick(&c.name, &cur.name),
            &pick(&c.phone, &cur.phone),
            &pick(&c.sex, &cur.sex),
            &pick(&c.id_number, &cur.id_number),
            Some(&cur.username),
        )?;
        let now = self.clock.now_ms();
        match employees::update(pool, shop_id, id, &f, by, now).await? {
            Saved::Done(_) => Ok(()),
            Saved::Taken => Err(Error::Refused(already_exists(&f.username))),
            Saved::Missing => Err(NO_EMPLOYEE.into()),
        }
    }

    /// Enables (1) or disables (0) employee `id`; `by` is the employee who does it. Disabling
    /// ends the account's sessions and sockets at once. Setting the status it has changes
    /// nothing.
    #[tracing::instrument(skip_all, fields(shop_id = shop_id, employee_id = id))]
    pub async fn set_status(&self, shop_id: i64, by: i64, id: i64, status: i64) -> Result<()> {
        if status != ACTIVE && status != DISABLED {
            return Err(BAD_STATUS.into());
        }
        let pool = self.store.pool();
        let cur = employees::get(pool, shop_id, id)
            .await?
            .ok_or(NO_EMPLOYEE)?;
        if status == DISABLED {
            if employees::owner_id(pool, shop_id).await? == Some(id) {
                return Err(OWNER_CANNOT_BE_DISABLED.into());
            }
            if id == by {
                return Err(CANNOT_DISABLE_SELF.into());
            }
        }
        if cur.status == status {
            return Ok(());
        }
        let mut tx = self.store.begin().await?;
        let generation = employees::next_gen(tx.conn()).await?;
        let now = self.clock.now_ms();
        let state = employees::set_status(tx.conn(), shop_id, id, status, generation, by, now)
            .await?
            .ok_or(NO_EMPLOYEE)?;
        tx.commit().await?;
        self.sessions.learn(id, state);
        Ok(())
    }
}
