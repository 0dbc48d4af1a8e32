//! Orders: the pure state machine and the use cases (submit, pay, remind, cancel, merchant
//! actions, scheduled sweeps). A use case commits its state change and its alert rows in one
//! transaction, then hands the committed alerts to the relay.

pub mod service;
pub mod state;

use crate::store::StoreError;

/// Why a use case refused. Messages are the contract's Chinese texts.
#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    /// A business rule said no; shown to the user as `code: 0`.
    #[error("{0}")]
    Rejected(&'static str),
    /// Storage failed; shown as an opaque 5xx.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for OrderError {
    fn from(e: sqlx::Error) -> Self {
        OrderError::Store(StoreError::Db(e))
    }
}

/// 订单不存在
pub const NOT_FOUND: &str = "订单不存在";
/// 订单状态错误
pub const BAD_STATUS: &str = "订单状态错误";
