//! The enrolment flow, end to end in the browser: county staff register a family and enrol
//! it, the insurer's county user underwrites it and anyone can check its certificate; a
//! village agent enrols on a phone with touch-sized controls; an ineligible member is
//! refused in Chinese and nothing is saved.
//!
//! The expected amounts come from the demo city's 2026 catalogue and funding sources (see
//! `guanai::demo::catalog`), not from the app. Data the scenarios only stand on (a family
//! to enrol, a policy to underwrite) is made through the app's store, as the command line
//! or an import would make it.

use anyhow::{bail, ensure, Context, Result};
use fantoccini::Locator;
use guanai_domain::families::Relationship;
use guanai_domain::{IdNumber, PovertyStatus, RegionCode};
use guanai_store::families::{ConsentKind, NewFamily, NewPerson};
use guanai_store::lookups::FamilyLookup;
use guanai_store::policies::{Channel, EnrolRequest, PolicyQuery, PolicyStatus};
use guanai_store::{Actor, Store};
use serde_json::json;

use crate::harness::Browser;
use crate::pages::{
    check_fits, choose_package, fen, fill, id_after, packages_offered, press, table, tick_member,
    wait_path_where, wait_text,
};
use crate::scenarios::{children_in_data, name_in_data};

/// 钓源村委会 in 兴桥镇 (吉州区).
pub(crate) const VILLAGE: &str = "360802100200";
const P1: &str = "基础保障（1+0）";
const P1N1: &str = "基础+住院津贴（1+1）";
const P1N2: &str = "基础+住院津贴+特殊家庭护理（1+2）";

/// The family county staff register in [`county_registers_and_enrols`], and whose policy
/// the insurer underwrites in [`insurer_underwrites_and_public_verifies`].
const HEAD: &str = "李建国";
const SPOUSE: &str = "王秀英";
const POLICY_NO: &str = "PJA2026TEST01";

fn head_id() -> String {
    id_number("19800305", 101)
}

fn spouse_id() -> String {
    id_number("19820611", 102)
}

/// A valid 18-character ID number of someone born on `birth` (`YYYYMMDD`) in 吉州区; `seq`
/// keeps the scenarios' people apart (odd: a man, even: a woman).
pub(crate) fn id_number(birth: &str, seq: u32) -> String {
    let body = format!("360802{birth}{:03}", seq % 1000);
    let check = IdNumber::check_char_for(&body).unwrap_or_else(|| panic!("{body} is not 17 digits"));
    format!("{body}{check}")
}

/// An ID number as pages show it: `360***********1234`.
fn masked(id: &str) -> String {
    format!("{}{}{}", &id[..3], "*".repeat(11), &id[14..])
}

fn system() -> Actor {
    Actor::system(RegionCode::parse("3608").expect("the demo city's code"))
}

// ------------------------------------------------------------------ data through the store

/// Registers a family through the store (the first member is the head), with the consents
/// to processing and to sharing with the insurer if `consents`; its id.
pub(crate) async fn seed_family(
    store: &Store,
    village: &str,
    category: &str,
    members: &[(&str, String, Relationship)],
    consents: bool,
) -> Result<i64> {
    let system = system();
    let person = |(name, id, relationship): &(&str, String, Relationship)| -> Result<NewPerson> {
        Ok(NewPerson {
            name: (*name).to_owned(),
            id_number: IdNumber::parse(id).with_context(|| format!("ID number {id}"))?.id,
            relationship: *relationship,
        })
    };
    let (head, others) = members.split_first().context("a family needs a head")?;
    let family = store
        .families()
        .create_family(
            &system,
            NewFamily {
                village: RegionCode::parse(village).with_context(|| format!("village code {village}"))?,
                category: category.to_owned(),
                poverty: PovertyStatus::None,
                address: "测试地址".to_owned(),
                phone: None,
                head: person(head)?,
            },
        )
        .await
        .with_context(|| format!("registering the family of {} through the store", head.0))?;
    for member in others {
        store.families().add_member(&system, family, person(member)?).await.context("adding a member")?;
    }
    if consents {
        for kind in [ConsentKind::Processing, ConsentKind::InsurerSharing] {
            store
                .families()
                .record_consent(&system, family, kind, None, head.0)
                .await
                .context("recording a consent")?;
        }
    }
    Ok(family)
}

async fn policies_of(store: &Store, family: i64, status: Option<PolicyStatus>) -> Result<u64> {
    let query = PolicyQuery { family_id: Some(family), status, per_page: 50, ..Default::default() };
    Ok(store.policies().search_policies(&system(), &query).await?.total)
}

/// The family of [`HEAD`] with a policy awaiting underwriting: the one county staff made
/// in the browser, or, when that scenario did not run (`GUANAI_BROWSER_ONLY`) or stopped
/// early, the same made through the store, so this scenario also runs alone.
async fn family_awaiting_underwriting(store: &Store) -> Result<i64> {
    let system = system();
    let head = IdNumber::parse(&head_id())?.id;
    let lookup = FamilyLookup { id_number: Some(head), ..Default::default() };
    let found = store.families().lookup_families(&system, &lookup).await?.families;
    let family = match found.first() {
        Some(family) => family.id,
        None => {
            let members =
                [(HEAD, head_id(), Relationship::Head), (SPOUSE, spouse_id(), Relationship::Spouse)];
            seed_family(store, VILLAGE, "only_child", &members, true).await?
        }
    };
    if policies_of(store, family, Some(PolicyStatus::Submitted)).await? == 0 {
        let package = store
            .products()
            .packages(Some(2026))
            .await?
            .into_iter()
            .find(|p| p.code == "P1N1")
            .context("the demo's 2026 package P1N1")?;
        let member_ids =
            store.families().family(&system, family).await?.members.iter().map(|m| m.id).collect();
        let request = EnrolRequest {
            family_id: family,
            package_id: package.id,
            shares: 1,
            member_ids,
            channel: Channel::Staff,
            expected_family_part: None,
        };
        let policy =
            store.policies().enrol(&system, &request).await.context("enrolling through the store")?;
        store.policies().submit_policy(&system, policy).await.context("submitting through the store")?;
    }
    Ok(family)
}

// ------------------------------------------------------------------ the scenarios

/// Scenario 6: County staff register a family with its consents, add the spouse (shown with a
/// masked ID number), and enrol both in 基础+住院津贴（1+1）: the quote splits 140.00 元
/// among the three funding sources and the family, and the policy awaits underwriting.
pub async fn county_registers_and_enrols(b: Browser) -> Result<()> {
    let (head_id, spouse_id) = (head_id(), spouse_id());
    b.login_as("demo.county").await?;

    // Register the family.
    b.goto("/families").await?;
    let new = b.find("[data-testid=new-family]").await.context("county staff are offered 登记家庭")?;
    ensure!(new.text().await?.trim() == "登记家庭", "the button to register a family reads 登记家庭");
    new.click().await?;
    b.wait_path("/families/new").await?;
    fill(&b, "[data-testid=family-form] input[name=village]", VILLAGE).await?;
    b.find("[data-testid=family-form] select[name=category]").await?.select_by_value("only_child").await?;
    fill(&b, "[data-testid=family-form] input[name=head_name]", HEAD).await?;
    fill(&b, "[data-testid=family-form] input[name=head_id_number]", &head_id).await?;
    for consent in ["consent_processing", "consent_insurer"] {
        let css = format!("input[type=checkbox][name={consent}]");
        if !b.find(&css).await?.is_selected().await? {
            // Touch the label, as a person would.
            b.client
                .find(Locator::XPath(&format!("//label[.//input[@name='{consent}']]")))
                .await?
                .click()
                .await?;
        }
        ensure!(b.find(&css).await?.is_selected().await?, "the consent {consent} should be ticked");
    }
    press(&b, "[data-testid=family-form] button.primary[type=submit]", "登记").await?;
    let path = wait_path_where(&b, "the new family's page", |p| id_after(p, "/families/").is_some())
        .await
        .context("registering should lead to the family's page")?;
    let family = id_after(&path, "/families/").expect("checked above");

    let heading = b.text("main h1").await?;
    ensure!(heading == format!("{HEAD}户"), "family page heading: expected {HEAD}户, got {heading:?}");
    let facts = b.text("dl.facts").await?;
    let village = name_in_data(VILLAGE);
    ensure!(
        facts.contains(&format!("{village}（{VILLAGE}）")),
        "the family page should name the village {village}（{VILLAGE}）: {facts:?}"
    );
    let consents = table(&b, "[data-testid=consents]").await?;
    let kinds: Vec<&str> = consents.iter().map(|row| row[0].as_str()).collect();
    ensure!(
        kinds.contains(&"同意处理个人信息") && kinds.contains(&"同意向保险公司提供个人信息"),
        "both consents ticked on the form should be recorded: {consents:?}"
    );

    // Add the spouse.
    fill(&b, "#add-member input[name=name]", SPOUSE).await?;
    fill(&b, "#add-member input[name=id_number]", &spouse_id).await?;
    b.find("#add-member select[name=relationship]").await?.select_by_value("spouse").await?;
    press(&b, "#add-member button[type=submit]", "添加成员").await?;
    b.until("the spouse in the member list", || async {
        let rows = b.client.find_all(Locator::Css("[data-testid=members] tbody tr")).await?;
        Ok((rows.len() == 2).then_some(()))
    })
    .await?;
    if let Ok(error) = b.client.find(Locator::Css("[data-testid=form-error]")).await {
        bail!("adding the spouse failed: {}", error.text().await?);
    }
    let members = table(&b, "[data-testid=members]").await?;
    let spouse =
        members.iter().find(|row| row[0] == SPOUSE).with_context(|| format!("{SPOUSE}: {members:?}"))?;
    ensure!(
        spouse[2..5] == ["1982-06-11", "女", "配偶"],
        "the spouse's row should show 1982-06-11, 女, 配偶: {spouse:?}"
    );
    let shown_ids = b.texts("[data-testid=members] .idno").await?;
    ensure!(
        shown_ids == [masked(&head_id), masked(&spouse_id)],
        "the members' ID numbers should be shown masked as {:?}, are {shown_ids:?}",
        [masked(&head_id), masked(&spouse_id)]
    );
    let source = b.client.source().await?;
    for full in [&head_id, &spouse_id] {
        ensure!(!source.contains(full.as_str()), "the family page gives away the full ID number {full}");
    }

    // Step 1: the package and the insured.
    press(&b, "[data-testid=enrol]", "参保").await?;
    b.wait_path(&format!("/families/{family}/enrol")).await?;
    let heading = b.text("main h1").await?;
    ensure!(heading == format!("参保：{HEAD}户"), "enrol page heading: {heading:?}");
    let offered = packages_offered(&b).await?;
    for package in [P1, P1N1, P1N2] {
        ensure!(offered.iter().any(|o| o == package), "the enrol page should offer {package}: {offered:?}");
    }
    choose_package(&b, P1N1).await?;
    tick_member(&b, HEAD, true).await?;
    tick_member(&b, SPOUSE, true).await?;
    let shares = b.find("input[name=shares]").await?.prop("value").await?;
    ensure!(shares.as_deref() == Some("1"), "one share is proposed, the form has {shares:?}");
    press(&b, "form.enrol button.primary[type=submit]", "核算保费").await?;

    // Step 2: the quote.
    b.wait_path(&format!("/families/{family}/enrol/quote")).await?;
    if let Ok(error) = b.client.find(Locator::Css("[data-testid=form-error]")).await {
        bail!("the quote was refused: {}", error.text().await?);
    }
    let heading = b.text("main h1").await?;
    ensure!(heading == format!("确认参保：{HEAD}户"), "quote page heading: {heading:?}");
    let facts = b.text("dl.facts").await?;
    ensure!(
        facts.contains(P1N1) && facts.contains(HEAD) && facts.contains(SPOUSE),
        "the quote should name {P1N1}, {HEAD} and {SPOUSE}: {facts:?}"
    );
    // 100 for the household (base) + 2 × 20 for the allowance.
    let premium = b.text("[data-testid=quote-premium]").await?;
    ensure!(premium == "140.00 元", "保费合计: expected 140.00 元, got {premium:?}");
    let mut funding = table(&b, "[data-testid=quote-funding]").await?;
    funding.sort();
    let mut expected = vec![
        vec!["吉安市财政计生保险补助（2026）".to_owned(), "10.00 元".to_owned()],
        vec!["吉州区财政计生保险补助（2026）".to_owned(), "5.00 元".to_owned()],
        vec!["庐陵爱心企业捐助（2026）".to_owned(), "10.00 元".to_owned()],
        // The split lists what is left for the family too.
        vec!["家庭自缴".to_owned(), "115.00 元".to_owned()],
    ];
    expected.sort();
    ensure!(funding == expected, "who pays what: expected {expected:?}\n got {funding:?}");
    let family_part = b.text("[data-testid=quote-family-part]").await?;
    ensure!(family_part == "115.00 元", "家庭应缴: expected 115.00 元, got {family_part:?}");
    ensure!(policies_of(&b.app.store, family, None).await? == 0, "a quote must not save a policy");

    let submit_now = b.find("input[name=submit_now]").await?;
    ensure!(submit_now.is_selected().await?, "submitting to the insurer at once is proposed");
    press(&b, "main.work form button.primary[type=submit]", "确认参保").await?;
    let path = wait_path_where(&b, "the new policy's page", |p| id_after(p, "/policies/").is_some()).await?;
    let policy = id_after(&path, "/policies/").expect("checked above");
    let notice = b.text("[data-testid=notice]").await?;
    ensure!(notice == "保单已创建", "the policy page should say 保单已创建, says {notice:?}");
    let status = b.text("[data-testid=policy-status]").await?;
    ensure!(status == "待承保", "policy {policy}: expected status 待承保, got {status:?}");
    let number = b.text("[data-testid=policy-no]").await?;
    ensure!(number == "待保险公司确认", "no policy number before underwriting, shows {number:?}");
    Ok(())
}

/// Scenario 7: The insurer's county user finds the policy among those awaiting underwriting,
/// confirms it with a policy number (已承保待生效: cover from the next day), prints the
/// certificate; logged out, anyone can check its code and sees only masked names.
pub async fn insurer_underwrites_and_public_verifies(b: Browser) -> Result<()> {
    let family = family_awaiting_underwriting(&b.app.store).await?;
    b.login_as("demo.branch").await?;

    b.goto("/policies?status=submitted").await?;
    let rows = table(&b, "[data-testid=policies]").await?;
    ensure!(!rows.is_empty(), "/policies?status=submitted lists nothing");
    let not_waiting: Vec<&Vec<String>> =
        rows.iter().filter(|r| r.get(8).map(String::as_str) != Some("待承保")).collect();
    ensure!(not_waiting.is_empty(), "the 待承保 filter lets through {not_waiting:?}");
    let href: Option<String> = b
        .js_with(
            "const row = Array.from(document.querySelectorAll('[data-testid=policies] tbody tr'))
               .find(tr => tr.querySelector(\"a[href='/families/\" + arguments[0] + \"']\"));
             return row ? row.cells[0].querySelector('a').getAttribute('href') : null;",
            vec![json!(family)],
        )
        .await?;
    let href =
        href.with_context(|| format!("the policy of family {family} is not among those awaiting: {rows:?}"))?;
    b.find(&format!("[data-testid=policies] a[href='{href}']")).await?.click().await?;
    b.wait_path(&href).await?;
    let policy = id_after(&href, "/policies/").with_context(|| format!("policy link {href}"))?;
    let status = b.text("[data-testid=policy-status]").await?;
    ensure!(status == "待承保", "before underwriting: expected 待承保, got {status:?}");

    fill(&b, "form[action$='/underwrite'] input[name=policy_no]", POLICY_NO).await?;
    press(&b, "form[action$='/underwrite'] button[type=submit]", "确认承保").await?;
    wait_text(&b, "[data-testid=notice]", "已确认承保").await.context("underwriting should be confirmed")?;
    // Enrolled and underwritten today (by the app's clock): covered from the day after
    // underwriting (次日零时起保), or from the scheme's start if that is later.
    let today = b.app.store.today();
    let scheme_start = chrono::NaiveDate::from_ymd_opt(2026, 9, 1).expect("a valid date");
    let cover_start = today.succ_opt().expect("a next day").max(scheme_start);
    let status = b.text("[data-testid=policy-status]").await?;
    ensure!(
        status == "已承保待生效",
        "underwritten, the cover starts {cover_start}: expected 已承保待生效, got {status:?}"
    );
    let number = b.text("[data-testid=policy-no]").await?;
    ensure!(number == POLICY_NO, "the policy number should read {POLICY_NO}, reads {number:?}");
    ensure!(
        b.client.find_all(Locator::Css("form[action$='/underwrite']")).await?.is_empty(),
        "an underwritten policy offers no second underwriting"
    );

    // The certificate opens in its own tab.
    let here = b.client.window().await?;
    let link = b.find(&format!("a[href='/policies/{policy}/certificate']")).await?;
    ensure!(link.text().await?.trim() == "打印保险凭证", "the certificate link reads 打印保险凭证");
    link.click().await?;
    let tab = b
        .until("the certificate's tab", || async {
            let windows = b.client.windows().await?;
            Ok(windows.into_iter().find(|w| *w != here))
        })
        .await?;
    b.client.switch_to_window(tab).await?;
    let checked = async {
        b.wait_path(&format!("/policies/{policy}/certificate")).await?;
        let heading = b.text("h1").await?;
        ensure!(heading.contains("保险凭证"), "certificate heading: {heading:?}");
        let body = b.text("main.certificate").await?;
        ensure!(body.contains(POLICY_NO), "the certificate should show the policy number {POLICY_NO}");
        let starts = format!("{}零时起", guanai_domain::products::prose_date(cover_start));
        ensure!(body.contains(&starts), "the certificate should show the cover's start {starts}");
        let code = b.text("[data-testid=cert-code]").await?;
        ensure!(
            code.len() >= 8 && code.chars().all(|c| c.is_ascii_alphanumeric()),
            "the verification code looks wrong: {code:?}"
        );
        ensure!(body.contains(&masked(&head_id())), "the certificate lists the head with a masked ID number");
        let source = b.client.source().await?;
        ensure!(!source.contains(&head_id()), "the certificate gives away the head's full ID number");
        Ok(code)
    }
    .await;
    b.client.close_window().await?;
    b.client.switch_to_window(here).await?;
    let code = checked?;

    // Logged out, the public check.
    press(&b, "form[action='/logout'] button", "退出").await?;
    b.wait_path("/login").await?;
    b.goto(&format!("/verify?code={code}")).await?;
    let result = b.text("[data-testid=verify-result]").await.context("the verify page shows a result")?;
    // Underwritten today, covered from tomorrow at the earliest: genuine, not yet in force.
    ensure!(
        result.contains("凭证真实，保单已承保"),
        "code {code}: expected a genuine certificate, got {result:?}"
    );
    ensure!(
        result.contains("已承保，尚未起保"),
        "the check should show the state 已承保，尚未起保: {result:?}"
    );
    ensure!(result.contains(POLICY_NO), "the check should show the policy number: {result:?}");
    ensure!(result.contains("李**户"), "the head should be shown masked as 李**户: {result:?}");
    let source = b.client.source().await?;
    for secret in [HEAD.to_owned(), SPOUSE.to_owned(), head_id(), spouse_id()] {
        ensure!(!source.contains(&secret), "the public check gives away {secret}");
    }
    Ok(())
}

/// Scenario 8: The village agent enrols a family of their township in two steps; every control
/// of the enrol and quote pages is touch-sized and no page scrolls sideways (run at both
/// widths, meant for the phone).
pub async fn agent_enrols_on_phone(b: Browser) -> Result<()> {
    let villages = children_in_data("360802100");
    let (village, village_name) = villages
        .iter()
        .rev()
        .find(|(code, _)| code != VILLAGE)
        .cloned()
        .context("another village of 兴桥镇")?;
    let members = [
        ("周志强", id_number("19750820", 201), Relationship::Head),
        ("吴丽", id_number("19780214", 202), Relationship::Spouse),
        ("周晓", id_number("20100501", 203), Relationship::Child),
    ];
    let family = seed_family(&b.app.store, &village, "only_child", &members, true).await?;
    b.login_as("demo.agent").await?;

    b.goto("/families").await?;
    b.find("[data-testid=families]").await?;
    if let Some(overflow) = b.horizontal_overflow().await? {
        bail!("the family list scrolls sideways at {} px: {overflow}", b.viewport.width);
    }
    b.find(&format!("[data-testid=families] a.rowlink[href='/families/{family}']"))
        .await
        .with_context(|| format!("the agent's family list should have the family in {village_name}"))?
        .click()
        .await?;
    b.wait_path(&format!("/families/{family}")).await?;
    check_fits(&b, "family").await?;

    press(&b, "[data-testid=enrol]", "参保").await?;
    b.wait_path(&format!("/families/{family}/enrol")).await?;
    let step = b.text("main p.muted").await?;
    ensure!(step.starts_with("第1步（共2步）"), "the enrol page says which step: {step:?}");
    check_fits(&b, "enrol").await?;
    choose_package(&b, P1N1).await?;
    for (name, _, _) in &members {
        tick_member(&b, name, true).await?;
    }
    press(&b, "form.enrol button.primary[type=submit]", "核算保费").await?;

    b.wait_path(&format!("/families/{family}/enrol/quote")).await?;
    if let Ok(error) = b.client.find(Locator::Css("[data-testid=form-error]")).await {
        bail!("the agent's quote was refused: {}", error.text().await?);
    }
    let step = b.text("main p.muted").await?;
    ensure!(step.starts_with("第2步（共2步）"), "the quote page says which step: {step:?}");
    check_fits(&b, "quote").await?;
    // The base per household, the hospital allowance per person: 100 + 3 × 20.
    let premium = b.text("[data-testid=quote-premium]").await?;
    ensure!(premium == "160.00 元", "1+1 for three persons: expected 160.00 元, got {premium:?}");
    // The split (funding sources, then 家庭自缴) adds up to the premium, and the family's
    // line is what the page says the family owes.
    let funding = table(&b, "[data-testid=quote-funding]").await?;
    let family_part = b.text("[data-testid=quote-family-part]").await?;
    let last = funding.last().with_context(|| format!("the split is empty: {funding:?}"))?;
    ensure!(
        last[0] == "家庭自缴" && last[1] == family_part,
        "the split should end with 家庭自缴 {family_part}: {funding:?}"
    );
    let mut paid = 0;
    for row in &funding {
        paid += fen(row.get(1).context("an amount")?)?;
    }
    ensure!(paid == 16_000, "the split {funding:?} should add up to the premium, 160.00 元");
    // Three sources pay for a 吉州区 family (city, county, the company), then the family.
    ensure!(funding.len() == 4, "three funding sources and the family: {funding:?}");
    press(&b, "main.work form button.primary[type=submit]", "确认参保").await?;

    let path = wait_path_where(&b, "the new policy's page", |p| id_after(p, "/policies/").is_some()).await?;
    let status = b.text("[data-testid=policy-status]").await?;
    ensure!(status == "待承保", "{path}: expected 待承保, got {status:?}");
    let facts = b.text("dl.facts").await?;
    ensure!(facts.contains("代办"), "an agent's policy is marked 代办: {facts:?}");
    if let Some(overflow) = b.horizontal_overflow().await? {
        bail!("the policy page scrolls sideways at {} px: {overflow}", b.viewport.width);
    }
    Ok(())
}

/// Scenario 9: A family whose only member is 66 on the start date is refused on the enrol page,
/// in Chinese, naming the rule; nothing is saved.
pub async fn enrolment_refused(b: Browser) -> Result<()> {
    const ELDER: &str = "张大爷";
    let members = [(ELDER, id_number("19600101", 301), Relationship::Head)];
    let family = seed_family(&b.app.store, VILLAGE, "general", &members, true).await?;
    b.login_as("demo.county").await?;

    b.goto(&format!("/families/{family}")).await?;
    press(&b, "[data-testid=enrol]", "参保").await?;
    b.wait_path(&format!("/families/{family}/enrol")).await?;
    choose_package(&b, P1).await?;
    tick_member(&b, ELDER, true).await?;
    press(&b, "form.enrol button.primary[type=submit]", "核算保费").await?;
    b.wait_path(&format!("/families/{family}/enrol/quote")).await?;
    let error = b.text("[data-testid=form-error]").await.context("an ineligible member should be refused")?;
    for part in ["初保年龄", ELDER, "66周岁", "2026年9月1日"] {
        ensure!(error.contains(part), "the refusal should contain {part}: {error:?}");
    }
    let heading = b.text("main h1").await?;
    ensure!(heading == format!("参保：{ELDER}户"), "a refusal stays on step 1, shows {heading:?}");
    ensure!(
        b.client.find_all(Locator::Css("[data-testid=quote-premium]")).await?.is_empty(),
        "a refused enrolment shows no premium"
    );
    let chosen: Option<String> = b
        .js("const input = document.querySelector('input[name=package_id]:checked');
             return input ? input.closest('label').querySelector('strong').textContent.trim() : null;")
        .await?;
    ensure!(chosen.as_deref() == Some(P1), "the form keeps the package chosen, has {chosen:?}");

    // No one ticked: refused too.
    tick_member(&b, ELDER, false).await?;
    press(&b, "form.enrol button.primary[type=submit]", "核算保费").await?;
    wait_text(&b, "[data-testid=form-error]", "请至少选择一名被保险人").await?;

    ensure!(policies_of(&b.app.store, family, None).await? == 0, "a refused enrolment must save no policy");
    b.goto(&format!("/families/{family}")).await?;
    let policies = table(&b, "[data-testid=policies]").await?;
    ensure!(
        policies.len() == 1 && policies[0][0].starts_with("尚未参保"),
        "the family page should still say 尚未参保: {policies:?}"
    );
    Ok(())
}
