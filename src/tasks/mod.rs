//! Scheduled jobs: payment timeouts (every minute by default), delivery completion (daily at
//! 01:00 in the shops' time zone by default) and re-alerts. Each job is a plain use case called on a timer, so tests
//! drive it directly with a moved clock instead of sleeping. On several instances only the
//! leader runs them; the state changes are conditional updates anyway, so even two runs
//! never change an order twice.

pub mod leader;

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::alerts::service::Alerts;
use crate::config::Settings;
use crate::domain::calendar::next_local_time;
use crate::time::Clock;
use crate::usecases::orders::Orders;
use leader::Leader;

/// What the jobs need.
pub struct Jobs {
    /// Order use cases.
    pub orders: Orders,
    /// Alert use cases.
    pub alerts: Alerts,
    /// Clock.
    pub clock: Clock,
    /// Settings.
    pub settings: Settings,
    /// Leadership among instances.
    pub leader: Leader,
}

/// Runs every job until `stop`.
pub async fn run(jobs: Jobs, stop: CancellationToken) {
    tokio::join!(
        payment_timeouts(&jobs, &stop),
        delivery_completion(&jobs, &stop),
        realerts(&jobs, &stop)
    );
}

/// Waits for the next tick; false when stopping.
async fn tick(t: &mut tokio::time::Interval, stop: &CancellationToken) -> bool {
    tokio::select! {
        _ = t.tick() => true,
        _ = stop.cancelled() => false,
    }
}

fn interval(every: Duration) -> tokio::time::Interval {
    let mut t = tokio::time::interval(every);
    t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    t
}

async fn payment_timeouts(j: &Jobs, stop: &CancellationToken) {
    let mut t = interval(j.settings.payment_timeout_every);
    while tick(&mut t, stop).await {
        if !j.leader.is_leader() {
            continue;
        }
        match j.orders.cancel_unpaid(j.settings.payment_timeout).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(cancelled = n, "unpaid orders timed out"),
            Err(e) => tracing::warn!(error = %e, "payment-timeout task failed"),
        }
    }
}

async fn delivery_completion(j: &Jobs, stop: &CancellationToken) {
    loop {
        let wait = until_daily_run(&j.settings, j.clock.now_ms());
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.cancelled() => return,
        }
        if !j.leader.is_leader() {
            continue;
        }
        match j
            .orders
            .complete_delivering(j.settings.delivery_complete_after)
            .await
        {
            Ok(n) => tracing::info!(completed = n, "delivery-completion task ran"),
            Err(e) => tracing::warn!(error = %e, "delivery-completion task failed"),
        }
    }
}

/// Time until the delivery-completion task's next run: `--delivery-complete-at` on the shops'
/// clock (`--time-zone`), not the process's, so it runs at 01:00 in Shanghai whatever `TZ` the
/// server was started with (and at the first local time after it on a DST gap).
fn until_daily_run(settings: &Settings, now_ms: i64) -> Duration {
    let next = next_local_time(settings.time_zone, now_ms, settings.delivery_complete_at);
    Duration::from_millis((next - now_ms).max(1000) as u64)
}

async fn realerts(j: &Jobs, stop: &CancellationToken) {
    let Some(r) = j.settings.realert else { return };
    // Check often enough that a re-alert is at most a quarter interval late.
    let every =
        (r.delay.min(r.interval) / 4).clamp(Duration::from_millis(500), Duration::from_secs(15));
    let mut t = interval(every);
    while tick(&mut t, stop).await {
        if !j.leader.is_leader() {
            continue;
        }
        if let Err(e) = j.alerts.realert_due(&r).await {
            tracing::warn!(error = %e, "re-alert task failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_daily_run_follows_the_shops_zone() {
        let mut s = Settings::for_tests("sqlite::memory:");
        // 2024-06-01 00:30 in Shanghai is 2024-05-31 16:30 UTC.
        let now = 1_717_173_000_000;
        assert_eq!(until_daily_run(&s, now), Duration::from_secs(30 * 60));
        s.time_zone = chrono_tz::Europe::London; // 17:30 BST there: 01:00 is 7.5 h away
        assert_eq!(
            until_daily_run(&s, now),
            Duration::from_secs(7 * 3600 + 1800)
        );
        s.delivery_complete_at = (17, 30); // exactly now: the next day's run
        assert_eq!(until_daily_run(&s, now), Duration::from_secs(24 * 3600));
    }
}
