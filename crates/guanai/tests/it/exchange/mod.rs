//! Files exchanged with the insurer, end to end on the demo city: the list to underwrite
//! (columns, rows, masking, audit), the returned file (preview, commit, refusals releasing
//! funding, a second run changing nothing; .xlsx and GBK .csv; the command line), and the
//! list exports.

pub(crate) mod claims;
mod claims_confirm;
mod cli;
mod lists;
mod returns;
mod underwriting;

use std::io::Cursor;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use calamine::{Data, Reader, Xlsx};
use guanai_domain::families::Relationship;
use guanai_domain::{PovertyStatus, RegionCode};
use guanai_store::policies::{Channel, EnrolRequest};
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::util::{Client, FamilySpec, TestApp, TestResponse};

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
    app.store.policies().submit_policy(&app.system(), id).await.expect("submit");
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
    app.store.policies().enrol(&app.system(), &request).await.expect("enrol")
}

/// A village of 青原区 (360803): outside demo.branch's scope.
async fn other_county_village(app: &TestApp) -> String {
    let rows = app.store.regions().regions_under(&RegionCode::parse("360803").unwrap()).await.unwrap();
    rows.into_iter().find(|r| r.code.as_str().len() == 12).expect("a village in 青原区").code.to_string()
}

pub(crate) struct Download {
    pub(crate) status: StatusCode,
    content_type: String,
    pub(crate) bytes: Vec<u8>,
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

pub(crate) async fn get_file(app: &TestApp, client: &Client, path: &str) -> Download {
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

/// Uploads a returned file as a browser does (multipart, token in the query string), and
/// follows the answer to the job's page (a file that cannot be read is answered at once).
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
    let answer = app.send(request).await;
    if answer.status != StatusCode::SEE_OTHER {
        return answer;
    }
    assert!(answer.location().starts_with("/exchange/returns/"), "{}", answer.location());
    app.get(client, answer.location()).await
}

/// The path of the returned file's job a page shows (`/exchange/returns/12`).
fn job_path(body: &str) -> String {
    let marker = "/exchange/returns/";
    let start = body.find(marker).unwrap_or_else(|| panic!("no job in {body}"));
    let digits: String = body[start + marker.len()..].chars().take_while(char::is_ascii_digit).collect();
    format!("{marker}{digits}")
}

/// The number a totals card shows.
fn total(body: &str, testid: &str) -> usize {
    let marker = format!("data-testid=\"{testid}\">");
    let start = body.find(&marker).unwrap_or_else(|| panic!("no {testid} in {body}")) + marker.len();
    body[start..].split('<').next().unwrap().trim().parse().unwrap()
}

async fn allocated(app: &TestApp) -> i64 {
    app.store
        .funding()
        .sources(&app.system(), Some(2026))
        .await
        .unwrap()
        .iter()
        .map(|s| s.allocated.get())
        .sum()
}
