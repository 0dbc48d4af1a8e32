//! Uploads as the stock app's el-upload sends them (multipart, field `file`), built by hand so
//! the hostile tests can send any shape, and the sample pictures of `tests/fixtures/images`.

use serde_json::Value;

/// A 64×48 PNG, JPEG and WebP made by `scripts/demo-pictures.mjs`.
pub const PNG: &[u8] = include_bytes!("../fixtures/images/sample.png");
pub const JPEG: &[u8] = include_bytes!("../fixtures/images/sample.jpg");
pub const WEBP: &[u8] = include_bytes!("../fixtures/images/sample.webp");

/// The boundary of every body built here.
pub const BOUNDARY: &str = "----skyTestBoundary7MA4YWxkTrZu0gW";
/// The Content-Type that goes with [`multipart`].
pub const MULTIPART: &str = "multipart/form-data; boundary=----skyTestBoundary7MA4YWxkTrZu0gW";

/// One part: field name, file name, Content-Type, bytes.
pub type Part<'a> = (&'a str, Option<&'a str>, Option<&'a str>, &'a [u8]);

/// A multipart/form-data body of these parts (send it with [`MULTIPART`]).
pub fn multipart(parts: &[Part<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, file_name, content_type, bytes) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let mut disposition = format!("Content-Disposition: form-data; name=\"{name}\"");
        if let Some(f) = file_name {
            disposition.push_str(&format!("; filename=\"{f}\""));
        }
        body.extend_from_slice(disposition.as_bytes());
        body.extend_from_slice(b"\r\n");
        if let Some(ct) = content_type {
            body.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// Uploads `bytes` as the field `file` named `file_name` with the merchant token; returns the
/// HTTP status and the reply's JSON (`Value::Null` when it is not JSON).
pub async fn upload(base: &str, token: &str, file_name: &str, bytes: &[u8]) -> (u16, Value) {
    let body = multipart(&[("file", Some(file_name), Some("image/png"), bytes)]);
    let resp = super::http()
        .post(format!("{base}/admin/common/upload"))
        .header("token", token)
        .header("content-type", MULTIPART)
        .body(body)
        .send()
        .await
        .expect("upload answered");
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The names of the files in `dir` (sorted; hidden temporary files included).
pub fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// GETs `url`: status, Content-Type and the bytes.
pub async fn fetch(url: &str) -> (u16, String, Vec<u8>, reqwest::header::HeaderMap) {
    let resp = super::http().get(url).send().await.expect("GET answered");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, ct, resp.bytes().await.unwrap().to_vec(), headers)
}
