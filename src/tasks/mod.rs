//! Scheduled jobs: payment timeouts (every minute by default), delivery completion (daily at
//! 01:00 by default) and re-alerts. Each job is a plain `run_once`-style use case called on a
//! timer, so tests drive it directly with a moved clock instead of sleeping.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::alerts::service::Alerts;
use crate::config::Settings;
use crate::orders::service::Orders;
use crate::time::{Clock, until_next_local};

/// Runs every job until `stop`.
pub async fn run(
    orders: Orders,
    alerts: Alerts,
    clock: Clock,
    settings: Settings,
    stop: CancellationToken,
) {
    tokio::join!(
        payment_timeouts(&orders, &settings, &stop),
        delivery_completion(&orders, &clock, &settings, &stop),
        realerts(&alerts, &settings, &stop),
    );
}

async fn payment_timeouts(orders: &Orders, s: &Settings, stop: &CancellationToken) {
    let mut tick = tokio::time::interval(s.payment_timeout_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.cancelled() => return,
        }
        match orders.cancel_unpaid(s.payment_timeout).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(cancelled = n, "unpaid orders timed out"),
            Err(e) => tracing::warn!(error = %e, "payment-timeout task failed"),
        }
    }
}

async fn delivery_completion(
    orders: &Orders,
    clock: &Clock,
    s: &Settings,
    stop: &CancellationToken,
) {
    loop {
        let wait = until_next_local(clock.now_ms(), s.delivery_complete_at);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.cancelled() => return,
        }
        match orders.complete_delivering(s.delivery_complete_after).await {
            Ok(n) => tracing::info!(completed = n, "delivery-completion task ran"),
            Err(e) => tracing::warn!(error = %e, "delivery-completion task failed"),
        }
    }
}

async fn realerts(alerts: &Alerts, s: &Settings, stop: &CancellationToken) {
    let Some(r) = s.realert else { return };
    // Check often enough that a re-alert is at most a quarter interval late.
    let every =
        (r.delay.min(r.interval) / 4).clamp(Duration::from_millis(500), Duration::from_secs(15));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.cancelled() => return,
        }
        if let Err(e) = alerts.realert_due(&r).await {
            tracing::warn!(error = %e, "re-alert task failed");
        }
    }
}
