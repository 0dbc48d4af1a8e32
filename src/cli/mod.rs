//! The command line's own commands besides serving: `watch` (a terminal merchant screen, a
//! client of the running service) and `shops add|list` (over the shop use cases).

pub mod shops;
pub mod watch;
