//! Payment providers. `mock` marks an order paid at once; `wechat` creates a WeChat Pay JSAPI
//! order (and logs customers in through WeChat) and verifies WeChat Pay API-v3 notifications.
//! Both end in the one "payment succeeded" path of the payments use case
//! (`usecases::payments::Payments::succeeded`).

/// The platform's RSA public key from PEM, and signature checks on ring.
pub mod rsa_public;
pub mod wechat;
pub mod wechat_api;
