//! The customer's address book: a customer reads and changes only their own addresses
//! (someone else's is 地址不存在), and every address names a consignee, a phone and a place.

use super::Result;
use crate::domain::address::{self, Address, NO_DEFAULT, NOT_FOUND};
use crate::store::{Store, addresses, customers};

/// The address book use cases. Cheap to clone.
#[derive(Clone)]
pub struct Addresses {
    store: Store,
}

impl Addresses {
    /// Use cases over this store.
    pub fn new(store: Store) -> Addresses {
        Addresses { store }
    }

    /// Adds an address (not the default) to the customer's book.
    #[tracing::instrument(skip_all, fields(user_id = user_id))]
    pub async fn add(&self, user_id: i64, a: Address) -> Result<()> {
        address::check(&a)?;
        let a = Address {
            user_id,
            is_default: address::NOT_DEFAULT,
            ..a
        };
        if !customers::exists(self.store.pool(), user_id).await? {
            return Err(super::Error::SessionOver);
        }
        addresses::insert_address(self.store.pool(), &a).await?;
        Ok(())
    }

    /// Changes one of the customer's addresses (`a.id`); its default flag stays as it is.
    #[tracing::instrument(skip_all, fields(user_id = user_id))]
    pub async fn update(&self, user_id: i64, a: Address) -> Result<()> {
        address::check(&a)?;
        let a = Address { user_id, ..a };
        if !addresses::update_address(self.store.pool(), &a).await? {
            return Err(NOT_FOUND.into());
        }
        Ok(())
    }

    /// Deletes one of the customer's addresses.
    #[tracing::instrument(skip_all, fields(user_id = user_id))]
    pub async fn remove(&self, user_id: i64, id: i64) -> Result<()> {
        if !addresses::delete_address(self.store.pool(), user_id, id).await? {
            return Err(NOT_FOUND.into());
        }
        Ok(())
    }

    /// The customer's addresses.
    pub async fn list(&self, user_id: i64) -> Result<Vec<Address>> {
        Ok(addresses::addresses(self.store.pool(), user_id).await?)
    }

    /// One of the customer's addresses.
    pub async fn one(&self, user_id: i64, id: i64) -> Result<Address> {
        Ok(addresses::address(self.store.pool(), user_id, id)
            .await?
            .ok_or(NOT_FOUND)?)
    }

    /// The customer's default address.
    pub async fn default(&self, user_id: i64) -> Result<Address> {
        Ok(addresses::default_address(self.store.pool(), user_id)
            .await?
            .ok_or(NO_DEFAULT)?)
    }

    /// Makes one of the customer's addresses the default, and no other.
    #[tracing::instrument(skip_all, fields(user_id = user_id))]
    pub async fn set_default(&self, user_id: i64, id: i64) -> Result<()> {
        let mut tx = self.store.begin().await?;
        if !addresses::set_default_address(tx.conn(), user_id, id).await? {
            return Err(NOT_FOUND.into());
        }
        tx.commit().await?;
        Ok(())
    }
}
