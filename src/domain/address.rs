//! The customer's address book.

use super::Refusal;

/// `is_default` of the default address.
pub const DEFAULT: i64 = 1;
/// `is_default` of the others.
pub const NOT_DEFAULT: i64 = 0;

/// 地址不存在 (also for someone else's address).
pub const NOT_FOUND: Refusal = Refusal("地址不存在");
/// No default address.
pub const NO_DEFAULT: Refusal = Refusal("没有查询到默认地址");
/// A required field is empty.
pub const INCOMPLETE: Refusal = Refusal("收货人、手机号和详细地址不能为空");
/// The address chosen at submit is not the customer's.
pub const NONE_FOR_ORDER: Refusal = Refusal("用户地址为空，不能下单");

/// An address-book entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    /// Id (0 for a new one).
    pub id: i64,
    /// The customer.
    pub user_id: i64,
    /// Who receives the order.
    pub consignee: String,
    /// Their sex, as the client sends it.
    pub sex: String,
    /// Their phone.
    pub phone: String,
    /// Province code.
    pub province_code: String,
    /// Province name.
    pub province_name: String,
    /// City code.
    pub city_code: String,
    /// City name.
    pub city_name: String,
    /// District code.
    pub district_code: String,
    /// District name.
    pub district_name: String,
    /// Street, building, door.
    pub detail: String,
    /// The customer's label (家, 公司…).
    pub label: String,
    /// [`DEFAULT`] for the default address.
    pub is_default: i64,
}

impl Address {
    /// The one-line address an order is delivered to.
    pub fn one_line(&self) -> String {
        format!(
            "{}{}{}{}",
            self.province_name, self.city_name, self.district_name, self.detail
        )
    }
}

/// An address must name who receives it, their phone and where.
pub fn check(a: &Address) -> Result<(), Refusal> {
    if a.consignee.trim().is_empty() || a.phone.trim().is_empty() || a.detail.trim().is_empty() {
        return Err(INCOMPLETE);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consignee_phone_and_detail_are_required() {
        let full = Address {
            consignee: "张三".into(),
            phone: "13800000000".into(),
            detail: "软件园1号楼".into(),
            ..Default::default()
        };
        assert_eq!(check(&full), Ok(()));
        for blank in ["", "  "] {
            for field in 0..3 {
                let mut a = full.clone();
                *[&mut a.consignee, &mut a.phone, &mut a.detail][field] = blank.into();
                assert_eq!(check(&a), Err(INCOMPLETE));
            }
        }
    }

    #[test]
    fn one_line_joins_province_city_district_and_detail() {
        let a = Address {
            province_name: "北京市".into(),
            city_name: "北京市".into(),
            district_name: "海淀区".into(),
            detail: "软件园1号楼".into(),
            ..Default::default()
        };
        assert_eq!(a.one_line(), "北京市北京市海淀区软件园1号楼");
    }
}
