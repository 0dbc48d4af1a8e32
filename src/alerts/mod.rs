//! Alerts: the durable log's use cases, the relay (the only publisher), and the delivery
//! tracker with its batched marks.

pub mod relay;
pub mod service;
pub mod tracker;
