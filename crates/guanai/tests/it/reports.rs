//! Every figure of every report against a direct count on a generated city: the rows are
//! read raw from the database and counted here in plain Rust, independently of the
//! reports' grouped queries. And a report taken while enrolments arrive stays exact.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use guanai_domain::reports::Dimension;
use guanai_domain::RegionCode;
use guanai_store::reports::{CoverageReport, ReportQuery};
use sea_orm::{ConnectionTrait, Statement};

use crate::util::TestApp;

/// A policy read raw: (family, village, year, status, premium, underwritten at).
type RawPolicy = (i64, String, i32, String, i64, Option<DateTime<Utc>>);

/// The rows the reports count, read raw.
pub(crate) struct Raw {
    pub policies: HashMap<i64, RawPolicy>,
    pub members: Vec<(i64, i64)>,
    /// id → (village, category, poverty)
    pub families: HashMap<i64, (String, String, String)>,
    /// (policy, source, amount)
    pub funding: Vec<(i64, i64, i64)>,
    pub source_kind: HashMap<i64, String>,
}

pub(crate) async fn raw(app: &TestApp) -> Raw {
    let db = sea_orm::Database::connect(app._db.url.as_str()).await.unwrap();
    let q = |sql: &str| Statement::from_string(db.get_database_backend(), sql.to_owned());
    let mut out = Raw {
        policies: HashMap::new(),
        members: Vec::new(),
        families: HashMap::new(),
        funding: Vec::new(),
        source_kind: HashMap::new(),
    };
    let sql = "SELECT id, family_id, village_code, year, status, premium_fen, underwritten_at FROM policies";
    for r in db.query_all(q(sql)).await.unwrap() {
        out.policies.insert(
            r.try_get("", "id").unwrap(),
            (
                r.try_get("", "family_id").unwrap(),
                r.try_get("", "village_code").unwrap(),
                r.try_get("", "year").unwrap(),
                r.try_get("", "status").unwrap(),
                r.try_get("", "premium_fen").unwrap(),
                r.try_get("", "underwritten_at").unwrap(),
            ),
        );
    }
    for r in db.query_all(q("SELECT policy_id, person_id FROM policy_members")).await.unwrap() {
        out.members.push((r.try_get("", "policy_id").unwrap(), r.try_get("", "person_id").unwrap()));
    }
    for r in db.query_all(q("SELECT id, village_code, category, poverty FROM families")).await.unwrap() {
        out.families.insert(
            r.try_get("", "id").unwrap(),
            (
                r.try_get("", "village_code").unwrap(),
                r.try_get("", "category").unwrap(),
                r.try_get("", "poverty").unwrap(),
            ),
        );
    }
    for r in db.query_all(q("SELECT policy_id, source_id, amount_fen FROM policy_funding")).await.unwrap() {
        out.funding.push((
            r.try_get("", "policy_id").unwrap(),
            r.try_get("", "source_id").unwrap(),
            r.try_get("", "amount_fen").unwrap(),
        ));
    }
    for r in db.query_all(q("SELECT id, kind FROM funding_sources")).await.unwrap() {
        out.source_kind.insert(r.try_get("", "id").unwrap(), r.try_get("", "kind").unwrap());
    }
    // Closed, not left to the drop: a suite calls this hundreds of times against one server.
    db.close().await.unwrap();
    out
}

/// What the report should say for each group, counted directly.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Expected {
    pub households: u64,
    pub persons: u64,
    pub premium: i64,
    pub last_households: u64,
    pub last_persons: u64,
    pub renewed: u64,
    pub registered: u64,
}

impl Raw {
    /// The group of a policy or family of `village` and family `family`.
    fn key(&self, by: Dimension, len: usize, village: &str, family: i64) -> String {
        match by {
            Dimension::Region => village[..len].to_owned(),
            Dimension::Category => self.families[&family].1.clone(),
            Dimension::Poverty => self.families[&family].2.clone(),
        }
    }

    fn insured<'a>(
        &'a self,
        region: &'a str,
        year: i32,
    ) -> impl Iterator<Item = (&'a i64, &'a RawPolicy)> + 'a {
        self.policies
            .iter()
            .filter(move |(_, p)| p.2 == year && p.3 == "underwritten" && p.1.starts_with(region))
    }

    pub fn expected(&self, region: &str, year: i32, by: Dimension, len: usize) -> BTreeMap<String, Expected> {
        let mut groups: BTreeMap<String, Expected> = BTreeMap::new();
        let members: HashMap<i64, Vec<i64>> =
            self.members.iter().fold(HashMap::new(), |mut m, (p, person)| {
                m.entry(*p).or_default().push(*person);
                m
            });
        for (y, last) in [(year, false), (year - 1, true)] {
            // A family or person counts once in each village where insured.
            let mut families: HashMap<String, HashSet<(&str, i64)>> = HashMap::new();
            let mut persons: HashMap<String, HashSet<(&str, i64)>> = HashMap::new();
            for (id, p) in self.insured(region, y) {
                let k = self.key(by, len, &p.1, p.0);
                families.entry(k.clone()).or_default().insert((&p.1, p.0));
                let insured = members.get(id).into_iter().flatten().map(|person| (p.1.as_str(), *person));
                persons.entry(k.clone()).or_default().extend(insured);
                if !last {
                    groups.entry(k).or_default().premium += p.4;
                }
            }
            for (k, f) in families {
                let g = groups.entry(k).or_default();
                if last {
                    g.last_households = f.len() as u64;
                } else {
                    g.households = f.len() as u64;
                }
            }
            for (k, p) in persons {
                let g = groups.entry(k).or_default();
                if last {
                    g.last_persons = p.len() as u64;
                } else {
                    g.persons = p.len() as u64;
                }
            }
        }
        let this_year: HashSet<i64> =
            self.policies.values().filter(|p| p.2 == year && p.3 == "underwritten").map(|p| p.0).collect();
        let mut renewed: HashMap<String, HashSet<(&str, i64)>> = HashMap::new();
        for (_, p) in self.insured(region, year - 1) {
            if this_year.contains(&p.0) {
                renewed.entry(self.key(by, len, &p.1, p.0)).or_default().insert((&p.1, p.0));
            }
        }
        for (k, f) in renewed {
            groups.entry(k).or_default().renewed = f.len() as u64;
        }
        for (id, f) in &self.families {
            if f.0.starts_with(region) {
                groups.entry(self.key(by, len, &f.0, *id)).or_default().registered += 1;
            }
        }
        groups
    }
}

/// The report's rows as the direct count's shape (groups with nothing counted left out).
pub(crate) fn reported(report: &CoverageReport) -> BTreeMap<String, Expected> {
    report
        .rows
        .iter()
        .map(|r| {
            (
                r.key.clone(),
                Expected {
                    households: r.insured_households,
                    persons: r.insured_persons,
                    premium: r.premium.get(),
                    last_households: r.last_year_households,
                    last_persons: r.last_year_persons,
                    renewed: r.renewed_households,
                    registered: r.registered_households,
                },
            )
        })
        .filter(|(_, e)| *e != Expected::default())
        .collect()
}

/// Marks every year and village stale, as if nothing had been refreshed: reports then
/// count everything live.
async fn mark_everything(app: &TestApp) {
    let db = sea_orm::Database::connect(app._db.url.as_str()).await.unwrap();
    let sql =
        "INSERT INTO report_marks (year, village_code) SELECT DISTINCT year, village_code FROM policies \
               UNION SELECT DISTINCT 0, village_code FROM families";
    db.execute(Statement::from_string(db.get_database_backend(), sql.to_owned())).await.unwrap();
    db.close().await.unwrap();
}

#[tokio::test]
async fn every_figure_of_every_report_agrees_with_a_direct_count() {
    let app = TestApp::demo_populated(600, 11).await;
    let raw = raw(&app).await;
    // The summary as the demo left it (refreshed), then everything marked and counted
    // live, then refreshed again: the same figures each time.
    cross_check(&app, &raw).await;
    mark_everything(&app).await;
    cross_check(&app, &raw).await;
    let taken = app.store.reports().refresh_whole_summary().await.unwrap();
    assert!(taken > 0, "the marks were there to take");
    assert_eq!(app.store.reports().refresh_whole_summary().await.unwrap(), 0, "and are gone");
    cross_check(&app, &raw).await;
    let system = app.system();
    let reports = app.store.reports();
    // An entered base replaces the registry's count for its village, and only there.
    let county = RegionCode::parse("360802").unwrap();
    let before = reports
        .coverage(&system, &ReportQuery { year: 2026, region: Some(county.clone()), by: Dimension::Region })
        .await
        .unwrap();
    let village = raw.families.values().find(|f| f.0.starts_with("360802")).unwrap().0.clone();
    let change = guanai_store::targets::TargetChange {
        region: RegionCode::parse(&village).unwrap(),
        year: 2026,
        values: guanai_store::targets::TargetValues { eligible_households: Some(500), ..Default::default() },
    };
    let county_actor = guanai_store::Actor::system(county.clone());
    app.store.targets().set_targets(&county_actor, &[change]).await.unwrap();
    let after = reports
        .coverage(&system, &ReportQuery { year: 2026, region: Some(county), by: Dimension::Region })
        .await
        .unwrap();
    let registered_there = raw.families.values().filter(|f| f.0 == village).count() as u64;
    assert_eq!(after.total.eligible_households, before.total.eligible_households - registered_there + 500);
    assert_eq!(after.total.registered_households, before.total.registered_households);
}

pub(crate) async fn cross_check(app: &TestApp, raw: &Raw) {
    let system = app.system();
    let reports = app.store.reports();
    for (region, year) in [("3608", 2026), ("3608", 2023), ("360802", 2026), ("360802100", 2025)] {
        let code = RegionCode::parse(region).unwrap();
        let len = code.level().child().map_or(12, |l| l.code_len());
        for by in Dimension::ALL {
            let query = ReportQuery { year, region: Some(code.clone()), by };
            // Every failure names its report (the end of a CI log shows little else).
            let which = format!("{region} {year} {by:?}");
            let report = reports.coverage(&system, &query).await.unwrap_or_else(|e| panic!("{which}: {e}"));
            let expected = raw.expected(region, year, by, len);
            assert_eq!(reported(&report), expected, "{which}");
            // The total is the rows added up, and the base is the registry's without entries.
            let sum =
                |f: fn(&guanai_store::reports::CoverageRow) -> u64| report.rows.iter().map(f).sum::<u64>();
            assert_eq!(report.total.insured_households, sum(|r| r.insured_households), "{which}");
            assert_eq!(report.total.insured_persons, sum(|r| r.insured_persons), "{which}");
            assert_eq!(report.total.eligible_households, report.total.registered_households, "{which}");
            assert_eq!(report.total.due_households, report.total.last_year_households, "{which}");
        }
        // The season's curve ends at the year's insured households, day by day as counted.
        let curve = reports
            .season(&system, Some(&code), year)
            .await
            .unwrap_or_else(|e| panic!("{region} {year} curve: {e}"));
        let mut first: HashMap<(&str, i64), DateTime<Utc>> = HashMap::new();
        for (_, p) in raw.insured(region, year) {
            let at = p.5.expect("an underwritten policy has its time");
            first.entry((&p.1, p.0)).and_modify(|t| *t = (*t).min(at)).or_insert(at);
        }
        let mut days: BTreeMap<NaiveDate, u64> = BTreeMap::new();
        for at in first.values() {
            *days.entry((*at + chrono::Duration::hours(8)).date_naive()).or_default() += 1;
        }
        let shown: BTreeMap<NaiveDate, u64> = curve.this_year.iter().map(|p| (p.day, p.households)).collect();
        assert_eq!(shown, days, "{region} {year}: the curve, day by day");
        assert_eq!(curve.this_year.last().map_or(0, |p| p.cumulative), first.len() as u64, "{region} {year}");
        // Funding: each kind's part of the year's premium (policies not cancelled).
        let funding = reports
            .funding(&system, Some(&code), year)
            .await
            .unwrap_or_else(|e| panic!("{region} {year} funding: {e}"));
        let mut by_kind: HashMap<String, i64> = HashMap::new();
        for (policy, source, amount) in &raw.funding {
            let p = &raw.policies[policy];
            if p.2 == year && p.3 != "cancelled" && p.1.starts_with(region) {
                *by_kind.entry(raw.source_kind[source].clone()).or_default() += amount;
            }
        }
        for kind in &funding.kinds {
            assert_eq!(
                kind.amount.get(),
                by_kind.get(kind.kind.code()).copied().unwrap_or(0),
                "{region} {year} {:?}",
                kind.kind
            );
        }
        let paid: i64 = by_kind.values().sum();
        assert_eq!(funding.total.get(), paid, "the total is the sources' parts added up");
    }
}

#[tokio::test]
async fn a_report_taken_while_enrolments_arrive_stays_exact() {
    use guanai_domain::families::Relationship;
    use guanai_domain::{PovertyStatus, Role};
    use guanai_store::policies::{Channel, EnrolRequest};
    let app = TestApp::demo_populated(200, 5).await;
    let system = app.system();
    let insurer = system.clone().acting_as(Role::InsurerCity);
    let mut families = Vec::new();
    for seq in 0..12u32 {
        families.push(
            app.family(crate::util::FamilySpec {
                village: "360802100200",
                category: "only_child",
                poverty: PovertyStatus::None,
                members: vec![("赵一", crate::util::id_number("19790101", 600 + seq), Relationship::Head)],
                consents: true,
            })
            .await,
        );
    }
    let package = app.package("P1", 2026).await.id;
    let query = ReportQuery { year: 2026, region: None, by: Dimension::Region };
    let before = app.store.reports().coverage(&system, &query).await.unwrap().total;
    let start = before.insured_households;
    // Each new family has one member: households and persons grow together, so their
    // difference stays as it is in every report of one moment.
    let apart = before.insured_persons - before.insured_households;
    let enrol = async {
        for (i, (family, members)) in families.iter().enumerate() {
            let request = EnrolRequest {
                family_id: *family,
                package_id: package,
                shares: 1,
                member_ids: members.clone(),
                channel: Channel::Staff,
                expected_family_part: None,
            };
            let id = app.store.policies().enrol(&system, &request).await.unwrap();
            app.store.policies().submit_policy(&system, id).await.unwrap();
            app.store.policies().underwrite_policy(&insurer, id, &format!("PJA-RPT-{i:04}")).await.unwrap();
        }
    };
    let watch = async {
        let mut seen = Vec::new();
        for _ in 0..12 {
            let report = app.store.reports().coverage(&system, &query).await.unwrap();
            let t = &report.total;
            assert_eq!(t.insured_persons - t.insured_households, apart, "a report never mixes two moments");
            seen.push((t.insured_households, t.premium.get()));
            tokio::task::yield_now().await;
        }
        seen
    };
    let ((), seen) = tokio::join!(enrol, watch);
    let end = app.store.reports().coverage(&system, &query).await.unwrap();
    assert_eq!(end.total.insured_households, start + 12, "every enrolment counted, at once");
    // The new policies all cost the same: the premium counted is always that many of them.
    let per_policy = (end.total.premium.get() - before.premium.get()) / 12;
    for (households, premium) in &seen {
        assert!((start..=start + 12).contains(households), "{seen:?}");
        assert_eq!(premium - before.premium.get(), (households - start) as i64 * per_policy, "{seen:?}");
    }
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0), "figures only grow while families join: {seen:?}");
    let raw = raw(&app).await;
    assert_eq!(reported(&end), raw.expected("3608", 2026, Dimension::Region, 6));
}

/// The summary follows whatever writes the rows it adds up: a cancellation through the
/// store, and a family moved and recategorised by a statement of its own (the triggers
/// mark what changed, whoever changes it).
#[tokio::test]
async fn the_summary_follows_every_change_to_its_rows() {
    use guanai_domain::Role;
    let app = TestApp::demo_populated(300, 7).await;
    let before = raw(&app).await;
    let system = app.system();
    // An underwritten policy of 2026 cancelled.
    let (&policy, _) = before
        .policies
        .iter()
        .filter(|(_, p)| p.2 == 2026 && p.3 == "underwritten" && p.1.starts_with("360802"))
        .min_by_key(|(id, _)| **id)
        .expect("an underwritten policy");
    let insurer = system.clone().acting_as(Role::InsurerCity);
    app.store.policies().cancel_policy(&insurer, policy, "测试撤销").await.unwrap();
    // A family insured in 2025 and 2026 moved to another county and recategorised.
    let insured_both = |f: &i64| {
        [2025, 2026]
            .iter()
            .all(|y| before.policies.values().any(|p| p.0 == *f && p.2 == *y && p.3 == "underwritten"))
    };
    let (&family, (village, category, _)) = before
        .families
        .iter()
        .filter(|(id, f)| f.0.starts_with("360802") && insured_both(id))
        .min_by_key(|(id, _)| **id)
        .expect("a family insured two years running");
    let elsewhere = before.families.values().find(|f| !f.0.starts_with("360802")).unwrap().0.clone();
    let other_category = before.families.values().find(|f| f.1 != *category).unwrap().1.clone();
    assert_ne!(village, &elsewhere);
    let db = sea_orm::Database::connect(app._db.url.as_str()).await.unwrap();
    let sql = format!(
        "UPDATE families SET village_code = '{elsewhere}', category = '{other_category}' WHERE id = {family}"
    );
    db.execute(Statement::from_string(db.get_database_backend(), sql)).await.unwrap();
    db.close().await.unwrap();
    let after = raw(&app).await;
    assert_ne!(
        after.expected("3608", 2026, Dimension::Category, 6),
        before.expected("3608", 2026, Dimension::Category, 6),
        "the changes move figures"
    );
    // Counted live (the changes marked), then stored (refreshed): exact both times.
    cross_check(&app, &after).await;
    app.store.reports().refresh_whole_summary().await.unwrap();
    cross_check(&app, &after).await;
    // A family insured in 2025 in one village and in 2026 in another (its 2026 policy
    // moved there by a statement): cancelling the 2026 policy changes the first village's
    // renewals, which only the family's mark leads to.
    let (&moved, _) = after
        .families
        .iter()
        .filter(|(id, f)| {
            f.0.starts_with("360802")
                && **id != family
                && insured_both(id)
                && after
                    .policies
                    .values()
                    .filter(|p| p.0 == **id && p.2 == 2026 && p.3 == "underwritten")
                    .count()
                    == 1
        })
        .min_by_key(|(id, _)| **id)
        .expect("a family with one policy in 2026");
    let db = sea_orm::Database::connect(app._db.url.as_str()).await.unwrap();
    let sql =
        format!("UPDATE policies SET village_code = '{elsewhere}' WHERE family_id = {moved} AND year = 2026");
    db.execute(Statement::from_string(db.get_database_backend(), sql)).await.unwrap();
    db.close().await.unwrap();
    app.store.reports().refresh_whole_summary().await.unwrap();
    let moved_policy = raw(&app)
        .await
        .policies
        .iter()
        .find(|(_, p)| p.0 == moved && p.2 == 2026 && p.3 == "underwritten")
        .map(|(id, _)| *id)
        .unwrap();
    app.store.policies().cancel_policy(&insurer, moved_policy, "测试撤销").await.unwrap();
    let last = raw(&app).await;
    assert_ne!(
        last.expected("360802", 2026, Dimension::Region, 9),
        after.expected("360802", 2026, Dimension::Region, 9),
        "the county's renewals moved"
    );
    cross_check(&app, &last).await;
    app.store.reports().refresh_whole_summary().await.unwrap();
    cross_check(&app, &last).await;
}

/// Households registered many to a statement (as a roster import writes them) mark their
/// village's registry stale: the reports count it live until a refresh, and stored after.
/// On PostgreSQL a statement marks each of its villages once (migration 000031), on SQLite
/// and MySQL each row does.
#[tokio::test]
async fn households_registered_in_bulk_are_counted_before_and_after_a_refresh() {
    let app = TestApp::demo_populated(300, 7).await;
    app.store.reports().refresh_whole_summary().await.unwrap();
    let before = raw(&app).await;
    let village = before
        .families
        .values()
        .map(|f| f.0.clone())
        .filter(|v| v.starts_with("360802100"))
        .min()
        .expect("a village of the township cross-checked");
    let set = guanai_store::regions::demo_city();
    let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    let mut generator = guanai::demo::households::Generator::new(&set, 23, today);
    let drafts: Vec<_> = (0..600)
        .map(|_| guanai_store::households::HouseholdDraft {
            village: RegionCode::parse(&village).unwrap(),
            ..generator.household()
        })
        .collect();
    let marks = || async {
        let db = sea_orm::Database::connect(app._db.url.as_str()).await.unwrap();
        let sql =
            format!("SELECT COUNT(*) AS n FROM report_marks WHERE year = 0 AND village_code = '{village}'");
        let row =
            db.query_one(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
        let n: i64 = row.try_get("", "n").unwrap();
        db.close().await.unwrap();
        n
    };
    let marked_before = marks().await;
    app.store.families().register_households(&app.system(), &drafts).await.unwrap();
    let marks = marks().await - marked_before;
    if app.store.engine() == guanai_store::Engine::Postgres {
        // 600 households in chunks of 500, each in statements of at most 256 rows: 256,
        // 244 and 100 families, one mark each.
        assert_eq!(marks, 3);
    } else {
        assert_eq!(marks, 600);
    }
    let after = raw(&app).await;
    assert_eq!(after.families.len(), before.families.len() + 600);
    cross_check(&app, &after).await;
    app.store.reports().refresh_whole_summary().await.unwrap();
    cross_check(&app, &after).await;
}
