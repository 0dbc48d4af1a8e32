//! Alerts: the model and frames, the durable log's use cases, the relay (the only publisher),
//! the brokers, the in-process hub and the delivery tracker.

pub mod broker;
pub mod hub;
pub mod model;
pub mod relay;
pub mod service;
pub mod tracker;
