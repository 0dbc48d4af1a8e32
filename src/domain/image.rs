//! Uploaded pictures: which files are images (by content, never by name or declared type),
//! how stored files are named, and the demo menu's pictures by dish name.
//!
//! A file is accepted when it starts with a format's signature **and** its structure holds to
//! its end marker: a PNG's chunks lead from `IHDR` to a final `IEND`, a JPEG's segments lead
//! from `SOI` to the scan and the file ends with `EOI`, a WebP's RIFF size is the file's size
//! and its chunks fill it. Header-only sniffers (`infer`, `imagesize`) accept a truncated file
//! or a signature followed by a script; these checks do not. A valid image can still carry
//! other bytes in a metadata chunk: that is harmless because a stored file gets a random name
//! with the extension of the detected type and is served with that type and `nosniff`.

use std::collections::HashMap;

use super::Refusal;

/// Largest accepted upload, in bytes (the stock app's el-upload refuses 2 MB client-side).
pub const MAX_BYTES: usize = 2 * 1024 * 1024;
/// Largest accepted width or height, in pixels: a small file can declare a picture so large
/// that decoding it exhausts a browser's or a phone's memory.
pub const MAX_SIDE: u32 = 10_000;

/// The upload is not a JPEG, PNG or WebP picture (or is cut short).
pub const NOT_AN_IMAGE: Refusal = Refusal("只能上传 JPEG、PNG 或 WebP 格式的图片");
/// The upload has no bytes.
pub const EMPTY: Refusal = Refusal("上传的文件是空的");
/// The upload is over [`MAX_BYTES`].
pub const TOO_LARGE: Refusal = Refusal("图片大小不能超过 2 MiB");
/// The picture's width or height is over [`MAX_SIDE`].
pub const TOO_MANY_PIXELS: Refusal = Refusal("图片的宽和高不能超过 10000 像素");
/// Storing failed (the message of the course's `MessageConstant.UPLOAD_FAILED`).
pub const UPLOAD_FAILED: Refusal = Refusal("文件上传失败");

/// An accepted picture format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    /// JPEG (JFIF / Exif).
    Jpeg,
    /// PNG.
    Png,
    /// WebP (lossy, lossless or extended).
    Webp,
}

impl ImageKind {
    /// The extension a stored file of this kind gets.
    pub fn extension(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "jpg",
            ImageKind::Png => "png",
            ImageKind::Webp => "webp",
        }
    }

    /// The Content-Type it is served with.
    pub fn content_type(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "image/jpeg",
            ImageKind::Png => "image/png",
            ImageKind::Webp => "image/webp",
        }
    }

    fn from_extension(ext: &str) -> Option<ImageKind> {
        [ImageKind::Jpeg, ImageKind::Png, ImageKind::Webp]
            .into_iter()
            .find(|k| k.extension() == ext)
    }
}

/// What an accepted file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Picture {
    /// Its format.
    pub kind: ImageKind,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// Checks that `bytes` are a whole JPEG, PNG or WebP picture of a sensible size.
pub fn check(bytes: &[u8]) -> Result<Picture, Refusal> {
    if bytes.is_empty() {
        return Err(EMPTY);
    }
    if bytes.len() > MAX_BYTES {
        return Err(TOO_LARGE);
    }
    let (kind, dims) = if bytes.starts_with(PNG_SIGNATURE) {
        (ImageKind::Png, png(bytes))
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        (ImageKind::Jpeg, jpeg(bytes))
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        (ImageKind::Webp, webp(bytes))
    } else {
        return Err(NOT_AN_IMAGE);
    };
    let (width, height) = dims.ok_or(NOT_AN_IMAGE)?;
    if width == 0 || height == 0 {
        return Err(NOT_AN_IMAGE);
    }
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(TOO_MANY_PIXELS);
    }
    Ok(Picture {
        kind,
        width,
        height,
    })
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

/// Walks the chunks: `IHDR` first (13 bytes), each chunk whole, `IEND` last and at the end.
fn png(b: &[u8]) -> Option<(u32, u32)> {
    let mut at = PNG_SIGNATURE.len();
    let mut dims = None;
    loop {
        let len = be32(b, at)? as usize;
        let kind = b.get(at + 4..at + 8)?;
        if !kind.iter().all(u8::is_ascii_alphabetic) {
            return None;
        }
        let end = (at + 12).checked_add(len)?;
        if end > b.len() {
            return None;
        }
        match (dims.is_none(), kind) {
            (true, b"IHDR") if len == 13 => dims = Some((be32(b, at + 8)?, be32(b, at + 12)?)),
            (true, _) => return None,
            (false, b"IHDR") => return None,
            (false, b"IEND") => return (len == 0 && end == b.len()).then_some(dims?),
            (false, _) => {}
        }
        at = end;
    }
}

/// Walks the segments from `SOI` to the first scan (reading the frame's size on the way),
/// then requires the file to end with `EOI` (zero padding after it is tolerated).
fn jpeg(b: &[u8]) -> Option<(u32, u32)> {
    let mut at = 2;
    let mut dims = None;
    loop {
        if b.get(at)? != &0xFF {
            return None;
        }
        let marker = *b.get(at + 1)?;
        match marker {
            0xFF => at += 1, // fill byte
            0x01 | 0xD0..=0xD7 => at += 2,
            0xD8 | 0xD9 => return None,
            _ => {
                let len = be16(b, at + 2)? as usize;
                if len < 2 || at + 2 + len > b.len() {
                    return None;
                }
                let sof = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
                if sof {
                    let h = be16(b, at + 5)? as u32;
                    let w = be16(b, at + 7)? as u32;
                    dims = Some((w, h));
                }
                if marker == 0xDA {
                    break;
                }
                at += 2 + len;
            }
        }
    }
    let end = b.iter().rposition(|&x| x != 0).map_or(0, |i| i + 1);
    b[..end].ends_with(&[0xFF, 0xD9]).then_some(dims?)
}

/// The RIFF size is the file's; the chunks (each padded to even) fill it exactly; the first
/// is the picture (`VP8 `, `VP8L`) or the extended header (`VP8X`), whose size is read.
fn webp(b: &[u8]) -> Option<(u32, u32)> {
    if le32(b, 4)? as usize + 8 != b.len() {
        return None;
    }
    let mut at = 12;
    let mut dims = None;
    while at < b.len() {
        let kind = b.get(at..at + 4)?;
        let len = le32(b, at + 4)? as usize;
        let data = at + 8;
        let end = data.checked_add(len)?.checked_add(len % 2)?;
        if end > b.len() {
            return None;
        }
        if dims.is_none() {
            let d = &b[data..data + len];
            dims = Some(match kind {
                b"VP8X" if len >= 10 => (le24(d, 4)? + 1, le24(d, 7)? + 1),
                b"VP8L" if len >= 5 && d[0] == 0x2F => {
                    let bits = le32(d, 1)?;
                    ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
                }
                b"VP8 " if len >= 10 && d[3..6] == [0x9D, 0x01, 0x2A] => (
                    u32::from(u16::from_le_bytes([d[6], d[7]]) & 0x3FFF),
                    u32::from(u16::from_le_bytes([d[8], d[9]]) & 0x3FFF),
                ),
                _ => return None,
            });
        }
        at = end;
    }
    dims
}

fn le24(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 3)?;
    Some(u32::from(s[0]) | u32::from(s[1]) << 8 | u32::from(s[2]) << 16)
}

/// The kind of a stored file's name, when it is one this service could have given: 32
/// lowercase hex digits, a dot and the extension of its kind. Anything else (other
/// characters, `/`, `..`, another extension) is `None`.
pub fn stored_name_kind(name: &str) -> Option<ImageKind> {
    let (stem, ext) = name.split_once('.')?;
    let hex = stem.len() == 32
        && stem
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c));
    if !hex {
        return None;
    }
    ImageKind::from_extension(ext)
}

/// The stored name of a file: `stem` (32 lowercase hex digits) with the kind's extension.
pub fn stored_name(stem: &str, kind: ImageKind) -> String {
    format!("{stem}.{}", kind.extension())
}

/// The URLs of the demo menu's pictures: one per dish or set-meal name, and a fallback for
/// any other name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoPictures {
    by_name: HashMap<String, String>,
    fallback: String,
}

impl DemoPictures {
    /// Pictures by name, and the URL for any other name.
    pub fn new(by_name: HashMap<String, String>, fallback: String) -> DemoPictures {
        DemoPictures { by_name, fallback }
    }

    /// The picture of a dish or set meal named `name`.
    pub fn url_for(&self, name: &str) -> &str {
        self.by_name.get(name).unwrap_or(&self.fallback)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = include_bytes!("../../tests/fixtures/images/sample.png");
    const JPEG: &[u8] = include_bytes!("../../tests/fixtures/images/sample.jpg");
    const WEBP: &[u8] = include_bytes!("../../tests/fixtures/images/sample.webp");

    #[test]
    fn real_pictures_pass_with_their_size() {
        for (bytes, kind) in [
            (PNG, ImageKind::Png),
            (JPEG, ImageKind::Jpeg),
            (WEBP, ImageKind::Webp),
        ] {
            let p = check(bytes).unwrap();
            assert_eq!((p.kind, p.width, p.height), (kind, 64, 48), "{kind:?}");
        }
    }

    #[test]
    fn cut_pictures_fail() {
        for bytes in [PNG, JPEG, WEBP] {
            for cut in [bytes.len() / 2, bytes.len() - 1, 20] {
                assert_eq!(check(&bytes[..cut]), Err(NOT_AN_IMAGE), "cut at {cut}");
            }
        }
    }

    #[test]
    fn signatures_followed_by_something_else_fail() {
        let script = |head: &[u8]| [head, b"<?php system($_GET['c']); ?>".as_slice()].concat();
        assert_eq!(check(&script(PNG_SIGNATURE)), Err(NOT_AN_IMAGE));
        assert_eq!(check(&script(&[0xFF, 0xD8, 0xFF])), Err(NOT_AN_IMAGE));
        assert_eq!(check(&script(b"RIFF\x20\0\0\0WEBP")), Err(NOT_AN_IMAGE));
        // A PNG's head and tail around a script: the chunk walk finds no IEND at the end.
        let tail = &PNG[PNG.len() - 12..];
        let framed = [&PNG[..33], b"#!/bin/sh\nrm -rf /\n".as_slice(), tail].concat();
        assert_eq!(check(&framed), Err(NOT_AN_IMAGE));
        // Bytes after the end marker.
        assert_eq!(
            check(&[PNG, b"<script>".as_slice()].concat()),
            Err(NOT_AN_IMAGE)
        );
        assert_eq!(check(&[WEBP, b"xx".as_slice()].concat()), Err(NOT_AN_IMAGE));
        // A whole chunk after the RIFF's declared end.
        let junk = [WEBP, b"JUNK\0\0\0\0".as_slice()].concat();
        assert_eq!(check(&junk), Err(NOT_AN_IMAGE));
        for text in [
            &b"#!/bin/sh\necho hi\n"[..],
            b"<svg onload=alert(1)>",
            b"GIF89a",
        ] {
            assert_eq!(check(text), Err(NOT_AN_IMAGE));
        }
    }

    #[test]
    fn empty_huge_and_oversized_fail() {
        assert_eq!(check(b""), Err(EMPTY));
        assert_eq!(check(&vec![0xFF; MAX_BYTES + 1]), Err(TOO_LARGE));
        let mut wide = PNG.to_vec();
        wide[16..20].copy_from_slice(&20_000u32.to_be_bytes());
        assert_eq!(check(&wide), Err(TOO_MANY_PIXELS));
        // Zero padding after a JPEG's EOI is tolerated (some cameras write it).
        assert!(check(&[JPEG, &[0, 0, 0][..]].concat()).is_ok());
    }

    #[test]
    fn stored_names_are_hex_with_a_known_extension() {
        let stem = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            stored_name_kind(&format!("{stem}.png")),
            Some(ImageKind::Png)
        );
        assert_eq!(
            stored_name_kind(&stored_name(stem, ImageKind::Webp)),
            Some(ImageKind::Webp)
        );
        for bad in [
            "../../etc/passwd",
            "0123456789abcdef0123456789ABCDEF.png",
            "0123456789abcdef0123456789abcde.png",
            "0123456789abcdef0123456789abcdef.gif",
            "0123456789abcdef0123456789abcdef.png.png",
            "0123456789abcdef0123456789abcdef",
            "..%2f0123456789abcdef0123456789ab.png",
            "",
        ] {
            assert_eq!(stored_name_kind(bad), None, "{bad}");
        }
    }

    #[test]
    fn demo_pictures_fall_back() {
        let p = DemoPictures::new(
            [("米饭".to_string(), "http://x/a.jpg".to_string())].into(),
            "http://x/any.jpg".into(),
        );
        assert_eq!(p.url_for("米饭"), "http://x/a.jpg");
        assert_eq!(p.url_for("新菜"), "http://x/any.jpg");
    }
}
