//! Every input from outside is hostile: malformed and wrongly-typed JSON, missing and unknown
//! fields, bodies without a Content-Type or over the size limit, absurd ids in paths and
//! query strings, missing / garbage / forged / expired / wrong-role tokens, customers and
//! merchants reaching for orders that are not theirs, reminder spam (also across a restart),
//! bad cart, address and submit input, the menu's endpoints (categories, dishes, set meals),
//! employee management's, hostile image uploads, and bad report dates and ranges. On SQLite
//! and PostgreSQL.
//!
//! For every refused request the reply is the contract's envelope (`{"code":0,"msg":…,
//! "data":null}`, HTTP 200 for a business refusal, HTTP 400 for unparseable input) or a bare
//! 401 for a bad token; never a 5xx. Afterwards SQL checks that nothing was half-written.
//!
//! One test binary, one module per concern; `support` holds the raw HTTP and snapshot
//! helpers they share.

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod addresses;
mod bodies;
mod cart;
mod catalog;
mod catalog_setmeals;
mod employees;
mod ids;
mod json;
mod ownership;
mod reminders;
mod reports;
mod submit;
mod support;
mod tokens;
mod uploads;
