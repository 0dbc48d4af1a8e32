//! `sky-takeout shops add|list`: creates and lists shops through the shop use cases, with the
//! refusals worded for the command line (they name the flag at fault).

use crate::blobs::Blobs;
use crate::config::Settings;
use crate::store::Store;
use crate::time::Clock;
use crate::usecases::Error;
use crate::usecases::shops::{
    MIN_PASSWORD, NO_NAME, NO_USERNAME, SHORT_PASSWORD, ShopRequest, Shops, USERNAME_TAKEN,
};

async fn shops(settings: &Settings) -> anyhow::Result<(Store, Shops)> {
    let store = Store::connect(&settings.database_url).await?;
    let public_base = settings.images.public_base(settings.listen);
    let blobs = Blobs::open(&settings.images, &public_base)?;
    let shops = Shops::new(store.clone(), Clock::system(), blobs);
    Ok((store, shops))
}

/// Creates a shop with its first merchant account; returns the shop's id.
pub async fn add(settings: &Settings, request: ShopRequest) -> anyhow::Result<i64> {
    let (store, shops) = shops(settings).await?;
    let created = shops.create(&request).await;
    store.close().await;
    created.map_err(|e| match e.refusal() {
        Some(NO_NAME) => anyhow::anyhow!("--name must not be empty"),
        Some(NO_USERNAME) => anyhow::anyhow!("--admin-username must not be empty"),
        Some(SHORT_PASSWORD) => {
            anyhow::anyhow!("--admin-password must have at least {MIN_PASSWORD} characters")
        }
        Some(USERNAME_TAKEN) => anyhow::anyhow!(
            "--admin-username: `{}` is already taken",
            request.admin_username
        ),
        _ => match e {
            Error::Rejected(msg) => anyhow::anyhow!("{msg}"),
            Error::Refused(msg) => anyhow::anyhow!("{msg}"),
            Error::SessionOver => anyhow::anyhow!("{e}"),
            Error::Store(e) => e.into(),
        },
    })
}

/// Ids and names of all shops.
pub async fn list(settings: &Settings) -> anyhow::Result<Vec<(i64, String)>> {
    let (store, shops) = shops(settings).await?;
    let list = shops.list().await;
    store.close().await;
    Ok(list?)
}
