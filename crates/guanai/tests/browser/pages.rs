//! Page helpers for the browser scenarios: waiting for pages and text, filling forms and
//! pressing buttons, reading tables and amounts, the enrol page's choices, and the layout
//! checks for touch-sized controls.

use anyhow::{bail, ensure, Context, Result};
use fantoccini::Locator;
use serde_json::json;

use crate::harness::Browser;

/// Waits until the page at a path `wanted` accepts has loaded; returns the path.
pub(crate) async fn wait_path_where(
    b: &Browser,
    what: &str,
    wanted: impl Fn(&str) -> bool,
) -> Result<String> {
    let wanted = &wanted;
    b.until(what, || async move {
        let here = b.path().await?;
        let ready = b.js::<String>("return document.readyState").await?;
        Ok((wanted(&here) && ready == "complete").then_some(here))
    })
    .await
}

/// `/prefix/123` → 123.
pub(crate) fn id_after(path: &str, prefix: &str) -> Option<i64> {
    path.strip_prefix(prefix)?.parse().ok()
}

/// Waits until the text of `css` contains `wanted` (e.g. after a form posts back to the
/// same path), and returns the text.
pub(crate) async fn wait_text(b: &Browser, css: &str, wanted: &str) -> Result<String> {
    b.until(&format!("`{css}` to read {wanted:?}"), || async move {
        let texts = b.texts(css).await?;
        Ok(texts.into_iter().find(|t| t.contains(wanted)))
    })
    .await
}

pub(crate) async fn fill(b: &Browser, css: &str, text: &str) -> Result<()> {
    let field = b.find(css).await?;
    field.clear().await?;
    field.send_keys(text).await.with_context(|| format!("typing into `{css}`"))?;
    Ok(())
}

/// Clicks the button `css`, checking it reads `label` first.
pub(crate) async fn press(b: &Browser, css: &str, label: &str) -> Result<()> {
    let button = b.find(css).await?;
    let text = button.text().await?;
    ensure!(text.trim() == label, "`{css}` should read {label}, reads {text:?}");
    button.click().await.with_context(|| format!("clicking {label}"))?;
    Ok(())
}

/// The cells' texts of the body rows of the table `css`.
pub(crate) async fn table(b: &Browser, css: &str) -> Result<Vec<Vec<String>>> {
    b.find(css).await?;
    b.js_with(
        "return Array.from(document.querySelectorAll(arguments[0] + ' tbody tr'))
           .map(tr => Array.from(tr.cells).map(td => td.textContent.trim().replace(/\\s+/g, ' ')));",
        vec![json!(css)],
    )
    .await
}

/// "1,234.50 元" → 123450 fen.
pub(crate) fn fen(shown: &str) -> Result<i64> {
    let number = shown.trim().trim_end_matches('元').trim().replace(',', "");
    let (yuan, cents) = number.split_once('.').unwrap_or((&number, "00"));
    let parse = |s: &str| s.parse::<i64>().with_context(|| format!("{shown:?} is not an amount"));
    ensure!(cents.len() == 2, "{shown:?} should show two decimals");
    Ok(parse(yuan)? * 100 + parse(cents)?)
}

/// The package choices of the enrol page, by name.
pub(crate) async fn packages_offered(b: &Browser) -> Result<Vec<String>> {
    b.find("label.choice input[name=package_id]").await?;
    b.js("return Array.from(document.querySelectorAll('label.choice'))
            .filter(l => l.querySelector('input[name=package_id]'))
            .map(l => l.querySelector('strong').textContent.trim());")
        .await
}

/// Picks the package `name` by touching its choice, and checks it is the one selected.
pub(crate) async fn choose_package(b: &Browser, name: &str) -> Result<()> {
    let xpath = format!(
        "//label[contains(concat(' ', normalize-space(@class), ' '), ' choice ')][.//input[@name='package_id']][.//strong[normalize-space()='{name}']]"
    );
    let label =
        b.client.find(Locator::XPath(&xpath)).await.with_context(|| format!("no package {name} offered"))?;
    label.click().await.with_context(|| format!("touching the package {name}"))?;
    let chosen: Option<String> = b
        .js("const input = document.querySelector('input[name=package_id]:checked');
             return input ? input.closest('label').querySelector('strong').textContent.trim() : null;")
        .await?;
    ensure!(chosen.as_deref() == Some(name), "touching {name} should select it, selected: {chosen:?}");
    Ok(())
}

/// The insured-person choices of the enrol page: (label text, ticked).
async fn member_choices(b: &Browser) -> Result<Vec<(String, bool)>> {
    b.js("return Array.from(document.querySelectorAll('label.choice'))
            .filter(l => l.querySelector('input[name=member]'))
            .map(l => [l.textContent.trim(), l.querySelector('input').checked]);")
        .await
}

/// Ticks (or unticks) the insured person whose choice names `name`, by touching it.
pub(crate) async fn tick_member(b: &Browser, name: &str, ticked: bool) -> Result<()> {
    let choices = member_choices(b).await?;
    let (index, (_, now)) = choices
        .iter()
        .enumerate()
        .find(|(_, (text, _))| text.starts_with(name))
        .with_context(|| format!("{name} is not offered as insured: {choices:?}"))?;
    if *now != ticked {
        let labels = b.client.find_all(Locator::Css("label.choice:has(input[name=member])")).await?;
        labels.get(index).context("the member's choice")?.click().await?;
    }
    let after = member_choices(b).await?;
    ensure!(after[index].1 == ticked, "touching {name} should make it ticked={ticked}: {after:?}");
    Ok(())
}

/// Controls a finger must hit on the enrolment pages.
const TOUCH_TARGETS: &str =
    "main.work button, main.work a.button, main.work label.choice, main.work select, \
     main.work input:not([type=hidden]):not([type=radio]):not([type=checkbox])";

/// Every touch target of the page is at least 44 px tall and inside the window; and the
/// page does not scroll sideways.
pub(crate) async fn check_fits(b: &Browser, page: &str) -> Result<()> {
    if let Some(overflow) = b.horizontal_overflow().await? {
        bail!("the {page} page scrolls sideways at {} px: {overflow}", b.viewport.width);
    }
    let targets: Vec<(String, f64, f64, f64)> = b
        .js_with(
            "return Array.from(document.querySelectorAll(arguments[0]))
               .filter(e => e.getClientRects().length > 0)
               .map(e => {
                 const r = e.getBoundingClientRect();
                 const name = e.getAttribute('name') ? '[name=' + e.getAttribute('name') + ']' : '';
                 const what = e.tagName.toLowerCase() + (e.className ? '.' + e.className.split(' ').join('.') : '') + name
                   + ' ' + JSON.stringify(e.textContent.trim().replace(/\\s+/g, ' ').slice(0, 24));
                 return [what, r.height, r.right, window.innerWidth];
               });",
            vec![json!(TOUCH_TARGETS)],
        )
        .await?;
    ensure!(!targets.is_empty(), "the {page} page has no controls to touch");
    let small: Vec<String> = targets
        .iter()
        .filter(|(_, height, _, _)| *height < 44.0)
        .map(|(what, height, _, _)| format!("{what} ({height:.1} px)"))
        .collect();
    ensure!(
        small.is_empty(),
        "on the {page} page at {} px, touch targets under 44 px tall: {}",
        b.viewport.width,
        small.join("; ")
    );
    let outside: Vec<String> = targets
        .iter()
        .filter(|(_, _, right, inner)| *right > inner + 0.5)
        .map(|(what, _, right, inner)| format!("{what} (right edge {right:.1} > {inner})"))
        .collect();
    ensure!(
        outside.is_empty(),
        "on the {page} page, controls stick out of the window: {}",
        outside.join("; ")
    );
    Ok(())
}
