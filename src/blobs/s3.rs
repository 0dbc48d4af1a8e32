//! An S3-compatible bucket through `object_store` (Aliyun OSS, MinIO, AWS, …). Every call has
//! one deadline (`SKY_S3_TIMEOUT_SECS`, retries included): a bucket that is down or silent
//! fails the upload within it instead of holding the merchant's request for minutes (the
//! crate's defaults are 10 retries over 3 minutes).

use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::{
    Attribute, AttributeValue, BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt,
    PutOptions, PutPayload, RetryConfig,
};

use super::{BlobError, ImageStore};
use crate::config::images::S3Settings;

/// The bucket and the deadline of each call.
pub(super) struct S3Bucket {
    store: AmazonS3,
    timeout: Duration,
}

impl S3Bucket {
    /// The client of the configured bucket (opens no connection yet).
    pub(super) fn open(s: &S3Settings) -> Result<S3Bucket, BlobError> {
        // object_store's reqwest uses rustls without a built-in provider: ring, as everywhere.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let deadline = s.timeout;
        // `with_client_options` replaces every client option, so allow_http goes in here.
        let options = ClientOptions::new()
            .with_allow_http(
                s.endpoint
                    .as_deref()
                    .is_some_and(|e| e.starts_with("http://")),
            )
            .with_connect_timeout(deadline.min(Duration::from_secs(3)))
            .with_timeout(deadline);
        let retry = RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(50),
                max_backoff: Duration::from_millis(500),
                base: 2.0,
            },
            max_retries: 1,
            retry_timeout: deadline,
        };
        let mut b = AmazonS3Builder::new()
            .with_bucket_name(&s.bucket)
            .with_region(&s.region)
            .with_access_key_id(&s.access_key_id)
            .with_secret_access_key(&s.secret_access_key)
            .with_virtual_hosted_style_request(s.virtual_hosted)
            .with_client_options(options)
            .with_retry(retry);
        if let Some(endpoint) = &s.endpoint {
            b = b.with_endpoint(endpoint);
        }
        Ok(S3Bucket {
            store: b.build()?,
            timeout: deadline,
        })
    }

    async fn within<T>(
        &self,
        call: impl Future<Output = Result<T, object_store::Error>>,
    ) -> Result<T, BlobError> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(r) => Ok(r?),
            Err(_) => Err(BlobError::Timeout(self.timeout)),
        }
    }
}

impl ImageStore for S3Bucket {
    fn put<'a>(
        &'a self,
        name: &'a str,
        bytes: Bytes,
        content_type: &'static str,
    ) -> BoxFuture<'a, Result<(), BlobError>> {
        Box::pin(async move {
            let opts = PutOptions {
                attributes: [
                    (Attribute::ContentType, AttributeValue::from(content_type)),
                    (
                        Attribute::CacheControl,
                        AttributeValue::from(super::CACHE_CONTROL),
                    ),
                ]
                .into_iter()
                .collect(),
                ..Default::default()
            };
            let key = Path::from(name);
            let put = self.store.put_opts(&key, PutPayload::from(bytes), opts);
            self.within(put).await.map(|_| ())
        })
    }

    fn get<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<Bytes>, BlobError>> {
        Box::pin(async move {
            let read = async {
                let got = self.store.get(&Path::from(name)).await?;
                got.bytes().await
            };
            match self.within(read).await {
                Ok(b) => Ok(Some(b)),
                Err(BlobError::S3(object_store::Error::NotFound { .. })) => Ok(None),
                Err(e) => Err(e),
            }
        })
    }
}
