//! Merchant endpoints (`/admin/...`, header `token` or the session cookie).

mod alerts;
mod employee;
mod order;
mod shop;

use axum::Router;

use crate::app::AppState;

/// All merchant routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(employee::router())
        .merge(shop::router())
        .merge(order::router())
        .merge(alerts::router())
}
