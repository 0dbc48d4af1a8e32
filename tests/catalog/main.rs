//! The merchant's menu (categories, dishes with flavors, set meals: stock-clients.md §4.2–4.4)
//! and set meals on the customer side (§4.9), through the exact requests of the stock admin
//! app and the mini-program, on SQLite and PostgreSQL: every field the clients read, a test
//! per rule and message, and the races between the rules. (Hostile input: `tests/hostile/`,
//! module `catalog`.)

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod categories;
mod customer;
mod dishes;
mod races;
mod setmeals;
mod support;
