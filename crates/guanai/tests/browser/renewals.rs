//! Renewal on a phone: a village agent opens the due list, renews a family with a newborn
//! added and a 71-year-old refused with the rule named, and sees the new policy.
//!
//! The browser's app runs on the real clock, so the scenario makes a scheme of its own
//! whose year ends two weeks from today (last year's package and next year's, same code),
//! and the family's policy of last year through the store, as an import would.

use anyhow::{ensure, Context, Result};
use chrono::{Datelike, Days, Months, NaiveDate};
use guanai_domain::families::Relationship;
use guanai_domain::products::{CoverItem, LatePremium, LateStart, PremiumBasis, ProductTerms};
use guanai_domain::{Fen, IdNumber, RegionCode, Role};
use guanai_store::families::{ConsentKind, NewFamily, NewPerson};
use guanai_store::policies::{Channel, EnrolRequest};
use guanai_store::products::{NewPackage, NewProduct, ProductKind};
use guanai_store::{Actor, Store};

use crate::harness::Browser;
use crate::pages::{check_fits, id_after, press, wait_path_where};

/// 东塘村委会 in 兴桥镇 (吉州区), the demo agent's township.
const VILLAGE: &str = "360802100201";

fn id_number(birth: NaiveDate, seq: u32) -> String {
    let body = format!("360802{}{:03}", birth.format("%Y%m%d"), seq % 1000);
    let check = IdNumber::check_char_for(&body).expect("17 digits");
    format!("{body}{check}")
}

/// A scheme of the scenario's own, code `XB`: last year's ends two weeks from today.
async fn scheme(store: &Store, system: &Actor, today: NaiveDate) -> Result<(i64, NaiveDate)> {
    let next_start = today + Days::new(14);
    let last_start = next_start.checked_sub_months(Months::new(12)).context("a date")?;
    let mut ids = Vec::new();
    for (year, start) in [(next_start.year() - 1, last_start), (next_start.year(), next_start)] {
        let terms = ProductTerms {
            premium: Fen::from_yuan(80),
            basis: PremiumBasis::PerHouseholdShare,
            min_shares: 1,
            max_shares: 1,
            max_members: 6,
            first_age_min: 1,
            first_age_max: 70,
            renewal_age_max: 70,
            start_date: start,
            term_months: 12,
            items: vec![CoverItem::AccidentDeathDisability { family_sum: Fen::from_yuan(100_000) }],
            sales_end: None,
            late_start: LateStart::AfterEnrolment,
            late_premium: LatePremium::Full,
        };
        let product = NewProduct {
            code: "XBJT".to_owned(),
            year,
            name: "续保演示险".to_owned(),
            kind: ProductKind::Base,
            insurer_org_id: None,
            terms,
        };
        let base = store.products().create_product(system, product).await?;
        let package = NewPackage {
            code: "XB".to_owned(),
            year,
            name: format!("续保演示方案{year}"),
            base_product_id: base,
            addon_ids: vec![],
        };
        ids.push(store.products().create_package(system, package).await?);
    }
    Ok((ids[0], next_start))
}

pub async fn agent_renews_on_phone(b: Browser) -> Result<()> {
    let store = &b.app.store;
    let system = Actor::system(RegionCode::parse("3608")?);
    let today = store.today();
    let (last_package, next_start) = scheme(store, &system, today).await?;
    // 70 on last year's start, 71 on next year's; a baby under one last year, one now.
    let elder_born = next_start.checked_sub_months(Months::new(71 * 12)).context("a date")? - Days::new(10);
    let baby_born = next_start.checked_sub_months(Months::new(16)).context("a date")?;
    let person = |name: &str, born, seq, relationship| -> Result<NewPerson> {
        Ok(NewPerson {
            name: name.to_owned(),
            id_number: IdNumber::parse(&id_number(born, seq))?.id,
            relationship,
        })
    };
    let head = NewFamily {
        village: RegionCode::parse(VILLAGE)?,
        category: "only_child".to_owned(),
        poverty: guanai_domain::PovertyStatus::None,
        address: "测试地址".to_owned(),
        phone: None,
        head: person("孙续保", NaiveDate::from_ymd_opt(1985, 4, 1).unwrap(), 301, Relationship::Head)?,
    };
    let family = store.families().create_family(&system, head).await?;
    let elder = store
        .families()
        .add_member(&system, family, person("孙老爷子", elder_born, 303, Relationship::Parent)?)
        .await?;
    let baby = store
        .families()
        .add_member(&system, family, person("孙小宝", baby_born, 305, Relationship::Child)?)
        .await?;
    for kind in [ConsentKind::Processing, ConsentKind::InsurerSharing] {
        store.families().record_consent(&system, family, kind, None, "孙续保").await?;
    }
    store.families().record_consent(&system, family, ConsentKind::Guardian, Some(baby), "孙续保").await?;
    let members = store.families().family(&system, family).await?.members;
    let head_id = members.iter().find(|m| m.name == "孙续保").context("the head")?.id;
    let request = EnrolRequest {
        family_id: family,
        package_id: last_package,
        shares: 1,
        member_ids: vec![head_id, elder],
        channel: Channel::Staff,
        expected_family_part: None,
    };
    let policy = store.policies().enrol(&system, &request).await?;
    store.policies().submit_policy(&system, policy).await?;
    let insurer = system.clone().acting_as(Role::InsurerCity);
    store.policies().underwrite_policy(&insurer, policy, &format!("PJA-XB-{policy}")).await?;

    b.login_as("demo.agent").await?;
    b.goto("/renewals?state=open").await?;
    b.find("[data-testid=due]").await?;
    b.find(&format!("[data-testid=due] a.button[href='/renewals/due/{policy}']"))
        .await
        .context("the agent's due list should offer the family's renewal")?
        .click()
        .await?;
    b.wait_path(&format!("/renewals/due/{policy}")).await?;
    check_fits(&b, "renewal").await?;
    let step = b.text("main p.muted").await?;
    ensure!(step.starts_with("第1步（共2步）"), "the renewal page says which step: {step:?}");
    let rule = b.text(&format!("[data-testid=rule-{elder}]")).await?;
    ensure!(
        rule.contains("年满71周岁，超过《续保演示险》的续保年龄上限70周岁"),
        "the rule is named: {rule:?}"
    );
    let baby_choice = b.text(&format!("[data-testid=member-{baby}]")).await?;
    ensure!(baby_choice.contains("新增（新生儿）"), "the baby is added: {baby_choice:?}");
    let ticked: Vec<bool> = b
        .js("return Array.from(document.querySelectorAll('input[name=member]')).map(i => i.checked);")
        .await?;
    ensure!(ticked == vec![true, false, true], "head and baby ticked, the elder not: {ticked:?}");
    press(&b, "[data-testid=renew-quote]", "核算保费").await?;

    b.wait_path(&format!("/renewals/due/{policy}/quote")).await?;
    check_fits(&b, "renewal quote").await?;
    let insured = b.text("[data-testid=quote-members]").await?;
    ensure!(insured.contains("孙小宝") && !insured.contains("孙老爷子"), "insured next year: {insured:?}");
    press(&b, "[data-testid=renew-confirm]", "确认续保").await?;
    let path =
        wait_path_where(&b, "the renewed policy's page", |p| id_after(p, "/policies/").is_some()).await?;
    let new = id_after(&path, "/policies/").context("the new policy's id")?;
    ensure!(new != policy, "a new policy");
    let status = b.text("[data-testid=policy-status]").await?;
    ensure!(status == "待承保", "{path}: expected 待承保, got {status:?}");
    // Back on the due list, the family is renewed.
    b.goto("/renewals?state=renewed").await?;
    b.find(&format!("[data-testid=due] a[href='/policies/{new}']")).await.context("the renewed row")?;
    Ok(())
}
