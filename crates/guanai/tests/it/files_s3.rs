//! Uploaded files in an S3-compatible bucket (`files_url`), against a real S3 server in
//! process: s3s-fs serving a temp folder over the S3 protocol through hyper, with SigV4
//! authentication. A photo uploaded through the API lands in the bucket under the URL's
//! prefix, sealed (no JPEG, nothing of the image or its GPS block), nothing in the local
//! files folder; it is read back whole; two instances on one database and one bucket see
//! and remove each other's files; a bad URL, a missing bucket or a dead endpoint stops
//! `guanai serve` at start with a Chinese message naming the setting.

use std::path::PathBuf;

use axum::http::StatusCode;
use guanai_store::files::Bucket;
use hyper_util::rt::{TokioExecutor, TokioIo};

use crate::photos::{blobs, contains, county_activity, get_bytes, phone_jpeg, photo_ids, upload, SECRET};
use crate::util::{TestApp, TestDb};

const KEY_ID: &str = "guanai-test";
const KEY_SECRET: &str = "guanai-test-secret-key";

/// An S3 server on 127.0.0.1 serving a temp folder, one sub-folder per bucket; it stops
/// with the test.
struct S3Server {
    endpoint: String,
    root: tempfile::TempDir,
    task: tokio::task::JoinHandle<()>,
}

impl S3Server {
    async fn start(buckets: &[&str]) -> S3Server {
        let root = tempfile::tempdir().expect("temp dir");
        for bucket in buckets {
            std::fs::create_dir(root.path().join(bucket)).expect("the bucket's folder");
        }
        let mut service =
            s3s::service::S3ServiceBuilder::new(s3s_fs::FileSystem::new(root.path()).expect("s3s-fs"));
        service.set_auth(s3s::auth::SimpleAuth::from_single(KEY_ID, KEY_SECRET));
        let service = service.build();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let service = service.clone();
                tokio::spawn(async move {
                    let http = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                    let _ = http.serve_connection(TokioIo::new(socket), service).await;
                });
            }
        });
        S3Server { endpoint, root, task }
    }

    /// `s3://name/prefix` on this server, with its credentials (nothing from the process's
    /// environment, so tests running in parallel do not meet).
    fn bucket(&self, url: &str) -> Bucket {
        Bucket::new(url).expect("a bucket URL").endpoint(&self.endpoint).credentials(KEY_ID, KEY_SECRET)
    }

    /// The folder the server keeps `bucket/prefix` in.
    fn folder(&self, path: &str) -> PathBuf {
        self.root.path().join(path)
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[tokio::test]
async fn photos_in_a_bucket_are_sealed_and_two_instances_share_them() {
    let server = S3Server::start(&["guanai-papers"]).await;
    let url = "s3://guanai-papers/city/3608";
    let a = TestApp::demo_in_bucket(server.bucket(url)).await;
    let (activity, county) = county_activity(&a).await;
    let in_bucket = || blobs(&server.folder("guanai-papers/city/3608/activity_photo"));

    let path = format!("/api/v1/activities/{activity}/photos");
    let saved = upload(&a, &county, &path, &[("现场.jpg", &phone_jpeg())], true).await;
    assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.body);
    let first = saved.json()[0]["id"].as_i64().unwrap();
    let (status, _, served) = get_bytes(&a, &county, &format!("/publicity/photos/{first}")).await;
    assert_eq!(status, StatusCode::OK);
    let decoded = image::load_from_memory(&served).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (32, 64), "read back whole, turned upright");

    // In the bucket, under the URL's prefix: the image and its thumbnail, sealed; nothing
    // in the local folder but the (empty) spool.
    let stored = in_bucket();
    assert_eq!(stored.len(), 2, "the image and its thumbnail");
    for blob in &stored {
        assert!(!blob.starts_with(&[0xFF, 0xD8]), "a blob is a plain JPEG");
        assert!(!contains(blob, &served[..64]) && !contains(blob, SECRET) && !contains(blob, b"JFIF"));
    }
    assert!(blobs(&a._db.files_dir()).is_empty(), "no blob on the local disk");

    // A second instance on the same database and bucket (the session too is shared).
    let b = a.another_instance(server.bucket(url)).await;
    let (status, _, seen) = get_bytes(&b, &county, &format!("/publicity/photos/{first}")).await;
    assert_eq!((status, seen == served), (StatusCode::OK, true), "B reads A's photo");
    let saved = upload(&b, &county, &path, &[("第二张.jpg", &phone_jpeg())], true).await;
    assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.body);
    let second = saved.json()[0]["id"].as_i64().unwrap();
    let (status, _, thumb) =
        get_bytes(&a, &county, &format!("/api/v1/activities/photos/{second}?size=thumb")).await;
    assert_eq!(status, StatusCode::OK, "A reads B's photo");
    assert!(thumb.starts_with(&[0xFF, 0xD8, 0xFF]));
    assert_eq!(in_bucket().len(), 4);

    // Removed by the other instance: gone for both, blobs and all.
    let removed = b.post_form(&county, &format!("/publicity/photos/{first}/delete"), &[]).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.body);
    assert_eq!(a.get(&county, &format!("/publicity/photos/{first}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(photo_ids(&a, &county, activity).await, vec![second]);
    assert_eq!(in_bucket().len(), 2);
    let removed = a.post_form(&county, &format!("/publicity/photos/{second}/delete"), &[]).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.body);
    assert_eq!(b.get(&county, &format!("/publicity/photos/{second}")).await.status, StatusCode::NOT_FOUND);
    assert!(in_bucket().is_empty(), "no blob left in the bucket");
}

/// `guanai serve` on an empty database with `args` and the `AWS_*` variables `aws`: its
/// exit status and what it printed.
async fn serve(db: &TestDb, args: &[&str], aws: &[(&str, &str)]) -> (bool, String) {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_guanai"));
    command
        .args(["--database-url", &db.url, "--encryption-key", &db.key_hex, "--data-dir"])
        .arg(db.dir())
        .args(args)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .envs(aws.iter().copied())
        .kill_on_drop(true);
    let run = tokio::time::timeout(std::time::Duration::from_secs(120), command.output());
    let output = run.await.expect("guanai serve stops at once").expect("guanai runs");
    (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[tokio::test]
async fn a_bad_url_a_missing_bucket_or_a_dead_endpoint_stops_the_start() {
    let server = S3Server::start(&["guanai-papers"]).await;
    let db = TestDb::new().await;
    let reach = [
        ("AWS_ENDPOINT", server.endpoint.as_str()),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_ACCESS_KEY_ID", KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", KEY_SECRET),
        ("AWS_REGION", "us-east-1"),
    ];
    let (ok, said) = serve(&db, &["--files-url", "https://example.com/papers"], &reach).await;
    assert!(!ok && said.contains("files_url") && said.contains("s3://"), "{said}");
    let (ok, said) = serve(&db, &["--files-url", "s3://no-such-bucket/x"], &reach).await;
    assert!(!ok && said.contains("files_url") && said.contains("存储桶不存在"), "{said}");
    let mut dead = reach;
    dead[0].1 = "http://127.0.0.1:1";
    let (ok, said) = serve(&db, &["--files-url", "s3://guanai-papers"], &dead).await;
    assert!(!ok && said.contains("files_url") && said.contains("无法访问存储桶"), "{said}");

    // Through the store: the same checks, and a good bucket opens.
    let target = db.target();
    let store = || guanai_store::Store::open(&target, db.keys());
    let spool = guanai_store::files::spool_dir(&db.files_dir());
    let missing = store().await.unwrap().with_bucket(server.bucket("s3://guanai-scans"), &spool).await;
    assert!(missing.unwrap_err().to_string().contains("存储桶不存在"));
    let wrong_key = server.bucket("s3://guanai-papers").credentials(KEY_ID, "not-the-secret");
    let refused = store().await.unwrap().with_bucket(wrong_key, &spool).await;
    assert!(refused.unwrap_err().to_string().contains("files_url"));
    assert!(store().await.unwrap().with_bucket(server.bucket("s3://guanai-papers"), &spool).await.is_ok());
}
