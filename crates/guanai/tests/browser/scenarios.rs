//! The flows people use, each in a fresh browser. The expected region names come from the
//! demo city's division files, not from the app, so a page that shows the wrong villages
//! (or someone else's) fails.

use anyhow::{ensure, Context, Result};
use fantoccini::Locator;
use serde_json::json;

use crate::harness::Browser;

const SESSION_COOKIE: &str = "guanai_session";

/// (code, name) of the regions directly below `parent` in the demo city's data, sorted.
pub(crate) fn children_in_data(parent: &str) -> Vec<(String, String)> {
    let set = guanai_store::regions::demo_city();
    let mut rows: Vec<(String, String)> = set
        .rows
        .iter()
        .filter(|r| r.code.parent().is_some_and(|p| p.as_str() == parent))
        .map(|r| (r.code.as_str().to_owned(), r.name.clone()))
        .collect();
    rows.sort();
    assert!(!rows.is_empty(), "the demo data has regions below {parent}");
    rows
}

pub(crate) fn name_in_data(code: &str) -> String {
    let set = guanai_store::regions::demo_city();
    set.rows
        .iter()
        .find(|r| r.code.as_str() == code)
        .map(|r| r.name.clone())
        .unwrap_or_else(|| panic!("no region {code} in the demo data"))
}

/// (code, name) of the rows of the region page's table of children, sorted.
async fn region_table(b: &Browser) -> Result<Vec<(String, String)>> {
    b.find("[data-testid=region-children] tbody tr").await?;
    let mut rows: Vec<(String, String)> = b
        .js("return Array.from(document.querySelectorAll('[data-testid=region-children] tbody tr'))
               .map(tr => [tr.cells[0].textContent.trim(), tr.cells[1].textContent.trim()]);")
        .await?;
    rows.sort();
    Ok(rows)
}

/// The links of the home page's panel titled `title`, as (text, href); `None` without
/// such a panel.
async fn panel_links(b: &Browser, title: &str) -> Result<Option<Vec<(String, String)>>> {
    b.js_with(
        "const panel = Array.from(document.querySelectorAll('section.panel'))
           .find(s => s.querySelector('h2') && s.querySelector('h2').textContent.trim() === arguments[0]);
         return panel ? Array.from(panel.querySelectorAll('li a')).map(a => [a.textContent.trim(), a.getAttribute('href')]) : null;",
        vec![json!(title)],
    )
    .await
}

async fn panel_titles(b: &Browser) -> Result<Vec<String>> {
    b.texts("section.panel h2").await
}

/// Scenario 1: A county user logs in (after a wrong password) and sees their county and their menu.
pub async fn county_login(b: Browser) -> Result<()> {
    let county = b.app.login("demo.county").clone();
    ensure!(
        county.region == "吉州区" && county.role == guanai_domain::Role::CountyStaff,
        "the demo's county user should be county staff in 吉州区, is {:?} in {}",
        county.role,
        county.region
    );

    b.goto("/login").await?;
    b.submit_login("demo.county", "not-the-password-1").await?;
    let error =
        b.text("[data-testid=login-error]").await.context("a wrong password should show the login error")?;
    ensure!(error.contains("用户名或密码错误"), "wrong password: expected 用户名或密码错误, got {error:?}");
    ensure!(b.path().await? == "/login", "a wrong password must not leave the login page");
    let kept = b.find("input[name=username]").await?.prop("value").await?;
    ensure!(
        kept.as_deref() == Some("demo.county"),
        "the login page should keep the user name typed, has {kept:?}"
    );
    let password = b.find("input[name=password]").await?.prop("value").await?;
    ensure!(password.as_deref() == Some(""), "the login page must not send the password back");
    ensure!(
        b.client.get_named_cookie(SESSION_COOKIE).await.is_err(),
        "a wrong password must not set a session cookie"
    );

    b.submit_login(&county.username, &county.password).await?;
    b.wait_path("/").await.context("the right password should lead home")?;
    let home = b.text("[data-testid=home-region]").await?;
    ensure!(home == "吉州区", "home-region: expected 吉州区, got {home:?}");
    let header = b.text("[data-testid=scope-region]").await?;
    ensure!(header == "吉州区", "header scope-region: expected 吉州区, got {header:?}");
    let heading = b.text("main h1").await?;
    ensure!(heading.contains("吉州区计生协 李干事"), "home greets the user by name, says {heading:?}");

    let nav = b.nav().await?;
    for wanted in ["首页", "行政区划", "机构", "用户管理", "修改密码"] {
        ensure!(nav.iter().any(|n| n == wanted), "county staff nav should have {wanted}: {nav:?}");
    }
    ensure!(!nav.iter().any(|n| n == "审计日志"), "county staff nav must not have 审计日志: {nav:?}");
    let active = b.texts("nav.sidenav a.active").await?;
    ensure!(active == ["首页"], "on home only 首页 is marked current, got {active:?}");

    // The county's townships, straight from the data, on the home page.
    let townships = panel_links(&b, "下级区划").await?.context("county home should list 下级区划")?;
    let mut shown: Vec<String> = townships.iter().map(|(t, _)| t.clone()).collect();
    shown.sort();
    let mut expected: Vec<String> = children_in_data("360802").into_iter().map(|(_, n)| n).collect();
    expected.sort();
    ensure!(shown == expected, "county home 下级区划: expected {expected:?}, got {shown:?}");

    // The menu follows the rights: the audit log, not offered, is not there either.
    b.expect_not_found("/audit", &[]).await?;
    Ok(())
}

/// Scenario 2: The village agent sees the villages of their township and nothing of the county.
pub async fn agent_home(b: Browser) -> Result<()> {
    b.login_as("demo.agent").await?;
    let home = b.text("[data-testid=home-region]").await?;
    ensure!(home == "兴桥镇", "agent home-region: expected 兴桥镇, got {home:?}");
    let header = b.text("[data-testid=scope-region]").await?;
    ensure!(header == "兴桥镇", "agent header: expected 兴桥镇, got {header:?}");

    let titles = panel_titles(&b).await?;
    ensure!(
        titles.iter().any(|t| t == "我负责的村（社区）"),
        "agent home should have 我负责的村（社区）: {titles:?}"
    );
    ensure!(!titles.iter().any(|t| t == "下级区划" || t == "最近操作记录"), "agent home panels: {titles:?}");
    let villages = panel_links(&b, "我负责的村（社区）").await?.context("the villages panel")?;
    let mut shown: Vec<(String, String)> = villages
        .iter()
        .map(|(name, href)| (href.trim_start_matches("/regions/").to_owned(), name.clone()))
        .collect();
    shown.sort();
    let expected = children_in_data("360802100");
    ensure!(shown == expected, "agent villages: expected {expected:?}\n got {shown:?}");
    ensure!(
        villages.iter().all(|(_, href)| href.starts_with("/regions/360802100")),
        "village links: {villages:?}"
    );
    ensure!(b.find("section.panel li a").await?.is_displayed().await?, "the village list is visible");

    let nav = b.nav().await?;
    for unwanted in ["用户管理", "审计日志", "机构"] {
        ensure!(!nav.iter().any(|n| n == unwanted), "agent nav must not have {unwanted}: {nav:?}");
    }
    ensure!(nav.iter().any(|n| n == "行政区划"), "agent nav should have 行政区划: {nav:?}");

    // One click into a village of their own.
    let (first_code, first_name) = expected[0].clone();
    b.client.find(Locator::LinkText(&first_name)).await?.click().await?;
    b.wait_path(&format!("/regions/{first_code}")).await?;
    let heading = b.text("main h1").await?;
    ensure!(heading == first_name, "village page: expected {first_name}, got {heading:?}");

    b.expect_not_found("/users", &[]).await?;
    b.expect_not_found("/orgs", &[]).await?;
    b.expect_not_found("/regions/360803", &["青原区"]).await?;
    b.expect_not_found("/regions/360802", &["吉州区"]).await?;
    let other_township = name_in_data("360802001");
    b.expect_not_found("/regions/360802001", &[&other_township]).await?;
    let other_village = children_in_data("360802001")[0].clone();
    b.expect_not_found(&format!("/regions/{}", other_village.0), &[&other_village.1]).await?;

    // Still logged in and still scoped after the refusals.
    b.goto("/").await?;
    let home = b.text("[data-testid=home-region]").await?;
    ensure!(home == "兴桥镇", "agent home after refusals: {home:?}");
    Ok(())
}

/// Scenario 3: The county user browses down their county; the neighbouring county stays hidden,
/// while the city admin (the control) does see it.
pub async fn county_regions(b: Browser) -> Result<()> {
    let county = b.app.login("demo.county").clone();
    // Asked for while logged out, the page comes after the login.
    b.goto("/regions/360802").await?;
    b.wait_path("/login").await?;
    let at = b.location().await?;
    ensure!(
        at.contains("next=%2Fregions%2F360802"),
        "the login page should remember the page asked for: {at}"
    );
    b.submit_login(&county.username, &county.password).await?;
    b.wait_path("/regions/360802").await.context("after login, back to the page asked for")?;

    let heading = b.text("main h1").await?;
    ensure!(heading == "吉州区", "region page heading: expected 吉州区, got {heading:?}");
    let shown = region_table(&b).await?;
    let expected = children_in_data("360802");
    ensure!(shown == expected, "吉州区's townships: expected {expected:?}\n got {shown:?}");
    ensure!(shown.iter().any(|(_, n)| n == "兴桥镇"), "兴桥镇 is listed");
    let active = b.texts("nav.sidenav a.active").await?;
    ensure!(active == ["行政区划"], "on a region page 行政区划 is marked current, got {active:?}");

    b.client.find(Locator::LinkText("兴桥镇")).await?.click().await?;
    b.wait_path("/regions/360802100").await?;
    let heading = b.text("main h1").await?;
    ensure!(heading == "兴桥镇", "township page heading: expected 兴桥镇, got {heading:?}");
    let shown = region_table(&b).await?;
    let expected = children_in_data("360802100");
    ensure!(shown == expected, "兴桥镇's villages: expected {expected:?}\n got {shown:?}");
    let crumbs = b.texts(".breadcrumb li").await?;
    ensure!(crumbs == ["首页", "吉州区", "兴桥镇"], "breadcrumb: {crumbs:?}");
    // Back up through the breadcrumb.
    b.find(".breadcrumb a[href='/regions/360802']").await?.click().await?;
    b.wait_path("/regions/360802").await?;

    // The neighbouring county, one of its townships, and the city above are out of scope.
    let qingyuan = name_in_data("360803");
    ensure!(qingyuan == "青原区", "360803 is 青原区 in the data");
    b.expect_not_found("/regions/360803", &[&qingyuan]).await?;
    let (their_township, their_name) = children_in_data("360803")[0].clone();
    b.expect_not_found(&format!("/regions/{their_township}"), &[&their_name]).await?;
    b.expect_not_found("/regions/3608", &[]).await?;
    b.expect_not_found("/regions/not-a-code", &[]).await?;

    // The control: the city admin, whose scope holds both counties, sees 青原区.
    b.client.delete_all_cookies().await?;
    b.login_as("demo.city").await?;
    let header = b.text("[data-testid=scope-region]").await?;
    ensure!(header == "吉安市", "city admin header: expected 吉安市, got {header:?}");
    let nav = b.nav().await?;
    ensure!(
        nav.iter().any(|n| n == "审计日志") && nav.iter().any(|n| n == "用户管理"),
        "city admin nav: {nav:?}"
    );
    b.goto("/regions/360803").await?;
    let heading = b.text("main h1").await?;
    ensure!(heading == "青原区", "the city admin should see 青原区, got {heading:?}");
    Ok(())
}

/// Scenario 4: The layout fits the window: no sideways scrolling, touch-sized controls, and on a
/// phone the navigation stacks above the content.
pub async fn layout(b: Browser) -> Result<()> {
    let viewport = b.viewport;
    b.goto("/login").await?;
    let inner: f64 = b.js("return window.innerWidth").await?;
    ensure!(inner == viewport.width as f64, "the window should be {} px wide, is {inner}", viewport.width);

    if let Some(overflow) = b.horizontal_overflow().await? {
        anyhow::bail!("the login page scrolls sideways at {} px: {overflow}", viewport.width);
    }
    let button = b.rect("form button.primary").await?;
    ensure!(button.height >= 44.0, "the login button is {} px tall, should be at least 44", button.height);
    ensure!(button.right() <= inner, "the login button sticks out of the window: {button:?}");
    for field in ["input[name=username]", "input[name=password]"] {
        let rect = b.rect(field).await?;
        ensure!(rect.height >= 44.0, "{field} is {} px tall, should be at least 44", rect.height);
        ensure!(rect.right() <= inner, "{field} sticks out of the window: {rect:?}");
    }

    b.login_as("demo.county").await?;
    for path in ["/", "/regions/360802", "/regions/360802100", "/users"] {
        b.goto(path).await?;
        b.find("main.work h1").await?;
        if let Some(overflow) = b.horizontal_overflow().await? {
            anyhow::bail!("{path} scrolls sideways at {} px: {overflow}", viewport.width);
        }
    }
    b.goto("/").await?;
    b.find("[data-testid=home-region]").await?;
    for (text, rect) in b.rects("nav.sidenav a").await? {
        ensure!(rect.height >= 44.0, "nav link {text} is {} px tall, should be at least 44", rect.height);
        ensure!(rect.right() <= inner + 0.5, "nav link {text} sticks out of the window: {rect:?}");
    }
    let logout = b.rect("form[action='/logout'] button").await?;
    ensure!(logout.height >= 44.0, "the logout button is {} px tall, should be at least 44", logout.height);
    ensure!(logout.right() <= inner, "the logout button sticks out of the window: {logout:?}");

    let nav = b.rect("nav.sidenav").await?;
    let main = b.rect("main.work").await?;
    let topbar = b.rect("header.topbar").await?;
    let direction: String =
        b.js("return getComputedStyle(document.querySelector('.frame')).flexDirection").await?;
    if viewport.is_phone() {
        ensure!(direction == "column", "on a phone the frame stacks (column), is {direction}");
        ensure!(nav.top >= topbar.bottom() - 0.5, "nav {nav:?} should sit below the top bar {topbar:?}");
        ensure!(main.top >= nav.bottom() - 0.5, "content {main:?} should sit below the nav {nav:?}");
        ensure!(nav.width >= inner - 1.0, "the nav spans the phone's width: {nav:?}");
        ensure!(main.width >= inner - 1.0, "the content spans the phone's width: {main:?}");
        let subtitle: bool =
            b.js("return getComputedStyle(document.querySelector('.brand span')).display !== 'none'").await?;
        ensure!(!subtitle, "the brand's subtitle is hidden on a phone");
    } else {
        ensure!(direction == "row", "on a desktop the nav sits beside the content (row), is {direction}");
        ensure!(nav.right() <= main.left + 0.5, "nav {nav:?} should be left of the content {main:?}");
        ensure!(
            (nav.top - main.top).abs() < 1.0,
            "nav and content start at the same height: {nav:?} {main:?}"
        );
        ensure!(main.width >= 900.0, "the content gets the room: {main:?}");
    }
    Ok(())
}

/// Scenario 5: Logging out ends the session on the server, not only in the browser.
pub async fn logout(b: Browser) -> Result<()> {
    b.login_as("demo.township").await?;
    let home = b.text("[data-testid=home-region]").await?;
    ensure!(home == "兴桥镇", "township home-region: {home:?}");
    let old_session =
        b.client.get_named_cookie(SESSION_COOKIE).await.context("logged in, the session cookie is set")?;

    let button = b.find("form[action='/logout'] button").await?;
    ensure!(button.text().await?.trim() == "退出", "the logout button reads 退出");
    button.click().await?;
    b.wait_path("/login").await.context("logging out should lead to the login page")?;
    b.find("form input[name=username]").await?;
    ensure!(
        b.client.get_named_cookie(SESSION_COOKIE).await.is_err(),
        "logging out clears the session cookie"
    );

    b.goto("/").await?;
    b.wait_path("/login").await.context("/ after logout should redirect to the login page")?;
    let at = b.location().await?;
    ensure!(at.contains("next=%2F"), "the redirect remembers the page: {at}");
    b.goto("/users").await?;
    b.wait_path("/login").await?;

    // The old token, put back, is dead: the server ended the session.
    ensure!(!old_session.value().is_empty(), "the session cookie has a token");
    b.client.add_cookie(old_session).await?;
    b.goto("/").await?;
    b.wait_path("/login").await.context("an ended session must not let the browser back in")?;
    let at = b.location().await?;
    ensure!(at.contains("expired=1"), "an ended session's cookie leads to the 'expired' login page: {at}");
    Ok(())
}
