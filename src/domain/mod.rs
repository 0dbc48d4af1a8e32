//! Pure types and rules: the order state machine, orders and their lines, the cart's rules,
//! addresses, accounts, shops, the menu and the merchant's rules for it (catalog), alerts and
//! their wire frames, money, pictures, the shop's local days (`calendar`) and the reports'
//! figures and series (`report`). No I/O, and nothing of tokio, sqlx or axum: every rule here
//! is a plain function, unit-tested beside it, and shared by every use case that needs it (so
//! a rule has one home).

pub mod account;
pub mod address;
pub mod alert;
pub mod calendar;
pub mod cart;
pub mod catalog;
pub mod frames;
pub mod image;
pub mod menu;
pub mod money;
pub mod order;
pub mod report;
pub mod shop;
pub mod status;

/// A business rule said no. The message is the contract's Chinese text, shown to the user as
/// `{"code":0,"msg":…}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub &'static str);

/// The message of a unique name already taken (a category, dish or set meal of the shop, an
/// employee's user name): `'<name>'已存在`, quotes included, as the course's exception handler
/// builds it.
pub fn already_exists(name: &str) -> String {
    format!("'{name}'已存在")
}
