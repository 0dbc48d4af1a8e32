//! Alerts: the durable log's use cases (`service`), the relay (the only publisher), the batched
//! published/delivered marks (`marks`) and the delivery tracker.

pub mod marks;
pub mod relay;
pub mod service;
pub mod tracker;
