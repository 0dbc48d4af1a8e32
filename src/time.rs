//! Time: an injectable clock (so scheduled tasks are tested without sleeping) and the
//! contract's time formats. Stored times are Unix milliseconds; the wire shows local time.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{Local, LocalResult, NaiveDateTime, TimeZone};

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

fn local(ms: i64) -> Option<chrono::DateTime<Local>> {
    match Local.timestamp_millis_opt(ms) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(t),
        LocalResult::None => None,
    }
}

/// `yyyy-MM-dd HH:mm` in local time (the contract's usual format).
pub fn fmt_minutes(ms: i64) -> String {
    local(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// `yyyy-MM-dd HH:mm:ss` in local time.
pub fn fmt_seconds(ms: i64) -> String {
    local(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// Parses `yyyy-MM-dd HH:mm:ss` (or without seconds) as local time.
pub fn parse_local(s: &str) -> Option<i64> {
    let s = s.trim();
    let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M"))
        .ok()?;
    match Local.from_local_datetime(&naive) {
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
