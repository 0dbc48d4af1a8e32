//! Where uploaded images are kept and how clients reach them: the public base URL, the local
//! folder (the default) or an S3-compatible bucket.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::http::Uri;

use super::layer::SettingsLayer;
use super::{ConfigError, bad};

/// Image settings.
#[derive(Debug, Clone)]
pub struct ImageSettings {
    /// Base of the URLs this server hands out for what it serves itself (`/images/{name}`),
    /// without a trailing slash. `None`: `http://localhost:<port>` of the bound listener (or
    /// its IP when it is bound to one that is neither loopback nor unspecified).
    pub public_base_url: Option<String>,
    /// Where the files go.
    pub storage: ImageStorage,
}

/// The storage of uploaded images.
#[derive(Debug, Clone)]
pub enum ImageStorage {
    /// A local folder, served by this binary at `/images/{name}`.
    Local {
        /// The folder (created at start-up).
        dir: PathBuf,
    },
    /// An S3-compatible bucket (Aliyun OSS, MinIO, AWS, …).
    S3(S3Settings),
}

/// An S3-compatible bucket.
#[derive(Clone)]
pub struct S3Settings {
    /// Bucket name.
    pub bucket: String,
    /// Endpoint URL (`https://oss-cn-beijing.aliyuncs.com`, `http://127.0.0.1:9000`); `None`
    /// is AWS itself.
    pub endpoint: Option<String>,
    /// Region (`us-east-1` by default; Aliyun OSS: `oss-cn-beijing`…).
    pub region: String,
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
    /// Virtual-hosted-style requests (`bucket.endpoint/key`, which Aliyun OSS requires)
    /// instead of path-style (`endpoint/bucket/key`, which local servers need).
    pub virtual_hosted: bool,
    /// Public URL of the bucket's objects (`https://bucket.oss-cn-beijing.aliyuncs.com` or a
    /// CDN), without a trailing slash: image URLs point there. `None`: images are served by
    /// this binary at `<public base URL>/images/{name}`, read from the bucket.
    pub public_url: Option<String>,
    /// Deadline of one upload or read, retries included.
    pub timeout: Duration,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"***")
            .field("virtual_hosted", &self.virtual_hosted)
            .field("public_url", &self.public_url)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl ImageSettings {
    /// The public base URL: the setting, or `http://localhost:<port>` of the listener bound
    /// at `addr` (its own IP when that is neither loopback nor unspecified). The default works
    /// for a browser and the mini-program's developer tools on the server's machine, which is
    /// the course's layout: the page through nginx on port 80, the images straight from 8080.
    pub fn public_base(&self, addr: SocketAddr) -> String {
        if let Some(url) = &self.public_base_url {
            return url.clone();
        }
        let ip = addr.ip();
        if ip.is_loopback() || ip.is_unspecified() {
            format!("http://localhost:{}", addr.port())
        } else {
            format!("http://{addr}")
        }
    }
}

const PUBLIC_BASE: &str = "--public-base-url / SKY_PUBLIC_BASE_URL";

/// Validates the image settings of a merged layer.
pub fn image_settings(l: &SettingsLayer, database_url: &str) -> Result<ImageSettings, ConfigError> {
    let public_base_url = l
        .public_base_url
        .as_deref()
        .map(|u| base_url(u, PUBLIC_BASE))
        .transpose()?;
    let storage = match l.image_storage.as_deref().unwrap_or("local") {
        "local" => ImageStorage::Local {
            dir: match &l.image_dir {
                Some(d) if d.as_os_str().is_empty() => {
                    return Err(bad("--image-dir / SKY_IMAGE_DIR", "must not be empty"));
                }
                Some(d) => d.clone(),
                None => default_dir(database_url),
            },
        },
        "s3" => ImageStorage::S3(s3_settings(l)?),
        other => {
            return Err(bad(
                "--image-storage / SKY_IMAGE_STORAGE",
                format!("`{other}`: use local or s3"),
            ));
        }
    };
    Ok(ImageSettings {
        public_base_url,
        storage,
    })
}

fn s3_settings(l: &SettingsLayer) -> Result<S3Settings, ConfigError> {
    let required = |v: &Option<String>, name: &'static str| match v.as_deref().map(str::trim) {
        Some(s) if !s.is_empty() => Ok(s.to_string()),
        _ => Err(bad(name, "required with --image-storage s3")),
    };
    let timeout = l.s3_timeout_secs.unwrap_or(10);
    if timeout == 0 {
        return Err(bad(
            "--s3-timeout-secs / SKY_S3_TIMEOUT_SECS",
            "must be greater than 0",
        ));
    }
    Ok(S3Settings {
        bucket: required(&l.s3_bucket, "--s3-bucket / SKY_S3_BUCKET")?,
        endpoint: l
            .s3_endpoint
            .as_deref()
            .map(|u| base_url(u, "--s3-endpoint / SKY_S3_ENDPOINT"))
            .transpose()?,
        region: l.s3_region.clone().unwrap_or_else(|| "us-east-1".into()),
        access_key_id: required(&l.s3_access_key_id, "SKY_S3_ACCESS_KEY_ID")?,
        secret_access_key: required(&l.s3_secret_access_key, "SKY_S3_SECRET_ACCESS_KEY")?,
        virtual_hosted: l.s3_virtual_hosted.unwrap_or(false),
        public_url: l
            .s3_public_url
            .as_deref()
            .map(|u| base_url(u, "--s3-public-url / SKY_S3_PUBLIC_URL"))
            .transpose()?,
        timeout: Duration::from_secs(timeout),
    })
}

/// An `http(s)://host[:port][/path]` URL without query or fragment, its trailing slash cut.
fn base_url(v: &str, name: &'static str) -> Result<String, ConfigError> {
    let v = v.trim().trim_end_matches('/');
    let uri: Uri = v
        .parse()
        .map_err(|_| bad(name, format!("`{v}` is not a URL")))?;
    let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
    let host_ok = uri.host().is_some_and(|h| !h.is_empty());
    if !scheme_ok || !host_ok || uri.query().is_some() || v.contains(['#', '@', ' ']) {
        return Err(bad(
            name,
            format!("`{v}`: use http(s)://host[:port][/path], without query, fragment or user"),
        ));
    }
    Ok(v.to_string())
}

/// `<stem>-images` beside the SQLite file (`sky-takeout-images` for the default
/// `sky-takeout.db`), or `sky-takeout-images` in the working directory for PostgreSQL and
/// in-memory SQLite.
fn default_dir(database_url: &str) -> PathBuf {
    let file = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
        .map(|rest| rest.split('?').next().unwrap_or(""))
        .filter(|f| !f.is_empty() && !f.contains(":memory:"));
    match file.map(Path::new) {
        Some(f) => {
            let stem = f
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("sky-takeout");
            f.with_file_name(format!("{stem}-images"))
        }
        None => PathBuf::from("sky-takeout-images"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(l: SettingsLayer) -> Result<ImageSettings, ConfigError> {
        image_settings(&l, "sqlite://sky-takeout.db")
    }

    #[test]
    fn defaults_are_a_folder_beside_the_database() {
        let s = resolve(SettingsLayer::default()).unwrap();
        assert!(s.public_base_url.is_none());
        let ImageStorage::Local { dir } = s.storage else {
            panic!("local")
        };
        assert_eq!(dir, PathBuf::from("sky-takeout-images"));
        assert_eq!(
            default_dir("sqlite:///var/lib/sky/shop.db?mode=rwc"),
            PathBuf::from("/var/lib/sky/shop-images")
        );
        assert_eq!(
            default_dir("sqlite://data/x.db"),
            PathBuf::from("data/x-images")
        );
        assert_eq!(
            default_dir("postgres://u@h/db"),
            PathBuf::from("sky-takeout-images")
        );
        assert_eq!(
            default_dir("sqlite::memory:"),
            PathBuf::from("sky-takeout-images")
        );
    }

    #[test]
    fn the_default_public_base_is_the_listener() {
        let s = resolve(SettingsLayer::default()).unwrap();
        let at = |a: &str| s.public_base(a.parse().unwrap());
        assert_eq!(at("127.0.0.1:8080"), "http://localhost:8080");
        assert_eq!(at("0.0.0.0:9000"), "http://localhost:9000");
        assert_eq!(at("[::1]:8080"), "http://localhost:8080");
        assert_eq!(at("192.168.1.5:8080"), "http://192.168.1.5:8080");
        assert_eq!(at("[fd00::5]:8080"), "http://[fd00::5]:8080");
    }

    #[test]
    fn public_base_urls_are_checked_and_trimmed() {
        let with = |u: &str| {
            resolve(SettingsLayer {
                public_base_url: Some(u.into()),
                ..Default::default()
            })
        };
        assert_eq!(
            with("http://localhost/").unwrap().public_base_url.unwrap(),
            "http://localhost"
        );
        assert_eq!(
            with("https://shop.example.com/sky")
                .unwrap()
                .public_base_url
                .unwrap(),
            "https://shop.example.com/sky"
        );
        for bad in [
            "localhost:8080",
            "ftp://x",
            "http://",
            "http://x/?a=1",
            "http://u@x",
            "http://x/#f",
            "not a url",
        ] {
            let e = with(bad).unwrap_err().to_string();
            assert!(e.contains("SKY_PUBLIC_BASE_URL"), "{bad}: {e}");
        }
    }

    #[test]
    fn s3_needs_bucket_and_keys() {
        let e = resolve(SettingsLayer {
            image_storage: Some("s3".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert!(e.to_string().contains("SKY_S3_BUCKET"), "{e}");
        let l = SettingsLayer {
            image_storage: Some("s3".into()),
            s3_bucket: Some("images".into()),
            s3_endpoint: Some("http://127.0.0.1:9000/".into()),
            s3_access_key_id: Some("k".into()),
            ..Default::default()
        };
        let e = resolve(l.clone()).unwrap_err();
        assert!(e.to_string().contains("SKY_S3_SECRET_ACCESS_KEY"), "{e}");
        let s = resolve(SettingsLayer {
            s3_secret_access_key: Some("s".into()),
            ..l
        })
        .unwrap();
        let ImageStorage::S3(s3) = s.storage else {
            panic!("s3")
        };
        assert_eq!(s3.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(
            (s3.region.as_str(), s3.virtual_hosted),
            ("us-east-1", false)
        );
        assert!(
            !format!("{s3:?}").contains("\"s\""),
            "the secret is not in Debug output"
        );
        let e = resolve(SettingsLayer {
            image_storage: Some("ftp".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert!(e.to_string().contains("SKY_IMAGE_STORAGE"), "{e}");
    }
}
