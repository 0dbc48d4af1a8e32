//! Use cases: every business rule and every write transaction, one file per group. The
//! adapters (`http`, `ws`, `tasks`, `cli`) parse, call one of these and render; only these
//! (and the alert use cases below `alerts`) reach the store.
//!
//! A group never uses another (checked by `scripts/check-layers.py`): a rule two groups need
//! lives in `domain` (the cart's rules, which adding to the cart and 再来一单 both apply; the
//! precondition of a payment, shared by mock and WeChat payments). A use case that raises an
//! alert commits the alert's row in its own transaction and hands it to the relay after the
//! commit.

pub mod accounts;
pub mod addresses;
pub mod carts;
pub mod images;
pub mod catalog;
pub mod employees;
pub mod menu;
pub mod orders;
pub mod payments;
pub mod reports;
pub mod shops;
pub mod workspace;

use crate::domain::Refusal;
use crate::store::StoreError;

/// Why a use case did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A business rule said no; shown to the user as `code: 0` with this message.
    #[error("{0}")]
    Rejected(&'static str),
    /// A business rule said no with a message that names the thing at fault
    /// (`'川湘小炒'已存在`); shown as `code: 0` with this message.
    #[error("{0}")]
    Refused(String),
    /// The account behind a validly signed token no longer exists (the database was
    /// recreated, the account deleted): the session is over, shown as a bare 401.
    #[error("the session's account no longer exists")]
    SessionOver,
    /// Storage failed; shown as an opaque 5xx, the cause logged.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<Refusal> for Error {
    fn from(r: Refusal) -> Self {
        Error::Rejected(r.0)
    }
}

impl Error {
    /// The refusal, when a business rule said no.
    pub fn refusal(&self) -> Option<Refusal> {
        match self {
            Error::Rejected(msg) => Some(Refusal(msg)),
            Error::Refused(_) | Error::SessionOver | Error::Store(_) => None,
        }
    }
}

/// Result of a use case.
pub type Result<T> = std::result::Result<T, Error>;
