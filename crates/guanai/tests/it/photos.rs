//! Activity photos in the file store: a phone photo's EXIF (GPS position, orientation) does
//! not survive the upload (the orientation is applied); a text file, a cut-off JPEG and a
//! PNG claiming huge dimensions are refused with a Chinese message and leave no row and no
//! blob; the blobs on disk are sealed, not the JPEG; images are served as JPEG, privately,
//! not sniffed; each view is audited, and a photo of another county is "not found" (the
//! attempt audited); a removed photo's blobs are gone.

use std::io::Cursor;
use std::path::Path;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use guanai_domain::users::{Password, Role, Username};
use guanai_domain::RegionCode;
use guanai_store::users::NewUser;
use http_body_util::BodyExt;
use image::{ImageFormat, Rgb, RgbImage};
use serde_json::Value;
use tower::ServiceExt;

use crate::publicity::activity;
use crate::util::{Client, TestApp, TestResponse};

/// What the secret GPS tag says; nothing of it may be stored or served.
pub(crate) const SECRET: &[u8] = b"GPS-SECRET-27.1234N";

/// A 64×32 JPEG, made by the image crate (no metadata of its own).
pub(crate) fn plain_jpeg() -> Vec<u8> {
    let image = RgbImage::from_fn(64, 32, |x, y| Rgb([(x * 4) as u8, (y * 8) as u8, 90]));
    let mut out = Vec::new();
    image.write_to(&mut Cursor::new(&mut out), ImageFormat::Jpeg).unwrap();
    out
}

/// An APP1 Exif segment (big-endian TIFF): IFD0 with an ImageDescription holding
/// [`SECRET`], Orientation 6 (turn 90° clockwise) and a GPS IFD with latitude 27°7'12.34"N.
fn exif_segment() -> Vec<u8> {
    let mut tiff: Vec<u8> = b"MM\x00\x2a\x00\x00\x00\x08".to_vec();
    let entry = |tag: u16, kind: u16, count: u32, value: u32| {
        [
            tag.to_be_bytes().as_slice(),
            kind.to_be_bytes().as_slice(),
            count.to_be_bytes().as_slice(),
            value.to_be_bytes().as_slice(),
        ]
        .concat()
    };
    // IFD0 at 8: 3 entries → ends at 8 + 2 + 36 + 4 = 50; the GPS IFD at 50 ends at 80; the
    // latitude's rationals at 80 (24 bytes), the description at 104.
    let description_len = SECRET.len() as u32 + 1;
    tiff.extend_from_slice(&3u16.to_be_bytes());
    tiff.extend(entry(0x010E, 2, description_len, 104));
    tiff.extend(entry(0x0112, 3, 1, 6 << 16));
    tiff.extend(entry(0x8825, 4, 1, 50));
    tiff.extend_from_slice(&0u32.to_be_bytes());
    tiff.extend_from_slice(&2u16.to_be_bytes());
    tiff.extend(entry(0x0001, 2, 2, u32::from_be_bytes(*b"N\0\0\0")));
    tiff.extend(entry(0x0002, 5, 3, 80));
    tiff.extend_from_slice(&0u32.to_be_bytes());
    for (num, den) in [(27u32, 1u32), (7, 1), (1234, 100)] {
        tiff.extend_from_slice(&num.to_be_bytes());
        tiff.extend_from_slice(&den.to_be_bytes());
    }
    assert_eq!(tiff.len(), 104);
    tiff.extend_from_slice(SECRET);
    tiff.push(0);
    let payload = [b"Exif\0\0".as_slice(), tiff.as_slice()].concat();
    let mut segment = vec![0xFF, 0xE1];
    segment.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    segment.extend_from_slice(&payload);
    segment
}

/// The plain JPEG with the Exif segment spliced in after its start-of-image marker, as a
/// phone writes it.
pub(crate) fn phone_jpeg() -> Vec<u8> {
    let plain = plain_jpeg();
    [&plain[..2], exif_segment().as_slice(), &plain[2..]].concat()
}

/// The phone photo with about 420 KB of maker notes (APP2 segments full of [`SECRET`]), as
/// cameras write them: past what an upload keeps in memory, so it reaches the decoder
/// through the spool's file.
fn bulky_phone_jpeg() -> Vec<u8> {
    let phone = phone_jpeg();
    let payload: Vec<u8> = SECRET.iter().copied().cycle().take(60_000).collect();
    let mut notes = Vec::new();
    for _ in 0..7 {
        notes.extend_from_slice(&[0xFF, 0xE2]);
        notes.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        notes.extend_from_slice(&payload);
    }
    [&phone[..2], notes.as_slice(), &phone[2..]].concat()
}

pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// CRC-32 as PNG chunks carry it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A valid 2×2 PNG whose header (with a correct checksum) claims 100000×100000 pixels.
fn huge_png() -> Vec<u8> {
    let mut bytes = Vec::new();
    RgbImage::new(2, 2).write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png).unwrap();
    bytes[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    bytes[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

/// Posts files as `file` fields of one multipart form (the page's form, or the API with
/// its header token when `api`).
pub(crate) async fn upload(
    app: &TestApp,
    client: &Client,
    path: &str,
    files: &[(&str, &[u8])],
    api: bool,
) -> TestResponse {
    upload_form(app, client, path, &[], files, api).await
}

/// Posts text `fields` and files as `file` fields of one multipart form (the page's form,
/// or the API with its header token when `api`).
pub(crate) async fn upload_form(
    app: &TestApp,
    client: &Client,
    path: &str,
    fields: &[(&str, &str)],
    files: &[(&str, &[u8])],
    api: bool,
) -> TestResponse {
    let boundary = "guanai-photo-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    for (name, bytes) in files {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let uri = if api { path.to_owned() } else { format!("{path}?csrf={}", client.csrf) };
    let mut request = Request::post(uri)
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
        .header(header::COOKIE, format!("guanai_session={}", client.cookie));
    if api {
        request = request.header("x-csrf-token", client.csrf.as_str());
    }
    app.send(request.body(Body::from(body)).unwrap()).await
}

/// A GET whose body is kept as bytes.
pub(crate) async fn get_bytes(
    app: &TestApp,
    client: &Client,
    path: &str,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let request = Request::get(path)
        .header(header::COOKIE, format!("guanai_session={}", client.cookie))
        .body(Body::empty())
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.into_body().collect().await.unwrap().to_bytes().to_vec())
}

/// Every file under `dir`, with its bytes.
pub(crate) fn blobs(dir: &Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(blobs(&path));
        } else {
            out.push(std::fs::read(&path).unwrap());
        }
    }
    out
}

/// An activity in 兴桥镇 recorded by the county, its id; and the county's client.
pub(crate) async fn county_activity(app: &TestApp) -> (i64, Client) {
    let county = app.login("demo.county").await;
    let made = activity(app, &county, "door_to_door", "360802100").await;
    (made["id"].as_i64().unwrap(), county)
}

pub(crate) async fn photo_ids(app: &TestApp, client: &Client, activity: i64) -> Vec<i64> {
    let listed = app.get(client, &format!("/api/v1/activities/{activity}/photos")).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    listed.json().as_array().unwrap().iter().map(|p| p["id"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn a_phone_photo_loses_its_exif_and_gps_is_turned_upright_and_kept_sealed() {
    let app = TestApp::demo().await;
    let (activity, county) = county_activity(&app).await;
    let original = phone_jpeg();
    // The splice is a real Exif block: the decoder reads it back from the upload.
    let mut decoder =
        image::ImageReader::with_format(Cursor::new(&original), ImageFormat::Jpeg).into_decoder().unwrap();
    use image::ImageDecoder;
    assert!(contains(&decoder.exif_metadata().unwrap().expect("exif"), SECRET));
    assert!(contains(&original, SECRET));
    let before = blobs(&app._db.files_dir()).len();

    let page =
        upload(&app, &county, &format!("/publicity/{activity}/photos"), &[("现场.jpg", &original)], false)
            .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let ids = photo_ids(&app, &county, activity).await;
    assert_eq!(ids.len(), 1);
    let listed = app.get(&county, &format!("/api/v1/activities/{activity}/photos")).await.json();
    assert_eq!(listed[0]["name"], "现场.jpg");
    assert_eq!(
        (listed[0]["width"].as_i64(), listed[0]["height"].as_i64()),
        (Some(32), Some(64)),
        "turned upright"
    );

    let (status, headers, served) = get_bytes(&app, &county, &format!("/publicity/photos/{}", ids[0])).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "image/jpeg");
    assert_eq!(headers[header::CACHE_CONTROL], "private");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert!(served.starts_with(&[0xFF, 0xD8, 0xFF]));
    assert!(!contains(&served, b"Exif\0\0"), "no Exif segment");
    assert!(!contains(&served, SECRET), "nothing of the GPS block");
    let decoded = image::load_from_memory(&served).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (32, 64));
    let (status, _, thumb) =
        get_bytes(&app, &county, &format!("/api/v1/activities/photos/{}?size=thumb", ids[0])).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!contains(&thumb, b"Exif\0\0"));

    // On disk: two new blobs (image and thumbnail), sealed: neither a JPEG nor the image.
    let on_disk = blobs(&app._db.files_dir());
    assert_eq!(on_disk.len(), before + 2);
    for blob in &on_disk {
        assert!(!blob.starts_with(&[0xFF, 0xD8]), "a blob is a plain JPEG");
        assert!(!contains(blob, &served[..64]) && !contains(blob, SECRET));
    }

    // Each view is audited, with what was seen.
    let views: Vec<_> = app
        .audit_entries("demo.county", "ok")
        .await
        .into_iter()
        .filter(|e| e.action == "file.view" && e.target_id == ids[0].to_string())
        .collect();
    assert_eq!(views.len(), 2, "the image and the thumbnail");
    assert!(views.iter().any(|e| e.detail == "缩略图") && views.iter().any(|e| e.detail == "原图"));

    // The activity's page shows the thumbnail and the upload form.
    let shown = app.get(&county, &format!("/publicity/{activity}")).await;
    assert!(shown.body.contains(&format!("/publicity/photos/{}?size=thumb", ids[0])), "{}", shown.body);
    assert!(shown.body.contains("enctype=\"multipart/form-data\""));

    // Removed: the row and both blobs go; audited.
    let removed = app.post_form(&county, &format!("/publicity/photos/{}/delete", ids[0]), &[]).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.body);
    assert!(photo_ids(&app, &county, activity).await.is_empty());
    assert_eq!(blobs(&app._db.files_dir()).len(), before);
    let gone = app.get(&county, &format!("/publicity/photos/{}", ids[0])).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let entries = app.audit_entries("demo.county", "ok").await;
    assert!(entries.iter().any(|e| e.action == "file.delete" && e.target_id == ids[0].to_string()));
}

#[tokio::test]
async fn a_photo_too_large_to_keep_in_memory_arrives_whole_through_the_spool_and_is_cleaned() {
    let app = TestApp::demo().await;
    let (activity, county) = county_activity(&app).await;
    let original = bulky_phone_jpeg();
    assert!(original.len() > 400_000, "{} bytes", original.len());
    let path = format!("/api/v1/activities/{activity}/photos");
    let api = upload(&app, &county, &path, &[("大照片.jpg", &original)], true).await;
    assert_eq!(api.status, StatusCode::CREATED, "{}", api.body);
    let ids = photo_ids(&app, &county, activity).await;
    assert_eq!(ids.len(), 1);
    let (status, _, served) = get_bytes(&app, &county, &format!("/publicity/photos/{}", ids[0])).await;
    assert_eq!(status, StatusCode::OK);
    let decoded = image::load_from_memory(&served).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (32, 64), "read whole, turned upright");
    assert!(!contains(&served, SECRET), "nothing of the maker notes or the GPS block");
    assert!(served.len() < 20_000, "only the pixels are kept: {} bytes", served.len());
}

#[tokio::test]
async fn text_cut_off_and_huge_images_are_refused_and_nothing_is_kept() {
    let app = TestApp::demo().await;
    let (activity, county) = county_activity(&app).await;
    let before = blobs(&app._db.files_dir()).len();
    let jpeg = plain_jpeg();
    let path = format!("/publicity/{activity}/photos");
    let cases: [(&str, Vec<u8>, &str); 3] = [
        ("名单.txt", "姓名,身份证号\n张三,360802198001010011\n".as_bytes().to_vec(), "不是可识别的图片"),
        ("半张.jpg", jpeg[..jpeg.len() / 2].to_vec(), "已损坏或不完整"),
        ("巨图.png", huge_png(), "过大"),
    ];
    for (name, bytes, message) in &cases {
        // Alone, and together with a good photo: all refused, none kept.
        for files in
            [vec![(*name, bytes.as_slice())], vec![("好.jpg", jpeg.as_slice()), (*name, bytes.as_slice())]]
        {
            let page = upload(&app, &county, &path, &files, false).await;
            assert_eq!(page.status, StatusCode::BAD_REQUEST, "{name}: {}", page.body);
            assert!(page.body.contains(message) && page.body.contains(name), "{name}: {}", page.body);
            assert!(page.body.contains("均未保存"), "{name}: {}", page.body);
        }
        let api =
            upload(&app, &county, &format!("/api/v1/activities/{activity}/photos"), &[(name, bytes)], true)
                .await;
        assert_eq!(api.status, StatusCode::BAD_REQUEST, "{name}: {}", api.body);
        let error: Value = api.json();
        assert_eq!(error["error"]["code"], "bad_request");
        assert!(error["error"]["message"].as_str().unwrap().contains(message));
    }
    assert!(photo_ids(&app, &county, activity).await.is_empty(), "no row");
    assert_eq!(blobs(&app._db.files_dir()).len(), before, "no blob");
    // An empty form says what to do.
    let empty = upload(&app, &county, &path, &[], false).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert!(empty.body.contains("请选择要上传的照片"));
}

#[tokio::test]
async fn a_photo_of_another_county_is_not_found_and_the_attempt_is_audited() {
    let app = TestApp::demo().await;
    let (activity, county) = county_activity(&app).await;
    let saved = upload(
        &app,
        &county,
        &format!("/api/v1/activities/{activity}/photos"),
        &[("a.jpg", &plain_jpeg())],
        true,
    )
    .await;
    assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.body);
    let photo = saved.json()[0]["id"].as_i64().unwrap();
    let system = app.system();
    app.store
        .users()
        .create_user(
            &system,
            NewUser {
                username: Username::parse("qingyuan.staff").unwrap(),
                display_name: "青原区 工作人员".to_owned(),
                role: Role::CountyStaff,
                region: RegionCode::parse("360803").unwrap(),
                org_id: None,
                password: Password::parse("qingyuan-2026").unwrap(),
                must_change_password: false,
            },
        )
        .await
        .unwrap();
    let other = app.login_with("qingyuan.staff", "qingyuan-2026").await;
    for path in [
        format!("/publicity/photos/{photo}"),
        format!("/publicity/photos/{photo}?size=thumb"),
        format!("/api/v1/activities/photos/{photo}"),
    ] {
        let (status, _, body) = get_bytes(&app, &other, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(!body.starts_with(&[0xFF, 0xD8]));
    }
    let list = app.get(&other, &format!("/api/v1/activities/{activity}/photos")).await;
    assert_eq!(list.status, StatusCode::NOT_FOUND);
    let removed = app.post_form(&other, &format!("/publicity/photos/{photo}/delete"), &[]).await;
    assert_eq!(removed.status, StatusCode::NOT_FOUND);
    let denied = app.audit_entries("qingyuan.staff", "denied").await;
    let guesses =
        denied.iter().filter(|e| e.action == "file.view" && e.target_id == photo.to_string()).count();
    assert_eq!(guesses, 4, "each attempt on the photo is logged");
    assert!(app.audit_entries("qingyuan.staff", "ok").await.iter().all(|e| e.action != "file.view"));
    // The photo is still there for its own county.
    assert_eq!(photo_ids(&app, &county, activity).await, vec![photo]);
}
