//! 员工管理: `POST`/`PUT /admin/employee`, `GET /admin/employee/page`, `GET /admin/employee/{id}`
//! and `POST /admin/employee/status/{status}?id=`, as the stock admin app sends them. Replies
//! never carry a password or its hash: the `password` field (the original's `"****"`) is left
//! out, and the app does not read it.

use axum::extract::{FromRef, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::auth::Tokens;
use crate::auth::identity::Merchant;
use crate::domain::account::EmployeeRecord;
use crate::http::error::{ApiResult, Envelope, done, ok};
use crate::http::extract::{Body, PathParam, QueryParams};
use crate::http::views::{Page, paging};
use crate::time::fmt_minutes;
use crate::usecases::employees::{EmployeeChanges, EmployeeInput, Employees};

/// The employee management routes.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Tokens: FromRef<S>,
    Employees: FromRef<S>,
{
    Router::new()
        .route("/admin/employee", post(add).put(update))
        .route("/admin/employee/page", get(page))
        .route("/admin/employee/{id}", get(one))
        .route("/admin/employee/status/{status}", post(set_status))
}

/// An employee as the app reads it (`sex` `"1"`/`"0"`, times `yyyy-MM-dd HH:mm`).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct EmployeeView {
    id: i64,
    username: String,
    name: String,
    phone: String,
    sex: String,
    id_number: String,
    status: i64,
    create_time: String,
    update_time: String,
    create_user: Option<i64>,
    update_user: Option<i64>,
}

impl From<EmployeeRecord> for EmployeeView {
    fn from(e: EmployeeRecord) -> Self {
        EmployeeView {
            id: e.id,
            username: e.username,
            name: e.name,
            phone: e.phone,
            sex: e.sex,
            id_number: e.id_number,
            status: e.status,
            create_time: fmt_minutes(e.created_at),
            update_time: fmt_minutes(e.updated_at),
            create_user: e.create_user,
            update_user: e.update_user,
        }
    }
}

/// The fields the app sends; everything else it posts back (`password`, `status`, times) is
/// ignored.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct Fields {
    username: Option<String>,
    name: Option<String>,
    phone: Option<String>,
    sex: Option<String>,
    id_number: Option<String>,
}

#[utoipa::path(
    post,
    path = "/admin/employee",
    operation_id = "staff_add",
    tag = "admin: employees",
    request_body = Fields,
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`{code: 1, msg: null, data: null}`, or `code: 0` and the refusal in `msg`", body = Envelope<utoipa::TupleUnit>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn add(
    State(employees): State<Employees>,
    m: Merchant,
    Body(f): Body<Fields>,
) -> ApiResult<Json<Envelope<()>>> {
    let input = EmployeeInput {
        username: f.username.unwrap_or_default(),
        name: f.name.unwrap_or_default(),
        phone: f.phone.unwrap_or_default(),
        sex: f.sex.unwrap_or_default(),
        id_number: f.id_number.unwrap_or_default(),
    };
    employees
        .add(m.shop_id.get(), m.employee_id, &input)
        .await?;
    Ok(done())
}

/// [`Fields`] and the id (no `#[serde(flatten)]`: it would bypass the lenient numbers, and
/// the app may send `"id":"12"`).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct UpdateReq {
    id: i64,
    username: Option<String>,
    name: Option<String>,
    phone: Option<String>,
    sex: Option<String>,
    id_number: Option<String>,
}

#[utoipa::path(
    put,
    path = "/admin/employee",
    operation_id = "staff_update",
    tag = "admin: employees",
    request_body = UpdateReq,
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`{code: 1, msg: null, data: null}`, or `code: 0` and the refusal in `msg`", body = Envelope<utoipa::TupleUnit>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn update(
    State(employees): State<Employees>,
    m: Merchant,
    Body(req): Body<UpdateReq>,
) -> ApiResult<Json<Envelope<()>>> {
    let changes = EmployeeChanges {
        username: req.username,
        name: req.name,
        phone: req.phone,
        sex: req.sex,
        id_number: req.id_number,
    };
    employees
        .update(m.shop_id.get(), m.employee_id, req.id, &changes)
        .await?;
    Ok(done())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
struct PageQuery {
    page: Option<i64>,
    page_size: Option<i64>,
    name: Option<String>,
}

#[utoipa::path(
    get,
    path = "/admin/employee/page",
    operation_id = "staff_page",
    tag = "admin: employees",
    params(PageQuery),
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<Page<EmployeeView>>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn page(
    State(employees): State<Employees>,
    m: Merchant,
    QueryParams(q): QueryParams<PageQuery>,
) -> ApiResult<Json<Envelope<Page<EmployeeView>>>> {
    let (offset, limit) = paging(q.page, q.page_size);
    let p = employees
        .page(m.shop_id.get(), q.name.as_deref(), offset, limit)
        .await?;
    Ok(ok(Page {
        total: p.total,
        records: p.records.into_iter().map(EmployeeView::from).collect(),
    }))
}

#[utoipa::path(
    get,
    path = "/admin/employee/{id}",
    operation_id = "staff_one",
    tag = "admin: employees",
    params(("id" = i64, Path)),
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<EmployeeView>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn one(
    State(employees): State<Employees>,
    m: Merchant,
    PathParam(id): PathParam<i64>,
) -> ApiResult<Json<Envelope<EmployeeView>>> {
    Ok(ok(employees.get(m.shop_id.get(), id).await?.into()))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct IdQuery {
    id: i64,
}

#[utoipa::path(
    post,
    path = "/admin/employee/status/{status}",
    operation_id = "staff_set_status",
    tag = "admin: employees",
    params(IdQuery, ("status" = i64, Path)),
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`{code: 1, msg: null, data: null}`, or `code: 0` and the refusal in `msg`", body = Envelope<utoipa::TupleUnit>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn set_status(
    State(employees): State<Employees>,
    m: Merchant,
    PathParam(status): PathParam<i64>,
    QueryParams(q): QueryParams<IdQuery>,
) -> ApiResult<Json<Envelope<()>>> {
    employees
        .set_status(m.shop_id.get(), m.employee_id, q.id, status)
        .await?;
    Ok(done())
}

/// The OpenAPI description of these routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(add, update, page, one, set_status))]
pub struct Doc;
