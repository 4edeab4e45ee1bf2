//! Configuration: command-line flags, then `GUANAI_…` environment variables (clap reads
//! both), then an optional TOML file, then defaults, in that precedence.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use guanai_domain::RegionCode;
use guanai_store::DatabaseTarget;
use serde::Deserialize;

/// The file's shape; every key optional. See `docs/CONFIGURATION.md`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub listen: Option<String>,
    pub city: Option<String>,
    pub audit_retention_days: Option<u32>,
    /// Days an uploaded roster is kept after its import ended (default 7).
    pub import_file_retention_days: Option<u32>,
    pub secure_cookies: Option<bool>,
    pub trust_proxy: Option<bool>,
    pub session_idle_minutes: Option<i64>,
    pub login_max_failures: Option<i32>,
    pub login_lockout_minutes: Option<i64>,
    pub login_per_address_per_minute: Option<u32>,
    pub login_global_per_minute: Option<u32>,
    pub login_hash_concurrency: Option<u32>,
    /// Exact look-ups by ID or phone number per user in ten minutes (default 30).
    pub lookup_limit: Option<i64>,
    pub log_format: Option<String>,
    /// The master key for personal data, 64 hex characters (prefer the environment
    /// variable GUANAI_ENCRYPTION_KEY or a key file to writing it here).
    pub encryption_key: Option<String>,
    /// Where the key file lives; default `<data_dir>/guanai.key`, created on first start.
    pub encryption_key_file: Option<PathBuf>,
    /// Where uploaded images (claim papers, activity photos) are kept, sealed; default
    /// `<data_dir>/files`.
    pub files_dir: Option<PathBuf>,
    /// An S3-compatible bucket for the files' blobs instead of `files_dir`
    /// (`s3://bucket/prefix`); uploads are still spooled under `files_dir`.
    pub files_url: Option<String>,
}

impl FileConfig {
    /// Reads `path`; a missing default file is an empty configuration, a missing named
    /// file is an error.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let (path, required) = match path {
            Some(path) => (path.to_path_buf(), true),
            None => (PathBuf::from("guanai.toml"), false),
        };
        if !path.exists() {
            if required {
                bail!("配置文件“{}”不存在", path.display());
            }
            return Ok(FileConfig::default());
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("无法读取配置文件“{}”", path.display()))?;
        toml::from_str(&text).with_context(|| format!("配置文件“{}”格式有误", path.display()))
    }
}

/// The settings every command shares, after precedence is applied.
#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub database: DatabaseTarget,
    pub listen: String,
    /// The city this installation serves, when the database does not say.
    pub city: RegionCode,
    pub audit_retention_days: u32,
    pub import_file_retention_days: u32,
    pub secure_cookies: bool,
    pub trust_proxy: bool,
    pub session_idle_minutes: i64,
    pub login_max_failures: i32,
    pub login_lockout_minutes: i64,
    pub login_per_address_per_minute: u32,
    pub login_global_per_minute: u32,
    pub login_hash_concurrency: u32,
    pub lookup_limit: i64,
    pub log_json: bool,
    pub encryption_key: Option<String>,
    pub encryption_key_file: PathBuf,
    pub files_dir: PathBuf,
    /// The bucket of the files' blobs, when not the local `files_dir`.
    pub files_url: Option<String>,
}

/// What the command line (and the environment, through clap) said.
#[derive(Debug, Default, Clone)]
pub struct CliOverrides {
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub listen: Option<String>,
    pub encryption_key: Option<String>,
    pub files_url: Option<String>,
}

impl Settings {
    pub fn resolve(cli: &CliOverrides, file: FileConfig) -> anyhow::Result<Self> {
        let data_dir = cli.data_dir.clone().or(file.data_dir).unwrap_or_else(|| PathBuf::from("guanai-data"));
        let database = match cli.database_url.clone().or(file.database_url).filter(|u| !u.trim().is_empty()) {
            Some(url) => DatabaseTarget::Url(url),
            None => DatabaseTarget::SqliteFile(data_dir.join("guanai.db")),
        };
        database.engine().map_err(|e| anyhow::anyhow!("{e}"))?;
        let city = file.city.as_deref().unwrap_or("3608");
        let city = RegionCode::parse(city).map_err(|e| anyhow::anyhow!("配置项 city：{e}"))?;
        if city.level() != guanai_domain::RegionLevel::City {
            bail!("配置项 city 须是4位的地级市代码，例如 3608");
        }
        let audit_retention_days =
            file.audit_retention_days.unwrap_or(guanai_store::audit::MIN_RETENTION_DAYS);
        if audit_retention_days < guanai_store::audit::MIN_RETENTION_DAYS {
            bail!(
                "配置项 audit_retention_days 不能少于{}天（网络安全法要求日志至少保存六个月）",
                guanai_store::audit::MIN_RETENTION_DAYS
            );
        }
        let log_json = match file.log_format.as_deref() {
            None | Some("text") => false,
            Some("json") => true,
            Some(other) => bail!("配置项 log_format 只能是 text 或 json，而不是“{other}”"),
        };
        let positive = |value: Option<i64>, default: i64, key: &str| -> anyhow::Result<i64> {
            match value.unwrap_or(default) {
                v if v > 0 => Ok(v),
                _ => bail!("配置项 {key} 须为正数"),
            }
        };
        let web = guanai_web::WebConfig::default();
        let encryption_key_file = file.encryption_key_file.unwrap_or_else(|| data_dir.join("guanai.key"));
        let files_dir = file.files_dir.unwrap_or_else(|| data_dir.join("files"));
        Ok(Settings {
            encryption_key: cli
                .encryption_key
                .clone()
                .or(file.encryption_key)
                .filter(|k| !k.trim().is_empty()),
            encryption_key_file,
            files_dir,
            files_url: cli.files_url.clone().or(file.files_url).filter(|u| !u.trim().is_empty()),
            data_dir,
            database,
            listen: cli.listen.clone().or(file.listen).unwrap_or_else(|| "127.0.0.1:8080".to_owned()),
            city,
            audit_retention_days,
            import_file_retention_days: file
                .import_file_retention_days
                .unwrap_or(guanai_store::imports::DEFAULT_FILE_RETENTION_DAYS),
            secure_cookies: file.secure_cookies.unwrap_or(false),
            trust_proxy: file.trust_proxy.unwrap_or(false),
            session_idle_minutes: positive(file.session_idle_minutes, 8 * 60, "session_idle_minutes")?,
            login_max_failures: positive(file.login_max_failures.map(i64::from), 5, "login_max_failures")?
                as i32,
            login_lockout_minutes: positive(file.login_lockout_minutes, 15, "login_lockout_minutes")?,
            login_per_address_per_minute: positive(
                file.login_per_address_per_minute.map(i64::from),
                i64::from(web.login_per_address_per_minute),
                "login_per_address_per_minute",
            )? as u32,
            login_global_per_minute: positive(
                file.login_global_per_minute.map(i64::from),
                i64::from(web.login_global_per_minute),
                "login_global_per_minute",
            )? as u32,
            login_hash_concurrency: positive(
                file.login_hash_concurrency.map(i64::from),
                web.login_hash_concurrency as i64,
                "login_hash_concurrency",
            )? as u32,
            lookup_limit: positive(file.lookup_limit, guanai_store::lookups::LOOKUP_LIMIT, "lookup_limit")?,
            log_json,
        })
    }

    /// The keys for personal data: from the configured key, or from the key file (created
    /// with owner-only permissions on first start).
    pub fn keys(&self) -> anyhow::Result<guanai_store::Keys> {
        let keys = match &self.encryption_key {
            Some(hex) => guanai_store::Keys::from_hex(hex),
            None => guanai_store::Keys::load_or_create(&self.encryption_key_file),
        };
        keys.map_err(|e| anyhow::anyhow!("{e}"))
    }

    pub fn web_config(&self) -> guanai_web::WebConfig {
        guanai_web::WebConfig {
            secure_cookies: self.secure_cookies,
            trust_proxy: self.trust_proxy,
            login_policy: guanai_store::users::LoginPolicy {
                max_failures: self.login_max_failures,
                lockout: chrono::Duration::minutes(self.login_lockout_minutes),
                session_idle: chrono::Duration::minutes(self.session_idle_minutes),
            },
            login_per_address_per_minute: self.login_per_address_per_minute,
            login_global_per_minute: self.login_global_per_minute,
            login_hash_concurrency: self.login_hash_concurrency as usize,
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_file_and_the_file_over_defaults() {
        let file: FileConfig =
            toml::from_str("listen = \"0.0.0.0:9000\"\ndata_dir = \"/srv/guanai\"\n").unwrap();
        let cli = CliOverrides { listen: Some("127.0.0.1:7000".into()), ..Default::default() };
        let settings = Settings::resolve(&cli, file).unwrap();
        assert_eq!(settings.listen, "127.0.0.1:7000");
        assert_eq!(settings.database, DatabaseTarget::SqliteFile(PathBuf::from("/srv/guanai/guanai.db")));
        assert_eq!(settings.files_dir, PathBuf::from("/srv/guanai/files"));
        let file: FileConfig = toml::from_str("files_dir = \"/mnt/papers\"").unwrap();
        assert_eq!(Settings::resolve(&cli, file).unwrap().files_dir, PathBuf::from("/mnt/papers"));
        assert_eq!(Settings::resolve(&cli, FileConfig::default()).unwrap().files_url, None);
        let file: FileConfig = toml::from_str("files_url = \"s3://papers/a\"").unwrap();
        assert_eq!(Settings::resolve(&cli, file).unwrap().files_url.as_deref(), Some("s3://papers/a"));
        let flag = CliOverrides { files_url: Some("s3://papers/b".into()), ..Default::default() };
        let file: FileConfig = toml::from_str("files_url = \"s3://papers/a\"").unwrap();
        assert_eq!(Settings::resolve(&flag, file).unwrap().files_url.as_deref(), Some("s3://papers/b"));
        let defaults = Settings::resolve(&CliOverrides::default(), FileConfig::default()).unwrap();
        assert_eq!(defaults.listen, "127.0.0.1:8080");
        assert_eq!(defaults.city.as_str(), "3608");
        assert_eq!(defaults.import_file_retention_days, 7);
        let file: FileConfig = toml::from_str("import_file_retention_days = 2").unwrap();
        assert_eq!(Settings::resolve(&CliOverrides::default(), file).unwrap().import_file_retention_days, 2);
    }

    #[test]
    fn bad_settings_are_refused_with_the_key_named() {
        let file: FileConfig = toml::from_str("audit_retention_days = 30").unwrap();
        let err = Settings::resolve(&CliOverrides::default(), file).unwrap_err();
        assert!(err.to_string().contains("audit_retention_days"), "{err}");
        assert!(toml::from_str::<FileConfig>("listn = \"x\"").is_err());
        let cli = CliOverrides { database_url: Some("oracle://x".into()), ..Default::default() };
        assert!(Settings::resolve(&cli, FileConfig::default()).is_err());
        let file: FileConfig = toml::from_str("login_per_address_per_minute = 0").unwrap();
        let err = Settings::resolve(&CliOverrides::default(), file).unwrap_err();
        assert!(err.to_string().contains("login_per_address_per_minute"), "{err}");
    }

    #[test]
    fn login_limits_come_from_the_file_or_the_defaults() {
        let defaults =
            Settings::resolve(&CliOverrides::default(), FileConfig::default()).unwrap().web_config();
        assert_eq!(
            (
                defaults.login_per_address_per_minute,
                defaults.login_global_per_minute,
                defaults.login_hash_concurrency
            ),
            (20, 300, 4)
        );
        let file: FileConfig = toml::from_str(
            "login_per_address_per_minute = 7\nlogin_global_per_minute = 70\nlogin_hash_concurrency = 2",
        )
        .unwrap();
        let web = Settings::resolve(&CliOverrides::default(), file).unwrap().web_config();
        assert_eq!(
            (web.login_per_address_per_minute, web.login_global_per_minute, web.login_hash_concurrency),
            (7, 70, 2)
        );
    }
}
