//! Workspace, reports and export over a known month (see `month`), on SQLite and PostgreSQL:
//! every figure of every endpoint for three shops (one with no orders) and every cell of the
//! export, read back with calamine (values and number formats), compared with the course's
//! template. `zones`: a DST zone's 23- and 25-hour days, end to end.

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod export;
mod figures;
mod month;
mod plans;
mod zones;

use common::Backend;

/// One month built once per backend, then every endpoint asked about it.
async fn known_month(backend: Backend) {
    let m = month::build(backend).await;
    figures::workspace(&m).await;
    figures::reports(&m).await;
    export::export(&m).await;
    m.app.shutdown().await;
}

backend_tests!(a_known_month => known_month);
