//! A claim from report to satisfaction, as issue 13's "done when" tries it: the village
//! agent reports an accident for a family member on the phone and photographs two papers
//! (ticking two others handed in); the insurer's county user asks for the missing paper at
//! once; the agent photographs it; the insurer approves the amount the rules propose and
//! records the payment; the association's county staff find the claim paid within the
//! fast lane; the agent records the family's satisfaction.
//!
//! The browser's app runs on the real clock, so the scenario makes a product of its own
//! whose year began two months ago, and the family's policy through the store on days
//! before it started, as enrolment and the insurer's return file would.

use std::path::Path;

use anyhow::{ensure, Context, Result};
use chrono::{Days, NaiveDate};
use guanai_domain::families::Relationship;
use guanai_domain::products::{CoverItem, LatePremium, LateStart, PremiumBasis, ProductTerms};
use guanai_domain::{Clock, Fen, RegionCode, Role};
use guanai_store::policies::{Channel, EnrolRequest};
use guanai_store::products::{NewPackage, NewProduct, ProductKind};
use guanai_store::{Actor, Store};

use crate::enrolment::{id_number, seed_family, VILLAGE};
use crate::harness::Browser;
use crate::pages::{check_fits, fen, fill, id_after, press, table, wait_path_where, wait_text};

const HEAD: &str = "周理赔";
const HURT: &str = "吴秀兰";

fn system() -> Actor {
    Actor::system(RegionCode::parse("3608").expect("the demo city"))
}

/// A package of the scenario's own, code `LP`: accident cover with a family medical limit
/// (100 元 deductible, 80 % reimbursed), its year begun on `start`.
async fn package(store: &Store, start: NaiveDate) -> Result<i64> {
    let system = system();
    let terms = ProductTerms {
        premium: Fen::from_yuan(100),
        basis: PremiumBasis::PerHouseholdShare,
        min_shares: 1,
        max_shares: 1,
        max_members: 6,
        first_age_min: 1,
        first_age_max: 70,
        renewal_age_max: 70,
        start_date: start,
        term_months: 12,
        items: vec![
            CoverItem::AccidentDeathDisability { family_sum: Fen::from_yuan(100_000) },
            CoverItem::AccidentMedical {
                family_limit: Fen::from_yuan(10_000),
                deductible: Fen::from_yuan(100),
                reimbursed_percent: 80,
            },
        ],
        sales_end: None,
        late_start: LateStart::AfterUnderwriting,
        late_premium: LatePremium::Full,
    };
    let product = NewProduct {
        code: "LPJT".to_owned(),
        year: chrono::Datelike::year(&start),
        name: "理赔演示险".to_owned(),
        kind: ProductKind::Base,
        insurer_org_id: None,
        terms,
    };
    let base = store.products().create_product(&system, product).await?;
    let package = NewPackage {
        code: "LP".to_owned(),
        year: chrono::Datelike::year(&start),
        name: "理赔演示方案".to_owned(),
        base_product_id: base,
        addon_ids: vec![],
    };
    Ok(store.products().create_package(&system, package).await?)
}

/// The family of 周理赔 in 东塘村's township, insured under `LP` from `start` (enrolled and
/// underwritten on days before it, on a clock of their own); its id.
async fn insured_family(store: &Store, start: NaiveDate) -> Result<i64> {
    let package_id = package(store, start).await?;
    let members = [
        (HEAD, id_number("19780412", 401), Relationship::Head),
        (HURT, id_number("19800923", 402), Relationship::Spouse),
    ];
    let family = seed_family(store, VILLAGE, "only_child", &members, true).await?;
    let member_ids: Vec<i64> =
        store.families().family(&system(), family).await?.members.iter().map(|m| m.id).collect();
    let before = |days| store.with_clock(Clock::fixed_in_china(start - Days::new(days), 10, 0));
    let request = EnrolRequest {
        family_id: family,
        package_id,
        shares: 1,
        member_ids,
        channel: Channel::Staff,
        expected_family_part: None,
    };
    let enrolling = before(10);
    let policy = enrolling.policies().enrol(&system(), &request).await?;
    enrolling.policies().submit_policy(&system(), policy).await?;
    let insurer = system().acting_as(Role::InsurerCity);
    before(5).policies().underwrite_policy(&insurer, policy, &format!("PJA-LP-{policy}")).await?;
    Ok(family)
}

/// A phone photo of a paper, as a file the browser can pick: a small drawn PNG.
fn photo(dir: &Path, name: &str, shade: u8) -> Result<String> {
    let image = image::RgbImage::from_fn(400, 300, |x, y| {
        if y % 24 < 3 && (20..380).contains(&x) {
            image::Rgb([60, 60, 70])
        } else {
            image::Rgb([250, 248, 240 - shade])
        }
    });
    let path = dir.join(name);
    image.save(&path)?;
    Ok(path.to_str().context("a UTF-8 path")?.to_owned())
}

/// Uploads `file` as the paper `code` on the claim's page, and waits for the page to say so.
async fn upload(b: &Browser, claim: i64, code: &str, file: &str) -> Result<()> {
    b.goto(&format!("/claims/{claim}")).await?;
    b.find("[data-testid=paper-upload] select[name=paper]").await?.select_by_value(code).await?;
    b.find("[data-testid=paper-upload] input[type=file]").await?.send_keys(file).await?;
    press(b, "[data-testid=paper-upload] button.primary", "上传并登记为已收到").await?;
    wait_text(b, "[data-testid=notice]", "材料已上传").await?;
    Ok(())
}

/// Every status tag within `css` stays on one line (a narrow table cell must not break a
/// tag letter by letter).
async fn tags_on_one_line(b: &Browser, css: &str) -> Result<()> {
    let broken: Vec<String> = b
        .js_with(
            "return Array.from(document.querySelectorAll(arguments[0] + ' .tag'))
               .filter(t => t.getBoundingClientRect().height > 2.2 * parseFloat(getComputedStyle(t).fontSize))
               .map(t => t.textContent.trim());",
            vec![serde_json::json!(css)],
        )
        .await?;
    ensure!(broken.is_empty(), "tags broken over lines in `{css}` at {} px: {broken:?}", b.viewport.width);
    Ok(())
}

/// The status tag of the claim's page, once it reads `wanted`.
async fn status_is(b: &Browser, wanted: &str) -> Result<()> {
    let shown = wait_text(b, "[data-testid=claim-status]", wanted).await?;
    ensure!(shown == wanted, "the claim's status: expected {wanted}, shows {shown:?}");
    Ok(())
}

pub async fn claim_from_report_to_satisfaction(b: Browser) -> Result<()> {
    let store = &b.app.store;
    let today = store.today();
    let start = today.checked_sub_days(Days::new(60)).context("a date")?;
    let family = insured_family(store, start).await?;
    let files = tempfile::tempdir()?;
    let records = photo(files.path(), "病历.png", 0)?;
    let invoice = photo(files.path(), "发票.png", 40)?;
    let prescription = photo(files.path(), "处方.png", 80)?;

    // The agent, on the family's page, reports the spouse's fall two days ago.
    b.login_as("demo.agent").await?;
    b.goto(&format!("/families/{family}")).await?;
    press(&b, "[data-testid=report-claim]", "报案").await?;
    b.wait_path(&format!("/families/{family}/claims/new")).await?;
    check_fits(&b, "claim report").await?;
    let form = "[data-testid=claim-report]";
    let person = b.find(&format!("{form} select[name=person_id]")).await?;
    let hurt: String = b
        .js(&format!(
            "return Array.from(document.querySelectorAll('{form} select[name=person_id] option'))
               .find(o => o.textContent.startsWith('{HURT}')).value;"
        ))
        .await?;
    person.select_by_value(&hurt).await?;
    b.find(&format!("{form} select[name=kind]")).await?.select_by_value("accident_outpatient").await?;
    let incident = today - Days::new(2);
    b.js_with::<serde_json::Value>(
        "document.querySelector(arguments[0]).value = arguments[1]; return null;",
        vec![
            serde_json::json!(format!("{form} input[name=incident_date]")),
            serde_json::json!(incident.format("%Y-%m-%d").to_string()),
        ],
    )
    .await?;
    fill(&b, &format!("{form} input[name=place]"), "村道").await?;
    fill(&b, &format!("{form} textarea[name=description]"), "骑电动车摔伤手臂，镇卫生院门诊处理").await?;
    fill(&b, &format!("{form} input[name=claimed]"), "800").await?;
    b.find(&format!("{form} details summary")).await?.click().await?;
    fill(&b, &format!("{form} input[name=expenses]"), "800").await?;
    press(&b, &format!("{form} button.primary"), "提交报案").await?;
    let path = wait_path_where(&b, "the new claim's page", |p| id_after(p, "/claims/").is_some()).await?;
    let claim = id_after(&path, "/claims/").context("the claim's id")?;
    wait_text(&b, "[data-testid=notice]", "已报案").await?;
    status_is(&b, "已报案").await?;
    b.find("[data-testid=fast-lane]").await.context("a small outpatient claim takes the fast lane")?;
    check_fits(&b, "claim").await?;

    // Two papers photographed, two handed in and ticked; the prescription is still missing.
    upload(&b, claim, "medical_records", &records).await?;
    upload(&b, claim, "invoices", &invoice).await?;
    // The thumbnails load lazily: shown once the papers' list is in view.
    b.js::<serde_json::Value>("document.getElementById('papers').scrollIntoView(); return null;").await?;
    b.until("the two photos to show as thumbnails", || async {
        let loaded: usize = b
            .js("return Array.from(document.querySelectorAll('[data-testid=paper-files] img'))
                   .filter(i => i.complete && i.naturalWidth > 0).length;")
            .await?;
        Ok((loaded == 2).then_some(()))
    })
    .await?;
    let widths: Vec<f64> = b
        .js("return Array.from(document.querySelectorAll('[data-testid=paper-files] img')).map(i => i.getBoundingClientRect().width);")
        .await?;
    ensure!(widths.iter().all(|w| *w <= 128.5), "the papers' thumbnails stay small: {widths:?}");
    for code in ["id_card", "bank_card"] {
        b.find(&format!("[data-testid=add-papers] input[name=paper_{code}]")).await?.click().await?;
    }
    press(&b, "[data-testid=add-papers] button.primary", "登记材料").await?;
    wait_text(&b, "[data-testid=notice]", "材料已登记").await?;
    status_is(&b, "已报案").await?;

    // The insurer's county user asks for everything missing at once.
    b.client.delete_all_cookies().await?;
    b.login_as("demo.branch").await?;
    b.goto(&format!("/claims/{claim}")).await?;
    press(&b, "[data-testid=request-papers]", "一次性告知缺少的材料").await?;
    let missing = wait_text(&b, "[data-testid=missing-papers]", "一次性告知需补充").await?;
    ensure!(missing.ends_with("处方"), "only the prescription is missing: {missing:?}");
    status_is(&b, "待补材料").await?;

    // The agent photographs it: the papers are complete and the claim under review.
    b.client.delete_all_cookies().await?;
    b.login_as("demo.agent").await?;
    upload(&b, claim, "prescriptions", &prescription).await?;
    status_is(&b, "审核中").await?;

    // The insurer approves what the rules propose: (800 − 100) × 80 % = 560 元.
    b.client.delete_all_cookies().await?;
    b.login_as("demo.branch").await?;
    b.goto(&format!("/claims/{claim}")).await?;
    let proposal = b.text("[data-testid=proposal] strong").await?;
    ensure!(fen(&proposal)? == 56_000, "the rules propose 560.00 元: {proposal:?}");
    check_fits(&b, "claim decision").await?;
    press(&b, "[data-testid=decision] button.primary", "提交核定").await?;
    wait_text(&b, "[data-testid=notice]", "已核定").await?;
    status_is(&b, "已核定赔付").await?;
    let approved = b.text("[data-testid=approved]").await?;
    ensure!(approved.starts_with("560.00 元"), "approved as proposed: {approved:?}");

    // The payment, the amount filled in with what is left to pay.
    let payment = "[data-testid=payment]";
    let amount: String =
        b.js(&format!("return document.querySelector('{payment} input[name=amount]').value;")).await?;
    ensure!(amount == "560.00", "the payment form offers the approved amount: {amount:?}");
    fill(&b, &format!("{payment} input[name=beneficiary]"), HURT).await?;
    fill(&b, &format!("{payment} input[name=account]"), "6222021234567890123").await?;
    fill(&b, &format!("{payment} input[name=reference]"), &format!("ZF-{claim}")).await?;
    press(&b, &format!("{payment} button.primary"), "登记赔付").await?;
    wait_text(&b, "[data-testid=notice]", "赔付已登记").await?;
    status_is(&b, "已赔付").await?;
    let paid = b.text("[data-testid=paid]").await?;
    ensure!(paid.contains("6222***********0123") && !paid.contains("6222021234567890123"), "{paid:?}");

    // The association's county staff see it paid within the fast lane.
    b.client.delete_all_cookies().await?;
    b.login_as("demo.county").await?;
    b.goto("/claims?filter=all").await?;
    let id = claim.to_string();
    let row = table(&b, "[data-testid=claims]")
        .await?
        .into_iter()
        .find(|cells| cells[0].split(' ').next() == Some(id.as_str()))
        .context("the claim in the association's list")?;
    ensure!(row[0].ends_with("快速通道") && row[7] == "已赔付", "listed as paid in the fast lane: {row:?}");
    tags_on_one_line(&b, "[data-testid=claims]").await?;
    b.goto(&format!("/claims/{claim}")).await?;
    status_is(&b, "已赔付").await?;
    b.find("[data-testid=fast-lane]").await?;
    let clocks = table(&b, "[data-testid=clocks]").await?;
    let fast = clocks
        .iter()
        .find(|cells| cells[0] == "快速通道赔付")
        .with_context(|| format!("the fast lane's payment clock: {clocks:?}"))?;
    ensure!(fast[4] == "按时完成", "paid within the fast lane: {fast:?}");
    tags_on_one_line(&b, "[data-testid=clocks]").await?;

    // The agent records the family's satisfaction; the claim is closed.
    b.client.delete_all_cookies().await?;
    b.login_as("demo.agent").await?;
    b.goto(&format!("/claims/{claim}")).await?;
    b.find("[data-testid=satisfaction-form] select[name=score]").await?.select_by_value("5").await?;
    fill(&b, "[data-testid=satisfaction-form] textarea[name=comment]", "赔得快，服务好").await?;
    check_fits(&b, "satisfaction").await?;
    press(&b, "[data-testid=satisfaction-form] button.primary", "登记满意度").await?;
    wait_text(&b, "[data-testid=notice]", "满意度已登记").await?;
    status_is(&b, "已结案").await?;
    let score = b.text("[data-testid=satisfaction]").await?;
    ensure!(score.starts_with("5 分"), "the score: {score:?}");
    Ok(())
}
