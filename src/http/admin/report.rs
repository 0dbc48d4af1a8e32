//! 数据统计: `/admin/report/turnoverStatistics`, `userStatistics`, `ordersStatistics`, `top10`
//! (`begin`/`end` as `yyyy-MM-dd`, inclusive, at most 366 days; a missing, malformed or
//! reversed range is a code-0 message) and `export` (the last 30 days as an xlsx file in the
//! course template's layout; a failure is a non-2xx status, since the app saves any 2xx body).
//! Series are comma-joined strings, numbers printed as the original's `Double`/`Integer`.

mod xlsx;

use axum::extract::{FromRef, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::auth::Tokens;
use crate::auth::identity::Merchant;
use crate::domain::calendar::DayRange;
use crate::domain::report::{join, join_doubles, list_name};
use crate::http::error::{ApiError, ApiResult, Envelope, ok};
use crate::http::extract::QueryParams;
use crate::usecases::reports::{Daily, Reports};

/// The file name the app saves the export as, also sent in `Content-Disposition`.
const EXPORT_FILE_NAME: &str = "运营数据统计报表.xlsx";
/// The xlsx media type.
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// `/admin/report/…`.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Tokens: FromRef<S>,
    Reports: FromRef<S>,
{
    Router::new()
        .route("/admin/report/turnoverStatistics", get(turnover))
        .route("/admin/report/userStatistics", get(users))
        .route("/admin/report/ordersStatistics", get(orders))
        .route("/admin/report/top10", get(top10))
        .route("/admin/report/export", get(export))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct RangeQuery {
    begin: Option<String>,
    end: Option<String>,
}

impl RangeQuery {
    fn range(&self) -> Result<DayRange, ApiError> {
        Ok(DayRange::parse(self.begin.as_deref(), self.end.as_deref())?)
    }
}

fn date_list(range: DayRange) -> String {
    join(range.days().map(|d| d.format("%Y-%m-%d")))
}

/// The original's `TurnoverReportVO`.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct Turnover {
    date_list: String,
    turnover_list: String,
}

#[utoipa::path(
    get,
    path = "/admin/report/turnoverStatistics",
    operation_id = "report_turnover",
    tag = "admin: reports",
    params(RangeQuery),
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<Turnover>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn turnover(
    State(r): State<Reports>,
    m: Merchant,
    QueryParams(q): QueryParams<RangeQuery>,
) -> ApiResult<Json<Envelope<Turnover>>> {
    let d = r.orders(m.shop_id.get(), q.range()?).await?;
    Ok(ok(Turnover {
        date_list: date_list(d.range),
        turnover_list: join_doubles(d.days.iter().map(|f| f.turnover())),
    }))
}

/// The original's `UserReportVO`.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct Users {
    date_list: String,
    total_user_list: String,
    new_user_list: String,
}

#[utoipa::path(
    get,
    path = "/admin/report/userStatistics",
    operation_id = "report_users",
    tag = "admin: reports",
    params(RangeQuery),
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<Users>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn users(
    State(r): State<Reports>,
    m: Merchant,
    QueryParams(q): QueryParams<RangeQuery>,
) -> ApiResult<Json<Envelope<Users>>> {
    let u = r.users(m.shop_id.get(), q.range()?).await?;
    Ok(ok(Users {
        date_list: date_list(u.range),
        total_user_list: join(&u.total),
        new_user_list: join(&u.new),
    }))
}

/// The original's `OrderReportVO`.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct Orders {
    date_list: String,
    order_count_list: String,
    valid_order_count_list: String,
    total_order_count: i64,
    valid_order_count: i64,
    order_completion_rate: f64,
}

#[utoipa::path(
    get,
    path = "/admin/report/ordersStatistics",
    operation_id = "report_orders",
    tag = "admin: reports",
    params(RangeQuery),
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<Orders>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn orders(
    State(r): State<Reports>,
    m: Merchant,
    QueryParams(q): QueryParams<RangeQuery>,
) -> ApiResult<Json<Envelope<Orders>>> {
    let d: Daily = r.orders(m.shop_id.get(), q.range()?).await?;
    let total = d.total();
    Ok(ok(Orders {
        date_list: date_list(d.range),
        order_count_list: join(d.days.iter().map(|f| f.orders)),
        valid_order_count_list: join(d.days.iter().map(|f| f.valid)),
        total_order_count: total.orders,
        valid_order_count: total.valid,
        order_completion_rate: total.completion_rate(),
    }))
}

/// The original's `SalesTop10ReportVO`.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct Top10 {
    name_list: String,
    number_list: String,
}

#[utoipa::path(
    get,
    path = "/admin/report/top10",
    operation_id = "report_top10",
    tag = "admin: reports",
    params(RangeQuery),
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<Top10>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn top10(
    State(r): State<Reports>,
    m: Merchant,
    QueryParams(q): QueryParams<RangeQuery>,
) -> ApiResult<Json<Envelope<Top10>>> {
    let top = r.top10(m.shop_id.get(), q.range()?).await?;
    Ok(ok(Top10 {
        name_list: join(top.iter().map(|(name, _)| list_name(name))),
        number_list: join(top.iter().map(|(_, n)| n)),
    }))
}

/// `Content-Disposition` with the Chinese name (RFC 5987 `filename*`) and an ASCII fallback.
fn disposition() -> String {
    let encoded: String = EXPORT_FILE_NAME
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("attachment; filename=\"report.xlsx\"; filename*=UTF-8''{encoded}")
}

#[utoipa::path(
    get,
    path = "/admin/report/export",
    operation_id = "report_export",
    tag = "admin: reports",
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "the last 30 days in the course template's layout, as the attachment `运营数据统计报表.xlsx`", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn export(State(r): State<Reports>, m: Merchant) -> ApiResult<Response> {
    let daily = r.export(m.shop_id.get()).await?;
    // Building the workbook is CPU work (tens of ms in a debug build): off the async threads.
    let bytes = tokio::task::spawn_blocking(move || xlsx::render(&daily))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, XLSX.to_string()),
            (header::CONTENT_DISPOSITION, disposition()),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response())
}

/// The OpenAPI description of these routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(turnover, users, orders, top10, export))]
pub struct Doc;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_name_is_percent_encoded_utf8() {
        assert_eq!(
            disposition(),
            "attachment; filename=\"report.xlsx\"; filename*=UTF-8''%E8%BF%90%E8%90%A5%E6%95%B0%E6%8D%AE%E7%BB%9F%E8%AE%A1%E6%8A%A5%E8%A1%A8.xlsx"
        );
    }
}
