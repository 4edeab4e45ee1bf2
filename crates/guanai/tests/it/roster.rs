//! Roster import end to end: messy county files in GBK and as spreadsheets, verdicts for
//! every row, idempotent re-imports, corrected files, an import killed half way, the web
//! page with column mapping and a background commit.

use std::process::Stdio;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use guanai_import::Verdict;
use guanai_store::families::FamilyQuery;

use crate::util::{id_number, TestApp, TestDb};

fn gbk(text: &str) -> Vec<u8> {
    encoding_rs::GBK.encode(text).0.into_owned()
}

/// A roster as a county office sends it: titles, short village names, every kind of ID
/// number people type, and its mistakes.
fn messy_roster() -> String {
    let head = id_number("19800305", 1);
    let lower_x = id_number("19820611", 4); // may or may not end in X: lower-cased below
    let full_width: String = id_number("20080920", 5)
        .chars()
        .map(|c| {
            if c.is_ascii_digit() {
                char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap()
            } else {
                c
            }
        })
        .collect();
    let second_head = id_number("19700101", 7);
    format!(
        "吉安市计生家庭意外伤害保险参保花名册\n填报单位：兴桥镇计生协,,,,,\n\
         县（市、区）,乡镇,村居,姓名,公民身份号码,关系,手机号码\n\
         吉州区,兴桥镇,钓源村,李建国,{head},户主,13812345678\n\
         吉州区,兴桥镇,钓源村,王秀英,{lower},妻,\n\
         吉州区,兴桥镇,钓源村,李小明, {full_width} ,长子,\n\
         吉州区,兴桥镇,钓源村,李建国,{head},户主,13812345678\n\
         \n\
         吉州区,兴桥镇,东塘村,赵大山,{second_head},本人,1381234\n\
         吉州区,兴桥镇,东塘村,赵坏号,360802199001012000,子,\n\
         吉州区,兴桥镇,东塘村,赵表格,3.60802199001011E+17,女,\n\
         吉州区,兴桥镇,火星村,钱某,{mars},户主,\n\
         合计,8人,,,,,\n填报人：王五,审核人：赵六,,,,,\n",
        lower = lower_x.to_lowercase(),
        mars = id_number("19900101", 9),
    )
}

#[tokio::test]
async fn a_gbk_roster_with_titles_and_totals_gets_a_verdict_for_every_row_and_imports_once() {
    let app = TestApp::demo().await;
    let system = app.system();
    let bytes = gbk(&messy_roster());
    let plan = guanai_import::plan_roster(&app.store, &system, &bytes[..], &[]).await.unwrap();
    let by_line: std::collections::HashMap<usize, (Verdict, String)> =
        plan.verdicts.iter().map(|v| (v.line, (v.verdict, v.reason.clone()))).collect();
    assert_eq!(by_line[&4].0, Verdict::Created);
    assert_eq!(by_line[&5].0, Verdict::Created, "lower-case x is accepted");
    assert_eq!(by_line[&6].0, Verdict::Created, "full-width digits and spaces are accepted");
    assert_eq!(by_line[&7], (Verdict::Unchanged, "与第4行重复，已忽略".to_owned()));
    assert_eq!(by_line[&9].0, Verdict::Warned, "a bad phone is left out with a remark");
    assert!(by_line[&9].1.contains("联系电话“1381234”不是有效手机号"));
    assert_eq!(by_line[&10].0, Verdict::Refused);
    assert!(by_line[&10].1.contains("表格软件存成了数字"), "{}", by_line[&10].1);
    assert_eq!(by_line[&11].0, Verdict::Refused);
    assert!(by_line[&11].1.contains("表格软件存成了数字"), "{}", by_line[&11].1);
    assert_eq!(by_line[&12].0, Verdict::Refused);
    assert!(by_line[&12].1.contains("在兴桥镇找不到村（社区）“火星村”"), "{}", by_line[&12].1);
    assert!(!by_line.contains_key(&8) && !by_line.contains_key(&13), "blank and totals lines are not rows");
    assert_eq!(plan.totals.rows, 8);
    assert_eq!(plan.totals.households_new, 2);

    plan.commit(&app.store, &system, |_, _| async {}).await.unwrap();
    let families = app
        .store
        .families()
        .search_families(&system, &FamilyQuery { per_page: 10, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(families.total, 2);
    let lis = families.families.iter().find(|f| f.head_name == "李建国").unwrap();
    assert_eq!(lis.members, 3);
    assert_eq!(lis.phone_masked.as_deref(), Some("138****5678"));
    assert_eq!(lis.village_code, "360802100200");

    // The same file again changes nothing.
    let again = guanai_import::plan_roster(&app.store, &system, &bytes[..], &[]).await.unwrap();
    assert_eq!((again.totals.created, again.totals.households_new), (0, 0));
    assert_eq!(again.totals.unchanged, 4, "the duplicate too; the row with a bad phone still warns");
    again.commit(&app.store, &system, |_, _| async {}).await.unwrap();
    assert_eq!(
        app.store
            .families()
            .search_families(&system, &FamilyQuery { per_page: 1, ..Default::default() })
            .await
            .unwrap()
            .total,
        2
    );

    // A corrected file adds what was missing, renames what changed, and nothing twice.
    let corrected = messy_roster()
        .replace("360802199001012000", &id_number("19900101", 11))
        .replace("3.60802199001011E+17", &id_number("19950101", 12))
        .replace("火星村", "东塘村")
        .replace("王秀英", "王秀瑛");
    let plan = guanai_import::plan_roster(&app.store, &system, gbk(&corrected), &[]).await.unwrap();
    assert_eq!(plan.totals.refused, 0, "{:?}", plan.verdicts);
    assert_eq!(plan.totals.created, 3);
    assert_eq!(plan.totals.updated, 1);
    assert_eq!(plan.totals.households_new, 1);
    plan.commit(&app.store, &system, |_, _| async {}).await.unwrap();
    let families = app
        .store
        .families()
        .search_families(&system, &FamilyQuery { per_page: 10, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(families.total, 3);
    let zhao = families.families.iter().find(|f| f.head_name == "赵大山").unwrap();
    assert_eq!(zhao.members, 3);
    every_foreign_key_holds(&app).await;
}

/// On SQLite, every row refers to rows that exist. The connections of bulk imports and
/// of large writes (a batch renewal) check no foreign keys as they write
/// (`store/src/bulk.rs`), so this checks what they wrote; the other engines check every
/// foreign key on every write.
pub(crate) async fn every_foreign_key_holds(app: &TestApp) {
    use sea_orm::{ConnectionTrait, Statement};
    if app.store.engine() != guanai_store::Engine::Sqlite {
        return;
    }
    let db = sea_orm::Database::connect(app._db.url.as_str()).await.unwrap();
    let broken = db
        .query_all(Statement::from_string(db.get_database_backend(), "PRAGMA foreign_key_check"))
        .await
        .unwrap();
    assert!(broken.is_empty(), "{} rows refer to rows that do not exist", broken.len());
    db.close().await.unwrap();
}

/// A new member whose family is gone by the time the batch is written (the plan read it
/// earlier) is refused, and the batch writes nothing: on SQLite the import's connection
/// checks no foreign keys, so the batch checks this one itself.
#[tokio::test]
async fn a_new_member_of_a_family_that_does_not_exist_is_refused_and_nothing_is_written() {
    use guanai_domain::families::Relationship;
    use guanai_domain::identity::IdNumber;
    use guanai_store::households::NewMember;
    let app = TestApp::demo().await;
    let system = app.system();
    let newcomer = IdNumber::parse(&id_number("20100101", 31)).unwrap().id;
    let (first, second) = (id_number("19800101", 32), id_number("19810101", 33));
    app.family(crate::util::FamilySpec {
        village: "360802100200",
        category: "general",
        poverty: guanai_domain::PovertyStatus::None,
        members: vec![("户主甲", first.clone(), Relationship::Head)],
        consents: false,
    })
    .await;
    let head = IdNumber::parse(&first).unwrap().id;
    let registered = app.store.families().registered_persons(&system, &[&head]).await.unwrap();
    let family_id = registered.into_values().next().unwrap().family_id;
    let member = |family_id: i64, id: &IdNumber| NewMember {
        family_id,
        name: "新成员".to_owned(),
        id_number: id.clone(),
        relationship: Relationship::Child,
    };
    let second = IdNumber::parse(&second).unwrap().id;
    let bulk = app.store.bulk().await.unwrap();
    let err = bulk
        .families()
        .apply_roster_batch(
            &system,
            &[],
            &[member(family_id, &second), member(family_id + 1_000_000, &newcomer)],
            &[],
        )
        .await
        .unwrap_err();
    if app.store.engine() == guanai_store::Engine::Sqlite {
        assert!(
            matches!(&err, guanai_store::StoreError::Invalid(m) if m.contains("所属的家庭已不存在")),
            "{err}"
        );
    }
    bulk.finish_bulk().await.unwrap();
    let written = app.store.families().registered_persons(&system, &[&second, &newcomer]).await.unwrap();
    assert!(written.is_empty(), "the member of the existing family is not written either: {written:?}");
    every_foreign_key_holds(&app).await;
}

#[tokio::test]
async fn households_break_on_their_own_rules() {
    let app = TestApp::demo().await;
    let system = app.system();
    let registered = id_number("19800101", 21);
    app.family(crate::util::FamilySpec {
        village: "360802100200",
        category: "general",
        poverty: guanai_domain::PovertyStatus::None,
        members: vec![("已登记", registered.clone(), guanai_domain::families::Relationship::Head)],
        consents: false,
    })
    .await;
    let roster = format!(
        "村（社区）,姓名,身份证号,与户主关系\n\
         钓源村,先到成员,{orphan},子\n\
         钓源村,新户主,{new_head},户主\n\
         钓源村,冒名,{registered},配偶\n\
         钓源村,双户主,{second},户主\n\
         钓源村,邻居,{neighbour},邻居\n\
         钓源村,未来人,{future},子\n",
        orphan = id_number("20100101", 22),
        new_head = id_number("19750101", 23),
        second = id_number("19760101", 25),
        neighbour = id_number("19770101", 27),
        future = id_number("20990101", 29),
    );
    let plan = guanai_import::plan_roster(&app.store, &system, roster.as_bytes(), &[]).await.unwrap();
    let reason = |line: usize| {
        plan.verdicts.iter().find(|v| v.line == line).map(|v| (v.verdict, v.reason.clone())).unwrap()
    };
    assert!(reason(2).1.contains("找不到所属户主"), "{:?}", reason(2));
    assert_eq!(reason(3).0, Verdict::Created);
    assert!(reason(4).1.contains("已在另一家庭登记"), "{:?}", reason(4));
    assert_eq!(reason(5).0, Verdict::Created, "a second head starts a second household");
    assert!(reason(6).1.contains("与户主关系“邻居”无法识别"), "{:?}", reason(6));
    assert!(reason(7).1.contains("晚于今天"), "{:?}", reason(7));
    let report = guanai_import::jobs::roster::plan_report(&plan).unwrap();
    let table = guanai_import::read_table(&report).unwrap();
    assert_eq!(table.headers.last().unwrap(), "原行号");
    assert_eq!(table.rows.len(), 4, "the refused rows, ready to fix");
    assert_eq!(table.rows[0].cells[1], "先到成员");
}

/// A roster saved as .xlsx by LibreOffice, with birth dates as date cells and the ID
/// column as text (`tests/fixtures/roster-libreoffice.xlsx`, made from `roster-source.csv`).
#[tokio::test]
async fn a_spreadsheet_saved_by_libreoffice_imports_like_its_csv() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let xlsx = std::fs::read(fixtures.join("roster-libreoffice.xlsx")).expect("fixture");
    let csv = std::fs::read(fixtures.join("roster-source.csv")).expect("fixture");
    let app = TestApp::demo().await;
    let system = app.system();
    let from_xlsx = guanai_import::plan_roster(&app.store, &system, &xlsx[..], &[]).await.unwrap();
    let from_csv = guanai_import::plan_roster(&app.store, &system, &csv[..], &[]).await.unwrap();
    assert_eq!(from_xlsx.totals, from_csv.totals);
    assert_eq!(from_xlsx.totals.refused, 0, "{:?}", from_xlsx.verdicts);
    assert!(from_xlsx.totals.created >= 5);
    let verdicts = |plan: &guanai_import::RosterPlan| {
        plan.verdicts.iter().map(|v| (v.verdict, v.reason.clone())).collect::<Vec<_>>()
    };
    assert_eq!(verdicts(&from_xlsx), verdicts(&from_csv), "date cells read as the same dates as the text");
}

/// Written a few households a transaction (on PostgreSQL and MySQL two transactions at
/// once): the progress grows to the whole, and every household lands whole, in its order.
#[tokio::test]
async fn a_roster_written_in_many_batches_lands_household_by_household() {
    let app = TestApp::demo().await;
    let system = app.system();
    let given = ["甲", "乙", "丙", "丁", "戊", "己", "庚", "辛", "壬", "癸", "子", "丑", "寅"];
    let mut csv = String::from("县（市、区）,乡镇,村居,姓名,公民身份号码,关系,手机号码\n");
    for (h, word) in given.iter().enumerate() {
        let seq = 100 + 3 * h as u32;
        csv += &format!("吉州区,兴桥镇,钓源村,李{word}国,{},户主,\n", id_number("19800305", seq));
        csv += &format!("吉州区,兴桥镇,钓源村,王{word}英,{},妻,\n", id_number("19820611", seq + 1));
        csv += &format!("吉州区,兴桥镇,钓源村,李{word}明,{},子,\n", id_number("20080920", seq + 2));
    }
    let plan = guanai_import::plan_roster(&app.store, &system, csv.as_bytes(), &[]).await.unwrap();
    assert_eq!((plan.totals.created, plan.totals.refused), (3 * given.len(), 0), "{:?}", plan.verdicts);
    let told = std::sync::Mutex::new(Vec::new());
    plan.commit_in_batches(&app.store, &system, 2, |done, total| {
        told.lock().unwrap().push((done, total));
        async {}
    })
    .await
    .unwrap();
    let told = told.into_inner().unwrap();
    assert_eq!(told.len(), given.len().div_ceil(2), "once a batch");
    assert!(told.windows(2).all(|w| w[0].0 < w[1].0), "progress only grows: {told:?}");
    assert_eq!(told.last(), Some(&(given.len(), given.len())));

    let families = registered_families(&app).await;
    assert_eq!(families.len(), given.len());
    for (_, names) in &families {
        let word = names[0].chars().nth(1).unwrap();
        assert_eq!(names, &[format!("李{word}国"), format!("王{word}英"), format!("李{word}明")]);
    }
}

/// The registered families (up to 100), as (head's name, members' names in the order the
/// family lists them).
pub(crate) async fn registered_families(app: &TestApp) -> Vec<(String, Vec<String>)> {
    let system = app.system();
    let page = app
        .store
        .families()
        .search_families(&system, &FamilyQuery { per_page: 100, ..Default::default() })
        .await
        .unwrap();
    let mut out = Vec::new();
    for family in page.families {
        let detail = app.store.families().family(&system, family.id).await.unwrap();
        out.push((family.head_name.to_string(), detail.members.iter().map(|m| m.name.to_string()).collect()));
    }
    out
}

#[tokio::test]
async fn an_import_killed_half_way_completes_on_the_next_run() {
    let db = TestDb::new().await;
    let bin = env!("CARGO_BIN_EXE_guanai");
    let base = |args: &[&str]| {
        let mut command = std::process::Command::new(bin);
        command
            .args(["--database-url", &db.url, "--encryption-key", &db.key_hex, "--data-dir"])
            .arg(db.dir())
            .args(args)
            .env("RUST_LOG", "warn");
        command
    };
    assert!(base(&["demo", "--households", "0"]).stdout(Stdio::null()).status().unwrap().success());
    let file = db.dir().join("roster.csv");
    let households = 9_000;
    let status = base(&["demo", "--households", &households.to_string(), "--seed", "9", "--roster"])
        .arg(&file)
        .status()
        .unwrap();
    assert!(status.success());

    // Kill the import as soon as its first batch is written.
    let batch = 3_000;
    let mut child = base(&["import", "roster", "--batch", &batch.to_string()])
        .arg(&file)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        let read = std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
        assert!(read > 0, "the import ended before its first batch");
        if line.starts_with("已写入") {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let store = guanai_store::Store::connect(&db.target(), db.keys()).await.unwrap();
    let system = guanai_store::Actor::system(guanai_domain::RegionCode::parse("3608").unwrap());
    let count = |store: guanai_store::Store| {
        let system = system.clone();
        async move {
            store
                .families()
                .search_families(&system, &FamilyQuery { per_page: 1, ..Default::default() })
                .await
                .unwrap()
                .total
        }
    };
    let partial = count(store.clone()).await as usize;
    assert!(partial > 0 && partial < households, "killed half way: {partial} of {households}");
    assert_eq!(partial % batch, 0, "only whole batches were written");

    let output = base(&["import", "roster"]).arg(&file).output().unwrap();
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{printed}");
    // The buffer pool's advice comes before the import, where the server needs it.
    let advised =
        printed.lines().any(|line| line.starts_with("提示：") && line.contains("innodb_buffer_pool_size"));
    assert_eq!(advised, crate::server_cache::pool_too_small(&db).await, "{printed}");
    assert_eq!(count(store.clone()).await as usize, households);
    // Every household is whole: as many persons as the file has rows.
    let rows = std::fs::read_to_string(&file).unwrap().lines().count() - 3;
    let plan = guanai_import::plan_roster(
        &store,
        &guanai_store::Actor::system(guanai_domain::RegionCode::parse("3608").unwrap()),
        std::fs::read(&file).unwrap(),
        &[],
    )
    .await
    .unwrap();
    assert_eq!(plan.totals.unchanged, rows, "a third run finds everything in place");
    assert_eq!(plan.totals.created, 0);
}

async fn upload(
    app: &TestApp,
    client: &crate::util::Client,
    name: &str,
    bytes: &[u8],
) -> crate::util::TestResponse {
    let boundary = "guanai-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let request = Request::post(format!("/imports?csrf={}", client.csrf))
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
        .header(header::COOKIE, format!("guanai_session={}", client.cookie))
        .body(Body::from(body))
        .unwrap();
    app.send(request).await
}

#[tokio::test]
async fn the_web_page_maps_columns_previews_and_commits_in_the_background() {
    let app = TestApp::demo().await;
    let township = app.login("demo.township").await;
    let roster = format!(
        "姓名,身份证号,户内身份,村（社区）\n张户主,{},户主,钓源村\n张妻,{},配偶,钓源村\n",
        id_number("19800101", 41),
        id_number("19810101", 42)
    );
    let uploaded = upload(&app, &township, "兴桥镇.csv", roster.as_bytes()).await;
    assert_eq!(uploaded.status, StatusCode::SEE_OTHER, "{}", uploaded.body);
    let job = uploaded.location().to_owned();
    let page = app.get(&township, &job).await;
    assert!(page.body.contains("有必填列未识别"), "{}", page.body);
    let mapped = app
        .post_form(
            &township,
            &format!("{job}/map"),
            &[("col_name", "0"), ("col_id_number", "1"), ("col_relationship", "2"), ("col_village", "3")],
        )
        .await;
    assert_eq!(mapped.status, StatusCode::SEE_OTHER);
    let page = app.get(&township, &job).await;
    assert!(page.body.contains("data-testid=\"import-totals\""), "{}", page.body);
    assert!(page.body.contains("<h2>新增</h2><p class=\"big\">2</p>"));

    let committed = app.post_form(&township, &format!("{job}/commit"), &[]).await;
    assert_eq!(committed.status, StatusCode::SEE_OTHER);
    let mut done = false;
    for _ in 0..100 {
        let page = app.get(&township, &job).await;
        if page.body.contains("导入完成") {
            done = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(done, "the background import finished");
    let families = app
        .store
        .families()
        .search_families(
            &app.system(),
            &FamilyQuery { name: Some("张户主".into()), per_page: 5, ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!(families.families.len(), 1);
    assert_eq!(families.families[0].members, 2);

    // Not for a county next door, and not for a role that does not register families.
    let agent_outside = app.post_form(&app.login("demo.insurer").await, &format!("{job}/commit"), &[]).await;
    assert_eq!(agent_outside.status, StatusCode::NOT_FOUND);
    let template = app.get(&township, "/imports/template.xlsx").await;
    assert_eq!(template.status, StatusCode::OK);
    assert!(template.headers[header::CONTENT_TYPE].to_str().unwrap().contains("spreadsheetml"));
}

#[tokio::test]
async fn an_unreadable_upload_says_so() {
    let app = TestApp::demo().await;
    let county = app.login("demo.county").await;
    let uploaded = upload(&app, &county, "x.xlsx", b"PK\x03\x04 not really a spreadsheet").await;
    let page = app.get(&county, uploaded.location()).await;
    assert!(page.body.contains("无法打开 Excel 文件"), "{}", page.body);
    let empty = upload(&app, &county, "empty.csv", b"").await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert!(empty.body.contains("请选择要导入的"));
}

/// Rosters assembled from good and bad pieces: the importer never panics, and every data
/// row of the file gets exactly one verdict.
#[test]
fn no_roster_makes_the_importer_panic_and_every_row_gets_a_verdict() {
    use proptest::prelude::*;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let app = runtime.block_on(TestApp::demo());
    let system = app.system();
    let cell = prop_oneof![
        Just(String::new()),
        Just("户主".to_owned()),
        Just("妻".to_owned()),
        Just("长子".to_owned()),
        Just("钓源村".to_owned()),
        Just("兴桥镇".to_owned()),
        Just("吉州区".to_owned()),
        Just("火星村".to_owned()),
        Just("3.60802199001011E+17".to_owned()),
        Just("合计".to_owned()),
        (1u32..999).prop_map(|seq| id_number("19850101", seq)),
        (1u32..999).prop_map(|seq| id_number("19850101", seq).to_lowercase()),
        "[0-9xX ]{0,20}",
        "\\PC{0,8}",
    ];
    let row = proptest::collection::vec(cell, 0..9);
    let rows = proptest::collection::vec(row, 0..12);
    let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
        cases: 48,
        ..Default::default()
    });
    runner
        .run(&rows, |rows| {
            let mut text = String::from(
                "县（市、区）,乡镇（街道）,村（社区）,姓名,身份证号码,与户主关系,联系电话,家庭类型\n",
            );
            for row in &rows {
                let escaped: Vec<String> =
                    row.iter().map(|c| format!("\"{}\"", c.replace('"', "\"\""))).collect();
                text.push_str(&escaped.join(","));
                text.push('\n');
            }
            let planned =
                runtime.block_on(guanai_import::plan_roster(&app.store, &system, text.as_bytes(), &[]));
            if let Ok(plan) = planned {
                let table = guanai_import::read_table(text.as_bytes()).unwrap();
                prop_assert_eq!(plan.verdicts.len(), table.rows.len());
                prop_assert_eq!(plan.totals.rows, table.rows.len());
            }
            Ok(())
        })
        .unwrap();
}
