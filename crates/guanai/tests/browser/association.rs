//! The association's own work in the browser: county staff record a training session and
//! read its sign-in code; the village agent signs in to it on the phone (touch-sized);
//! township staff find a supervision action overdue on their home page; a publicity
//! activity's code, typed and scanned, counts two enrolments; a leaving agent's village
//! goes to the successor; a student-aid application goes through to payment and the
//! source's ledger.
//!
//! The agent record behind the demo agent's login, and the visit, are made through the
//! app's store, as the registry's page or an import would make them.

use anyhow::{bail, ensure, Context, Result};
use chrono::Datelike;
use guanai_domain::agents::{AgentKind, AgentVillages};
use guanai_domain::families::{PersonName, Relationship};
use guanai_domain::funding::FundingKind;
use guanai_domain::{Fen, RegionCode};
use guanai_store::agents::{AgentFilter, NewAgent};
use guanai_store::funding::NewSource;
use guanai_store::supervision::{NewAction, NewVisit};
use guanai_store::Actor;

use crate::enrolment::{id_number, seed_family, VILLAGE};
use crate::harness::Browser;
use crate::pages::{
    check_fits, choose_package, fen, fill, id_after, press, table, wait_path_where, wait_text,
};
use crate::scenarios::children_in_data;

fn system() -> Actor {
    Actor::system(RegionCode::parse("3608").expect("the demo city"))
}

async fn user_id(b: &Browser, login: &str) -> Result<i64> {
    let users = b.app.store.users().list_users(&system()).await?;
    users.into_iter().find(|u| u.username == login).map(|u| u.id).context("a demo user")
}

/// The agent record of the demo agent's login (two villages of 兴桥镇, so its scope stays
/// the township), made once per app.
async fn demo_agent(b: &Browser) -> Result<()> {
    let store = &b.app.store;
    let user = user_id(b, "demo.agent").await?;
    let known = store.agents().agents(&system(), &AgentFilter::default()).await?;
    if known.iter().any(|a| a.user_id == Some(user)) {
        return Ok(());
    }
    let villages =
        ["360802100201", "360802100202"].iter().map(|v| RegionCode::parse(v)).collect::<Result<_, _>>()?;
    let new = NewAgent {
        name: PersonName::parse("刘敏")?,
        kind: AgentKind::Specialist,
        phone: None,
        villages: AgentVillages::new(villages)?,
        appointed_on: store.today(),
        user_id: Some(user),
    };
    store.agents().create_agent(&system(), new).await?;
    Ok(())
}

pub async fn training_sign_in(b: Browser) -> Result<()> {
    demo_agent(&b).await?;
    b.login_as("demo.county").await?;
    b.goto("/training/new").await?;
    let topic = format!("村“三长”业务培训（{}）", b.viewport.name);
    fill(&b, "input[name=topic]", &topic).await?;
    fill(&b, "input[name=place]", "吉州区计生协会议室").await?;
    fill(&b, "input[name=trainer]", "人寿吉州区支公司").await?;
    press(&b, "form.grid-form button.primary", "保存").await?;
    let code = wait_text(&b, "[data-testid=sign-in-code]", "").await?;
    ensure!(code.len() == 6 && code.bytes().all(|c| c.is_ascii_digit()), "the sign-in code: {code:?}");
    wait_image(&b, "[data-testid=sign-in-qr]").await?;

    let phone = b.clone();
    phone.client.delete_all_cookies().await?;
    phone.login_as("demo.agent").await?;
    phone.goto("/agents/me").await?;
    press(&phone, "[data-testid=go-sign-in]", "培训签到").await?;
    phone.wait_path("/training/sign-in").await?;
    check_fits(&phone, "training sign-in").await?;
    fill(&phone, "input[name=code]", &code).await?;
    press(&phone, "form.stack button.primary", "签到").await?;
    let done = wait_text(&phone, "[data-testid=signed-in]", "签到成功").await?;
    ensure!(done.contains(&topic), "the sign-in names the session: {done:?}");
    Ok(())
}

pub async fn overdue_action_on_home(b: Browser) -> Result<()> {
    let store = &b.app.store;
    let (county, branch, township) = (
        user_id(&b, "demo.county").await?,
        user_id(&b, "demo.branch").await?,
        user_id(&b, "demo.township").await?,
    );
    let due = store.today().pred_opt().context("yesterday")?;
    let description = format!("补齐东塘村理赔告知材料（{}）", b.viewport.name);
    let visit = NewVisit {
        region: RegionCode::parse("360802100")?,
        visited_on: due.pred_opt().context("the day before")?,
        members: vec![county, branch],
        findings: "理赔材料未一次性告知".to_owned(),
        actions: vec![NewAction { description: description.clone(), owner_id: township, due_on: due }],
    };
    store.supervision().create_visit(&system(), visit).await?;
    b.login_as("demo.township").await?;
    let panel = wait_text(&b, "section.panel", &description).await?;
    ensure!(panel.contains("逾期1天"), "the home page says the action is overdue: {panel:?}");
    Ok(())
}

/// Waits until the image `css` has loaded, at a printable size.
async fn wait_image(b: &Browser, css: &str) -> Result<()> {
    let width: f64 = b
        .until(&format!("the image `{css}` to load"), || async {
            let width: f64 = b
                .js_with(
                    "const i = document.querySelector(arguments[0]); return i && i.complete ? i.naturalWidth : 0",
                    vec![serde_json::json!(css)],
                )
                .await?;
            Ok((width > 0.0).then_some(width))
        })
        .await?;
    ensure!(width >= 200.0, "the image `{css}` is printable: {width} px wide");
    Ok(())
}

/// Enrols `family` in the basic package on the enrol page, typing the activity code when
/// `typed` (else the field is as the page filled it, from a scanned code); checks the
/// field and the quote carry `code`.
async fn enrol_with_code(b: &Browser, family: i64, code: &str, typed: bool) -> Result<()> {
    b.goto(&format!("/families/{family}/enrol")).await?;
    if typed {
        fill(b, "input[name=activity_code]", code).await?;
    }
    choose_package(b, "基础保障（1+0）").await?;
    let field: String = b.js("return document.querySelector('input[name=activity_code]').value").await?;
    ensure!(field == code, "the enrol page's activity code: {field:?}, expected {code:?}");
    press(b, "form.enrol button.primary[type=submit]", "核算保费").await?;
    b.wait_path(&format!("/families/{family}/enrol/quote")).await?;
    let carried = b.text("[data-testid=quote-activity]").await?;
    ensure!(carried == code, "the quote carries the activity code: {carried:?}");
    press(b, "main.work form button.primary[type=submit]", "确认参保").await?;
    wait_path_where(b, "the new policy's page", |p| id_after(p, "/policies/").is_some()).await?;
    Ok(())
}

/// The enrolments the activity report counts for the year.
async fn reported_enrolments(b: &Browser, year: i32) -> Result<u64> {
    b.goto(&format!("/publicity/report?year={year}")).await?;
    let shown = b.text("[data-testid=report-enrolments]").await?;
    shown.trim().parse().with_context(|| format!("the report's enrolments: {shown:?}"))
}

/// A county user records a door-to-door activity; one family is enrolled with its code
/// typed in, another after the agent scanned the activity's QR address on the phone; the
/// activity and the report count both. The city then adds a kind of activity of its own.
pub async fn publicity_code_counted(b: Browser) -> Result<()> {
    let store = &b.app.store;
    let year = store.today().year();
    let families = [
        seed_family(
            store,
            VILLAGE,
            "only_child",
            &[("欧阳平", id_number("19810405", 311), Relationship::Head)],
            true,
        )
        .await?,
        seed_family(
            store,
            VILLAGE,
            "only_child",
            &[("欧阳安", id_number("19830716", 313), Relationship::Head)],
            true,
        )
        .await?,
    ];
    b.login_as("demo.county").await?;
    let before = reported_enrolments(&b, year).await?;
    b.goto("/publicity/new").await?;
    let title = format!("兴桥镇进村入户宣传（{}）", b.viewport.name);
    fill(&b, "input[name=title]", &title).await?;
    b.find("select[name=kind] option[value=door_to_door]").await?.click().await?;
    fill(&b, "input[name=organiser]", "吉州区计生协会").await?;
    fill(&b, "input[name=people_reached]", "180").await?;
    press(&b, "form.grid-form button.primary", "保存").await?;
    let path = wait_path_where(&b, "the activity's page", |p| id_after(p, "/publicity/").is_some()).await?;
    let code = b.text("[data-testid=activity-code]").await?;
    ensure!(code.starts_with("HD") && code.len() == 8, "the activity code: {code:?}");
    wait_image(&b, "[data-testid=activity-qr]").await?;
    if let Some(overflow) = b.horizontal_overflow().await? {
        bail!("the activity page scrolls sideways at {} px: {overflow}", b.viewport.width);
    }

    // County staff type the code on one enrolment.
    enrol_with_code(&b, families[0], &code, true).await?;

    // The agent scans the QR address on the phone and enrols the next family.
    let phone = b.clone();
    phone.client.delete_all_cookies().await?;
    phone.login_as("demo.agent").await?;
    phone.goto(&format!("/hd/{code}")).await?;
    let remembered = wait_text(&phone, "[data-testid=scan-remembered]", "已记住活动码").await?;
    ensure!(remembered.contains(&title), "the scan page names the activity: {remembered:?}");
    check_fits(&phone, "activity scan").await?;
    enrol_with_code(&phone, families[1], &code, false).await?;

    phone.client.delete_all_cookies().await?;
    phone.login_as("demo.county").await?;
    phone.goto(&path).await?;
    let counted = phone.text("[data-testid=activity-enrolments]").await?;
    ensure!(counted == "2户", "the activity counts both enrolments: {counted:?}");
    let after = reported_enrolments(&phone, year).await?;
    ensure!(after == before + 2, "the report counts both: {before} before, {after} after");

    // The city adds a kind of its own; the form to record an activity offers it.
    phone.client.delete_all_cookies().await?;
    phone.login_as("demo.city").await?;
    phone.goto("/publicity/kinds").await?;
    fill(&phone, "form[data-testid=add-kind] input[name=label]", "进社区").await?;
    press(&phone, "form[data-testid=add-kind] button.primary", "添加").await?;
    wait_text(&phone, "[data-testid=kinds]", "进社区").await?;
    if let Some(overflow) = phone.horizontal_overflow().await? {
        bail!("the kinds page scrolls sideways at {} px: {overflow}", phone.viewport.width);
    }
    phone.goto("/publicity/new").await?;
    let offered = phone.text("select[name=kind]").await?;
    ensure!(offered.contains("进社区"), "the new kind is offered: {offered:?}");
    Ok(())
}

/// Two villages of 兴桥镇 that no other scenario's agent serves.
fn spare_villages() -> Result<(String, String)> {
    let taken = [VILLAGE, "360802100201", "360802100202"];
    let mut spare = children_in_data("360802100")
        .into_iter()
        .map(|(code, _)| code)
        .filter(|c| !taken.contains(&c.as_str()));
    Ok((spare.next().context("a spare village")?, spare.next().context("a second spare village")?))
}

/// After a village election, county staff hand a leaving agent's village over to the
/// successor on the agent's page; the successor's page then lists it.
pub async fn handover_to_successor(b: Browser) -> Result<()> {
    let store = &b.app.store;
    let (old_village, new_village) = spare_villages()?;
    let agent = |name: &str, village: &str, appointed_on| -> Result<NewAgent> {
        Ok(NewAgent {
            name: PersonName::parse(name)?,
            kind: AgentKind::ThreeHeads,
            phone: None,
            villages: AgentVillages::new(vec![RegionCode::parse(village)?])?,
            appointed_on,
            user_id: None,
        })
    };
    let appointed = chrono::NaiveDate::from_ymd_opt(2021, 3, 1).context("a date")?;
    let leaving = store.agents().create_agent(&system(), agent("胡德明", &old_village, appointed)?).await?;
    let successor =
        store.agents().create_agent(&system(), agent("胡新华", &new_village, store.today())?).await?;

    b.login_as("demo.county").await?;
    b.goto(&format!("/agents/{leaving}")).await?;
    b.find(&format!("form[data-testid=handover] select[name=successor_id] option[value='{successor}']"))
        .await?
        .click()
        .await?;
    fill(&b, "form[data-testid=handover] input[name=note]", "村“两委”换届").await?;
    press(&b, "form[data-testid=handover] button.primary", "确认交接").await?;
    let record = wait_text(&b, "[data-testid=handovers]", "胡新华").await?;
    ensure!(record.contains("换届"), "the handover record keeps the note: {record:?}");
    ensure!(b.text("h1").await?.contains("已离任"), "the leaving agent is shown as left");
    if let Some(overflow) = b.horizontal_overflow().await? {
        bail!("the agent page scrolls sideways at {} px: {overflow}", b.viewport.width);
    }
    b.goto(&format!("/agents/{successor}")).await?;
    let villages = b.text("[data-testid=villages]").await?;
    ensure!(
        villages.contains(&old_village) && villages.contains(&new_village),
        "the successor serves both villages now: {villages:?}"
    );
    Ok(())
}

/// A student-aid application goes from the county's review to the city's approval from a
/// named source, then to payment; the source's ledger lists the grant.
pub async fn student_aid_to_payment(b: Browser) -> Result<()> {
    let store = &b.app.store;
    let family = seed_family(
        store,
        VILLAGE,
        "only_child",
        &[("欧阳军", id_number("19760302", 321), Relationship::Head)],
        true,
    )
    .await?;
    let new_source = NewSource {
        name: "金秋助学专项资金".to_owned(),
        kind: FundingKind::Donation,
        payer: "中国人寿吉安分公司".to_owned(),
        uscc: None,
        year: store.today().year(),
        region: RegionCode::parse("3608")?,
        pledged: Fen::from_yuan(50_000),
    };
    let source = store.funding().create_source(&system(), new_source).await?;

    b.login_as("demo.county").await?;
    b.goto("/student-aid/new").await?;
    fill(&b, "input[name=family_id]", &family.to_string()).await?;
    fill(&b, "input[name=student_name]", "欧阳晓明").await?;
    fill(&b, "input[name=school]", "吉安市第一中学").await?;
    fill(&b, "input[name=admission_year]", &store.today().year().to_string()).await?;
    fill(&b, "input[name=amount]", "2,000").await?;
    press(&b, "form.grid-form button.primary", "保存").await?;
    let path =
        wait_path_where(&b, "the application's page", |p| id_after(p, "/student-aid/").is_some()).await?;
    let id = id_after(&path, "/student-aid/").context("the application's id")?;
    press(&b, "form[data-testid=review] button.primary", "县级审核通过，报市计生协").await?;
    wait_text(&b, "[data-testid=aid-status]", "待市级审批").await?;

    b.client.delete_all_cookies().await?;
    b.login_as("demo.city").await?;
    b.goto(&path).await?;
    b.find(&format!("form[data-testid=review] select[name=source_id] option[value='{source}']"))
        .await?
        .click()
        .await?;
    press(&b, "form[data-testid=review] button.primary", "市级批准").await?;
    wait_text(&b, "[data-testid=aid-status]", "待发放").await?;
    press(&b, "form[data-testid=review] button.primary", "登记已发放").await?;
    wait_text(&b, "[data-testid=aid-status]", "已发放").await?;
    if let Some(overflow) = b.horizontal_overflow().await? {
        bail!("the application page scrolls sideways at {} px: {overflow}", b.viewport.width);
    }

    b.goto(&format!("/funding/{source}")).await?;
    let grants = table(&b, "[data-testid=aid-grants]").await?;
    let line = grants
        .iter()
        .find(|row| row.first().map(String::as_str) == Some(id.to_string().as_str()))
        .with_context(|| format!("the ledger lists application {id}: {grants:?}"))?;
    ensure!(line.get(2).map(String::as_str) == Some("已发放"), "the grant is paid: {line:?}");
    ensure!(fen(line.get(3).context("an amount")?)? == 200_000, "2,000 元: {line:?}");
    let allocated = b.text("[data-testid=ledger-totals]").await?;
    ensure!(allocated.contains("2,000.00"), "the source's allocated sum holds the grant: {allocated:?}");
    Ok(())
}
