//! The reports (数据统计) and the export: a shop's figures per local day over a range of at
//! most 366 days, its customers by the day of their first order, its best sellers, and the
//! last 30 days for the Excel export. One grouped query per series (`store::reports`).

use super::Result;
use crate::domain::calendar::{DayRange, Tz, day_of};
use crate::domain::report::{DayFigures, TOP};
use crate::store::Store;
use crate::store::reports as sql;
use crate::time::Clock;

/// How many days the export covers (today − 30 … yesterday, as the original).
pub const EXPORT_DAYS: u64 = 30;

/// A range and its figures, one per day in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Daily {
    /// The days.
    pub range: DayRange,
    /// One per day of `range`.
    pub days: Vec<DayFigures>,
}

impl Daily {
    /// The whole range's figures.
    pub fn total(&self) -> DayFigures {
        self.days.iter().copied().sum::<DayFigures>()
    }
}

/// Customers per day: new that day, and all so far at its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSeries {
    /// The days.
    pub range: DayRange,
    /// Customers whose first order in the shop falls on the day.
    pub new: Vec<i64>,
    /// Customers whose first order in the shop came before the day's end.
    pub total: Vec<i64>,
}

/// The report use cases. Cheap to clone.
#[derive(Clone)]
pub struct Reports {
    store: Store,
    clock: Clock,
    zone: Tz,
}

impl Reports {
    /// Use cases over this store and clock, with local days in `zone`.
    pub fn new(store: Store, clock: Clock, zone: Tz) -> Reports {
        Reports { store, clock, zone }
    }

    /// Orders, valid orders and turnover per day (`new_users` left 0).
    pub async fn orders(&self, shop_id: i64, range: DayRange) -> Result<Daily> {
        let days = sql::order_days(self.store.pool(), shop_id, self.zone, range).await?;
        Ok(Daily { range, days })
    }

    /// New and total customers per day.
    pub async fn users(&self, shop_id: i64, range: DayRange) -> Result<UserSeries> {
        let (before, new) = sql::first_orders(self.store.pool(), shop_id, self.zone, range).await?;
        let total = new
            .iter()
            .scan(before, |so_far, n| {
                *so_far += n;
                Some(*so_far)
            })
            .collect();
        Ok(UserSeries { range, new, total })
    }

    /// The ten best sellers of completed orders in the range (name, quantity), most first.
    pub async fn top10(&self, shop_id: i64, range: DayRange) -> Result<Vec<(String, i64)>> {
        let bounds = range.bounds_ms(self.zone);
        Ok(sql::top(self.store.pool(), shop_id, bounds, TOP).await?)
    }

    /// The export's data: every figure of each of the last 30 days (new users included).
    pub async fn export(&self, shop_id: i64) -> Result<Daily> {
        let today = day_of(self.zone, self.clock.now_ms());
        let range = DayRange::days_before(today, EXPORT_DAYS);
        let mut daily = self.orders(shop_id, range).await?;
        let (_, new) = sql::first_orders(self.store.pool(), shop_id, self.zone, range).await?;
        for (day, n) in daily.days.iter_mut().zip(new) {
            day.new_users = n;
        }
        Ok(daily)
    }
}
