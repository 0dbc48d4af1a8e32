//! A local folder of image files, written atomically (a temporary file renamed into place),
//! so a reader never sees half a file and a failed write leaves nothing under the name.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures_util::future::BoxFuture;

use super::{BlobError, ImageStore};

/// The folder.
pub(super) struct LocalDir {
    dir: PathBuf,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BlobError + '_ {
    move |source| BlobError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl LocalDir {
    /// The folder, created when missing.
    pub(super) fn open(dir: &Path) -> Result<LocalDir, BlobError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        Ok(LocalDir {
            dir: dir.to_path_buf(),
        })
    }

    async fn write(&self, name: &str, bytes: Bytes) -> Result<(), BlobError> {
        let path = self.dir.join(name);
        // A dot name: never a stored name, so never served while it is being written.
        let tmp = self
            .dir
            .join(format!(".{name}.{:016x}.tmp", rand::random::<u64>()));
        if let Err(e) = tokio::fs::write(&tmp, &bytes).await {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(io(&tmp)(e));
        }
        if let Err(e) = tokio::fs::rename(&tmp, &path).await {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(io(&path)(e));
        }
        Ok(())
    }
}

impl ImageStore for LocalDir {
    fn put<'a>(
        &'a self,
        name: &'a str,
        bytes: Bytes,
        _content_type: &'static str,
    ) -> BoxFuture<'a, Result<(), BlobError>> {
        Box::pin(self.write(name, bytes))
    }

    fn get<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<Bytes>, BlobError>> {
        Box::pin(async move {
            let path = self.dir.join(name);
            match tokio::fs::read(&path).await {
                Ok(b) => Ok(Some(Bytes::from(b))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(io(&path)(e)),
            }
        })
    }
}
