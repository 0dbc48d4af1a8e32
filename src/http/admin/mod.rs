//! Merchant endpoints (`/admin/...`, header `token` or the session cookie).

mod alerts;
mod category;
mod dish;
mod employee;
mod order;
mod setmeal;
mod shop;
mod wire;

use axum::Router;
use axum::extract::FromRef;

use crate::alerts::service::Alerts;
use crate::auth::Tokens;
use crate::usecases::accounts::Accounts;
use crate::usecases::catalog::Catalog;
use crate::usecases::orders::Orders;
use crate::usecases::shops::Shops;

/// All merchant routes.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Tokens: FromRef<S>,
    Accounts: FromRef<S>,
    Shops: FromRef<S>,
    Orders: FromRef<S>,
    Alerts: FromRef<S>,
    Catalog: FromRef<S>,
{
    Router::new()
        .merge(employee::router())
        .merge(shop::router())
        .merge(order::router())
        .merge(alerts::router())
        .merge(category::router())
        .merge(dish::router())
        .merge(setmeal::router())
}
