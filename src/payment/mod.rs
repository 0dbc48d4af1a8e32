//! Payment providers. `mock` marks an order paid at once; `wechat` verifies WeChat Pay API-v3
//! notifications. Both end in the same `orders::service::payment_succeeded` path.

pub mod wechat;
