//! The association's own work in the browser: county staff record a training session and
//! read its sign-in code; the village agent signs in to it on the phone (touch-sized);
//! township staff find a supervision action overdue on their home page.
//!
//! The agent record behind the demo agent's login, and the visit, are made through the
//! app's store, as the registry's page or an import would make them.

use anyhow::{ensure, Context, Result};
use guanai_domain::agents::{AgentKind, AgentVillages};
use guanai_domain::families::PersonName;
use guanai_domain::RegionCode;
use guanai_store::agents::{AgentFilter, NewAgent};
use guanai_store::supervision::{NewAction, NewVisit};
use guanai_store::Actor;

use crate::harness::Browser;
use crate::pages::{check_fits, fill, press, wait_text};

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
