//! Targets, the report pages, their exports, the bulletin and the dashboard, as users
//! meet them: who may set what, the file imported twice, the .xlsx against the screen,
//! the .docx read back, each role's dashboard and scope.

use axum::http::StatusCode;
use guanai_domain::RegionCode;
use guanai_store::Actor;

use crate::imports::upload_to;
use crate::util::TestApp;

/// The texts of a report table's cells, row by row (header and total included), as the
/// page shows them.
pub(crate) fn table_cells(body: &str, key: &str) -> Vec<Vec<String>> {
    let at = body.find(&format!("data-testid=\"{key}\"")).unwrap_or_else(|| panic!("no table {key}: {body}"));
    let table = &body[at..at + body[at..].find("</table>").expect("its end")];
    let table = &table[table.find("<thead").expect("a header")..];
    let plain = |html: &str| -> String {
        let (mut text, mut tag) = (String::new(), false);
        for c in html.chars() {
            match c {
                '<' => tag = true,
                '>' => tag = false,
                _ if !tag => text.push(c),
                _ => {}
            }
        }
        text.trim().to_owned()
    };
    table
        .split("<tr")
        .skip(1)
        .map(|row| {
            row.split("</t")
                .filter_map(|cell| cell.rfind("<t").map(|i| &cell[i..]))
                .filter(|cell| cell.starts_with("<td") || cell.starts_with("<th"))
                .map(plain)
                .collect::<Vec<_>>()
        })
        .filter(|cells| !cells.is_empty())
        .collect()
}

/// A download's bytes (the test client's body is text).
pub(crate) async fn download(app: &TestApp, client: &crate::util::Client, path: &str) -> Vec<u8> {
    use axum::body::Body;
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let request = axum::http::Request::get(path)
        .header(axum::http::header::COOKIE, format!("guanai_session={}", client.cookie))
        .body(Body::empty())
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.into_body().collect().await.unwrap().to_bytes().to_vec()
}

pub(crate) fn xlsx_cells(bytes: &[u8]) -> Vec<Vec<String>> {
    use calamine::{Data, Reader, Xlsx};
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("an xlsx file");
    let name = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&name).expect("the first sheet");
    range
        .rows()
        .skip(1) // the title line
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
                    Data::Float(f) => format!("{f:.2}"),
                    Data::Int(i) => i.to_string(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn the_city_sets_its_counties_targets_and_a_county_its_townships() {
    let app = TestApp::demo().await;
    let city = app.login("demo.city").await;
    let county = app.login("demo.county").await;
    let saved = app
        .post_form(
            &city,
            "/targets",
            &[
                ("year", "2026"),
                ("region", ""),
                ("h_360802", "1,200"),
                ("r_360802", "87.5"),
                ("h_360803", ""),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert!(saved.location().contains("saved=1"), "{}", saved.location());
    let again = app
        .post_form(&city, "/targets", &[("year", "2026"), ("h_360802", "1200"), ("r_360802", "87.5")])
        .await;
    assert!(again.location().contains("saved=0"), "the same values change nothing: {}", again.location());
    let system = app.system();
    let set =
        app.store.targets().targets_under(&system, &RegionCode::parse("3608").unwrap(), 2026).await.unwrap();
    assert_eq!(set.len(), 1);
    assert_eq!(
        (set[0].values.households, set[0].values.renewal_permille.map(|p| p.get())),
        (Some(1200), Some(875))
    );
    // The page shows the target beside what is reached.
    let page = app.get(&city, "/targets?year=2026").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("name=\"h_360802\" inputmode=\"numeric\" value=\"1200\""), "{}", page.body);

    // A county sets its townships, not itself nor another county, nor a township of another county.
    let own = app.post_form(&county, "/targets", &[("year", "2026"), ("h_360802100", "300")]).await;
    assert_eq!(own.status, StatusCode::SEE_OTHER, "{}", own.body);
    for (field, says) in [
        ("h_360802", "只能为下一级的乡镇（街道）设定任务指标"),
        ("h_360803100", "不在您的管理范围内"),
        ("h_360802100", "目标户数“many”"),
    ] {
        let value = if field == "h_360802100" { "many" } else { "5" };
        let refused = app.post_form(&county, "/targets", &[("year", "2026"), (field, value)]).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{field}: {}", refused.body);
        assert!(refused.body.contains(says), "{field}: {}", refused.body);
        if value == "many" {
            assert!(refused.body.contains("value=\"many\""), "what was typed is kept");
        }
    }
    let county_set = app
        .store
        .targets()
        .targets_under(&system, &RegionCode::parse("360802").unwrap(), 2026)
        .await
        .unwrap();
    assert_eq!(
        county_set.iter().filter(|t| t.values.households.is_some()).count(),
        2,
        "nothing half-written"
    );
    // Roles without the permission never reach the form; the API says the same.
    for login in ["demo.township", "demo.agent", "demo.insurer", "demo.supervisor"] {
        let user = app.login(login).await;
        assert_eq!(app.get(&user, "/targets").await.status, StatusCode::NOT_FOUND, "{login}");
        let body =
            serde_json::json!({"year": 2026, "rows": [{"region_code": "360802100", "households": "1"}]});
        let refused = app.post_json(&user, "/api/v1/targets", body).await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND, "{login}: {}", refused.body);
    }
}

#[tokio::test]
async fn targets_import_from_xlsx_all_or_nothing_and_once() {
    let app = TestApp::demo().await;
    let city = app.login("demo.city").await;
    // The template lists the counties; fill two of them and import.
    let template = app.get(&city, "/targets.xlsx?year=2026").await;
    assert_eq!(template.status, StatusCode::OK);
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["区划代码", "区划名称", "目标户数", "目标人数", "续保率目标（%）"].iter().enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    sheet.write_string(1, 0, "360802").unwrap();
    sheet.write_number(1, 2, 12000.0).unwrap();
    sheet.write_number(1, 3, 36000.0).unwrap();
    sheet.write_string(1, 4, "88%").unwrap();
    sheet.write_string(2, 1, "青原区").unwrap();
    sheet.write_number(2, 2, 9000.0).unwrap();
    let good = book.save_to_buffer().unwrap();
    let first = upload_to(&app, &city, "/targets/import", "指标.xlsx", &good).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    assert!(first.location().contains("saved=2"), "{}", first.location());
    let second = upload_to(&app, &city, "/targets/import", "指标.xlsx", &good).await;
    assert!(second.location().contains("saved=0"), "importing again changes nothing: {}", second.location());
    // One bad row refuses the whole file, naming the line.
    let bad = "区划代码,目标户数\n360821,500\n360822,很多\n";
    let refused = upload_to(&app, &city, "/targets/import", "bad.csv", bad.as_bytes()).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("第3行：目标户数“很多”"), "{}", refused.body);
    let set = app
        .store
        .targets()
        .targets_under(&app.system(), &RegionCode::parse("3608").unwrap(), 2026)
        .await
        .unwrap();
    let codes: Vec<&str> = set.iter().map(|t| t.region_code.as_str()).collect();
    assert_eq!(codes, ["360802", "360803"], "360821 was not written");
    assert_eq!(set[0].values.persons, Some(36000));
    // The export of what is set reads back as set.
    let export = app.get(&city, "/targets.xlsx?year=2026").await;
    assert!(export.status.is_success());
}

#[tokio::test]
async fn the_coverage_report_exports_what_it_shows_and_leads_to_the_rows_behind() {
    let app = TestApp::demo_populated(300, 3).await;
    let city = app.login("demo.city").await;
    let page = app.get(&city, "/reports?year=2026").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let shown = table_cells(&page.body, "coverage");
    assert!(shown.len() > 3, "{shown:?}");
    assert_eq!(shown[0][0], "县（市、区）");
    let export = download(&app, &city, "/reports/coverage.xlsx?year=2026&region=3608&by=region").await;
    let mut exported = xlsx_cells(&export);
    // Money: the page shows 1,234.56 as yuan text; the sheet a number.
    for rows in [&mut exported] {
        for row in rows.iter_mut() {
            if let Some(cell) = row.get_mut(10) {
                if let Ok(v) = cell.parse::<f64>() {
                    *cell = format!("{v:.2}");
                }
            }
        }
    }
    let money = |rows: &[Vec<String>]| -> Vec<Vec<String>> {
        rows.iter()
            .map(|r| {
                r.iter()
                    .enumerate()
                    .map(|(i, c)| if i == 10 { c.replace(',', "") } else { c.clone() })
                    .collect()
            })
            .collect()
    };
    assert_eq!(money(&exported), money(&shown), "the export is what the page shows");
    // A figure leads to the list behind it: the county's underwritten policies, and its families.
    assert!(
        page.body.contains("/policies?year=2026&#38;status=underwritten&#38;region=360802"),
        "{}",
        page.body
    );
    assert!(page.body.contains("/families?region=360802"));
    let policies = app.get(&city, "/policies?year=2026&status=underwritten&region=360802").await;
    assert_eq!(policies.status, StatusCode::OK);
    // Breakdowns by category and poverty, and one level down.
    for path in [
        "/reports?year=2026&by=category",
        "/reports?year=2025&by=poverty",
        "/reports?year=2026&region=360802",
    ] {
        assert_eq!(app.get(&city, path).await.status, StatusCode::OK, "{path}");
    }
    let bad = app.get(&city, "/reports?by=everything").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("未知的分组方式"));
    // Exports are audited.
    let exports = app.audit_entries("demo.city", "ok").await;
    assert!(exports.iter().any(|e| e.action == "report.export"), "the export is in the audit log");
    // The funding report and its export.
    let funding = app.get(&city, "/reports/funding?year=2026").await;
    assert_eq!(funding.status, StatusCode::OK, "{}", funding.body);
    let kinds = table_cells(&funding.body, "funding-kinds");
    assert_eq!(kinds[0][0], "来源类型");
    let sheet = xlsx_cells(&download(&app, &city, "/reports/funding.xlsx?year=2026").await);
    assert_eq!(sheet.len(), kinds.len(), "header, every kind and the total");
}

#[tokio::test]
async fn the_bulletin_reads_as_a_bulletin_and_its_docx_opens() {
    let app = TestApp::demo_populated(300, 3).await;
    let city = app.login("demo.city").await;
    app.post_form(&city, "/targets", &[("year", "2026"), ("h_360802", "1"), ("h_360803", "1000000")]).await;
    let page = app.get(&city, "/reports/bulletin?year=2026").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let at = page.body.find("data-testid=\"bulletin-summary\">").unwrap()
        + "data-testid=\"bulletin-summary\">".len();
    let summary = &page.body[at..at + page.body[at..].find("</p>").unwrap()];
    assert!(summary.starts_with("截至12月1日，全市计生家庭意外伤害保险参保"), "{summary}");
    let reached = summary.trim_end_matches('。').rsplit('。').next().unwrap();
    assert!(reached.ends_with("完成年度目标任务"), "{summary}");
    assert!(reached.starts_with("吉州区") && !reached.contains("青原区"), "{summary}");
    let bytes = download(&app, &city, "/reports/bulletin.docx?year=2026").await;
    let doc = docx_rs::read_docx(&bytes).expect("the .docx opens");
    let text = doc.json();
    assert!(text.contains(summary), "the document says what the page says");
    assert!(text.contains("关于2026年度计生家庭意外伤害保险工作进展情况的通报"));
    assert!(text.contains("吉州区") && text.contains("覆盖率"), "the county table is in it");
    // A county user's bulletin is its county's, and another county's is not to be had.
    let county = app.login("demo.county").await;
    let own = app.get(&county, "/reports/bulletin").await;
    assert!(own.body.contains("截至12月1日，吉州区计生家庭"), "{}", own.body);
    let other = app.get(&county, "/reports/bulletin.docx?region=360803").await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn each_role_sees_its_own_dashboard_and_nothing_beyond_its_scope() {
    let app = TestApp::demo_populated(300, 3).await;
    let system = app.system();
    let total = app
        .store
        .reports()
        .coverage(
            &system,
            &guanai_store::reports::ReportQuery {
                year: 2026,
                region: None,
                by: guanai_domain::reports::Dimension::Region,
            },
        )
        .await
        .unwrap()
        .total;
    let stat = |body: &str, key: &str| -> String {
        let at = body.find(&format!("data-testid=\"{key}\"")).unwrap_or_else(|| panic!("no {key}: {body}"));
        let rest = &body[at..];
        let start = rest.find('>').unwrap() + 1;
        let rest = &rest[start..];
        let rest = rest.strip_prefix("<a href=\"").map(|r| &r[r.find('>').unwrap() + 1..]).unwrap_or(rest);
        rest[..rest.find('<').unwrap()].to_owned()
    };
    let city = app.login("demo.city").await;
    let home = app.get(&city, "/").await.body;
    assert_eq!(stat(&home, "dash-households"), total.insured_households.to_string());
    assert_eq!(stat(&home, "dash-persons"), total.insured_persons.to_string());
    assert_eq!(stat(&home, "dash-coverage"), total.coverage().percent());
    assert_eq!(stat(&home, "dash-renewal"), total.renewal().percent());
    for chart in ["chart-regions", "chart-season", "chart-funding"] {
        assert!(home.contains(&format!("data-testid=\"{chart}\"")), "{chart}");
    }
    assert!(home.find("data-testid=\"dashboard\"").unwrap() < home.find("class=\"panels\"").unwrap());
    // The agent: to-do panels first, then its villages' figures.
    let agent = app.login("demo.agent").await;
    let home = app.get(&agent, "/").await.body;
    assert!(home.find("data-testid=\"dashboard\"").unwrap() > home.find("class=\"panels\"").unwrap());
    assert!(!home.contains("chart-funding"));
    let township = app
        .store
        .reports()
        .coverage(
            &Actor::system(RegionCode::parse("360802100").unwrap()),
            &guanai_store::reports::ReportQuery {
                year: 2026,
                region: None,
                by: guanai_domain::reports::Dimension::Region,
            },
        )
        .await
        .unwrap();
    assert_eq!(stat(&home, "dash-households"), township.total.insured_households.to_string());
    // The insurer: premium per county, no association figures.
    let insurer = app.login("demo.insurer").await;
    let home = app.get(&insurer, "/").await.body;
    assert!(home.contains("chart-premium") && !home.contains("dash-coverage"), "{home}");
    // The auditor sees figures, but no list behind them.
    let auditor = app.login("demo.auditor").await;
    let home = app.get(&auditor, "/").await.body;
    assert_eq!(stat(&home, "dash-households"), total.insured_households.to_string());
    assert!(!home.contains("/policies?year"), "no links to lists the auditor may not open");
    // A county user cannot read another county, by page or API, and the try is audited.
    let county = app.login("demo.county").await;
    assert_eq!(app.get(&county, "/reports?region=360803").await.status, StatusCode::NOT_FOUND);
    let api = app.get(&county, "/api/v1/reports/coverage?region=3608").await;
    assert_eq!(api.status, StatusCode::NOT_FOUND, "{}", api.body);
    let denied = app.audit_entries("demo.county", "denied").await;
    assert!(denied.iter().any(|e| e.action == "report.view" && e.target_id == "3608"), "{denied:?}");
    let own = app.get(&county, "/api/v1/reports/coverage").await.json();
    assert_eq!(own["region"], "360802");
}
