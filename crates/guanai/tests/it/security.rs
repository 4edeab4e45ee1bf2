//! Defences of the front door: where a login may send the browser, the headers every
//! response carries, which proxy hop names the client, and the login rate limits.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use guanai_web::WebConfig;

use crate::util::{serde_urlencoded_body, test_config, TestApp, TestResponse};

/// The login form and its submission, as a browser at `ip` would send them.
pub async fn login_from(app: &TestApp, ip: &str, username: &str, password: &str, next: &str) -> TestResponse {
    let addr: SocketAddr = format!("{ip}:40000").parse().unwrap();
    let mut form = Request::get("/login").body(Body::empty()).unwrap();
    form.extensions_mut().insert(ConnectInfo(addr));
    let form = app.send(form).await;
    let token = form.cookie("guanai_login_csrf").expect("login csrf cookie");
    let body = serde_urlencoded_body(&[
        ("csrf", &token),
        ("username", username),
        ("password", password),
        ("next", next),
    ]);
    let mut request = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("guanai_login_csrf={token}"))
        .body(Body::from(body))
        .unwrap();
    request.extensions_mut().insert(ConnectInfo(addr));
    app.send(request).await
}

#[tokio::test]
async fn hostile_next_values_never_leave_the_site() {
    let app = TestApp::demo().await;
    let password = app.passwords["demo.county"].clone();
    let hostile = [
        "/%09/evil.example",
        "/%0a/evil.example",
        "/%0D%0A/evil.example",
        "/%20/evil.example",
        "//evil.example",
        "///evil.example",
        "/\\evil.example",
        "/%5Cevil.example",
        "/%2F/evil.example",
        "/%2f%2fevil.example",
        "\\\\evil.example",
        "https://evil.example",
        "http:/evil.example",
        "evil.example",
        "javascript:alert(1)",
        "/\t/evil.example",
        " /evil.example",
        "",
    ];
    for (n, next) in hostile.into_iter().enumerate() {
        let response = login_from(&app, &format!("192.0.2.{n}"), "demo.county", &password, next).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "{next:?}: {}", response.body);
        assert_eq!(response.location(), "/", "next={next:?} must not be followed");
        // The login page carries only a safe `next` too.
        let page = app.get_anonymous(&format!("/login?next={}", url_encode(next))).await;
        assert!(!page.body.contains("evil.example"), "{next:?} echoed into the form: {}", page.body);
    }
    for next in ["/families?page=2", "/users/3", "/policies?status=draft&q=%E5%BC%A0"] {
        let response = login_from(&app, "192.0.2.100", "demo.county", &password, next).await;
        assert_eq!(response.location(), next, "a path on this site is followed");
    }
}

fn url_encode(raw: &str) -> String {
    raw.bytes().map(|b| format!("%{b:02X}")).collect()
}

fn assert_security_headers(response: &TestResponse, what: &str, no_store: bool) {
    let header =
        |name: &str| response.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let csp = header("content-security-policy");
    assert!(csp.contains("script-src 'self'"), "{what}: CSP {csp:?}");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: CSP {csp:?}");
    assert!(!csp.contains("unsafe-inline"), "{what}: CSP {csp:?}");
    assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(header("x-frame-options"), "DENY", "{what}");
    assert_eq!(header("referrer-policy"), "same-origin", "{what}");
    if no_store {
        assert_eq!(header("cache-control"), "no-store", "{what}");
    }
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::demo().await;
    assert_security_headers(&app.get_anonymous("/login").await, "login page", true);
    let client = app.login("demo.city").await;
    assert_security_headers(&app.get(&client, "/families").await, "families page", true);
    assert_security_headers(&app.get(&client, "/api/v1/me").await, "API", true);
    let download = app.get(&client, "/audit/export").await;
    assert_eq!(download.status, StatusCode::OK);
    assert_security_headers(&download, "audit download", true);
    let xlsx = app.get(&client, "/families/export.xlsx").await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert_security_headers(&xlsx, "families download", true);
    assert_security_headers(&app.get_anonymous("/no/such/page").await, "404 page", true);
    // Static assets keep their own caching.
    let js = app.get_anonymous("/assets/app.js").await;
    assert_security_headers(&js, "script", false);
    assert!(js.headers[header::CACHE_CONTROL].to_str().unwrap().contains("max-age"));
}

#[test]
fn no_template_carries_inline_script() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/templates");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let lower = text.to_ascii_lowercase();
        for (at, _) in lower.match_indices("<script") {
            let tag = &lower[at..at + lower[at..].find('>').unwrap()];
            assert!(tag.contains(" src="), "{}: inline script {tag}", path.display());
        }
        for handler in [" onclick=", " onload=", " onsubmit=", " onchange=", " oninput=", "javascript:"] {
            assert!(!lower.contains(handler), "{}: inline handler {handler}", path.display());
        }
    }
}

#[tokio::test]
async fn behind_a_proxy_only_the_hop_it_appended_names_the_client() {
    let app = TestApp::demo_with(WebConfig { trust_proxy: true, ..test_config() }).await;
    let form = app.get_anonymous("/login").await;
    let token = form.cookie("guanai_login_csrf").unwrap();
    let body = serde_urlencoded_body(&[
        ("csrf", &token),
        ("username", "demo.county"),
        ("password", &app.passwords["demo.county"]),
        ("next", "/"),
    ]);
    let request = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("guanai_login_csrf={token}"))
        // The client wrote the first entry itself; the proxy appended the last.
        .header("x-forwarded-for", "203.0.113.66, 198.51.100.7")
        .body(Body::from(body))
        .unwrap();
    assert_eq!(app.send(request).await.status, StatusCode::SEE_OTHER);
    let logins = app.audit_entries("demo.county", "ok").await;
    assert_eq!(logins[0].ip, "198.51.100.7");
}

#[tokio::test]
async fn a_login_flood_from_one_address_gets_429_and_others_still_log_in() {
    let config =
        WebConfig { login_per_address_per_minute: 5, login_global_per_minute: 1000, ..test_config() };
    let app = TestApp::demo_with(config).await;
    let mut limited = None;
    for attempt in 0..12 {
        let response = login_from(&app, "198.51.100.20", "nobody.here", "guess-123456", "/").await;
        if response.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some((attempt, response));
            break;
        }
        assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    }
    let (attempt, response) = limited.expect("the burst is limited");
    assert_eq!(attempt, 5, "five attempts a minute pass, the sixth is refused");
    assert!(response.body.contains("登录尝试过于频繁"), "{}", response.body);
    assert!(response.headers.contains_key(header::RETRY_AFTER));
    // The right password from the flooded address is refused too, for now...
    let same = login_from(&app, "198.51.100.20", "demo.county", &app.passwords["demo.county"], "/").await;
    assert_eq!(same.status, StatusCode::TOO_MANY_REQUESTS);
    // ...while another address logs in as usual.
    let other = login_from(&app, "198.51.100.21", "demo.county", &app.passwords["demo.county"], "/").await;
    assert_eq!(other.status, StatusCode::SEE_OTHER, "{}", other.body);
}

#[tokio::test]
async fn the_global_login_limit_holds_across_addresses() {
    let config = WebConfig { login_per_address_per_minute: 100, login_global_per_minute: 3, ..test_config() };
    let app = TestApp::demo_with(config).await;
    for n in 0..3 {
        let response =
            login_from(&app, &format!("198.51.100.{}", 30 + n), "x.y.z", "guess-123456", "/").await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    }
    let response = login_from(&app, "198.51.100.40", "x.y.z", "guess-123456", "/").await;
    assert_eq!(response.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(response.body.contains("登录尝试过于频繁"), "{}", response.body);
}
