//! Files exchanged with the insurer, end to end on the demo city: the list to underwrite
//! (columns, rows, masking, audit), the returned file (preview, commit, refusals releasing
//! funding, a second run changing nothing; .xlsx and GBK .csv; the command line), and the
//! list exports.

use std::io::Cursor;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use calamine::{Data, Reader, Xlsx};
use guanai_domain::families::Relationship;
use guanai_domain::{PovertyStatus, RegionCode};
use guanai_store::policies::{Channel, EnrolRequest, PolicyStatus};
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::util::{id_number, Client, FamilySpec, TestApp, TestResponse};

const HEADERS: [&str; 19] = [
    "系统保单编号",
    "证书编号",
    "县（市、区）",
    "乡镇（街道）",
    "村（社区）",
    "户主姓名",
    "被保险人姓名",
    "身份证号",
    "性别",
    "出生日期",
    "与户主关系",
    "保障方案",
    "份数",
    "起保日期",
    "终止日期",
    "保费（元）",
    "承保结果",
    "保单号",
    "拒保原因",
];

/// 钓源村, 兴桥镇, 吉州区: within demo.branch's scope.
const JIZHOU_VILLAGE: &str = "360802100200";

/// A family of `people` with its consents, enrolled in P1 of 2026 and submitted to the
/// insurer; the policy's id.
async fn submitted(app: &TestApp, village: &str, people: Vec<(&str, String, Relationship)>) -> i64 {
    let id = drafted(app, village, people).await;
    app.store.submit_policy(&app.system(), id).await.expect("submit");
    id
}

async fn drafted(app: &TestApp, village: &str, people: Vec<(&str, String, Relationship)>) -> i64 {
    let (family, members) = app
        .family(FamilySpec {
            village,
            category: "general",
            poverty: PovertyStatus::None,
            members: people,
            consents: true,
        })
        .await;
    let request = EnrolRequest {
        family_id: family,
        package_id: app.package("P1", 2026).await.id,
        shares: 1,
        member_ids: members,
        channel: Channel::Staff,
        expected_family_part: None,
    };
    app.store.enrol(&app.system(), &request).await.expect("enrol")
}

/// A village of 青原区 (360803): outside demo.branch's scope.
async fn other_county_village(app: &TestApp) -> String {
    let rows = app.store.regions_under(&RegionCode::parse("360803").unwrap()).await.unwrap();
    rows.into_iter().find(|r| r.code.as_str().len() == 12).expect("a village in 青原区").code.to_string()
}

struct Download {
    status: StatusCode,
    content_type: String,
    bytes: Vec<u8>,
}

async fn download(app: &TestApp, request: Request<Body>) -> Download {
    let response = app.router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = response.into_body().collect().await.expect("body").to_bytes().to_vec();
    Download { status, content_type, bytes }
}

async fn get_file(app: &TestApp, client: &Client, path: &str) -> Download {
    let request = Request::get(path)
        .header(header::COOKIE, format!("guanai_session={}", client.cookie))
        .body(Body::empty());
    download(app, request.unwrap()).await
}

/// The first sheet of a spreadsheet as text, row by row.
fn sheet(bytes: &[u8]) -> Vec<Vec<String>> {
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).expect("an xlsx file");
    let range = workbook.worksheet_range_at(0).expect("a sheet").expect("readable");
    range
        .rows()
        .map(|row| {
            row.iter()
                .map(|cell| match cell {
                    Data::Empty => String::new(),
                    Data::String(s) => s.clone(),
                    Data::Float(f) => f.to_string(),
                    Data::Int(i) => i.to_string(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

fn column(name: &str) -> usize {
    HEADERS.iter().position(|h| *h == name).expect("a column of the layout")
}

/// A spreadsheet of these rows, as the insurer saves it (every cell text).
fn xlsx_of(rows: &[Vec<String>]) -> Vec<u8> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.write_string(0, 0, "吉州区支公司承保结果回传").unwrap();
    for (r, row) in rows.iter().enumerate() {
        for (c, value) in row.iter().enumerate() {
            sheet.write_string(r as u32 + 1, c as u16, value).unwrap();
        }
    }
    workbook.save_to_buffer().unwrap()
}

/// Uploads a returned file as a browser does (multipart, token in the query string).
async fn upload(app: &TestApp, client: &Client, name: &str, bytes: &[u8]) -> TestResponse {
    let boundary = "----guanai-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let request = Request::post(format!("/exchange/return?csrf={}", client.csrf))
        .header(header::COOKIE, format!("guanai_session={}", client.cookie))
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
        .body(Body::from(body))
        .unwrap();
    app.send(request).await
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The values of the hidden fields called `name` in a page.
fn hidden(body: &str, name: &str) -> Vec<String> {
    let marker = format!("name=\"{name}\" value=\"");
    body.match_indices(&marker)
        .map(|(at, _)| {
            let start = at + marker.len();
            let end = start + body[start..].find('"').expect("closing quote");
            unescape(&body[start..end])
        })
        .collect()
}

/// The number a totals card shows.
fn total(body: &str, testid: &str) -> usize {
    let marker = format!("data-testid=\"{testid}\">");
    let start = body.find(&marker).unwrap_or_else(|| panic!("no {testid} in {body}")) + marker.len();
    body[start..].split('<').next().unwrap().trim().parse().unwrap()
}

async fn allocated(app: &TestApp) -> i64 {
    app.store.sources(&app.system(), Some(2026)).await.unwrap().iter().map(|s| s.allocated.get()).sum()
}

#[tokio::test]
async fn the_insurer_round_trip_underwrites_refuses_and_a_second_run_changes_nothing() {
    let app = TestApp::demo().await;
    let a = submitted(
        &app,
        JIZHOU_VILLAGE,
        vec![
            ("李建国", id_number("19800305", 1), Relationship::Head),
            ("王秀英", id_number("19820611", 2), Relationship::Spouse),
            ("李小明", id_number("20080920", 3), Relationship::Child),
        ],
    )
    .await;
    let b =
        submitted(&app, JIZHOU_VILLAGE, vec![("张大山", id_number("19700101", 5), Relationship::Head)]).await;
    let c = submitted(
        &app,
        "360802100201",
        vec![
            ("陈立", id_number("19750505", 7), Relationship::Head),
            ("刘芳", id_number("19760606", 8), Relationship::Spouse),
        ],
    )
    .await;
    let d =
        submitted(&app, JIZHOU_VILLAGE, vec![("周强", id_number("19850808", 9), Relationship::Head)]).await;
    let draft =
        drafted(&app, JIZHOU_VILLAGE, vec![("吴草", id_number("19900909", 11), Relationship::Head)]).await;
    let outside = other_county_village(&app).await;
    let elsewhere =
        submitted(&app, &outside, vec![("郑远", id_number("19660606", 13), Relationship::Head)]).await;

    // The branch (吉州区) exports its list: one row per insured person, full ID numbers.
    let branch = app.login("demo.branch").await;
    let page = app.get(&branch, "/exchange").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("data-testid=\"return-form\"") && page.body.contains("拒保原因"));
    let file = get_file(&app, &branch, "/exchange/underwriting.xlsx?year=2026").await;
    assert_eq!(file.status, StatusCode::OK);
    assert!(file.content_type.contains("spreadsheetml"), "{}", file.content_type);
    let rows = sheet(&file.bytes);
    assert_eq!(rows[0], HEADERS.map(str::to_owned).to_vec());
    let data = &rows[1..];
    assert_eq!(data.len(), 7, "3 + 1 + 2 + 1 insured, not the draft, not 青原区: {data:?}");
    let of = |policy: i64| -> Vec<&Vec<String>> {
        data.iter().filter(|r| r[column("系统保单编号")] == policy.to_string()).collect()
    };
    assert!(of(draft).is_empty() && of(elsewhere).is_empty());
    let first = of(a);
    assert_eq!(first.len(), 3);
    assert_eq!(first[0][column("被保险人姓名")], "李建国");
    assert_eq!(first[0][column("身份证号")], id_number("19800305", 1));
    assert_eq!(first[0][column("与户主关系")], "户主");
    assert_eq!(first[2][column("户主姓名")], "李建国");
    assert_eq!(first[0][column("县（市、区）")], "吉州区");
    assert_eq!(first[0][column("起保日期")], "2026-09-01");
    assert_eq!(first[0][column("保费（元）")], "100", "the household's premium on its first row");
    assert_eq!(first[1][column("保费（元）")], "", "and only there");
    let cert = app.store.policy(&app.system(), a).await.unwrap().cert_code;
    assert_eq!(first[0][column("证书编号")], cert);
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    let range = |from: chrono::NaiveDate, to: chrono::NaiveDate| {
        format!("/exchange/underwriting.xlsx?year=2026&from={from}&to={to}")
    };
    let past = today - chrono::Duration::days(30);
    let none = get_file(&app, &branch, &range(past, past)).await;
    assert_eq!(sheet(&none.bytes).len(), 1, "nothing was submitted a month ago");
    assert_eq!(sheet(&get_file(&app, &branch, &range(past, today)).await.bytes).len(), 8);
    assert_eq!(get_file(&app, &branch, &range(today, past)).await.status, StatusCode::BAD_REQUEST);
    let exported = app.audit_entries("demo.branch", "ok").await;
    let entry =
        exported.iter().find(|e| e.action == "policy.export_underwriting").expect("the export is audited");
    assert!(entry.detail.contains("4份保单 7人") && entry.detail.contains("完整"), "{}", entry.detail);

    // A supervisor (city) sees the whole city, masked; an auditor may not export at all.
    let supervisor = app.login("demo.supervisor").await;
    let masked = sheet(&get_file(&app, &supervisor, "/exchange/underwriting.xlsx?year=2026").await.bytes);
    assert_eq!(masked.len(), 1 + 8);
    for row in &masked[1..] {
        assert!(row[column("身份证号")].contains("*"), "{row:?}");
        assert!(row[column("被保险人姓名")].ends_with('*'), "{row:?}");
    }
    assert!(app
        .audit_entries("demo.supervisor", "ok")
        .await
        .iter()
        .any(|e| e.action == "policy.export_underwriting" && e.detail.contains("脱敏")));
    assert_eq!(app.get(&supervisor, "/exchange").await.status, StatusCode::NOT_FOUND);
    let auditor = app.login("demo.auditor").await;
    assert_eq!(get_file(&app, &auditor, "/exchange/underwriting.xlsx").await.status, StatusCode::NOT_FOUND);

    // The insurer fills the file: A on every row, B on its row (and a duplicate of it),
    // C refused on its first row only, D with two answers that disagree, and rows for an
    // unknown policy, one outside the branch's county and a draft.
    let mut filled: Vec<Vec<String>> = vec![HEADERS.map(str::to_owned).to_vec()];
    for row in data {
        let mut row = row.clone();
        let id: i64 = row[column("系统保单编号")].parse().unwrap();
        let answer = if id == a {
            ("承保", "PJA2026000101", "")
        } else if id == b {
            ("承保", "PJA2026000102", "")
        } else if id == c && row[column("与户主关系")] == "户主" {
            ("拒保", "", "被保险人职业类别不符")
        } else if id == d {
            ("承保", "PJA2026000104", "")
        } else {
            ("", "", "")
        };
        row[column("承保结果")] = answer.0.to_owned();
        row[column("保单号")] = answer.1.to_owned();
        row[column("拒保原因")] = answer.2.to_owned();
        filled.push(row.clone());
        if id == b {
            filled.push(row.clone());
        }
        if id == d {
            row[column("承保结果")] = "拒保".to_owned();
            row[column("保单号")] = String::new();
            row[column("拒保原因")] = "重复投保".to_owned();
            filled.push(row);
        }
    }
    let extra = |id: String, result: &str, no: &str| {
        let mut row = vec![String::new(); HEADERS.len()];
        row[column("系统保单编号")] = id;
        row[column("承保结果")] = result.to_owned();
        row[column("保单号")] = no.to_owned();
        row
    };
    filled.push(extra("999999".to_owned(), "承保", "PJA2026000999"));
    filled.push(extra(elsewhere.to_string(), "承保", "PJA2026000106"));
    filled.push(extra(draft.to_string(), "承保", "PJA2026000107"));
    let returned = xlsx_of(&filled);

    // The preview: a verdict per policy, nothing written yet.
    let before = allocated(&app).await;
    let funded_c: i64 = app
        .store
        .policy(&app.system(), c)
        .await
        .unwrap()
        .funding
        .iter()
        .filter(|l| l.source_id.is_some())
        .map(|l| l.amount.get())
        .sum();
    assert!(funded_c > 0);
    let preview = upload(&app, &branch, "承保回传.xlsx", &returned).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert_eq!(total(&preview.body, "total-underwrite"), 2, "A and B");
    assert_eq!(total(&preview.body, "total-refuse"), 1, "C");
    assert_eq!(total(&preview.body, "total-unchanged"), 0);
    assert_eq!(
        total(&preview.body, "total-rejected"),
        5,
        "D's two rows, the unknown, the outsider, the draft"
    );
    for reason in [
        "找不到系统保单编号为 999999 的保单",
        &format!("保单 {elsewhere} 不在您的管辖范围内"),
        "该保单尚未提交承保（草稿）",
        "同一保单的各行结果不一致",
        "被保险人职业类别不符",
    ] {
        assert!(preview.body.contains(reason), "missing {reason}");
    }
    assert!(!preview.body.contains(&id_number("19800305", 1)), "the preview shows no ID number");
    assert_eq!(app.store.policy(&app.system(), a).await.unwrap().summary.status, PolicyStatus::Submitted);
    let decisions = hidden(&preview.body, "decision");
    assert_eq!(decisions.len(), 3);
    let refused_rows = hidden(&preview.body, "row");
    assert_eq!(refused_rows.len(), 5);

    // The report of the rows not imported, from the rows the preview posts back.
    let mut fields: Vec<(&str, &str)> = vec![("csrf", branch.csrf.as_str())];
    fields.extend(refused_rows.iter().map(|r| ("row", r.as_str())));
    let request = Request::post("/exchange/return/refused.xlsx")
        .header(header::COOKIE, format!("guanai_session={}", branch.cookie))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(crate::util::serde_urlencoded_body(&fields)))
        .unwrap();
    let report = download(&app, request).await;
    assert_eq!(report.status, StatusCode::OK);
    let report = sheet(&report.bytes);
    assert_eq!(report[0][..5], ["系统保单编号", "证书编号", "承保结果", "保单号", "拒保原因"]);
    assert_eq!(report[0][5], "问题说明");
    assert_eq!(report.len(), 1 + 5);
    assert!(report.iter().any(|r| r[0] == "999999" && r[5].contains("找不到")));

    // Confirm: A and B underwritten, C cancelled with the insurer's reason and its funding
    // given back, D untouched.
    let mut fields: Vec<(&str, &str)> = vec![("file_name", "承保回传.xlsx"), ("unchanged", "0")];
    fields.extend(decisions.iter().map(|d| ("decision", d.as_str())));
    let done = app.post_form(&branch, "/exchange/return/confirm", &fields).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), "/exchange?underwritten=2&refused=1&unchanged=0");
    let notice = app.get(&branch, done.location()).await;
    assert!(notice.body.contains("承保 2 份，拒保 1 份"), "{}", notice.body);
    let policy = |id| {
        let store = app.store.clone();
        let system = app.system();
        async move { store.policy(&system, id).await.unwrap() }
    };
    let pa = policy(a).await;
    assert_eq!(pa.summary.status, PolicyStatus::Underwritten);
    assert_eq!(pa.summary.policy_no.as_deref(), Some("PJA2026000101"));
    assert_eq!(pa.underwritten_by.as_deref(), Some("demo.branch"));
    assert_eq!(policy(b).await.summary.policy_no.as_deref(), Some("PJA2026000102"));
    let pc = policy(c).await;
    assert_eq!(pc.summary.status, PolicyStatus::Cancelled);
    assert_eq!(pc.cancel_reason.as_deref(), Some("保险公司拒保：被保险人职业类别不符"));
    assert_eq!(before - allocated(&app).await, funded_c, "the refused policy's funding went back");
    assert_eq!(policy(d).await.summary.status, PolicyStatus::Submitted);
    assert_eq!(policy(draft).await.summary.status, PolicyStatus::Draft);
    assert_eq!(policy(elsewhere).await.summary.status, PolicyStatus::Submitted);
    let actions: Vec<String> =
        app.audit_entries("demo.branch", "ok").await.into_iter().map(|e| e.action).collect();
    for action in ["policy.underwrite_batch", "policy.refuse", "policy.import_return"] {
        assert!(actions.iter().any(|a| a == action), "no {action} in {actions:?}");
    }
    // C's people are free to be insured again.
    let family_c = pc.summary.family_id;
    let again = EnrolRequest {
        family_id: family_c,
        package_id: app.package("P1", 2026).await.id,
        shares: 1,
        member_ids: pc.members.iter().map(|m| m.person_id).collect(),
        channel: Channel::Staff,
        expected_family_part: None,
    };
    let renewed = app.store.enrol(&app.system(), &again).await.expect("cover slots were freed");

    // The same file again: everything done is unchanged, nothing is written.
    let allocated_now = allocated(&app).await;
    let second = upload(&app, &branch, "承保回传.xlsx", &returned).await;
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(total(&second.body, "total-underwrite"), 0);
    assert_eq!(total(&second.body, "total-refuse"), 0);
    assert_eq!(total(&second.body, "total-unchanged"), 3);
    assert_eq!(total(&second.body, "total-rejected"), 5);
    assert!(second.body.contains("没有需要写入的结果"));
    assert!(hidden(&second.body, "decision").is_empty());
    // A stale confirmation of the first preview writes nothing and shows the news.
    let stale = app.post_form(&branch, "/exchange/return/confirm", &fields).await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    assert!(stale.body.contains("情况已有变化"));
    assert_eq!(allocated(&app).await, allocated_now);
    assert_eq!(policy(renewed).await.summary.status, PolicyStatus::Draft);

    // Association staff may export but not import; the insurer's page answers them so.
    let county = app.login("demo.county").await;
    let page = app.get(&county, "/exchange").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("data-testid=\"return-form\""));
    assert_eq!(upload(&app, &county, "x.xlsx", &returned).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_gbk_csv_matched_by_certificate_code_refuses_a_policy_number_used_twice() {
    let app = TestApp::demo().await;
    let one =
        submitted(&app, JIZHOU_VILLAGE, vec![("甲一", id_number("19800101", 21), Relationship::Head)]).await;
    let two =
        submitted(&app, JIZHOU_VILLAGE, vec![("乙二", id_number("19800101", 23), Relationship::Head)]).await;
    let three =
        submitted(&app, JIZHOU_VILLAGE, vec![("丙三", id_number("19800101", 25), Relationship::Head)]).await;
    let cert = |id| {
        let store = app.store.clone();
        let system = app.system();
        async move { store.policy(&system, id).await.unwrap().cert_code }
    };
    let (c1, c2, c3) = (cert(one).await, cert(two).await, cert(three).await);
    let branch = app.login("demo.branch").await;
    let gbk = |text: &str| encoding_rs::GBK.encode(text).0.into_owned();

    // One number for two policies: both refused, nothing to write.
    let text =
        format!("证书编号,承保结果,保单号,拒保原因\n{},承保,PJA-1,\n{c2},承保,PJA-1,\n", c1.to_lowercase());
    let preview = upload(&app, &branch, "回传.csv", &gbk(&text)).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert_eq!(total(&preview.body, "total-rejected"), 2);
    assert!(preview.body.contains("保单号“PJA-1”在文件中用于多份保单"), "{}", preview.body);

    // Corrected, read as GBK, matched by the (lower-case) certificate codes.
    let text =
        format!("证书编号,承保结果,保单号,拒保原因\n{},承保,PJA-1,\n{c2},承保,PJA-2,\n", c1.to_lowercase());
    let preview = upload(&app, &branch, "回传.csv", &gbk(&text)).await;
    assert_eq!(total(&preview.body, "total-underwrite"), 2, "{}", preview.body);
    let mut fields: Vec<(&str, &str)> = vec![("file_name", "回传.csv")];
    let decisions = hidden(&preview.body, "decision");
    fields.extend(decisions.iter().map(|d| ("decision", d.as_str())));
    let done = app.post_form(&branch, "/exchange/return/confirm", &fields).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);

    // A number already in use by another policy; an unreadable result; a refusal without
    // a reason; a damaged number.
    let text = format!(
        "证书编号,承保结果,保单号,拒保原因\n{c3},承保,PJA-1,\n{c3}x,承保,PJA-9,\n{c1},待定,,\n{c2},拒保,,资料不全\n"
    );
    let preview = upload(&app, &branch, "回传.csv", &gbk(&text)).await;
    assert!(preview.body.contains("保单号“PJA-1”已被其他保单使用"), "{}", preview.body);
    assert!(preview.body.contains(&format!("找不到证书编号为 {c3}X 的保单")));
    assert!(preview.body.contains("承保结果“待定”无法识别"));
    assert!(preview.body.contains("该保单已承保（保单号 PJA-2），不能再拒保"));
    assert!(hidden(&preview.body, "decision").is_empty());
    let text = format!("系统保单编号,承保结果,保单号,拒保原因\n{three},承保,8.80012345678901E+19,\n");
    let preview = upload(&app, &branch, "回传.csv", &gbk(&text)).await;
    assert!(preview.body.contains("被表格软件存成了数字"), "{}", preview.body);

    // A file without the columns says what it needs.
    let preview = upload(&app, &branch, "回传.csv", &gbk("姓名,身份证号\n张三,1\n")).await;
    assert_eq!(preview.status, StatusCode::BAD_REQUEST);
    assert!(preview.body.contains("找不到表头"), "{}", preview.body);
    let system = app.system();
    assert_eq!(app.store.policy(&system, one).await.unwrap().summary.policy_no.as_deref(), Some("PJA-1"));
    assert_eq!(app.store.policy(&system, three).await.unwrap().summary.status, PolicyStatus::Submitted);
}

async fn cli(app: &TestApp, args: &[&str]) -> std::process::ExitCode {
    use clap::Parser;
    let dir = app._db.dir().to_str().unwrap().to_owned();
    let mut argv = vec![
        "guanai",
        "--database-url",
        app._db.url.as_str(),
        "--encryption-key",
        app._db.key_hex.as_str(),
        "--data-dir",
        dir.as_str(),
    ];
    argv.extend_from_slice(args);
    guanai::cli::run(guanai::cli::Cli::try_parse_from(argv).unwrap()).await.unwrap()
}

#[tokio::test]
async fn the_command_line_exports_the_list_and_imports_the_insurers_file() {
    let app = TestApp::demo().await;
    let a = submitted(&app, JIZHOU_VILLAGE, vec![("命令甲", id_number("19810101", 31), Relationship::Head)])
        .await;
    let b = submitted(&app, JIZHOU_VILLAGE, vec![("命令乙", id_number("19810101", 33), Relationship::Head)])
        .await;
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("list.xlsx");
    let code = cli(
        &app,
        &["export", "underwriting", list.to_str().unwrap(), "--region", "360802", "--year", "2026"],
    )
    .await;
    assert_eq!(code, std::process::ExitCode::SUCCESS);
    let mut rows = sheet(&std::fs::read(&list).unwrap());
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1][column("身份证号")].len(), 18, "the system operator exports in full");
    for row in rows.iter_mut().skip(1) {
        let id: i64 = row[column("系统保单编号")].parse().unwrap();
        if id == a {
            row[column("承保结果")] = "承保".to_owned();
            row[column("保单号")] = "CLI-0001".to_owned();
        } else {
            row[column("承保结果")] = "拒保".to_owned();
            row[column("拒保原因")] = "资料不全".to_owned();
        }
    }
    rows.push(vec!["abc".to_owned(), String::new(), String::new()]);
    rows[3].resize(HEADERS.len(), String::new());
    rows[3][column("承保结果")] = "承保".to_owned();
    let returned = dir.path().join("returned.xlsx");
    std::fs::write(&returned, xlsx_of(&rows)).unwrap();
    let report = dir.path().join("report.xlsx");
    let refused = std::process::ExitCode::from(guanai::import::EXIT_REFUSED);
    let args =
        ["import", "insurer", returned.to_str().unwrap(), "--dry-run", "--report", report.to_str().unwrap()];
    assert_eq!(cli(&app, &args).await, refused);
    assert!(sheet(&std::fs::read(&report).unwrap())[1][5].contains("不是有效的编号"));
    assert_eq!(app.store.policy(&app.system(), a).await.unwrap().summary.status, PolicyStatus::Submitted);
    assert_eq!(cli(&app, &["import", "insurer", returned.to_str().unwrap()]).await, refused);
    assert_eq!(
        app.store.policy(&app.system(), a).await.unwrap().summary.policy_no.as_deref(),
        Some("CLI-0001")
    );
    let pb = app.store.policy(&app.system(), b).await.unwrap();
    assert_eq!(pb.cancel_reason.as_deref(), Some("保险公司拒保：资料不全"));
    let entries = app.audit_entries("system", "ok").await;
    assert!(entries.iter().any(|e| e.action == "policy.underwrite_batch"));
    // Again: nothing left to do.
    let before = app.audit_entries("system", "ok").await.len();
    assert_eq!(cli(&app, &["import", "insurer", returned.to_str().unwrap()]).await, refused);
    let after = app.audit_entries("system", "ok").await;
    assert_eq!(after.len(), before, "a second run writes nothing, not even an audit entry");
}

#[tokio::test]
async fn list_exports_have_the_filtered_rows_masked_by_role_and_are_audited() {
    let app = TestApp::demo().await;
    let a = submitted(&app, JIZHOU_VILLAGE, vec![("导出甲", id_number("19790101", 41), Relationship::Head)])
        .await;
    let b = submitted(&app, JIZHOU_VILLAGE, vec![("导出乙", id_number("19790101", 43), Relationship::Head)])
        .await;
    let outside = other_county_village(&app).await;
    let c = submitted(&app, &outside, vec![("导出丙", id_number("19790101", 45), Relationship::Head)]).await;
    app.store
        .underwrite_policy(&app.system().acting_as(guanai_domain::Role::InsurerCity), a, "EXP-1")
        .await
        .unwrap();

    // Policies, as filtered on the list: 吉州区 staff see their two, one still submitted.
    let county = app.login("demo.county").await;
    let file = get_file(&app, &county, "/policies/export.xlsx?status=submitted&year=2026").await;
    assert_eq!(file.status, StatusCode::OK);
    let rows = sheet(&file.bytes);
    assert_eq!(rows[0][0], "系统保单编号");
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[1][0], b.to_string());
    assert_eq!(rows[1][1], "导出乙");
    assert_eq!(rows[1][2], "吉州区");
    let all = sheet(&get_file(&app, &county, "/policies/export.xlsx").await.bytes);
    assert_eq!(all.len(), 3);
    assert!(all.iter().any(|r| r[15] == "EXP-1"));
    // The supervisor sees the city's three, names masked.
    let supervisor = app.login("demo.supervisor").await;
    let masked = sheet(&get_file(&app, &supervisor, "/policies/export.xlsx?year=2026").await.bytes);
    assert_eq!(masked.len(), 4);
    assert!(masked.iter().any(|r| r[0] == c.to_string() && r[1] == "导**"), "{masked:?}");
    let bad = get_file(&app, &county, "/policies/export.xlsx?status=lost").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // Families: full phone for staff, masked for the supervisor; the filters apply.
    let families = sheet(&get_file(&app, &county, "/families/export.xlsx?name=导出").await.bytes);
    assert_eq!(families.len(), 3, "{families:?}");
    assert!(families[1..].iter().all(|r| r[8] == "13812345678" && r[1].starts_with("导出")));
    let masked = sheet(&get_file(&app, &supervisor, "/families/export.xlsx?region=360802").await.bytes);
    assert_eq!(masked.len(), 3);
    assert!(masked[1..].iter().all(|r| r[8] == "138****5678" && r[1] == "导**"), "{masked:?}");

    // A ledger: every policy the source pays for within the scope.
    let system = app.system();
    let source = app
        .store
        .sources(&system, Some(2026))
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.name.starts_with("吉州区财政"))
        .expect("吉州区's budget");
    let ledger = sheet(&get_file(&app, &county, &format!("/funding/{}/export.xlsx", source.id)).await.bytes);
    assert_eq!(ledger[0][1], source.name);
    let lines: Vec<&Vec<String>> = ledger.iter().skip_while(|r| r[0] != "系统保单编号").skip(1).collect();
    assert_eq!(lines.len(), 2, "{ledger:?}");
    assert!(lines.iter().all(|r| r[5] == "5"));

    let actions: Vec<String> =
        app.audit_entries("demo.county", "ok").await.into_iter().map(|e| e.action).collect();
    for action in ["policy.export", "family.export", "funding.export"] {
        assert!(actions.iter().any(|a| a == action), "no {action} in {actions:?}");
    }
    let auditor = app.login("demo.auditor").await;
    assert_eq!(get_file(&app, &auditor, "/families/export.xlsx").await.status, StatusCode::NOT_FOUND);
}
