//! Merchant endpoints (`/admin/...`, header `token` or the session cookie).

mod alerts;
mod category;
pub mod common;
mod dish;
mod employee;
mod order;
mod report;
mod setmeal;
mod shop;
mod staff;
mod wire;
mod workspace;

use axum::Router;
use axum::extract::FromRef;

use crate::alerts::service::Alerts;
use crate::auth::Tokens;
use crate::usecases::accounts::Accounts;
use crate::usecases::catalog::Catalog;
use crate::usecases::employees::Employees;
use crate::usecases::images::Images;
use crate::usecases::orders::Orders;
use crate::usecases::reports::Reports;
use crate::usecases::shops::Shops;
use crate::usecases::workspace::Workspace;

/// All merchant routes.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Tokens: FromRef<S>,
    Accounts: FromRef<S>,
    Shops: FromRef<S>,
    Orders: FromRef<S>,
    Alerts: FromRef<S>,
    Workspace: FromRef<S>,
    Reports: FromRef<S>,
    Catalog: FromRef<S>,
    Employees: FromRef<S>,
{
    Router::new()
        .merge(employee::router())
        .merge(shop::router())
        .merge(order::router())
        .merge(alerts::router())
        .merge(category::router())
        .merge(dish::router())
        .merge(setmeal::router())
        .merge(workspace::router())
        .merge(report::router())
        .merge(staff::router())
}

/// The OpenAPI description of every merchant route (the upload's included).
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi;
    let mut doc = employee::Doc::openapi();
    for part in [
        staff::Doc::openapi(),
        shop::Doc::openapi(),
        order::Doc::openapi(),
        alerts::Doc::openapi(),
        category::Doc::openapi(),
        dish::Doc::openapi(),
        setmeal::Doc::openapi(),
        workspace::Doc::openapi(),
        report::Doc::openapi(),
        common::Doc::openapi(),
    ] {
        doc.merge(part);
    }
    doc
}

/// `POST /admin/common/upload`, with its own body limit: merged after the global limit.
pub fn upload_router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Tokens: FromRef<S>,
    Images: FromRef<S>,
{
    common::router()
}
