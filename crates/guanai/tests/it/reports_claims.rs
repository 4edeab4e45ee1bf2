//! The claim figures of the reports, the dashboard and the bulletin against a direct
//! count on a generated city (claims read raw and counted here in plain Rust), year on
//! year since 2021; the clocks breached against the claims' own measures (the one rule);
//! insured persons counted once when a person is on two policies of a year; and the
//! claims report's page against its .xlsx.

use std::collections::{BTreeMap, HashSet};

use axum::http::StatusCode;
use chrono::NaiveDate;
use guanai_domain::families::Relationship;
use guanai_domain::products::{LatePremium, LateStart};
use guanai_domain::reports::Dimension;
use guanai_domain::{PovertyStatus, RegionCode, Role};
use guanai_store::claims::CountyMeasures;
use guanai_store::reports::ReportQuery;
use sea_orm::{ConnectionTrait, Statement};

use crate::reports::raw;
use crate::reports_pages::{download, table_cells, xlsx_cells};
use crate::util::{FamilySpec, TestApp};

/// A claim read raw: (village, cover year, status, fast lane, reported on, paid on, paid).
type RawClaim = (String, i32, String, bool, NaiveDate, Option<NaiveDate>, Option<i64>);

async fn raw_claims(app: &TestApp) -> Vec<RawClaim> {
    let db = sea_orm::Database::connect(app._db.url.as_str()).await.unwrap();
    let sql = "SELECT c.village_code, p.year, c.status, \
               CASE WHEN c.fast_lane THEN 1 ELSE 0 END AS fast, \
               c.reported_on, c.paid_on, c.paid_fen \
               FROM claims c JOIN policies p ON p.id = c.policy_id";
    let rows = db.query_all(Statement::from_string(db.get_database_backend(), sql.to_owned())).await.unwrap();
    rows.iter()
        .map(|r| {
            let fast: i32 = r.try_get("", "fast").unwrap();
            (
                r.try_get("", "village_code").unwrap(),
                r.try_get("", "year").unwrap(),
                r.try_get("", "status").unwrap(),
                fast == 1,
                r.try_get("", "reported_on").unwrap(),
                r.try_get("", "paid_on").unwrap(),
                r.try_get("", "paid_fen").unwrap(),
            )
        })
        .collect()
}

/// One county's figures of a year: reported, paid, refused, amount paid, days to payment
/// added up, fast lane, insured persons, premium, paid claims with their days.
type Counted = (u64, u64, u64, i64, u64, u64, u64, i64, u64);

/// The counted figures of one county and year, in the report's shape.
fn counted(m: &CountyMeasures) -> Counted {
    (
        m.reported,
        m.paid,
        m.refused,
        m.amount_paid.get(),
        m.days_to_payment_sum,
        m.fast_lane,
        m.insured_persons,
        m.premium.get(),
        m.days_to_payment.len() as u64,
    )
}

#[tokio::test]
async fn every_claim_figure_agrees_with_a_direct_count_year_on_year() {
    let app = TestApp::demo_populated(600, 11).await;
    let system = app.system();
    let raw = raw(&app).await;
    let claims = raw_claims(&app).await;
    assert!(claims.len() > 20, "the generated city has claims: {}", claims.len());
    let reports = app.store.reports();
    for region in ["3608", "360802"] {
        let code = RegionCode::parse(region).unwrap();
        let report = reports.claims(&system, Some(&code), 2026).await.unwrap();
        let years: Vec<i32> = report.years.iter().map(|m| m.year).collect();
        assert_eq!(years, (2021..=2026).collect::<Vec<_>>(), "every year since 2021");
        let actor = guanai_store::Actor::system(code.clone());
        for m in &report.years {
            let year = m.year;
            let mut expected: BTreeMap<String, Counted> = BTreeMap::new();
            // Premium and persons per county as the coverage counts them, directly.
            for (county, e) in raw.expected(region, year, Dimension::Region, 6) {
                if e.premium != 0 || e.persons != 0 {
                    let x = expected.entry(county).or_default();
                    x.6 = e.persons;
                    x.7 = e.premium;
                }
            }
            for c in claims.iter().filter(|c| c.1 == year && c.0.starts_with(region)) {
                let x = expected.entry(c.0[..6].to_owned()).or_default();
                x.0 += 1;
                x.2 += u64::from(c.2 == "refused");
                x.5 += u64::from(c.3);
                if let (Some(on), Some(paid)) = (c.5, c.6) {
                    x.1 += 1;
                    x.3 += paid;
                    x.4 += (on - c.4).num_days().max(0) as u64;
                    x.8 += 1;
                }
            }
            let shown: BTreeMap<String, _> = m.rows.iter().map(|r| (r.county.clone(), counted(r))).collect();
            assert_eq!(shown, expected, "{region} {year}");
            let total: u64 = m.rows.iter().map(|r| r.reported).sum();
            assert_eq!(m.total.reported, total, "the total is the counties added up");
            // The breaches (and everything else) as the claims' own measures count them.
            let own = app.store.claims().measures(&actor, year).await.unwrap();
            assert_eq!(own.rows, m.rows, "{region} {year}: the report is the measures");
            assert_eq!(own.total, m.total);
        }
        let reported: u64 = report.years.iter().map(|m| m.total.reported).sum();
        let direct = claims.iter().filter(|c| c.0.starts_with(region) && c.1 >= 2021).count() as u64;
        assert_eq!(reported, direct, "{region}: every claim in one year");
    }
    assert!(
        reports.claims(&system, None, 2026).await.unwrap().years.iter().any(|m| m.total.breached > 0),
        "the generated city has claims with a clock breached, so the breaches are compared"
    );
    // The dashboard's and the bulletin's claims are the report's this year.
    let report = reports.claims(&system, None, 2026).await.unwrap();
    let this_year = report.this_year().unwrap();
    let overview = reports.overview(&system, 2026).await.unwrap();
    assert_eq!(overview.claims.rows, this_year.rows);
    assert_eq!(overview.claims.total, this_year.total);
    let bulletin = reports.bulletin(&system, None, 2026).await.unwrap();
    assert_eq!(bulletin.claims.total, this_year.total);
    // A county's dashboard: its one county.
    let county = guanai_store::Actor::system(RegionCode::parse("360802").unwrap());
    let own = reports.overview(&county, 2026).await.unwrap().claims;
    let from_city = this_year.rows.iter().find(|r| r.county == "360802").unwrap();
    assert_eq!(own.rows, vec![from_city.clone()]);
}

#[tokio::test]
async fn a_person_on_two_policies_of_a_year_is_counted_once() {
    let app = TestApp::demo_populated(120, 7).await;
    let system = app.system();
    let insurer = system.clone().acting_as(Role::InsurerCity);
    let query =
        ReportQuery { year: 2026, region: Some(RegionCode::parse("360802").unwrap()), by: Dimension::Region };
    let before = app.store.reports().coverage(&system, &query).await.unwrap().total;
    // A package of another base product: a person may hold both in one year.
    let other =
        crate::dates::custom_package(&app, "X2", None, LateStart::AfterUnderwriting, LatePremium::Full).await;
    let (family, members) = app
        .family(FamilySpec {
            village: "360802100200",
            category: "only_child",
            poverty: PovertyStatus::None,
            members: vec![
                ("钱一", crate::util::id_number("19800101", 801), Relationship::Head),
                ("钱二", crate::util::id_number("19820101", 802), Relationship::Spouse),
            ],
            consents: true,
        })
        .await;
    let first = app.enrol(family, members.clone(), "P1", 2026).await;
    let second = app
        .store
        .policies()
        .enrol(
            &system,
            &guanai_store::policies::EnrolRequest {
                family_id: family,
                package_id: other,
                shares: 1,
                member_ids: members.clone(),
                channel: guanai_store::policies::Channel::Staff,
                expected_family_part: None,
            },
        )
        .await
        .unwrap();
    for (i, id) in [first, second].into_iter().enumerate() {
        app.store.policies().submit_policy(&system, id).await.unwrap();
        app.store.policies().underwrite_policy(&insurer, id, &format!("PJA-TWO-{i}")).await.unwrap();
    }
    let after = app.store.reports().coverage(&system, &query).await.unwrap();
    assert_eq!(after.total.insured_households, before.insured_households + 1, "one more family");
    assert_eq!(after.total.insured_persons, before.insured_persons + 2, "two persons, each once");
    // As counted directly: distinct persons per township.
    let raw = raw(&app).await;
    let expected = raw.expected("360802", 2026, Dimension::Region, 9);
    for row in &after.rows {
        assert_eq!(row.insured_persons, expected.get(&row.key).map_or(0, |e| e.persons), "{}", row.key);
    }
    // The policies' persons added up would count them twice: the test can tell.
    let added: i64 = raw
        .policies
        .iter()
        .filter(|(_, p)| p.2 == 2026 && p.3 == "underwritten" && p.1.starts_with("360802"))
        .map(|(id, _)| raw.members.iter().filter(|(p, _)| p == id).count() as i64)
        .sum();
    assert_eq!(added as u64, after.total.insured_persons + 2);
    // The claims' insured persons (frequency's denominator) are the same distinct count.
    let claims = app.store.reports().claims(&system, Some(&RegionCode::parse("360802").unwrap()), 2026).await;
    let m = claims.unwrap();
    assert_eq!(m.this_year().unwrap().total.insured_persons, after.total.insured_persons);
    let distinct: HashSet<i64> = raw
        .members
        .iter()
        .filter(|(p, _)| raw.policies[p].2 == 2026 && raw.policies[p].3 == "underwritten")
        .filter(|(p, _)| raw.policies[p].1.starts_with("360802"))
        .map(|(_, person)| *person)
        .collect();
    assert_eq!(after.total.insured_persons, distinct.len() as u64);
}

#[tokio::test]
async fn the_claims_report_shows_its_figures_exports_them_and_the_dashboards_carry_them() {
    let app = TestApp::demo_populated(300, 3).await;
    let system = app.system();
    let report = app.store.reports().claims(&system, None, 2026).await.unwrap();
    let total = &report.this_year().unwrap().total;
    let city = app.login("demo.city").await;
    let page = app.get(&city, "/reports/claims?year=2026").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let counties = table_cells(&page.body, "claims-counties");
    assert_eq!(counties[0][0], "县（区）");
    let last = counties.last().unwrap();
    assert!(last[0].starts_with("合计"), "{last:?}");
    assert_eq!(last[3], total.reported.to_string());
    assert_eq!(last[8], total.loss_ratio().percent());
    // Ranked by loss ratio, highest first.
    let ratios: Vec<f64> = counties[1..counties.len() - 1]
        .iter()
        .filter_map(|r| r[8].trim_end_matches('%').parse::<f64>().ok())
        .collect();
    assert!(ratios.windows(2).all(|w| w[0] >= w[1]), "{ratios:?}");
    let years = table_cells(&page.body, "claims-years");
    assert_eq!(years.len(), 1 + 6, "the header and every year since 2021: {years:?}");
    assert_eq!(years[1][0], "2021年度");
    let sheet = xlsx_cells(&download(&app, &city, "/reports/claims.xlsx?year=2026").await);
    let plain = |rows: &[Vec<String>]| -> Vec<Vec<String>> {
        rows.iter()
            .map(|r| {
                r.iter()
                    .map(|c| c.replace(',', ""))
                    .map(|c| c.parse::<f64>().map_or(c.clone(), |v| format!("{v:.2}")))
                    .collect()
            })
            .collect()
    };
    assert_eq!(plain(&sheet), plain(&counties), "the export is what the page shows");
    // The dashboard: the year's claims, and the loss ratio per county.
    let stat = |body: &str, key: &str| -> String {
        let at = body.find(&format!("data-testid=\"{key}\"")).unwrap_or_else(|| panic!("no {key}: {body}"));
        let rest = &body[at..];
        let rest = &rest[rest.find('>').unwrap() + 1..];
        let rest = rest.strip_prefix("<a href=\"").map(|r| &r[r.find('>').unwrap() + 1..]).unwrap_or(rest);
        rest[..rest.find('<').unwrap()].to_owned()
    };
    let home = app.get(&city, "/").await.body;
    assert_eq!(stat(&home, "dash-claims-reported"), total.reported.to_string());
    assert_eq!(stat(&home, "dash-claims-loss-ratio"), total.loss_ratio().percent());
    assert_eq!(stat(&home, "dash-claims-breached"), total.breached.to_string());
    assert!(home.contains("data-testid=\"chart-loss-ratio\""));
    let insurer = app.login("demo.insurer").await;
    let home = app.get(&insurer, "/").await.body;
    assert!(home.contains("data-testid=\"chart-loss-ratio\""), "the insurer's loss ratio per county");
    assert!(home.contains("data-testid=\"home-claims-breached\""), "and the claim queue by clock");
    assert!(!home.contains("dash-coverage"));
    // The bulletin tells of the claims.
    let bulletin = app.get(&city, "/reports/bulletin?year=2026").await.body;
    assert!(bulletin.contains(&format!("理赔{}件", total.reported)), "{bulletin}");
    assert!(bulletin.contains("data-testid=\"bulletin-claims\""));
    // The API, and a county user only its county.
    let api = app.get(&city, "/api/v1/reports/claims?year=2026").await.json();
    assert_eq!(api["years"].as_array().unwrap().len(), 6);
    let county = app.login("demo.county").await;
    assert_eq!(app.get(&county, "/reports/claims?region=360803").await.status, StatusCode::NOT_FOUND);
    let own = app.get(&county, "/api/v1/reports/claims").await.json();
    let rows = own["years"][5]["rows"].as_array().unwrap().clone();
    assert!(rows.iter().all(|r| r["county"] == "360802"), "{rows:?}");
}

#[tokio::test]
async fn every_year_since_2021_agrees_with_a_direct_count() {
    let app = TestApp::demo_populated(400, 5).await;
    let system = app.system();
    let raw = raw(&app).await;
    for region in ["3608", "360802"] {
        let code = RegionCode::parse(region).unwrap();
        let report = app.store.reports().years(&system, Some(&code), 2026).await.unwrap();
        assert_eq!(
            report.lines.iter().map(|l| l.year).collect::<Vec<_>>(),
            (2021..=2026).collect::<Vec<_>>()
        );
        for line in &report.lines {
            let year = line.year;
            let len = code.as_str().len();
            let e = raw.expected(region, year, Dimension::Region, len).remove(region).unwrap_or_default();
            assert_eq!(line.insured_households, e.households, "{region} {year}");
            assert_eq!(line.insured_persons, e.persons, "{region} {year}");
            assert_eq!(line.premium.get(), e.premium, "{region} {year}");
            assert_eq!(line.renewed_households, e.renewed, "{region} {year}");
            assert_eq!(line.due_households, e.last_households, "{region} {year}");
            let mut by_kind: BTreeMap<String, i64> = BTreeMap::new();
            for (policy, source, amount) in &raw.funding {
                let p = &raw.policies[policy];
                if p.2 == year && p.3 != "cancelled" && p.1.starts_with(region) {
                    *by_kind.entry(raw.source_kind[source].clone()).or_default() += amount;
                }
            }
            for (kind, amount) in guanai_domain::funding::FundingKind::ALL.iter().zip(&line.funding) {
                assert_eq!(
                    amount.get(),
                    by_kind.get(kind.code()).copied().unwrap_or(0),
                    "{region} {year} {kind:?}"
                );
            }
        }
    }
    // The page and its export.
    let city = app.login("demo.city").await;
    let page = app.get(&city, "/reports/years?year=2026").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let shown = table_cells(&page.body, "coverage-years");
    assert_eq!(shown.len(), 1 + 6, "{shown:?}");
    let sheet = xlsx_cells(&download(&app, &city, "/reports/years.xlsx?year=2026").await);
    assert_eq!(sheet.len(), shown.len());
    assert_eq!(
        sheet.iter().map(|r| r[0].clone()).collect::<Vec<_>>(),
        shown.iter().map(|r| r[0].clone()).collect::<Vec<_>>()
    );
}
