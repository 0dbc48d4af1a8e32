//! Uploaded images: the storage port ([`ImageStore`]) with its two implementations, a local
//! folder ([`local`]) and an S3-compatible bucket ([`s3`]), behind [`Blobs`], which also says
//! where clients fetch a stored file. Files are named by the use cases (32 hex digits and the
//! extension of the sniffed type, see `domain::image`); [`Blobs`] refuses any other name before
//! it reaches a store, so no path from outside ever reaches the file system or a bucket key.
//! [`demo`] holds the demo menu's pictures.

pub mod demo;
mod local;
mod s3;

use std::sync::Arc;

use bytes::Bytes;
use futures_util::future::BoxFuture;

use crate::config::images::{ImageSettings, ImageStorage};
use crate::domain::image::{ImageKind, stored_name_kind};

/// Path under which this server serves stored images (`GET /images/{name}`).
pub const SERVE_PATH: &str = "/images";
/// Cache-Control of a stored image: names are random (or content hashes) and never reused
/// for other bytes, so a copy stays valid for ever.
pub const CACHE_CONTROL: &str = "public, max-age=31536000, immutable";

/// Why a store could not keep or read a file. The message names the store and the cause
/// (never a credential); callers log it and answer `文件上传失败`.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The local folder failed.
    #[error("image folder {path}: {source}")]
    Io {
        /// File or folder at fault.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The bucket failed (refused, unreachable, denied…).
    #[error("object storage: {0}")]
    S3(#[from] object_store::Error),
    /// The bucket did not answer within the deadline.
    #[error("object storage: no answer within {0:?}")]
    Timeout(std::time::Duration),
    /// A name that this service never gives (a bug of the caller).
    #[error("not a stored image name: {0:?}")]
    BadName(String),
}

/// Somewhere to keep image files by name. Two implementations: a local folder and an
/// S3-compatible bucket (the only trait of its kind in the crate, see style.md).
pub trait ImageStore: Send + Sync {
    /// Stores `bytes` as `name` (replacing a file of that name), with its Content-Type.
    fn put<'a>(
        &'a self,
        name: &'a str,
        bytes: Bytes,
        content_type: &'static str,
    ) -> BoxFuture<'a, Result<(), BlobError>>;

    /// The file called `name`, or `None` when there is none.
    fn get<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<Bytes>, BlobError>>;
}

/// The configured store and the URL prefix of its files. Cheap to clone.
#[derive(Clone)]
pub struct Blobs {
    store: Arc<dyn ImageStore>,
    url_prefix: Arc<str>,
}

impl Blobs {
    /// Opens the configured store (creating the local folder, or building the S3 client) for
    /// a server whose public base URL is `public_base` (no trailing slash).
    pub fn open(settings: &ImageSettings, public_base: &str) -> Result<Blobs, BlobError> {
        let served = format!("{public_base}{SERVE_PATH}");
        let (store, url_prefix): (Arc<dyn ImageStore>, String) = match &settings.storage {
            ImageStorage::Local { dir } => (Arc::new(local::LocalDir::open(dir)?), served),
            ImageStorage::S3(s) => (
                Arc::new(s3::S3Bucket::open(s)?),
                s.public_url.clone().unwrap_or(served),
            ),
        };
        Ok(Blobs {
            store,
            url_prefix: url_prefix.into(),
        })
    }

    /// The absolute URL at which clients fetch the stored file `name`.
    pub fn url(&self, name: &str) -> String {
        format!("{}/{name}", self.url_prefix)
    }

    /// Stores a file under a name this service gave (see `domain::image::stored_name`).
    pub async fn put(&self, name: &str, bytes: Bytes, kind: ImageKind) -> Result<(), BlobError> {
        if stored_name_kind(name) != Some(kind) {
            return Err(BlobError::BadName(name.to_string()));
        }
        self.store.put(name, bytes, kind.content_type()).await
    }

    /// The stored file `name` and its kind; `None` for a name this service never gives or a
    /// file that is not there.
    pub async fn get(&self, name: &str) -> Result<Option<(Bytes, ImageKind)>, BlobError> {
        let Some(kind) = stored_name_kind(name) else {
            return Ok(None);
        };
        Ok(self.store.get(name).await?.map(|b| (b, kind)))
    }
}
