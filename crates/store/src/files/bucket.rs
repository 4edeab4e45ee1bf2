//! An S3-compatible bucket as the home of the file store's blobs (configuration
//! `files_url`, e.g. `s3://guanai-papers/prefix`): Amazon S3, MinIO, or any server that
//! speaks the protocol. The endpoint, region and credentials come from the standard `AWS_*`
//! environment variables (`AWS_ENDPOINT`, `AWS_ALLOW_HTTP`, `AWS_REGION`,
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, …), or, in tests, from the builder's own
//! methods. The bucket is asked for once when the store opens, so a wrong URL, endpoint or
//! key stops the start with a message instead of failing the first upload.
//!
//! Only the blobs go there; they are sealed before they leave (`mod.rs`), so the bucket's
//! operator sees no image. Uploads arriving are still spooled to the local folder.

use std::sync::Arc;
use std::time::Duration;

use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::prefix::PrefixStore;
use object_store::{ClientConfigKey, ObjectStore, RetryConfig};

use crate::{StoreError, StoreResult};

/// How long the start-up check may take before the bucket counts as unreachable.
const CHECK_TIMEOUT: Duration = Duration::from_secs(20);

/// An S3-compatible bucket and the folder (prefix) in it where the blobs go; nothing is
/// asked of the server until [`crate::Store::with_bucket`] opens it.
#[derive(Debug, Clone)]
pub struct Bucket {
    /// `s3://bucket/prefix`, as messages name it.
    url: String,
    prefix: String,
    builder: AmazonS3Builder,
}

impl Bucket {
    /// The bucket `url` names (`s3://bucket` or `s3://bucket/prefix`), reached as the
    /// standard `AWS_*` environment variables say (endpoint, region, credentials).
    pub fn from_env(url: &str) -> StoreResult<Bucket> {
        Bucket::parse(url, AmazonS3Builder::from_env())
    }

    /// The bucket `url` names, with nothing taken from the environment: the caller gives
    /// the endpoint and credentials ([`Bucket::endpoint`], [`Bucket::credentials`]).
    pub fn new(url: &str) -> StoreResult<Bucket> {
        Bucket::parse(url, AmazonS3Builder::new())
    }

    fn parse(url: &str, builder: AmazonS3Builder) -> StoreResult<Bucket> {
        let url = url.trim();
        let bad = || {
            StoreError::invalid(format!(
                "配置项 files_url 须是S3存储桶的地址，形如 s3://guanai-papers 或 s3://guanai-papers/前缀，而不是“{url}”"
            ))
        };
        let parsed = url::Url::parse(url).map_err(|_| bad())?;
        let plain = parsed.username().is_empty()
            && parsed.password().is_none()
            && parsed.port().is_none()
            && parsed.query().is_none()
            && parsed.fragment().is_none();
        if !matches!(parsed.scheme(), "s3" | "s3a") || !plain {
            return Err(bad());
        }
        let name = parsed.host_str().unwrap_or_default().to_owned();
        if name.is_empty() {
            return Err(bad());
        }
        if !bucket_name_is_valid(&name) {
            return Err(StoreError::invalid(format!(
                "配置项 files_url 中的存储桶名“{name}”不合规：须由小写字母、数字、点和连字符组成，3到63个字符，以字母或数字开头和结尾"
            )));
        }
        let prefix = parsed.path().trim_matches('/').to_owned();
        let shown = if prefix.is_empty() { format!("s3://{name}") } else { format!("s3://{name}/{prefix}") };
        Ok(Bucket { builder: builder.with_url(format!("s3://{name}")), url: shown, prefix })
    }

    /// The server's address (`http://127.0.0.1:9000` for a MinIO on this machine); a
    /// plain-HTTP address is allowed.
    pub fn endpoint(mut self, endpoint: &str) -> Bucket {
        self.builder = self.builder.with_endpoint(endpoint).with_allow_http(endpoint.starts_with("http://"));
        self
    }

    /// The access key and its secret.
    pub fn credentials(mut self, key_id: &str, secret: &str) -> Bucket {
        self.builder = self.builder.with_access_key_id(key_id).with_secret_access_key(secret);
        self
    }

    /// The region requests are signed for (default `us-east-1`).
    pub fn region(mut self, region: &str) -> Bucket {
        self.builder = self.builder.with_region(region);
        self
    }

    /// `s3://bucket/prefix`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The bucket as a blob store, once it has answered a listing of its prefix (with few
    /// retries and short timeouts, so a wrong endpoint is told in seconds).
    pub(crate) async fn open(self) -> StoreResult<Arc<dyn ObjectStore>> {
        let unusable = |detail: String| {
            let hint = if detail.contains("NoSuchBucket") { "存储桶不存在；" } else { "" };
            StoreError::invalid(format!(
                "配置项 files_url：无法访问存储桶“{}”（{hint}{detail}）。请检查存储桶是否已建立，以及环境变量 AWS_ENDPOINT、AWS_REGION、AWS_ACCESS_KEY_ID、AWS_SECRET_ACCESS_KEY（HTTP 地址还需 AWS_ALLOW_HTTP=true）",
                self.url
            ))
        };
        let checker = self
            .builder
            .clone()
            .with_retry(RetryConfig {
                max_retries: 1,
                retry_timeout: Duration::from_secs(10),
                ..Default::default()
            })
            // Set key by key: the client options as a whole hold AWS_ALLOW_HTTP too.
            .with_config(AmazonS3ConfigKey::Client(ClientConfigKey::ConnectTimeout), "5s")
            .with_config(AmazonS3ConfigKey::Client(ClientConfigKey::Timeout), "15s")
            .build()
            .map_err(|e| unusable(e.to_string()))?;
        let checker = self.prefixed(checker);
        match tokio::time::timeout(CHECK_TIMEOUT, checker.list_with_delimiter(None)).await {
            Ok(Ok(_)) => {}
            Ok(Err(err)) => return Err(unusable(err.to_string())),
            Err(_) => return Err(unusable(format!("{} 秒内没有应答", CHECK_TIMEOUT.as_secs()))),
        }
        let blobs = self.builder.clone().build().map_err(|e| unusable(e.to_string()))?;
        Ok(self.prefixed(blobs))
    }

    fn prefixed<T: ObjectStore>(&self, store: T) -> Arc<dyn ObjectStore> {
        if self.prefix.is_empty() {
            Arc::new(store)
        } else {
            Arc::new(PrefixStore::new(store, self.prefix.as_str()))
        }
    }
}

/// S3's rules for a bucket's name (the common subset every server accepts).
fn bucket_name_is_valid(name: &str) -> bool {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    (3..=63).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && edge(name.chars().next())
        && edge(name.chars().last())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_url_is_s3_with_a_valid_name_and_an_optional_prefix() {
        let bucket = Bucket::new("s3://guanai-papers/city/3608/").unwrap();
        assert_eq!((bucket.url(), bucket.prefix.as_str()), ("s3://guanai-papers/city/3608", "city/3608"));
        assert_eq!(Bucket::new(" s3://guanai-papers ").unwrap().url(), "s3://guanai-papers");
        for bad in [
            "guanai-papers",
            "https://example.com/b",
            "s3://",
            "s3://key:secret@b1b/x",
            "s3://bb:9000",
            "/srv/files",
        ] {
            let err = Bucket::new(bad).unwrap_err().to_string();
            assert!(err.contains("files_url") && err.contains("s3://guanai-papers"), "{bad}: {err}");
        }
        for bad in ["s3://Guanai", "s3://ab", "s3://guanai_papers", "s3://-guanai"] {
            let err = Bucket::new(bad).unwrap_err().to_string();
            assert!(err.contains("files_url") && err.contains("存储桶名"), "{bad}: {err}");
        }
    }
}
