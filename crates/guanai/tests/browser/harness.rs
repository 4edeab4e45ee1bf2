//! What the browser tests stand on: one chromedriver for the whole test binary, the app
//! served in-process on a free port with the demo city, and a thin wrapper around a
//! WebDriver session that waits for things instead of sleeping.

use std::future::Future;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use guanai_domain::Role;
use serde_json::{json, Value};

/// How long to wait for anything the browser should show.
pub const WAIT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(25);

fn chromedriver_path() -> PathBuf {
    std::env::var_os("CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromedriver"))
}

fn chromium_path() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned())
}

const INSTALL_HINT: &str = "the browser tests need Chromium and its WebDriver: \
     `apt-get install chromium chromium-driver` (or set CHROMEDRIVER and CHROMIUM to their paths)";

/// A window size the suite runs at.
#[derive(Clone, Copy, Debug)]
pub struct Viewport {
    pub name: &'static str,
    pub width: u32,
    pub height: u32,
}

impl Viewport {
    pub const DESKTOP: Viewport = Viewport { name: "desktop", width: 1366, height: 900 };
    pub const PHONE: Viewport = Viewport { name: "phone", width: 375, height: 812 };

    pub fn is_phone(&self) -> bool {
        self.width <= 768
    }
}

/// The chromedriver process, shared by the tests running at the same time and killed
/// (with the browsers it started) when the last of them lets go.
pub struct ChromeDriver {
    child: Child,
    pub url: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

static DRIVER: Mutex<Weak<ChromeDriver>> = Mutex::new(Weak::new());

impl ChromeDriver {
    pub fn shared() -> Result<Arc<ChromeDriver>> {
        let mut slot = DRIVER.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(driver) = slot.upgrade() {
            return Ok(driver);
        }
        let driver = Arc::new(ChromeDriver::start()?);
        *slot = Arc::downgrade(&driver);
        Ok(driver)
    }

    fn start() -> Result<ChromeDriver> {
        let program = chromedriver_path();
        if !program.exists() {
            bail!("{} not found; {INSTALL_HINT}", program.display());
        }
        let chromium = chromium_path();
        if !std::path::Path::new(&chromium).exists() {
            bail!("{chromium} not found; {INSTALL_HINT}");
        }
        let mut last_error = None;
        // The port is picked free, then handed over; another process could take it in
        // between, so try again a few times.
        for _ in 0..3 {
            let dir = tempfile::tempdir()?;
            let log = dir.path().join("chromedriver.log");
            let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
            let mut command = Command::new(&program);
            command
                .arg(format!("--port={port}"))
                .arg(format!("--log-path={}", log.display()))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            // Its own process group, so the browsers it starts can be ended with it.
            std::os::unix::process::CommandExt::process_group(&mut command, 0);
            let child =
                command.spawn().with_context(|| format!("starting {}; {INSTALL_HINT}", program.display()))?;
            let mut driver = ChromeDriver { child, url: format!("http://127.0.0.1:{port}"), log, _dir: dir };
            match driver.wait_ready(port) {
                Ok(()) => return Ok(driver),
                Err(err) => last_error = Some(err.context(driver.log_tail())),
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow!("chromedriver did not start")))
    }

    /// Polls `GET /status` until chromedriver says it is ready.
    fn wait_ready(&mut self, port: u16) -> Result<()> {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("chromedriver exited at start ({status})");
            }
            if let Ok(body) = http_get(port, "/status") {
                if body.contains("\"ready\":true") || body.contains("\"ready\": true") {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                bail!("chromedriver did not answer on port {port} within {WAIT:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        format!("chromedriver log (last lines):\n{}", lines[lines.len().saturating_sub(20)..].join("\n"))
    }

    fn stop(&mut self) {
        // The whole group: chromedriver and any browser it left behind.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        self.stop();
    }
}

fn http_get(port: u16, path: &str) -> std::io::Result<String> {
    let mut stream =
        TcpStream::connect_timeout(&SocketAddr::from(([127, 0, 0, 1], port)), Duration::from_millis(200))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n")?;
    // chromedriver keeps the connection open despite `Connection: close`: read until
    // the answer has come, not until the end of the stream.
    let mut body = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk)?;
        body.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&body);
        if n == 0 || text.contains("\"ready\"") {
            return Ok(text.into_owned());
        }
    }
}

/// One demo login.
#[derive(Clone, Debug)]
pub struct Login {
    pub username: String,
    pub role: Role,
    pub region: String,
    pub password: String,
}

/// The app with the demo city, served on a free local port by a task of the test's runtime
/// (or, for the city test, by a `guanai serve` process).
pub struct App {
    pub base: String,
    pub logins: Vec<Login>,
    /// The app's own store, to set up data the way the command line or an import would.
    pub store: guanai_store::Store,
    server: Server,
    _dir: Option<tempfile::TempDir>,
}

/// What serves the app; stopped when the app is dropped.
enum Server {
    Task(tokio::task::JoinHandle<()>),
    Process(Child),
}

impl App {
    pub async fn start() -> Result<App> {
        let dir = tempfile::tempdir()?;
        let store = guanai_store::Store::open(
            &guanai_store::DatabaseTarget::SqliteFile(dir.path().join("guanai.db")),
            guanai_store::Keys::random(),
        )
        .await?
        .with_files(&dir.path().join("files"))?;
        let report = guanai::demo::setup(&store, &dir.path().join("data")).await?;
        let logins = report
            .logins
            .into_iter()
            .map(|(username, role, region, password)| Login { username, role, region, password })
            .collect();
        let config = guanai_web::WebConfig { login_failure_delay: Duration::ZERO, ..Default::default() };
        let router = guanai_web::router(guanai_web::AppState::new(store.clone(), config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let server = tokio::spawn(async move {
            axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
                .await
                .expect("the test server runs");
        });
        Ok(App { base, logins, store, server: Server::Task(server), _dir: Some(dir) })
    }

    /// The app served by a `guanai serve` process at `base` (killed with the app), with
    /// `store` opened on the same database.
    pub fn served_by(process: Child, base: String, logins: Vec<Login>, store: guanai_store::Store) -> App {
        App { base, logins, store, server: Server::Process(process), _dir: None }
    }

    pub fn login(&self, username: &str) -> &Login {
        self.logins
            .iter()
            .find(|l| l.username == username)
            .unwrap_or_else(|| panic!("the demo has no login {username}"))
    }
}

impl Drop for App {
    fn drop(&mut self) {
        match &mut self.server {
            Server::Task(task) => task.abort(),
            Server::Process(child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

/// One browser (a fresh Chromium profile) at one window size, pointed at the app.
#[derive(Clone)]
pub struct Browser {
    pub client: Client,
    pub base: String,
    pub viewport: Viewport,
    pub app: Arc<App>,
}

impl Browser {
    /// Opens a new WebDriver session; `profile` must outlive it.
    pub async fn open(
        driver: &ChromeDriver,
        app: Arc<App>,
        viewport: Viewport,
        profile: &std::path::Path,
    ) -> Result<Browser> {
        let args = [
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--lang=zh-CN".to_owned(),
            format!("--user-data-dir={}", profile.display()),
            format!("--window-size={},{}", viewport.width, viewport.height),
        ];
        let mut options = json!({ "binary": chromium_path(), "args": args });
        if viewport.is_phone() {
            // Chromium will not make a window narrower than 500 px, even headless; a phone's
            // screen is emulated instead (which also makes the page's viewport tag count).
            options["mobileEmulation"] = json!({
                "deviceMetrics": { "width": viewport.width, "height": viewport.height, "pixelRatio": 3.0, "mobile": true, "touch": true },
            });
        }
        let capabilities = json!({
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "goog:chromeOptions": options,
        });
        let Value::Object(capabilities) = capabilities else { unreachable!() };
        // chromedriver is local: plain HTTP (the rustls connector would have to pick
        // between the two crypto providers the workspace pulls in).
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver.url)
            .await
            .with_context(|| format!("opening a Chromium session via {}", driver.url))?;
        Ok(Browser { client, base: app.base.clone(), viewport, app })
    }

    pub async fn goto(&self, path: &str) -> Result<()> {
        self.client.goto(&format!("{}{path}", self.base)).await.with_context(|| format!("opening {path}"))
    }

    /// The current path and query, e.g. `/login?next=%2F`.
    pub async fn location(&self) -> Result<String> {
        let url = self.client.current_url().await?;
        Ok(match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        })
    }

    pub async fn path(&self) -> Result<String> {
        Ok(self.client.current_url().await?.path().to_owned())
    }

    /// Waits until `check` answers `Some`, polling; fails with `what` after [`WAIT`].
    pub async fn until<T, F, Fut>(&self, what: &str, mut check: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Option<T>>>,
    {
        let deadline = Instant::now() + WAIT;
        loop {
            let last = match check().await {
                Ok(Some(value)) => return Ok(value),
                Ok(None) => None,
                Err(err) => Some(err),
            };
            if Instant::now() > deadline {
                let at = self.location().await.unwrap_or_default();
                let why = last.map(|e| format!(" (last error: {e:#})")).unwrap_or_default();
                bail!("timed out after {WAIT:?} waiting for {what}; the browser is at {at}{why}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until the browser is at `path` (the query is ignored) and the page has loaded.
    pub async fn wait_path(&self, path: &str) -> Result<()> {
        self.until(&format!("the page {path}"), || async {
            let here = self.path().await?;
            let ready = self.js::<String>("return document.readyState").await?;
            Ok((here == path && ready == "complete").then_some(()))
        })
        .await
    }

    pub async fn find(&self, css: &str) -> Result<Element> {
        self.client
            .wait()
            .at_most(WAIT)
            .every(POLL)
            .for_element(Locator::Css(css))
            .await
            .with_context(|| format!("finding `{css}`"))
    }

    /// The visible text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> Result<String> {
        Ok(self.find(css).await?.text().await?.trim().to_owned())
    }

    /// The visible texts of all elements matching `css`.
    pub async fn texts(&self, css: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for element in self.client.find_all(Locator::Css(css)).await? {
            out.push(element.text().await?.trim().to_owned());
        }
        Ok(out)
    }

    pub async fn js<T: serde::de::DeserializeOwned>(&self, script: &str) -> Result<T> {
        self.js_with(script, vec![]).await
    }

    pub async fn js_with<T: serde::de::DeserializeOwned>(&self, script: &str, args: Vec<Value>) -> Result<T> {
        let value =
            self.client.execute(script, args).await.with_context(|| format!("running script `{script}`"))?;
        serde_json::from_value(value.clone()).with_context(|| format!("script `{script}` returned {value}"))
    }

    /// The texts of the left navigation.
    pub async fn nav(&self) -> Result<Vec<String>> {
        self.find("nav.sidenav a").await?;
        self.texts("nav.sidenav a").await
    }

    /// Fills in and sends the login form (from wherever the login page is).
    pub async fn submit_login(&self, username: &str, password: &str) -> Result<()> {
        let user = self.find("form input[name=username]").await?;
        user.clear().await?;
        user.send_keys(username).await?;
        let pass = self.find("form input[name=password]").await?;
        pass.clear().await?;
        pass.send_keys(password).await?;
        let button = self.find("form button.primary[type=submit]").await?;
        anyhow::ensure!(button.text().await?.trim() == "登录", "the login button should read 登录");
        button.click().await?;
        Ok(())
    }

    /// Logs in with the demo login `username` from the login page and waits for `/`.
    pub async fn login_as(&self, username: &str) -> Result<Login> {
        let login = self.app.login(username).clone();
        self.goto("/login").await?;
        self.submit_login(&login.username, &login.password).await?;
        self.wait_path("/").await.with_context(|| format!("logging in as {username}"))?;
        self.find("[data-testid=home-region]").await?;
        Ok(login)
    }

    /// Opens `path` and checks the app answers with its "not found" page, without a word
    /// of `hidden` (names the user must not learn).
    pub async fn expect_not_found(&self, path: &str, hidden: &[&str]) -> Result<()> {
        self.goto(path).await?;
        // `goto` returns once the page has loaded, and the page is rendered by the server:
        // no need to wait for the message to appear.
        let Some(found) =
            self.client.find_all(Locator::Css("[data-testid=error-message]")).await?.into_iter().next()
        else {
            let title = self.client.title().await?;
            let at = self.location().await?;
            bail!("{path}: expected the 404 page 找不到页面, got {title:?} at {at}");
        };
        let message = found.text().await?.trim().to_owned();
        anyhow::ensure!(!message.is_empty(), "{path}: the error page has no message");
        let here = self.path().await?;
        anyhow::ensure!(here == path, "{path}: expected to stay on the page, got sent to {here}");
        let heading = self.text("h1").await?;
        anyhow::ensure!(
            heading == "找不到页面",
            "{path}: expected the heading 找不到页面, got {heading:?} ({message})"
        );
        let title = self.client.title().await?;
        anyhow::ensure!(
            title.starts_with("找不到页面"),
            "{path}: expected the title 找不到页面…, got {title:?}"
        );
        let body = self.text("body").await?;
        anyhow::ensure!(body.contains("404"), "{path}: the error page should show code 404, shows {body:?}");
        let source = self.client.source().await?;
        for word in hidden {
            anyhow::ensure!(!source.contains(word), "{path}: the 404 page gives away {word:?}");
        }
        Ok(())
    }

    /// The bounding box of the first element matching `css`: (left, top, width, height).
    pub async fn rect(&self, css: &str) -> Result<Rect> {
        self.find(css).await?;
        self.js_with(
            "const r = document.querySelector(arguments[0]).getBoundingClientRect();
             return { left: r.left, top: r.top, width: r.width, height: r.height };",
            vec![json!(css)],
        )
        .await
    }

    /// Bounding boxes of every element matching `css`, with its text.
    pub async fn rects(&self, css: &str) -> Result<Vec<(String, Rect)>> {
        self.js_with(
            "return Array.from(document.querySelectorAll(arguments[0])).map(e => {
               const r = e.getBoundingClientRect();
               return [e.textContent.trim(), { left: r.left, top: r.top, width: r.width, height: r.height }];
             });",
            vec![json!(css)],
        )
        .await
    }

    /// Whether the page scrolls sideways: its content wider than the window's layout width.
    pub async fn horizontal_overflow(&self) -> Result<Option<String>> {
        let (scroll, client, inner): (f64, f64, f64) = self
            .js("const d = document.documentElement; return [d.scrollWidth, d.clientWidth, window.innerWidth];")
            .await?;
        Ok((scroll > client || scroll > inner)
            .then(|| format!("scrollWidth {scroll} > clientWidth {client} (innerWidth {inner})")))
    }

    /// Keeps what the browser showed, for a failure report; returns where it went.
    pub async fn keep_evidence(&self, name: &str) -> Option<String> {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser");
        std::fs::create_dir_all(&dir).ok()?;
        let stem = dir.join(name);
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(stem.with_extension("png"), png);
        }
        if let Ok(html) = self.client.source().await {
            let _ = std::fs::write(stem.with_extension("html"), html);
        }
        Some(format!("{}.{{png,html}}", stem.display()))
    }
}

#[derive(Clone, Copy, Debug, serde::Deserialize)]
pub struct Rect {
    pub left: f64,
    pub top: f64,
    pub width: f64,
    pub height: f64,
}

impl Rect {
    pub fn right(&self) -> f64 {
        self.left + self.width
    }

    pub fn bottom(&self) -> f64 {
        self.top + self.height
    }
}
