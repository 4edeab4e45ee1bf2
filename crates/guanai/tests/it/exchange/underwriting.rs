//! The insurer's round trip: the list to underwrite, the returned file (preview, commit,
//! refusals releasing funding, a second run changing nothing; .xlsx and GBK .csv).

use axum::http::StatusCode;
use guanai_domain::families::Relationship;
use guanai_store::policies::{Channel, EnrolRequest, PolicyStatus};

use super::{
    allocated, column, drafted, get_file, job_path, other_county_village, sheet, submitted, total, upload,
    xlsx_of, HEADERS, JIZHOU_VILLAGE,
};
use crate::util::{id_number, TestApp};

#[tokio::test]
async fn the_insurer_round_trip_underwrites_refuses_and_a_second_run_changes_nothing() {
    // In the season: the policies start with the scheme on 1 September.
    let app = TestApp::demo_in_season(2026).await;
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
    let cert = app.store.policies().policy(&app.system(), a).await.unwrap().cert_code;
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
        .policies()
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
    assert_eq!(
        app.store.policies().policy(&app.system(), a).await.unwrap().summary.status,
        PolicyStatus::Submitted
    );
    assert!(preview.body.contains("data-testid=\"return-confirm\""), "{}", preview.body);
    let job = job_path(&preview.body);

    // The report of the rows not imported, from the job's stored plan.
    let report = get_file(&app, &branch, &format!("{job}/refused.xlsx")).await;
    assert_eq!(report.status, StatusCode::OK);
    let report = sheet(&report.bytes);
    assert_eq!(report[0][..5], ["系统保单编号", "证书编号", "承保结果", "保单号", "拒保原因"]);
    assert_eq!(report[0][5], "问题说明");
    assert_eq!(report.len(), 1 + 5);
    assert!(report.iter().any(|r| r[0] == "999999" && r[5].contains("找不到")));

    // Confirm: A and B underwritten, C cancelled with the insurer's reason and its funding
    // given back, D untouched.
    let done = app.post_form(&branch, &format!("{job}/confirm"), &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), "/exchange?underwritten=2&refused=1&unchanged=0");
    let notice = app.get(&branch, done.location()).await;
    assert!(notice.body.contains("承保 2 份，拒保 1 份"), "{}", notice.body);
    let policy = |id| {
        let store = app.store.clone();
        let system = app.system();
        async move { store.policies().policy(&system, id).await.unwrap() }
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
    let renewed = app.store.policies().enrol(&app.system(), &again).await.expect("cover slots were freed");

    // The same file again: everything done is unchanged, nothing is written.
    let allocated_now = allocated(&app).await;
    let second = upload(&app, &branch, "承保回传.xlsx", &returned).await;
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(total(&second.body, "total-underwrite"), 0);
    assert_eq!(total(&second.body, "total-refuse"), 0);
    assert_eq!(total(&second.body, "total-unchanged"), 3);
    assert_eq!(total(&second.body, "total-rejected"), 5);
    assert!(second.body.contains("没有需要写入的结果"));
    assert!(!second.body.contains("data-testid=\"return-confirm\""));
    // The first job confirmed again writes nothing: it is done.
    let again = app.post_form(&branch, &format!("{job}/confirm"), &[]).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    assert_eq!(again.location(), job);
    let page = app.get(&branch, &job).await;
    assert!(page.body.contains("已完成"), "{}", page.body);
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
        async move { store.policies().policy(&system, id).await.unwrap().cert_code }
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
    let done = app.post_form(&branch, &format!("{}/confirm", job_path(&preview.body)), &[]).await;
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
    assert!(!preview.body.contains("data-testid=\"return-confirm\""));
    let text = format!("系统保单编号,承保结果,保单号,拒保原因\n{three},承保,8.80012345678901E+19,\n");
    let preview = upload(&app, &branch, "回传.csv", &gbk(&text)).await;
    assert!(preview.body.contains("被表格软件存成了数字"), "{}", preview.body);

    // A file without the columns says what it needs.
    let preview = upload(&app, &branch, "回传.csv", &gbk("姓名,身份证号\n张三,1\n")).await;
    assert_eq!(preview.status, StatusCode::BAD_REQUEST);
    assert!(preview.body.contains("找不到表头"), "{}", preview.body);
    let system = app.system();
    assert_eq!(
        app.store.policies().policy(&system, one).await.unwrap().summary.policy_no.as_deref(),
        Some("PJA-1")
    );
    assert_eq!(
        app.store.policies().policy(&system, three).await.unwrap().summary.status,
        PolicyStatus::Submitted
    );
}
