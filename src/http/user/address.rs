//! The customer's address book.

use axum::extract::{FromRef, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::auth::Tokens;
use crate::auth::identity::Customer;
use crate::domain::address::Address;
use crate::http::error::{ApiError, ApiResult, Envelope, done, ok};
use crate::http::extract::{Body, PathParam, QueryParams};
use crate::usecases::addresses::Addresses;

/// Longest address field (the detail may be longer).
const MAX_FIELD: usize = 64;
/// Longest detail.
const MAX_DETAIL: usize = 200;

/// `/user/addressBook…`.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Tokens: FromRef<S>,
    Addresses: FromRef<S>,
{
    Router::new()
        .route(
            "/user/addressBook",
            axum::routing::post(add).put(update).delete(remove),
        )
        .route("/user/addressBook/list", get(list))
        .route(
            "/user/addressBook/default",
            get(get_default).put(set_default),
        )
        .route("/user/addressBook/{id}", get(one))
}

/// The wire form of an address (in and out).
#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", default)]
struct AddressDto {
    id: Option<i64>,
    user_id: Option<i64>,
    consignee: String,
    sex: String,
    phone: String,
    province_code: String,
    province_name: String,
    city_code: String,
    city_name: String,
    district_code: String,
    district_name: String,
    detail: String,
    label: String,
    is_default: i64,
}

impl AddressDto {
    /// Checks the lengths (the use case checks the required fields).
    fn into_address(self) -> Result<Address, ApiError> {
        let fields = [
            &self.consignee,
            &self.sex,
            &self.phone,
            &self.province_code,
            &self.province_name,
            &self.city_code,
            &self.city_name,
            &self.district_code,
            &self.district_name,
            &self.label,
        ];
        if fields.iter().any(|f| f.chars().count() > MAX_FIELD)
            || self.detail.chars().count() > MAX_DETAIL
        {
            return Err(ApiError::BadRequest(
                "a field of the address is too long".into(),
            ));
        }
        Ok(Address {
            id: self.id.unwrap_or(0),
            user_id: 0,
            consignee: self.consignee,
            sex: self.sex,
            phone: self.phone,
            province_code: self.province_code,
            province_name: self.province_name,
            city_code: self.city_code,
            city_name: self.city_name,
            district_code: self.district_code,
            district_name: self.district_name,
            detail: self.detail,
            label: self.label,
            is_default: 0,
        })
    }
}

impl From<Address> for AddressDto {
    fn from(a: Address) -> Self {
        AddressDto {
            id: Some(a.id),
            user_id: Some(a.user_id),
            consignee: a.consignee,
            sex: a.sex,
            phone: a.phone,
            province_code: a.province_code,
            province_name: a.province_name,
            city_code: a.city_code,
            city_name: a.city_name,
            district_code: a.district_code,
            district_name: a.district_name,
            detail: a.detail,
            label: a.label,
            is_default: a.is_default,
        }
    }
}

#[utoipa::path(
    post,
    path = "/user/addressBook",
    operation_id = "address_add",
    tag = "user: address book",
    request_body = AddressDto,
    security(("authentication" = [])),
    responses(
        (status = 200, description = "`{code: 1, msg: null, data: null}`, or `code: 0` and the refusal in `msg`", body = Envelope<utoipa::TupleUnit>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn add(
    State(book): State<Addresses>,
    c: Customer,
    Body(dto): Body<AddressDto>,
) -> ApiResult<Json<Envelope<()>>> {
    book.add(c.user_id, dto.into_address()?).await?;
    Ok(done())
}

#[utoipa::path(
    put,
    path = "/user/addressBook",
    operation_id = "address_update",
    tag = "user: address book",
    request_body = AddressDto,
    security(("authentication" = [])),
    responses(
        (status = 200, description = "`{code: 1, msg: null, data: null}`, or `code: 0` and the refusal in `msg`", body = Envelope<utoipa::TupleUnit>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn update(
    State(book): State<Addresses>,
    c: Customer,
    Body(dto): Body<AddressDto>,
) -> ApiResult<Json<Envelope<()>>> {
    if dto.id.is_none() {
        return Err(ApiError::BadRequest("id is required".into()));
    }
    book.update(c.user_id, dto.into_address()?).await?;
    Ok(done())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct IdQuery {
    id: i64,
}

#[utoipa::path(
    delete,
    path = "/user/addressBook",
    operation_id = "address_remove",
    tag = "user: address book",
    params(IdQuery),
    security(("authentication" = [])),
    responses(
        (status = 200, description = "`{code: 1, msg: null, data: null}`, or `code: 0` and the refusal in `msg`", body = Envelope<utoipa::TupleUnit>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn remove(
    State(book): State<Addresses>,
    c: Customer,
    QueryParams(q): QueryParams<IdQuery>,
) -> ApiResult<Json<Envelope<()>>> {
    book.remove(c.user_id, q.id).await?;
    Ok(done())
}

#[utoipa::path(
    get,
    path = "/user/addressBook/list",
    operation_id = "address_list",
    tag = "user: address book",
    security(("authentication" = [])),
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<Vec<AddressDto>>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn list(
    State(book): State<Addresses>,
    c: Customer,
) -> ApiResult<Json<Envelope<Vec<AddressDto>>>> {
    let rows = book.list(c.user_id).await?;
    Ok(ok(rows.into_iter().map(AddressDto::from).collect()))
}

#[utoipa::path(
    get,
    path = "/user/addressBook/{id}",
    operation_id = "address_one",
    tag = "user: address book",
    params(("id" = i64, Path)),
    security(("authentication" = [])),
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<AddressDto>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn one(
    State(book): State<Addresses>,
    c: Customer,
    PathParam(id): PathParam<i64>,
) -> ApiResult<Json<Envelope<AddressDto>>> {
    Ok(ok(book.one(c.user_id, id).await?.into()))
}

#[utoipa::path(
    get,
    path = "/user/addressBook/default",
    operation_id = "address_get_default",
    tag = "user: address book",
    security(("authentication" = [])),
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<AddressDto>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn get_default(
    State(book): State<Addresses>,
    c: Customer,
) -> ApiResult<Json<Envelope<AddressDto>>> {
    Ok(ok(book.default(c.user_id).await?.into()))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct IdBody {
    id: i64,
}

#[utoipa::path(
    put,
    path = "/user/addressBook/default",
    operation_id = "address_set_default",
    tag = "user: address book",
    request_body = IdBody,
    security(("authentication" = [])),
    responses(
        (status = 200, description = "`{code: 1, msg: null, data: null}`, or `code: 0` and the refusal in `msg`", body = Envelope<utoipa::TupleUnit>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn set_default(
    State(book): State<Addresses>,
    c: Customer,
    Body(b): Body<IdBody>,
) -> ApiResult<Json<Envelope<()>>> {
    book.set_default(c.user_id, b.id).await?;
    Ok(done())
}

/// The OpenAPI description of these routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(add, update, remove, list, one, get_default, set_default))]
pub struct Doc;
