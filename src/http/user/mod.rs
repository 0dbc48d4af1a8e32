//! Customer endpoints (`/user/...`, header `authentication`).

mod account;
mod address;
mod cart;
mod menu;
mod order;

use axum::Router;

use crate::app::AppState;

/// All customer routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(account::router())
        .merge(menu::router())
        .merge(cart::router())
        .merge(address::router())
        .merge(order::router())
}
