//! Wire shapes the category, dish and set-meal adapters share: a price as the stock forms
//! send it, the audit fields every row shows, and the `ids` / `id` of the status and delete
//! calls.

use serde::{Deserialize, Deserializer, Serialize};

use crate::domain::money::parse_yuan;
use crate::http::extract::IdList;
use crate::time::fmt_minutes;

/// A price in yuan, read as the forms send it (`"12.5"`, or the number `88` when an edit
/// posts an untouched price back), exactly into fen: no float on the way, and a price with
/// more than two decimals (`12.345`) is refused. Whether it is a valid price is the use
/// case's rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Price(pub i64);

impl<'de> Deserialize<'de> for Price {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // The body extractor turns a JSON number into its text for a string target.
        let text = String::deserialize(d)?;
        parse_yuan(text.trim()).map(Price).ok_or_else(|| {
            serde::de::Error::custom(format_args!(
                "a price is a decimal with at most two decimals, not {text:?}"
            ))
        })
    }
}

/// The audit fields of a category, dish or set meal (`+audit` of the course).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Audit {
    create_time: String,
    update_time: String,
    create_user: Option<i64>,
    update_user: Option<i64>,
}

impl Audit {
    /// The audit fields of a row created and updated at these times (Unix ms) by these
    /// employees.
    pub fn new(created: (i64, Option<i64>), updated: (i64, Option<i64>)) -> Audit {
        Audit {
            create_time: fmt_minutes(created.0),
            update_time: fmt_minutes(updated.0),
            create_user: created.1,
            update_user: updated.1,
        }
    }
}

/// `?id=` of a status change: one id, or a comma-joined list (the dish and set-meal pages'
/// batch buttons join the checked ids).
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatusQuery {
    /// One id or a comma-joined list (`1,2,3`).
    #[param(value_type = String)]
    pub id: IdList,
}

/// `?ids=1,2` of a batch delete.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IdsQuery {
    /// One id or a comma-joined list (`1,2,3`).
    #[param(value_type = String)]
    pub ids: IdList,
}
