//! Images in S3-compatible object storage, against a real S3 server on loopback: s3rver (npm,
//! `tests/s3/package.json`; it verifies SigV4 signatures, so a signing bug fails here),
//! installed by `scripts/test.sh` or by the first test that needs it (`npm ci`), started on a
//! port it picks itself, killed at the end of each test. Without node/npm the tests skip
//! loudly, and fail under CI=true (or SKY_REQUIRE_SERVICES).
//!
//! Checked: uploads and the demo pictures land in the bucket and are served (by this server,
//! or straight from the bucket's public URL); a bucket that goes down, that never answers or
//! that refuses the keys answers `文件上传失败` within seconds, never a URL; a first start
//! whose bucket is unreachable stops with a message naming the setting.

#[macro_use]
mod common;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::Backend;
use common::images::{PNG, fetch, upload};
use serde_json::json;
use sky_takeout::config::Settings;
use sky_takeout::config::images::{ImageStorage, S3Settings};
use tokio::io::{AsyncBufReadExt, BufReader};

/// The credentials s3rver accepts.
const KEY: &str = "S3RVER";

/// One s3rver process with a bucket `images`, killed when dropped.
struct S3rver {
    child: tokio::process::Child,
    port: u16,
    _data: tempfile::TempDir,
}

impl Drop for S3rver {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

fn required() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true") || std::env::var("SKY_REQUIRE_SERVICES").is_ok()
}

/// The s3rver binary, installed with `npm ci` in tests/s3 when missing; `None` (after a loud
/// message) when it cannot be installed and this is not CI.
fn s3rver_bin() -> Option<PathBuf> {
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/s3");
    let bin = dir.join("node_modules/.bin/s3rver");
    let _one_at_a_time = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    if !bin.exists() {
        eprintln!("installing s3rver: npm ci in {}", dir.display());
        let status = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status();
        if let Err(e) = &status {
            eprintln!("npm ci failed to start: {e}");
        }
    }
    if bin.exists() {
        return Some(bin);
    }
    assert!(
        !required(),
        "s3rver is required (CI / SKY_REQUIRE_SERVICES) but `npm ci` in tests/s3 did not install it"
    );
    eprintln!("\n!!!!! SKIPPING an S3 test: s3rver is not installed (npm ci in tests/s3) !!!!!\n");
    None
}

/// Starts s3rver on a port of its choosing (it prints `listening on 127.0.0.1:PORT`).
async fn s3rver() -> Option<S3rver> {
    let bin = s3rver_bin()?;
    let data = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(bin)
        .args([
            "-a",
            "127.0.0.1",
            "-p",
            "0",
            "--configure-bucket",
            "images",
            "--silent",
            "-d",
        ])
        .arg(data.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("s3rver starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let port = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(addr) = line.split("listening on ").nth(1) {
                return addr
                    .trim()
                    .rsplit(':')
                    .next()
                    .unwrap()
                    .parse::<u16>()
                    .unwrap();
            }
        }
        panic!("s3rver exited before listening");
    })
    .await
    .expect("s3rver listens within 30 s");
    Some(S3rver {
        child,
        port,
        _data: data,
    })
}

/// S3 settings for a bucket `images` at this port, with these keys.
fn s3_settings(port: u16, key: &str) -> S3Settings {
    S3Settings {
        bucket: "images".into(),
        endpoint: Some(format!("http://127.0.0.1:{port}")),
        region: "us-east-1".into(),
        access_key_id: key.into(),
        secret_access_key: key.into(),
        virtual_hosted: false,
        public_url: None,
        timeout: Duration::from_secs(3),
    }
}

fn use_s3(s3: S3Settings, demo_data: bool) -> impl FnOnce(&mut Settings) {
    move |s| {
        s.images.storage = ImageStorage::S3(s3);
        s.demo_data = demo_data;
    }
}

/// A port nobody listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The demo pictures and an upload are in the bucket, with their type, and this server
/// serves them; an unknown name is 404.
async fn uploads_go_to_the_bucket_and_are_served(backend: Backend) {
    let Some(s3) = s3rver().await else { return };
    let app = common::spawn_with(backend, use_s3(s3_settings(s3.port, KEY), true)).await;
    let demo: String = sqlx::query_scalar("SELECT image FROM dish WHERE name = '米饭'")
        .fetch_one(app.state.store.pool())
        .await
        .unwrap();
    let demo_name = demo.rsplit('/').next().unwrap();
    let (status, ct, bytes, _) = fetch(&format!("{}/images/{demo_name}", app.base)).await;
    assert_eq!((status, ct.as_str()), (200, "image/jpeg"), "{demo}");
    assert_eq!(bytes, include_bytes!("../assets/demo-pictures/mifan.jpg"));

    let admin = app.admin().await;
    let (status, v) = upload(&app.base, &admin.token, "dish.png", PNG).await;
    assert_eq!((status, &v["code"]), (200, &json!(1)), "{v}");
    let url = v["data"].as_str().unwrap();
    let port = app.host.rsplit(':').next().unwrap();
    assert!(
        url.starts_with(&format!("http://localhost:{port}/images/")),
        "{url}"
    );
    let name = url.rsplit('/').next().unwrap();
    let (status, ct, bytes, headers) = fetch(&format!("{}/images/{name}", app.base)).await;
    assert_eq!(
        (status, ct.as_str(), bytes.as_slice()),
        (200, "image/png", PNG)
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    // In the bucket itself, with its Content-Type.
    let (status, ct, bytes, _) =
        fetch(&format!("http://127.0.0.1:{}/images/{name}", s3.port)).await;
    assert_eq!(
        (status, ct.as_str(), bytes.as_slice()),
        (200, "image/png", PNG)
    );
    let (status, ..) = fetch(&format!(
        "{}/images/{}",
        app.base,
        name.replace(".png", ".jpg")
    ))
    .await;
    assert_eq!(status, 404);
}

/// With the bucket's public URL set, image URLs point there and answer from the bucket.
async fn a_public_bucket_url_is_handed_out(backend: Backend) {
    let Some(s3) = s3rver().await else { return };
    let public = format!("http://127.0.0.1:{}/images", s3.port);
    let settings = S3Settings {
        public_url: Some(public.clone()),
        ..s3_settings(s3.port, KEY)
    };
    let app = common::spawn_with(backend, use_s3(settings, true)).await;
    let admin = app.admin().await;
    let (_, v) = upload(&app.base, &admin.token, "dish.png", PNG).await;
    let url = v["data"].as_str().unwrap();
    assert!(url.starts_with(&format!("{public}/")), "{url}");
    let (status, ct, bytes, _) = fetch(url).await;
    assert_eq!(
        (status, ct.as_str(), bytes.as_slice()),
        (200, "image/png", PNG)
    );
    let demo: String = sqlx::query_scalar("SELECT image FROM dish ORDER BY id LIMIT 1")
        .fetch_one(app.state.store.pool())
        .await
        .unwrap();
    assert!(demo.starts_with(&format!("{public}/")), "{demo}");
    assert_eq!(fetch(&demo).await.0, 200);
}

/// Uploads `PNG` and asserts the reply is the 503 `文件上传失败` envelope within `within`.
/// Without demo data there is no `admin`: a shop is made for the test.
async fn upload_fails(app: &common::TestApp, within: Duration, what: &str) {
    let admin = match app.state.settings.demo_data {
        true => app.admin().await,
        false => {
            app.add_shop("无图小馆", "boss", "boss-pass-123").await;
            app.merchant("boss", "boss-pass-123").await
        }
    };
    let started = Instant::now();
    let (status, v) = upload(&app.base, &admin.token, "dish.png", PNG).await;
    let took = started.elapsed();
    eprintln!("{what}: 文件上传失败 after {took:?}");
    assert_eq!(
        (status, v),
        (503, json!({"code": 0, "msg": "文件上传失败", "data": null})),
        "{what}"
    );
    assert!(took < within, "{what}: answered after {took:?}");
}

/// The bucket goes down after start: uploads answer `文件上传失败` at once, images 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bucket_that_goes_down_answers_upload_failed() {
    let Some(s3) = s3rver().await else { return };
    let app = common::spawn_with(Backend::Sqlite, use_s3(s3_settings(s3.port, KEY), true)).await;
    let demo: String = sqlx::query_scalar("SELECT image FROM dish ORDER BY id LIMIT 1")
        .fetch_one(app.state.store.pool())
        .await
        .unwrap();
    let mut s3 = s3;
    s3.child.kill().await.unwrap();
    upload_fails(&app, Duration::from_secs(3), "bucket down").await;
    let name = demo.rsplit('/').next().unwrap();
    assert_eq!(fetch(&format!("{}/images/{name}", app.base)).await.0, 503);
}

/// A bucket that accepts connections and never answers: `文件上传失败` within the deadline
/// (`SKY_S3_TIMEOUT_SECS`, 2 s here), not the crate's minutes of retries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_bucket_times_out() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((sock, _)) = silent.accept().await {
            open.push(sock); // read nothing, answer nothing
        }
    });
    let settings = S3Settings {
        timeout: Duration::from_secs(2),
        ..s3_settings(port, KEY)
    };
    let app = common::spawn_with(Backend::Sqlite, use_s3(settings, false)).await;
    upload_fails(&app, Duration::from_secs(4), "silent bucket").await;
    held.abort();
}

/// Keys the bucket refuses (s3rver checks the signature): `文件上传失败`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_the_bucket_refuses_answer_upload_failed() {
    let Some(s3) = s3rver().await else { return };
    let app = common::spawn_with(
        Backend::Sqlite,
        use_s3(s3_settings(s3.port, "WRONG"), false),
    )
    .await;
    upload_fails(&app, Duration::from_secs(3), "wrong keys").await;
}

/// A first start (demo pictures to store) whose bucket is unreachable stops with one message
/// naming the setting, within seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_start_without_its_bucket_stops_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let url = common::fresh_database(Backend::Sqlite, &dir).await;
    let mut settings = Settings::for_tests(&url);
    settings.images.storage = ImageStorage::S3(s3_settings(closed_port(), KEY));
    let started = Instant::now();
    let err = match sky_takeout::app::Application::build(settings).await {
        Ok(_) => panic!("started without its bucket"),
        Err(e) => format!("{e:#}"),
    };
    assert!(
        err.contains("demo pictures") && err.contains("SKY_IMAGE_STORAGE"),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// s3 bucket at a port nobody listens on, without demo data: uploads fail at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bucket_that_is_not_there_answers_upload_failed() {
    let app = common::spawn_with(
        Backend::Sqlite,
        use_s3(s3_settings(closed_port(), KEY), false),
    )
    .await;
    upload_fails(&app, Duration::from_secs(3), "nothing listening").await;
}

backend_tests!(
    uploads_go_to_the_bucket_and_are_served => uploads_go_to_the_bucket_and_are_served,
    a_public_bucket_url_is_handed_out => a_public_bucket_url_is_handed_out,
);
