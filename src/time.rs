//! Time: an injectable clock (so scheduled tasks are tested without sleeping) and the
//! contract's time formats. Stored times are Unix milliseconds; the wire shows them in the
//! shop's zone (`--time-zone`), never in the process's (`TZ`, chrono's `Local`): a server run
//! in UTC must still show a Shanghai shop its own clock.
//!
//! The wire zone is one per process, like the `--time-zone` it comes from: `app` installs it
//! with [`set_wire_zone`] when it builds the service, before a request is served, and every
//! formatter below reads it. Not a parameter of each formatter because they run where no
//! request context exists (the hub renders an alert frame once for every socket of a shop; the
//! views are plain `From` conversions); the report and workspace use cases, which compute
//! days, take the zone from the settings explicitly. Until it is set, the zone is the
//! default of `--time-zone`, `Asia/Shanghai`.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

/// Wall-clock time plus an offset that tests can move forward.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// The real clock.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// Now, in Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        chrono::Utc::now().timestamp_millis() + self.offset_ms.load(Ordering::Relaxed)
    }

    /// Sets this clock (and every copy of it) so that it reads `ms` now; it goes on ticking
    /// from there. Tests place orders on chosen days with it.
    pub fn set_now(&self, ms: i64) {
        self.offset_ms.store(
            ms - chrono::Utc::now().timestamp_millis(),
            Ordering::Relaxed,
        );
    }

    /// Moves this clock (and every copy of it) forward.
    pub fn advance(&self, by: Duration) {
        self.offset_ms
            .fetch_add(by.as_millis() as i64, Ordering::Relaxed);
    }
}

/// Milliseconds since the epoch now, by the real clock.
pub fn wall_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The default of `--time-zone` (the course's).
pub const DEFAULT_ZONE: Tz = chrono_tz::Asia::Shanghai;

static WIRE_ZONE: RwLock<Tz> = RwLock::new(DEFAULT_ZONE);

/// Sets the zone the wire's times are written and read in (the settings' `time_zone`).
pub fn set_wire_zone(zone: Tz) {
    *WIRE_ZONE.write().unwrap_or_else(|e| e.into_inner()) = zone;
}

/// The zone the wire's times are written and read in.
pub fn wire_zone() -> Tz {
    *WIRE_ZONE.read().unwrap_or_else(|e| e.into_inner())
}

fn local(zone: Tz, ms: i64) -> Option<DateTime<Tz>> {
    match zone.timestamp_millis_opt(ms) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(t),
        LocalResult::None => None,
    }
}

/// `yyyy-MM-dd HH:mm` in the wire zone (the contract's usual format).
pub fn fmt_minutes(ms: i64) -> String {
    fmt_in(wire_zone(), ms, "%Y-%m-%d %H:%M")
}

/// `yyyy-MM-dd HH:mm:ss` in the wire zone.
pub fn fmt_seconds(ms: i64) -> String {
    fmt_in(wire_zone(), ms, "%Y-%m-%d %H:%M:%S")
}

fn fmt_in(zone: Tz, ms: i64, format: &str) -> String {
    local(zone, ms)
        .map(|t| t.format(format).to_string())
        .unwrap_or_default()
}

/// Parses `yyyy-MM-dd HH:mm:ss` (or without seconds) as a time of the wire zone. A time a
/// DST change skips is refused; one it repeats is the earlier.
pub fn parse_local(s: &str) -> Option<i64> {
    parse_in(wire_zone(), s)
}

fn parse_in(zone: Tz, s: &str) -> Option<i64> {
    let s = s.trim();
    let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M"))
        .ok()?;
    match zone.from_local_datetime(&naive) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(t.timestamp_millis()),
        LocalResult::None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_round_trip() {
        let ms = parse_local("2024-06-01 12:34:56").unwrap();
        assert_eq!(fmt_seconds(ms), "2024-06-01 12:34:56");
        assert_eq!(fmt_minutes(ms), "2024-06-01 12:34");
        assert_eq!(parse_local("2024-06-01 12:34"), Some(ms - 56_000));
    }

    #[test]
    fn zone_is_the_shops_not_the_process() {
        // 2024-06-01 04:34:56 UTC is 12:34:56 in Shanghai and 00:34:56 in New York (EDT).
        let ms = 1_717_216_496_000;
        let shanghai = chrono_tz::Asia::Shanghai;
        let new_york = chrono_tz::America::New_York;
        assert_eq!(
            fmt_in(shanghai, ms, "%Y-%m-%d %H:%M:%S"),
            "2024-06-01 12:34:56"
        );
        assert_eq!(fmt_in(new_york, ms, "%Y-%m-%d %H:%M"), "2024-06-01 00:34");
        assert_eq!(parse_in(shanghai, "2024-06-01 12:34:56"), Some(ms));
        assert_eq!(parse_in(new_york, "2024-06-01 00:34:56"), Some(ms));
        // A local time that New York's spring-forward skips does not exist.
        assert_eq!(parse_in(new_york, "2024-03-10 02:30"), None);
    }

    #[test]
    fn rejects_garbage() {
        for s in [
            "",
            "yesterday",
            "2024-13-01 00:00:00",
            "2024-06-01T12:00:00",
            "9999999",
        ] {
            assert_eq!(parse_local(s), None, "{s}");
        }
    }

    #[test]
    fn clock_advances_all_copies() {
        let c = Clock::system();
        let d = c.clone();
        let before = d.now_ms();
        c.advance(Duration::from_secs(3600));
        assert!(d.now_ms() - before >= 3_600_000);
        c.set_now(1_000_000);
        assert!((1_000_000..1_060_000).contains(&d.now_ms()));
    }
}
