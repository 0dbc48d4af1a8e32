//! Images: an upload becomes a stored file with a random name and the extension of its
//! sniffed type, and an absolute URL that the clients load; stored files are read back for
//! the serving route. The client's file name and declared type are never used.

use bytes::Bytes;

use super::Result;
use crate::blobs::{BlobError, Blobs};
use crate::domain::image::{self, ImageKind, UPLOAD_FAILED, stored_name};

/// The image use cases. Cheap to clone.
#[derive(Clone)]
pub struct Images {
    blobs: Blobs,
}

impl Images {
    /// Use cases over this store.
    pub fn new(blobs: Blobs) -> Images {
        Images { blobs }
    }

    /// Checks that `bytes` are a whole JPEG, PNG or WebP picture, stores it under a random
    /// name and returns the URL clients load it from. A storage failure is `文件上传失败`,
    /// with the cause logged: never a URL to nothing.
    #[tracing::instrument(skip_all, fields(bytes = bytes.len()))]
    pub async fn upload(&self, bytes: Bytes) -> Result<String> {
        let picture = image::check(&bytes)?;
        let name = stored_name(&format!("{:032x}", rand::random::<u128>()), picture.kind);
        match self.blobs.put(&name, bytes, picture.kind).await {
            Ok(()) => Ok(self.blobs.url(&name)),
            Err(e) => {
                tracing::error!(error = %e, "storing an uploaded image failed");
                Err(UPLOAD_FAILED.into())
            }
        }
    }

    /// A stored image and its kind, or `None` for an unknown name.
    pub async fn open(
        &self,
        name: &str,
    ) -> std::result::Result<Option<(Bytes, ImageKind)>, BlobError> {
        self.blobs.get(name).await
    }
}
