//! The workspace's and the reports' figures and how the stock admin app reads them: per-day
//! figures, the derived rates (0.0 when a divisor is 0, as the original), and the series as
//! comma-joined strings whose numbers print as the original's Java `Double`s and `Integer`s.
//!
//! Definitions (per shop; the original's are platform-wide where it has no shop):
//! - an order belongs to the local day of its `order_time` (half-open days, see `calendar`);
//! - *valid* orders are completed ones (status 5), *turnover* their amounts;
//! - a *new user* of a day is a customer whose first order in this shop (any status) falls in
//!   that day; the *total users* at a day are those whose first order in this shop came
//!   before the day's end. (The original counts users registered on the platform that day,
//!   which with many shops would show every shop the others' customers.)

use std::fmt::Display;

use super::status::Status;

/// The status whose orders are valid (and make turnover).
pub const VALID: Status = Status::Completed;

/// One local day's (or one range's) figures of one shop.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayFigures {
    /// Orders placed, any status.
    pub orders: i64,
    /// Completed orders.
    pub valid: i64,
    /// Sum of the completed orders' amounts, fen.
    pub turnover_fen: i64,
    /// Customers whose first order in the shop falls in the day.
    pub new_users: i64,
}

/// Adding days' figures gives the range's.
impl std::ops::Add for DayFigures {
    type Output = DayFigures;

    fn add(self, o: DayFigures) -> DayFigures {
        DayFigures {
            orders: self.orders + o.orders,
            valid: self.valid + o.valid,
            turnover_fen: self.turnover_fen + o.turnover_fen,
            new_users: self.new_users + o.new_users,
        }
    }
}

/// The sum of days' figures.
impl std::iter::Sum for DayFigures {
    fn sum<I: Iterator<Item = DayFigures>>(days: I) -> DayFigures {
        days.fold(DayFigures::default(), |a, b| a + b)
    }
}

impl DayFigures {
    /// Turnover in yuan, as the original's `Double`.
    pub fn turnover(&self) -> f64 {
        yuan(self.turnover_fen)
    }

    /// Valid / all orders; 0.0 when there are none.
    pub fn completion_rate(&self) -> f64 {
        ratio(self.valid as f64, self.orders)
    }

    /// Turnover per valid order, yuan; 0.0 when there are none.
    pub fn unit_price(&self) -> f64 {
        ratio(self.turnover(), self.valid)
    }
}

fn ratio(num: f64, den: i64) -> f64 {
    if den == 0 || num == 0.0 {
        0.0
    } else {
        num / den as f64
    }
}

/// Fen as yuan: the nearest `f64` to `fen / 100`, which is what the original's
/// `BigDecimal.doubleValue()` of the summed amount gives.
pub fn yuan(fen: i64) -> f64 {
    fen as f64 / 100.0
}

/// A `double` as Java's `Double.toString` prints it: the shortest digits that read back,
/// at least one after the point (`56.0`), and `1.0E7` notation from ten million up (and under
/// one thousandth).
pub fn java_double(x: f64) -> String {
    if !x.is_finite() {
        return if x.is_nan() {
            "NaN".into()
        } else if x > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if x == 0.0 {
        return if x.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    let a = x.abs();
    if (1e-3..1e7).contains(&a) {
        let s = format!("{x}");
        return if s.contains('.') { s } else { format!("{s}.0") };
    }
    let s = format!("{x:e}"); // 1.2345e7, 1e7, 1e-4
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let mantissa = if mantissa.contains('.') {
        mantissa.to_string()
    } else {
        format!("{mantissa}.0")
    };
    format!("{mantissa}E{exp}")
}

/// Items joined with `,` (the original's `StringUtils.join(list, ",")`).
pub fn join<T: Display>(items: impl IntoIterator<Item = T>) -> String {
    let mut out = String::new();
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&item.to_string());
    }
    out
}

/// `Double`s joined with `,`, each as Java prints it.
pub fn join_doubles(items: impl IntoIterator<Item = f64>) -> String {
    join(items.into_iter().map(java_double))
}

/// A name as an item of a comma-joined list: an ASCII comma inside it becomes `，` (full
/// width), so the app's `split(',')` keeps names and numbers aligned.
pub fn list_name(name: &str) -> String {
    name.replace(',', "，")
}

/// How many best sellers `top10` lists.
pub const TOP: i64 = 10;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_print_as_java() {
        for (x, java) in [
            (0.0, "0.0"),
            (56.0, "56.0"),
            (12.5, "12.5"),
            (0.01, "0.01"),
            (19.99, "19.99"),
            (1234567.8, "1234567.8"),
            (9999999.99, "9999999.99"),
            (1e7, "1.0E7"),
            (12345678.9, "1.23456789E7"),
            (0.0005, "5.0E-4"),
            (2.0 / 3.0, "0.6666666666666666"),
            (100.0 / 3.0, "33.333333333333336"),
            (1.0, "1.0"),
        ] {
            assert_eq!(java_double(x), java, "{x}");
        }
        assert_eq!(java_double(yuan(4470)), "44.7");
        assert_eq!(join_doubles([0.0, 56.0, 44.7]), "0.0,56.0,44.7");
        assert_eq!(join([3, 0, 12]), "3,0,12");
        assert_eq!(join(Vec::<i64>::new()), "");
    }

    #[test]
    fn rates_are_zero_without_a_divisor() {
        let none = DayFigures::default();
        assert_eq!((none.completion_rate(), none.unit_price()), (0.0, 0.0));
        let cancelled_only = DayFigures {
            orders: 2,
            ..Default::default()
        };
        assert_eq!(cancelled_only.completion_rate(), 0.0);
        let day = DayFigures {
            orders: 3,
            valid: 2,
            turnover_fen: 10_001,
            new_users: 1,
        };
        assert_eq!(day.completion_rate(), 2.0 / 3.0);
        assert_eq!(day.unit_price(), 100.01 / 2.0);
        let two = day + day;
        assert_eq!(
            (two.orders, two.valid, two.turnover_fen, two.new_users),
            (6, 4, 20_002, 2)
        );
    }

    #[test]
    fn names_keep_the_list_aligned() {
        assert_eq!(list_name("鱼,香肉丝"), "鱼，香肉丝");
        assert_eq!(join(["a,b", "c"].map(list_name)), "a，b,c");
    }
}
