//! The demo: 吉安市 (3608) with its real counties, townships and villages, its association
//! units and insurer branches, and one user per role. Later features add families,
//! policies and claims here; keep the demo in this one place.

mod association;
pub mod catalog;
pub mod claims;
mod history;
mod papers;
mod photos;
pub use history::populate_years;
pub mod households;
pub mod renewals;
pub mod targets;

use std::fmt::Write as _;
use std::path::Path;

use guanai_domain::{Password, RegionCode, RegionLevel, Role, Username};
use guanai_store::orgs::OrgKind;
use guanai_store::regions::demo_city;
use guanai_store::users::NewUser;
use guanai_store::{Actor, Store};

/// `--households city`: about as many households as 吉安市 insures (≈ 1,000,000 persons).
pub const CITY_HOUSEHOLDS: usize = 330_000;
/// The most households the demo makes (three cities' worth).
pub const MAX_HOUSEHOLDS: usize = 1_000_000;

/// 吉州区, the county of the demo's county-level users.
pub const DEMO_COUNTY: &str = "360802";
/// 兴桥镇 in 吉州区, the township of the demo's township staff and village agent.
pub const DEMO_TOWNSHIP: &str = "360802100";

pub fn random_password() -> String {
    guanai_store::generate_password()
}

/// One demo account per role: login, name, role, region.
pub const DEMO_USERS: [(&str, &str, Role, &str); 8] = [
    ("demo.city", "市计生协 王主任", Role::CityAdmin, "3608"),
    ("demo.county", "吉州区计生协 李干事", Role::CountyStaff, DEMO_COUNTY),
    ("demo.township", "兴桥镇计生协 赵干事", Role::TownshipStaff, DEMO_TOWNSHIP),
    ("demo.agent", "兴桥镇服务专员 刘敏", Role::VillageAgent, DEMO_TOWNSHIP),
    ("demo.insurer", "人寿吉安分公司 陈经理", Role::InsurerCity, "3608"),
    ("demo.branch", "人寿吉州区支公司 周经理", Role::InsurerCounty, DEMO_COUNTY),
    ("demo.supervisor", "市督导组 孙组长", Role::Supervisor, "3608"),
    ("demo.auditor", "市审计 吴审计员", Role::Auditor, "3608"),
];

/// What the setup did, to print.
pub struct DemoReport {
    pub counties: usize,
    pub townships: usize,
    pub villages: usize,
    /// Logins created this time (login, role, region, password).
    pub logins: Vec<(String, Role, String, String)>,
    pub logins_file: Option<String>,
}

impl DemoReport {
    pub fn print(&self) {
        println!(
            "演示城市：吉安市（{}个县区，{}个乡镇街道，{}个村社区）",
            self.counties, self.townships, self.villages
        );
        if self.logins.is_empty() {
            println!("演示账号已存在，未重新创建。");
        } else {
            println!("演示账号（每个角色一个）：");
            for (login, role, region, password) in &self.logins {
                println!("  {login:<16} 密码 {password}  {}，{region}", role.label());
            }
        }
        if let Some(file) = &self.logins_file {
            println!("账号清单另存于 {file}（仅本机管理员可读）");
        }
    }
}

/// What [`populate`] made.
pub struct PopulateReport {
    /// The scheme years with policies.
    pub years: (i32, i32),
    pub households: usize,
    pub persons: usize,
    pub policies: usize,
    pub underwritten: usize,
}

impl PopulateReport {
    pub fn print(&self) {
        if self.households > 0 {
            println!(
                "演示家庭：{}户{}人，{}–{}年度保单共{}份（保险公司已承保{}份）",
                self.households, self.persons, self.years.0, self.years.1, self.policies, self.underwritten
            );
        }
    }
}

/// Fills the demo city with `households` made-up households (nothing when families exist
/// already) and their policies for every year from 2021 to the demo year: about half enrol
/// the first year; each year after, most renew, some lapse, some newcomers join and a
/// company gifts policies in 吉州区. Past years are underwritten, four in five of the
/// current year's. Deterministic for a seed.
pub async fn populate(store: &Store, households: usize, seed: u64) -> anyhow::Result<PopulateReport> {
    let report = populate_years(store, households, seed, history::FIRST_YEAR..=catalog::DEMO_YEAR).await?;
    // Each later phase's time is logged: at city scale they take minutes together.
    let mut phase = std::time::Instant::now();
    let mut done = |what: &str| {
        tracing::info!(seconds = phase.elapsed().as_secs_f64(), "demo: {what}");
        phase = std::time::Instant::now();
    };
    // The summary brought up to date before the claims read county figures: with every
    // village still marked, each such read costs seconds at city scale.
    store.reports().refresh_whole_summary().await?;
    done("summary brought up to date");
    claims::demo_claims(store, &Actor::system(demo_city().city), seed, history::FIRST_YEAR).await?;
    done("claims made");
    // The association's year registers two families of its own for the attributed
    // enrolments: none in a demo asked for no households (regions and users only).
    if households > 0 {
        association::populate(store).await?;
    }
    targets::set_targets(store, &demo_city().city).await?;
    done("association's year and targets");
    renewals::renewal_history(store, &Actor::system(demo_city().city), households > 0).await?;
    done("renewal season");
    // The reports' summary brought up to date, as a server's refresher would.
    store.reports().refresh_whole_summary().await?;
    done("summary brought up to date again");
    Ok(report)
}

/// Sets up the demo city; safe to run again (nothing is created twice).
pub async fn setup(store: &Store, data_dir: &Path) -> anyhow::Result<DemoReport> {
    let set = demo_city();
    store.regions().import_regions(&set).await?;
    let city = set.city.clone();
    let name_of = |code: &RegionCode| {
        set.rows.iter().find(|r| &r.code == code).map(|r| r.name.clone()).unwrap_or_default()
    };

    let city_association =
        store.orgs().ensure_org(OrgKind::Association, &city, "吉安市计生协会", None).await?;
    let city_insurer = store.orgs().ensure_org(OrgKind::Insurer, &city, "中国人寿吉安分公司", None).await?;
    for county in set.rows.iter().filter(|r| r.code.level() == RegionLevel::County) {
        let association = store
            .orgs()
            .ensure_org(
                OrgKind::Association,
                &county.code,
                &format!("{}计生协会", county.name),
                Some(city_association),
            )
            .await?;
        store
            .orgs()
            .ensure_org(
                OrgKind::Insurer,
                &county.code,
                &format!("中国人寿{}支公司", county.name),
                Some(city_insurer),
            )
            .await?;
        for township in set
            .rows
            .iter()
            .filter(|r| r.code.level() == RegionLevel::Township && county.code.contains(&r.code))
        {
            let name = format!("{}{}计生协会", county.name, township.name);
            store.orgs().ensure_org(OrgKind::Association, &township.code, &name, Some(association)).await?;
        }
    }

    let system = Actor::system(city.clone());
    catalog::products_and_packages(store, &system, catalog::DEMO_YEAR).await?;
    catalog::funding(store, &system, &set, catalog::DEMO_YEAR).await?;

    let mut logins = Vec::new();
    if store.users().count_users().await? == 0 {
        for (login, name, role, region) in DEMO_USERS {
            let region = RegionCode::parse(region)?;
            let kind = if role.is_insurer() { OrgKind::Insurer } else { OrgKind::Association };
            let org_region = region.at_level(RegionLevel::Township).unwrap_or_else(|| region.clone());
            let org_id = store.orgs().org_at(kind, &org_region).await?.map(|o| o.id);
            let password = random_password();
            store
                .users()
                .create_user(
                    &system,
                    NewUser {
                        username: Username::parse(login)?,
                        display_name: name.to_owned(),
                        role,
                        region: region.clone(),
                        org_id,
                        password: Password::parse(&password)?,
                        must_change_password: false,
                    },
                )
                .await?;
            logins.push((login.to_owned(), role, name_of(&region), password));
        }
    }
    let logins_file = if logins.is_empty() { None } else { Some(write_logins(data_dir, &logins)?) };
    Ok(DemoReport {
        counties: set.count(RegionLevel::County),
        townships: set.count(RegionLevel::Township),
        villages: set.count(RegionLevel::Village),
        logins,
        logins_file,
    })
}

/// Keeps the demo logins in the data folder, readable by its owner only.
fn write_logins(data_dir: &Path, logins: &[(String, Role, String, String)]) -> anyhow::Result<String> {
    std::fs::create_dir_all(data_dir)?;
    let path = data_dir.join("demo-logins.txt");
    let mut text = String::from("# 关爱演示账号\n");
    for (login, role, region, password) in logins {
        let _ = writeln!(text, "{login}\t{password}\t{}\t{region}", role.label());
    }
    std::fs::write(&path, text)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(path.display().to_string())
}
