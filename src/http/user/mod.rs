//! Customer endpoints (`/user/...`, header `authentication`).

mod account;
mod address;
mod cart;
mod menu;
mod order;

use axum::Router;
use axum::extract::FromRef;

use crate::auth::Tokens;
use crate::usecases::accounts::Accounts;
use crate::usecases::addresses::Addresses;
use crate::usecases::carts::Carts;
use crate::usecases::menu::Menu;
use crate::usecases::orders::Orders;
use crate::usecases::payments::Payments;
use crate::usecases::shops::Shops;

/// The OpenAPI description of every customer route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi;
    let mut doc = account::Doc::openapi();
    for part in [
        menu::Doc::openapi(),
        cart::Doc::openapi(),
        address::Doc::openapi(),
        order::Doc::openapi(),
    ] {
        doc.merge(part);
    }
    doc
}

/// All customer routes.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Tokens: FromRef<S>,
    Accounts: FromRef<S>,
    Shops: FromRef<S>,
    Menu: FromRef<S>,
    Carts: FromRef<S>,
    Addresses: FromRef<S>,
    Orders: FromRef<S>,
    Payments: FromRef<S>,
{
    Router::new()
        .merge(account::router())
        .merge(menu::router())
        .merge(cart::router())
        .merge(address::router())
        .merge(order::router())
}
