//! The process's metrics: one Prometheus recorder, every metric described and present at zero
//! from the start.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// The process-wide Prometheus recorder (metrics macros use one global recorder).
pub fn handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Full(
                        "sky_commit_to_socket_seconds".into(),
                    ),
                    &[
                        0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                    ],
                )
                .expect("buckets are not empty")
                .build_recorder();
            let handle = recorder.handle();
            // Ignore the error of a second install (another Application in the same test process).
            if metrics::set_global_recorder(recorder).is_ok() {
                describe_metrics();
            }
            handle
        })
        .clone()
}

/// Describes every metric and makes each appear at zero from the start, so dashboards and
/// alert rules see them before the first event.
fn describe_metrics() {
    use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge};
    describe_gauge!(
        "sky_connections_open",
        "Open alert connections by kind (legacy, rich, sse)"
    );
    describe_counter!(
        "sky_alerts_created_total",
        "Alerts written to the log, by type and re-alert"
    );
    describe_counter!(
        "sky_alerts_delivered_total",
        "Alerts written to a first socket on this instance"
    );
    describe_counter!("sky_alerts_acknowledged_total", "Alerts marked handled");
    describe_counter!("sky_alerts_realerted_total", "Re-alerts raised");
    describe_histogram!(
        "sky_commit_to_socket_seconds",
        "From the alert's commit to its first socket write"
    );
    describe_counter!(
        "sky_slow_socket_closes_total",
        "Sockets closed because they could not keep up (4008)"
    );
    describe_counter!(
        "sky_replays_total",
        "Connects that replayed alerts from the log"
    );
    describe_counter!("sky_replayed_alerts_total", "Alerts replayed from the log");
    describe_counter!(
        "sky_alert_gaps_repaired_total",
        "Sequence gaps filled from the log"
    );
    describe_counter!(
        "sky_alerts_duplicates_dropped_total",
        "Duplicate publishes dropped by sequence"
    );
    describe_counter!(
        "sky_broker_published_total",
        "Events published to the broker"
    );
    describe_counter!(
        "sky_broker_received_total",
        "Events received from other instances"
    );
    describe_counter!(
        "sky_broker_dropped_total",
        "Events not published because the broker was down or behind"
    );
    describe_counter!("sky_broker_reconnects_total", "Broker (re)connections");
    describe_counter!(
        "sky_payment_notifications_refused_total",
        "WeChat Pay notifications that failed verification"
    );
    describe_counter!(
        "sky_sqlite_writer_transactions_total",
        "Transactions of the SQLite writer thread (jobs / transactions = jobs per commit)"
    );
    describe_counter!(
        "sky_sqlite_writer_jobs_total",
        "Writes run on the SQLite writer thread (payments, delivery marks)"
    );
    for kind in ["legacy", "rich", "sse"] {
        gauge!("sky_connections_open", "kind" => kind).increment(0.0);
        counter!("sky_slow_socket_closes_total", "kind" => kind).increment(0);
        counter!("sky_replays_total", "kind" => kind).increment(0);
        counter!("sky_replayed_alerts_total", "kind" => kind).increment(0);
    }
    for name in [
        "sky_alerts_delivered_total",
        "sky_alerts_acknowledged_total",
        "sky_alerts_realerted_total",
        "sky_alert_gaps_repaired_total",
        "sky_alerts_duplicates_dropped_total",
        "sky_sqlite_writer_transactions_total",
        "sky_sqlite_writer_jobs_total",
    ] {
        counter!(name).increment(0);
    }
}
