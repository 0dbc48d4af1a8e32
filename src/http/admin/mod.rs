//! Merchant endpoints (`/admin/...`, header `token` or the session cookie).

mod alerts;
mod employee;
mod order;
mod shop;
mod staff;

use axum::Router;
use axum::extract::FromRef;

use crate::alerts::service::Alerts;
use crate::auth::Tokens;
use crate::usecases::accounts::Accounts;
use crate::usecases::employees::Employees;
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
    Employees: FromRef<S>,
{
    Router::new()
        .merge(employee::router())
        .merge(shop::router())
        .merge(order::router())
        .merge(alerts::router())
        .merge(staff::router())
}
