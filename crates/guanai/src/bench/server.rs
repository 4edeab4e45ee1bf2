//! The server under test: a separate `guanai serve` process on a loopback port, so its
//! start-up time and peak memory are its own.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

pub struct Server {
    child: Child,
    pub base: String,
    pub startup: Duration,
}

impl Server {
    /// Starts `guanai serve` on the database and waits until `/healthz` answers.
    pub async fn start(
        database_url: &str,
        key_hex: &str,
        data_dir: &std::path::Path,
    ) -> anyhow::Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let started = Instant::now();
        // `GUANAI_BENCH_SERVER=PATH` serves with another build (to compare two builds on
        // the same database); this binary by default.
        let program = match std::env::var_os("GUANAI_BENCH_SERVER") {
            Some(path) => std::path::PathBuf::from(path),
            None => std::env::current_exe()?,
        };
        // The look-up step makes thousands of exact look-ups as one user: far past the
        // limit a real user has (`lookup_limit`).
        let config = data_dir.join("bench-server.toml");
        std::fs::write(&config, "lookup_limit = 1000000000\n").context("无法写入被测服务器的配置文件")?;
        let child = Command::new(program)
            .args(["--database-url", database_url, "--encryption-key", key_hex, "--config"])
            .arg(&config)
            .arg("--data-dir")
            .arg(data_dir)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .context("无法启动被测服务器")?;
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let mut server = Server { child, base, startup: Duration::ZERO };
        loop {
            if let Ok(response) = client.get(format!("{}/healthz", server.base)).send().await {
                if response.status().is_success() {
                    server.startup = started.elapsed();
                    return Ok(server);
                }
            }
            if started.elapsed() > Duration::from_secs(120) {
                bail!("服务器两分钟内没有就绪");
            }
            if let Some(status) = server.child.try_wait()? {
                bail!("服务器启动失败：{status}");
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A logged-in API client: session cookie and CSRF token.
#[derive(Clone)]
pub struct ApiClient {
    pub http: reqwest::Client,
    pub base: String,
    pub cookie: String,
    pub csrf: String,
}

impl ApiClient {
    /// Logs in through the login form, as a browser would.
    pub async fn login(base: &str, username: &str, password: &str) -> anyhow::Result<ApiClient> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(64)
            .build()?;
        let form = http.get(format!("{base}/login")).send().await?;
        let login_cookie = form
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| {
                c.strip_prefix("guanai_login_csrf=")
                    .map(|v| v.split(';').next().unwrap_or_default().to_owned())
            })
            .context("登录页没有给出 CSRF Cookie")?;
        let response = http
            .post(format!("{base}/login"))
            .header("cookie", format!("guanai_login_csrf={login_cookie}"))
            .form(&[
                ("csrf", login_cookie.as_str()),
                ("username", username),
                ("password", password),
                ("next", "/"),
            ])
            .send()
            .await?;
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| {
                c.strip_prefix("guanai_session=").map(|v| v.split(';').next().unwrap_or_default().to_owned())
            })
            .context("登录失败")?;
        let me: serde_json::Value = http
            .get(format!("{base}/api/v1/me"))
            .header("cookie", format!("guanai_session={cookie}"))
            .send()
            .await?
            .json()
            .await?;
        let csrf = me["csrf_token"].as_str().context("没有 CSRF 令牌")?.to_owned();
        Ok(ApiClient { http, base: base.to_owned(), cookie, csrf })
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .get(format!("{}{path}", self.base))
            .header("cookie", format!("guanai_session={}", self.cookie))
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", self.base))
            .header("cookie", format!("guanai_session={}", self.cookie))
            .header("x-csrf-token", &self.csrf)
    }
}

/// One `guanai import roster` run: seconds in all, seconds until the plan was printed, the
/// process's peak memory, and its progress while writing: `(seconds, households written)`
/// from the plan on (the moment the plan was printed, none written), one point per
/// `已写入 {done}/{total} 户` line, timed as it arrived.
pub struct ImportRun {
    pub seconds: f64,
    pub planned: f64,
    pub peak_mb: f64,
    pub progress: Vec<(f64, usize)>,
}

/// The households written, from a progress line of `guanai import roster`
/// (`已写入 {done}/{total} 户`).
fn written(line: &str) -> Option<usize> {
    line.strip_prefix("已写入 ")?.split('/').next()?.parse().ok()
}

/// Runs `guanai import roster FILE` (as the system of `region`, the operating city by
/// default) against the database and times it. The peak memory is
/// read from `/proc` while it runs (the kernel keeps the high-water mark).
pub async fn import_roster(
    database_url: &str,
    key_hex: &str,
    data_dir: &std::path::Path,
    file: &std::path::Path,
    region: Option<&str>,
) -> anyhow::Result<ImportRun> {
    use tokio::io::AsyncBufReadExt;
    let started = Instant::now();
    let mut child = tokio::process::Command::new(std::env::current_exe()?)
        .args(["--database-url", database_url, "--encryption-key", key_hex, "--data-dir"])
        .arg(data_dir)
        .args(["import", "roster"])
        .arg(file)
        .args(region.map(|code| ["--region", code]).into_iter().flatten())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .context("无法启动导入进程")?;
    let pid = child.id().context("导入进程没有进程号")?;
    let mut lines = tokio::io::BufReader::new(child.stdout.take().context("no stdout")?).lines();
    let mut planned = None;
    let mut progress = Vec::new();
    let mut peak_mb: f64 = 0.0;
    // The plan's totals and the first refusals it prints, for the error if it fails.
    let mut said = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    loop {
        tokio::select! {
            line = lines.next_line() => match line? {
                Some(line) => {
                    let now = started.elapsed().as_secs_f64();
                    if line.starts_with("共") && planned.is_none() {
                        planned = Some(now);
                        progress.push((now, 0));
                    } else if let Some(done) = written(&line) {
                        progress.push((now, done));
                    }
                    if written(&line).is_none() && said.len() < 8 {
                        said.push(line);
                    }
                }
                None => break,
            },
            _ = tick.tick() => peak_mb = peak_mb.max(super::stats::peak_memory_mb(pid)),
        }
    }
    let status = child.wait().await?;
    let seconds = started.elapsed().as_secs_f64();
    anyhow::ensure!(status.success(), "the import failed or refused rows ({status}):\n{}", said.join("\n"));
    Ok(ImportRun { seconds, planned: planned.unwrap_or(seconds), peak_mb, progress })
}

#[cfg(test)]
mod tests {
    use super::written;

    #[test]
    fn progress_lines_are_read() {
        assert_eq!(written("已写入 50000/330000 户"), Some(50_000));
        assert_eq!(written("共9行：新增9，更新0，无变化0，有提示0，拒绝0（新家庭3户）"), None);
        assert_eq!(written("导入完成"), None);
    }
}
