//! Moved to [`crate::domain::status`]; re-exported while the callers migrate.

pub use crate::domain::status::*;
