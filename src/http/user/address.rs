//! The customer's address book.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::domain::address::Address as AddressRow;
use crate::http::error::{ApiError, ApiResult, Envelope, done, ok};
use crate::http::extract::{Body, Customer, PathParam, QueryParams};
use crate::store::addresses as customers;

pub fn router() -> Router<AppState> {
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
#[derive(Debug, Default, Deserialize, Serialize)]
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
    /// Checks lengths and the required fields, and binds the address to the customer.
    fn into_row(self, user_id: i64) -> Result<AddressRow, ApiError> {
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
        if fields.iter().any(|f| f.chars().count() > 64) || self.detail.chars().count() > 200 {
            return Err(ApiError::BadRequest(
                "a field of the address is too long".into(),
            ));
        }
        if self.consignee.trim().is_empty()
            || self.phone.trim().is_empty()
            || self.detail.trim().is_empty()
        {
            return Err(ApiError::business("收货人、手机号和详细地址不能为空"));
        }
        Ok(AddressRow {
            id: self.id.unwrap_or(0),
            user_id,
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

impl From<AddressRow> for AddressDto {
    fn from(a: AddressRow) -> Self {
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

async fn add(
    State(app): State<AppState>,
    c: Customer,
    Body(dto): Body<AddressDto>,
) -> ApiResult<Json<Envelope<()>>> {
    let row = dto.into_row(c.user_id)?;
    customers::insert_address(app.store.pool(), &row).await?;
    Ok(done())
}

async fn update(
    State(app): State<AppState>,
    c: Customer,
    Body(dto): Body<AddressDto>,
) -> ApiResult<Json<Envelope<()>>> {
    if dto.id.is_none() {
        return Err(ApiError::BadRequest("id is required".into()));
    }
    let row = dto.into_row(c.user_id)?;
    if !customers::update_address(app.store.pool(), &row).await? {
        return Err(ApiError::business("地址不存在"));
    }
    Ok(done())
}

#[derive(Deserialize)]
struct IdQuery {
    id: i64,
}

async fn remove(
    State(app): State<AppState>,
    c: Customer,
    QueryParams(q): QueryParams<IdQuery>,
) -> ApiResult<Json<Envelope<()>>> {
    if !customers::delete_address(app.store.pool(), c.user_id, q.id).await? {
        return Err(ApiError::business("地址不存在"));
    }
    Ok(done())
}

async fn list(
    State(app): State<AppState>,
    c: Customer,
) -> ApiResult<Json<Envelope<Vec<AddressDto>>>> {
    let rows = customers::addresses(app.store.pool(), c.user_id).await?;
    Ok(ok(rows.into_iter().map(AddressDto::from).collect()))
}

async fn one(
    State(app): State<AppState>,
    c: Customer,
    PathParam(id): PathParam<i64>,
) -> ApiResult<Json<Envelope<AddressDto>>> {
    let row = customers::address(app.store.pool(), c.user_id, id)
        .await?
        .ok_or_else(|| ApiError::business("地址不存在"))?;
    Ok(ok(row.into()))
}

async fn get_default(
    State(app): State<AppState>,
    c: Customer,
) -> ApiResult<Json<Envelope<AddressDto>>> {
    let row = customers::default_address(app.store.pool(), c.user_id)
        .await?
        .ok_or_else(|| ApiError::business("没有查询到默认地址"))?;
    Ok(ok(row.into()))
}

#[derive(Deserialize)]
struct IdBody {
    id: i64,
}

async fn set_default(
    State(app): State<AppState>,
    c: Customer,
    Body(b): Body<IdBody>,
) -> ApiResult<Json<Envelope<()>>> {
    let mut tx = app.store.begin().await?;
    if !customers::set_default_address(tx.conn(), c.user_id, b.id).await? {
        return Err(ApiError::business("地址不存在"));
    }
    tx.commit().await?;
    Ok(done())
}
