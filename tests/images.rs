//! Images on the default storage (a local folder), on SQLite and PostgreSQL: an upload answers
//! an absolute URL under the public base URL that serves the same bytes without a token, with
//! the sniffed type (never the client's name or declared type), `nosniff` and a long cache;
//! unknown or hostile names are 404; the demo dishes' pictures are ordinary stored images; a
//! folder that cannot be written answers `文件上传失败`, never a URL.

#[macro_use]
mod common;

use common::Backend;
use common::images::{JPEG, PNG, WEBP, fetch, files_in, upload};
use serde_json::Value;
use sky_takeout::config::images::ImageStorage;

fn local(dir: &std::path::Path) -> impl FnOnce(&mut sky_takeout::config::Settings) + '_ {
    move |s| {
        s.images.storage = ImageStorage::Local {
            dir: dir.to_path_buf(),
        }
    }
}

/// Each format uploads (under a name with the sniffed extension, whatever the client called
/// it) and its URL answers the same bytes with the right headers, without a token.
async fn uploads_serve_the_same_bytes(backend: Backend) {
    let folder = tempfile::tempdir().unwrap();
    let app = common::spawn_with(backend, local(folder.path())).await;
    let admin = app.admin().await;
    let port = app.host.rsplit(':').next().unwrap();
    let base = format!("http://localhost:{port}/images/");
    for (bytes, client_name, ext, ct) in [
        (PNG, "dish.png", "png", "image/png"),
        (JPEG, "photo.png", "jpg", "image/jpeg"),
        (WEBP, "../../etc/passwd", "webp", "image/webp"),
    ] {
        let (status, v) = upload(&app.base, &admin.token, client_name, bytes).await;
        assert_eq!(
            (status, &v["code"], &v["msg"]),
            (200, &Value::from(1), &Value::Null),
            "{v}"
        );
        let url = v["data"].as_str().unwrap();
        let name = url
            .strip_prefix(&base)
            .unwrap_or_else(|| panic!("{url} under {base}"));
        assert!(
            name.len() == 32 + 1 + ext.len() && name.ends_with(&format!(".{ext}")),
            "{url}"
        );
        assert!(!url.contains("passwd") && !url.contains("dish"), "{url}");
        let stored = std::fs::read(folder.path().join(name)).unwrap();
        assert_eq!(stored, bytes, "the stored file is the upload");
        // Fetched through 127.0.0.1 (the same server as localhost).
        let (status, got_ct, got, headers) = fetch(&format!("{}/images/{name}", app.base)).await;
        assert_eq!((status, got_ct.as_str()), (200, ct));
        assert_eq!(got, bytes);
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(
            headers["cache-control"],
            "public, max-age=31536000, immutable"
        );
    }
    // Nothing but the stored pictures in the folder (no temporary files, nothing outside).
    assert!(files_in(folder.path()).iter().all(|f| !f.starts_with('.')));
    assert!(!folder.path().join("../../etc/passwd.webp").exists());
}

/// A PNG of `size` bytes: the sample with a text chunk that fills it up (a valid PNG).
fn png_of(size: usize) -> Vec<u8> {
    let fill = size - PNG.len() - 12;
    let mut chunk = (fill as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(b"tEXt");
    chunk.resize(8 + fill, b'a');
    chunk.extend_from_slice(&[0; 4]); // CRC: not checked by anyone here
    [&PNG[..33], &chunk, &PNG[33..]].concat()
}

/// Pictures far over the API's 64 KiB body limit, up to exactly 2 MiB, upload: the upload
/// route has its own limit.
async fn pictures_up_to_2_mib_upload(backend: Backend) {
    let folder = tempfile::tempdir().unwrap();
    let app = common::spawn_with(backend, local(folder.path())).await;
    let admin = app.admin().await;
    for size in [200 * 1024, 2 * 1024 * 1024] {
        let png = png_of(size);
        assert_eq!(png.len(), size);
        let (status, v) = upload(&app.base, &admin.token, "big.png", &png).await;
        assert_eq!(
            (status, &v["code"]),
            (200, &Value::from(1)),
            "{size} bytes: {v}"
        );
        let name = v["data"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_string();
        let (status, _, got, _) = fetch(&format!("{}/images/{name}", app.base)).await;
        assert_eq!((status, got.len()), (200, size));
    }
}

/// Names this service never gives are 404, whatever they try; a HEAD works like a GET.
async fn unknown_and_hostile_names_are_404(backend: Backend) {
    let folder = tempfile::tempdir().unwrap();
    let app = common::spawn_with(backend, local(folder.path())).await;
    let admin = app.admin().await;
    let (_, v) = upload(&app.base, &admin.token, "a.png", PNG).await;
    let url = v["data"].as_str().unwrap().to_string();
    let name = url.rsplit('/').next().unwrap().to_string();
    let upper = name.to_uppercase().replace(".PNG", ".png");
    let other_ext = name.replace(".png", ".jpg");
    for path in [
        "/images/0123456789abcdef0123456789abcdef.png".to_string(),
        format!("/images/{upper}"),
        format!("/images/{other_ext}"),
        format!("/images/{name}.png"),
        "/images/..%2Fsecret.png".into(),
        "/images/..%2F..%2Fetc%2Fpasswd".into(),
        "/images/%2e%2e/secret.png".into(),
        "/images/.".into(),
        "/images/".into(),
        format!("/images/%00{name}"),
    ] {
        let (status, _, body, _) = fetch(&format!("{}{path}", app.base)).await;
        assert_eq!(status, 404, "{path}: {:?}", String::from_utf8_lossy(&body));
    }
    let head = common::http()
        .head(url.replace("localhost", "127.0.0.1"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
}

/// The public base URL setting is what uploads answer under.
async fn the_public_base_url_setting_prefixes_urls(backend: Backend) {
    let folder = tempfile::tempdir().unwrap();
    let app = common::spawn_with(backend, |s| {
        local(folder.path())(s);
        s.images.public_base_url = Some("https://shop.example.com/sky".into());
    })
    .await;
    let admin = app.admin().await;
    let (_, v) = upload(&app.base, &admin.token, "a.jpg", JPEG).await;
    let url = v["data"].as_str().unwrap();
    assert!(
        url.starts_with("https://shop.example.com/sky/images/") && url.ends_with(".jpg"),
        "{url}"
    );
}

/// Every demo dish has a picture of its own that the server serves as a JPEG.
async fn demo_dishes_have_served_pictures(backend: Backend) {
    let folder = tempfile::tempdir().unwrap();
    let app = common::spawn_with(backend, local(folder.path())).await;
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT name, image FROM dish ORDER BY id")
        .fetch_all(app.state.store.pool())
        .await
        .unwrap();
    assert_eq!(rows.len(), 10);
    let mut urls = std::collections::HashSet::new();
    for (dish, url) in rows {
        let name = url.rsplit('/').next().unwrap();
        let (status, ct, bytes, _) = fetch(&format!("{}/images/{name}", app.base)).await;
        assert_eq!((status, ct.as_str()), (200, "image/jpeg"), "{dish}: {url}");
        assert!(bytes.len() > 5000, "{dish}: a real picture");
        assert!(urls.insert(url), "{dish}: its own picture");
    }
    // The customer's menu shows them too.
    let c = app.customer("wx-pictures").await;
    let menu = c.get("/user/dish/list?categoryId=1").await;
    for d in menu["data"].as_array().unwrap() {
        assert!(
            d["image"]
                .as_str()
                .unwrap()
                .starts_with("http://localhost:"),
            "{d}"
        );
    }
    // A shop made with the demo menu (the CLI's `shops add --demo-menu`) gets them too.
    let request = sky_takeout::usecases::shops::ShopRequest {
        name: "小馆".into(),
        admin_username: "xiaoguan".into(),
        admin_password: "xiaoguan-pass".into(),
        demo_menu: true,
    };
    let shop = app.state.shops.create(&request).await.unwrap();
    let empty: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM dish WHERE shop_id = $1 AND image = ''")
            .bind(shop)
            .fetch_one(app.state.store.pool())
            .await
            .unwrap();
    assert_eq!(empty, 0, "every dish of the new shop has a picture");
}

/// A folder that cannot be written (replaced by a file) answers `文件上传失败` with a 503,
/// never a URL; reading answers 503 too.
async fn a_broken_folder_answers_upload_failed(backend: Backend) {
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path().join("images");
    let app = common::spawn_with(backend, local(&dir)).await;
    let admin = app.admin().await;
    let demo = sqlx::query_scalar::<_, String>("SELECT image FROM dish ORDER BY id LIMIT 1")
        .fetch_one(app.state.store.pool())
        .await
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::write(&dir, b"not a folder").unwrap();
    let (status, v) = upload(&app.base, &admin.token, "a.png", PNG).await;
    assert_eq!(status, 503, "{v}");
    assert_eq!(
        v,
        serde_json::json!({"code": 0, "msg": "文件上传失败", "data": null})
    );
    let name = demo.rsplit('/').next().unwrap();
    let (status, _, _, _) = fetch(&format!("{}/images/{name}", app.base)).await;
    assert_eq!(status, 503);
}

/// An upload that is not a picture is refused with a 4xx (the stock app then shows
/// `图片上传失败`) and an envelope naming the rule.
async fn refusals_are_4xx_with_the_envelope(backend: Backend) {
    let folder = tempfile::tempdir().unwrap();
    let app = common::spawn_with(backend, local(folder.path())).await;
    let admin = app.admin().await;
    let before = files_in(folder.path());
    let (status, v) = upload(&app.base, &admin.token, "a.png", b"#!/bin/sh\necho hi\n").await;
    assert_eq!(status, 415, "{v}");
    assert_eq!(v["msg"], "只能上传 JPEG、PNG 或 WebP 格式的图片");
    let (status, v) = upload(&app.base, &admin.token, "a.png", &PNG[..PNG.len() - 1]).await;
    assert_eq!((status, &v["code"]), (415, &Value::from(0)), "{v}");
    assert_eq!(files_in(folder.path()), before, "nothing stored");
}

backend_tests!(
    uploads_serve_the_same_bytes => uploads_serve_the_same_bytes,
    pictures_up_to_2_mib_upload => pictures_up_to_2_mib_upload,
    unknown_and_hostile_names_are_404 => unknown_and_hostile_names_are_404,
    the_public_base_url_setting_prefixes_urls => the_public_base_url_setting_prefixes_urls,
    demo_dishes_have_served_pictures => demo_dishes_have_served_pictures,
    a_broken_folder_answers_upload_failed => a_broken_folder_answers_upload_failed,
    refusals_are_4xx_with_the_envelope => refusals_are_4xx_with_the_envelope,
);
