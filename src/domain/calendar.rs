//! The shop's local days: dates in the shop's time zone (an IANA zone, so DST days have 23 or
//! 25 hours and a day may start at 01:00 where local midnight does not exist), the ranges the
//! reports accept, and the spans of constant UTC offset that let one SQL query bucket Unix
//! milliseconds into local days.
//!
//! Days are half-open: a day is `[its first instant, the next day's first instant)`, so every
//! instant belongs to exactly one day and the days of a range add up to the range. (The
//! original's windows are open on both sides, `order_time > 00:00:00 and < 23:59:59.999999999`,
//! which drops an order placed exactly at midnight from every day.)

use chrono::{DateTime, Days, LocalResult, NaiveDate, NaiveTime, Offset, TimeZone, Utc};
pub use chrono_tz::Tz;

use super::Refusal;

/// Milliseconds in 24 hours (the unit of the local day number, see [`Span`]).
pub const DAY_MS: i64 = 86_400_000;
/// Longest range a report accepts, in days (a leap year).
pub const MAX_RANGE_DAYS: i64 = 366;

/// A date is missing.
pub const NO_DATE: Refusal = Refusal("请选择开始日期和结束日期");
/// A date is not `yyyy-MM-dd`.
pub const BAD_DATE: Refusal = Refusal("日期格式错误，应为yyyy-MM-dd");
/// `begin` is after `end`.
pub const BEGIN_AFTER_END: Refusal = Refusal("开始日期不能晚于结束日期");
/// More than [`MAX_RANGE_DAYS`] days.
pub const RANGE_TOO_LONG: Refusal = Refusal("日期范围不能超过366天");

/// Parses `yyyy-MM-dd` strictly: four-digit year, two-digit month and day, nothing else.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !digits(0..4) {
        return None;
    }
    if !digits(5..7) || !digits(8..10) {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// The first instant of `day` in `tz`, Unix ms: local midnight, or the first local time after
/// it when midnight falls in a DST gap, or the earlier one when it happens twice.
pub fn day_start_ms(tz: Tz, day: NaiveDate) -> i64 {
    let mut t = day.and_time(NaiveTime::MIN);
    loop {
        match tz.from_local_datetime(&t) {
            LocalResult::Single(d) | LocalResult::Ambiguous(d, _) => return d.timestamp_millis(),
            LocalResult::None => t += chrono::Duration::minutes(1),
        }
    }
}

/// The local date of an instant (Unix ms) in `tz`.
pub fn day_of(tz: Tz, ms: i64) -> NaiveDate {
    utc(ms).with_timezone(&tz).date_naive()
}

/// The UTC offset in effect at an instant, in ms (local minus UTC).
pub fn offset_ms(tz: Tz, ms: i64) -> i64 {
    let off = tz.offset_from_utc_datetime(&utc(ms).naive_utc());
    i64::from(off.fix().local_minus_utc()) * 1000
}

fn utc(ms: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// The local day number of a date: days since 1970-01-01 (what `(ms + offset) / DAY_MS` gives
/// for an instant of that date, see [`Span`]).
pub fn day_number(day: NaiveDate) -> i64 {
    (day - NaiveDate::default()).num_days()
}

/// The next instant after `now_ms` at which the local clock in `tz` reads `hh:mm` (a time
/// skipped by a DST gap moves to the first local time after it).
pub fn next_local_time(tz: Tz, now_ms: i64, (hh, mm): (u32, u32)) -> i64 {
    let at = NaiveTime::from_hms_opt(hh, mm, 0).unwrap_or(NaiveTime::MIN);
    let mut day = day_of(tz, now_ms);
    loop {
        let mut t = day.and_time(at);
        let ms = loop {
            match tz.from_local_datetime(&t) {
                LocalResult::Single(d) | LocalResult::Ambiguous(d, _) => {
                    break d.timestamp_millis();
                }
                LocalResult::None => t += chrono::Duration::minutes(1),
            }
        };
        if ms > now_ms {
            return ms;
        }
        day = day.succ_opt().unwrap_or(day);
    }
}

/// A span of time with one UTC offset: every instant `t` in `[start, end)` has the local day
/// number `(t + offset_ms) / DAY_MS` (for instants after 1970, where SQL's integer division
/// truncates as floor does). One query joins the orders with a handful of these and groups by
/// that expression: DST-correct local days, the same SQL on SQLite and PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// First instant, Unix ms.
    pub start: i64,
    /// First instant after it, Unix ms.
    pub end: i64,
    /// Local minus UTC, ms.
    pub offset_ms: i64,
}

/// The spans of constant offset that cover `[start, end)`, in order: one for a zone without
/// DST, one more per transition. Probes once per day and finds each transition exactly by
/// bisection (no zone changes its offset twice within a day and back).
pub fn spans(tz: Tz, start: i64, end: i64) -> Vec<Span> {
    let mut out = Vec::new();
    let mut s = start;
    while s < end {
        let off = offset_ms(tz, s);
        let (mut lo, mut hi) = (s, (s + DAY_MS).min(end));
        while hi < end && offset_ms(tz, hi) == off {
            lo = hi;
            hi = (hi + DAY_MS).min(end);
        }
        if offset_ms(tz, hi) == off {
            out.push(Span {
                start: s,
                end,
                offset_ms: off,
            });
            break;
        }
        // The offset changes in (lo, hi]: find the first instant with the new one.
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if offset_ms(tz, mid) == off {
                lo = mid
            } else {
                hi = mid
            }
        }
        out.push(Span {
            start: s,
            end: hi,
            offset_ms: off,
        });
        s = hi;
    }
    out
}

/// An inclusive range of local dates, at most [`MAX_RANGE_DAYS`] long, `begin <= end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayRange {
    begin: NaiveDate,
    end: NaiveDate,
}

impl DayRange {
    /// The range `begin..=end`, or the refusal that names what is wrong.
    pub fn new(begin: NaiveDate, end: NaiveDate) -> Result<DayRange, Refusal> {
        if begin > end {
            return Err(BEGIN_AFTER_END);
        }
        if (end - begin).num_days() + 1 > MAX_RANGE_DAYS {
            return Err(RANGE_TOO_LONG);
        }
        Ok(DayRange { begin, end })
    }

    /// Parses the query's `begin` and `end` (`yyyy-MM-dd`, inclusive).
    pub fn parse(begin: Option<&str>, end: Option<&str>) -> Result<DayRange, Refusal> {
        let (Some(b), Some(e)) = (begin.map(str::trim), end.map(str::trim)) else {
            return Err(NO_DATE);
        };
        let b = parse_date(b).ok_or(BAD_DATE)?;
        let e = parse_date(e).ok_or(BAD_DATE)?;
        DayRange::new(b, e)
    }

    /// The `n` days before `today` (the export's "last 30 days": today − n … today − 1).
    pub fn days_before(today: NaiveDate, n: u64) -> DayRange {
        let end = today.pred_opt().unwrap_or(today);
        let begin = today.checked_sub_days(Days::new(n)).unwrap_or(end);
        DayRange { begin, end }
    }

    /// One day.
    pub fn single(day: NaiveDate) -> DayRange {
        DayRange {
            begin: day,
            end: day,
        }
    }

    /// First day.
    pub fn begin(&self) -> NaiveDate {
        self.begin
    }

    /// Last day (inclusive).
    pub fn end(&self) -> NaiveDate {
        self.end
    }

    /// Number of days, at least 1.
    pub fn len(&self) -> usize {
        ((self.end - self.begin).num_days() + 1) as usize
    }

    /// Never empty; for clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Every day, in order.
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.begin.iter_days().take(self.len())
    }

    /// `[first instant of begin, first instant after end)` in `tz`, Unix ms.
    pub fn bounds_ms(&self, tz: Tz) -> (i64, i64) {
        let after = self.end.succ_opt().unwrap_or(self.end);
        (day_start_ms(tz, self.begin), day_start_ms(tz, after))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    fn utc_ms(s: &str) -> i64 {
        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M")
            .unwrap()
            .and_utc()
            .timestamp_millis()
    }

    const SHANGHAI: Tz = chrono_tz::Asia::Shanghai;
    const NEW_YORK: Tz = chrono_tz::America::New_York;

    /// The local day number an instant gets from its span (what the SQL computes).
    fn bucket(spans: &[Span], t: i64) -> i64 {
        let s = spans.iter().find(|s| s.start <= t && t < s.end).unwrap();
        (t + s.offset_ms).div_euclid(DAY_MS)
    }

    #[test]
    fn dates_are_strict() {
        assert_eq!(
            parse_date("2024-02-29"),
            NaiveDate::from_ymd_opt(2024, 2, 29)
        );
        for bad in [
            "",
            "2023-02-29",
            "2024-2-01",
            "2024-02-1",
            "24-02-01",
            "2024/02/01",
            "2024-02-01 ",
            "+2024-02-01",
            "2024-13-01",
            "2024-00-10",
            "20240201",
            "2024-02-01T00:00",
            "２０２４-02-01",
            "1' OR '1'='1",
        ] {
            assert_eq!(parse_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn shanghai_days_cross_midnight_utc() {
        // 2024-06-01 in Shanghai is 2024-05-31 16:00 UTC … 2024-06-01 16:00 UTC.
        assert_eq!(
            day_start_ms(SHANGHAI, d("2024-06-01")),
            utc_ms("2024-05-31 16:00")
        );
        assert_eq!(
            day_of(SHANGHAI, utc_ms("2024-06-01 15:59")),
            d("2024-06-01")
        ); // 23:59 local
        assert_eq!(
            day_of(SHANGHAI, utc_ms("2024-06-01 16:01")),
            d("2024-06-02")
        ); // 00:01 local
        // UTC midnight (08:00 local) and the millisecond before it: the same local day.
        let midnight = utc_ms("2024-06-02 00:00");
        assert_eq!(day_of(SHANGHAI, midnight), day_of(SHANGHAI, midnight - 1));
    }

    #[test]
    fn dst_days_have_23_and_25_hours() {
        let len = |tz, s| {
            let day = d(s);
            day_start_ms(tz, day.succ_opt().unwrap()) - day_start_ms(tz, day)
        };
        assert_eq!(len(NEW_YORK, "2026-03-08"), 23 * 3_600_000);
        assert_eq!(len(NEW_YORK, "2026-11-01"), 25 * 3_600_000);
        assert_eq!(len(NEW_YORK, "2026-06-01"), DAY_MS);
        // Santiago 2026-09-06: 24:00 → 01:00, the day starts at 01:00 local (04:00 UTC).
        let santiago = chrono_tz::America::Santiago;
        assert_eq!(
            day_start_ms(santiago, d("2026-09-06")),
            utc_ms("2026-09-06 04:00")
        );
        assert_eq!(len(santiago, "2026-09-06"), 23 * 3_600_000);
    }

    #[test]
    fn spans_bucket_every_instant_into_its_local_day() {
        let range = DayRange::new(d("2026-01-01"), d("2026-12-31")).unwrap();
        let (start, end) = range.bounds_ms(NEW_YORK);
        let s = spans(NEW_YORK, start, end);
        assert_eq!(s.len(), 3, "{s:?}");
        assert_eq!(s[0].start, start);
        assert_eq!(s[2].end, end);
        assert!(s.windows(2).all(|w| w[0].end == w[1].start));
        assert_eq!(s[1].start, utc_ms("2026-03-08 07:00"));
        assert_eq!(s[1].end, utc_ms("2026-11-01 06:00"));
        // Every hour boundary of the year, and the instants just before each day starts.
        for day in range.days() {
            let first = day_start_ms(NEW_YORK, day);
            assert_eq!(bucket(&s, first), day_number(day), "{day}");
            if first > start {
                assert_eq!(bucket(&s, first - 1), day_number(day) - 1, "{day} - 1 ms");
            }
        }
        let mut t = start;
        while t < end {
            assert_eq!(bucket(&s, t), day_number(day_of(NEW_YORK, t)));
            t += 3_600_000;
        }
        let one = spans(SHANGHAI, start, end);
        assert_eq!(
            one,
            vec![Span {
                start,
                end,
                offset_ms: 8 * 3_600_000
            }]
        );
    }

    #[test]
    fn ranges_are_checked() {
        let r = DayRange::parse(Some("2024-06-01"), Some("2024-06-07")).unwrap();
        assert_eq!(r.len(), 7);
        assert_eq!(r.days().last(), Some(d("2024-06-07")));
        assert_eq!(
            DayRange::parse(Some("2024-06-02"), Some("2024-06-01")),
            Err(BEGIN_AFTER_END)
        );
        assert!(DayRange::parse(Some("2024-01-01"), Some("2024-12-31")).is_ok()); // 366 days
        assert!(DayRange::parse(Some("2023-01-01"), Some("2024-01-01")).is_ok()); // 366 days
        assert_eq!(
            DayRange::parse(Some("2023-01-01"), Some("2024-01-02")),
            Err(RANGE_TOO_LONG)
        );
        assert_eq!(DayRange::parse(Some("2024-06-01"), None), Err(NO_DATE));
        assert_eq!(
            DayRange::parse(Some("2024-06-01"), Some("x")),
            Err(BAD_DATE)
        );
        let last30 = DayRange::days_before(d("2024-03-01"), 30);
        assert_eq!(
            (last30.begin(), last30.end()),
            (d("2024-01-31"), d("2024-02-29"))
        );
        assert_eq!(last30.len(), 30);
    }

    #[test]
    fn next_local_time_follows_the_zone() {
        // 00:30 local → 01:00 the same day; 02:00 → 01:00 the next day.
        let now = day_start_ms(SHANGHAI, d("2024-06-01")) + 1_800_000;
        assert_eq!(next_local_time(SHANGHAI, now, (1, 0)) - now, 1_800_000);
        let now = day_start_ms(SHANGHAI, d("2024-06-01")) + 2 * 3_600_000;
        assert_eq!(next_local_time(SHANGHAI, now, (1, 0)) - now, 23 * 3_600_000);
        // New York 2026-03-08 02:30 does not exist: the run is at 03:00 EDT (07:00 UTC).
        let before = utc_ms("2026-03-08 05:00");
        assert_eq!(
            next_local_time(NEW_YORK, before, (2, 30)),
            utc_ms("2026-03-08 07:00")
        );
    }
}
