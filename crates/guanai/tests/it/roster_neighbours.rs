//! Neighbouring households of one roster: the members below a head that is refused or
//! missing never land in the household above, from CSV and from .xlsx alike.

use guanai_import::Verdict;
use guanai_store::families::FamilyQuery;

use crate::util::{id_number, TestApp};

/// Neighbouring households of one village (钓源村), as a county types them: the head of
/// the second has a wrong check character, the head of the third an impossible birth
/// date, the fourth has no head row at all. Rows as (head's name, name, ID, relationship);
/// `named` keeps the head's-name column (户主姓名).
fn neighbours(named: bool) -> Vec<Vec<String>> {
    let wrong_check = {
        let good = id_number("19750202", 51);
        let last = if good.ends_with('1') { '2' } else { '1' };
        format!("{}{last}", &good[..17])
    };
    // 1980-02-30 does not exist; the check character is right for it.
    let impossible = {
        let body = "36080219800230053";
        format!("{body}{}", guanai_domain::IdNumber::check_char_for(body).unwrap())
    };
    let rows: Vec<(&str, &str, String, &str)> = vec![
        ("张甲", "张甲", id_number("19700101", 61), "户主"),
        ("张甲", "李花", id_number("19720101", 62), "配偶"),
        ("张甲", "张小甲", id_number("20000101", 63), "长子"),
        ("王乙", "王乙", wrong_check, "户主"),
        ("王乙", "刘芳", id_number("19760101", 64), "妻"),
        ("王乙", "王小乙", id_number("20050101", 65), "子"),
        ("赵丙", "赵丙", impossible, "户主"),
        ("赵丙", "钱红", id_number("19820101", 66), "配偶"),
        ("孙丁", "吴兰", id_number("19830101", 68), "配偶"),
        ("孙丁", "孙小丁", id_number("20100101", 67), "子"),
        ("周戊", "周戊", id_number("19650101", 69), "户主"),
        ("周戊", "周小戊", id_number("19950101", 70), "女"),
    ];
    let mut table = vec![if named {
        vec!["县（市、区）", "乡镇", "村（社区）", "户主姓名", "姓名", "身份证号", "与户主关系"]
    } else {
        vec!["县（市、区）", "乡镇", "村（社区）", "姓名", "身份证号", "与户主关系"]
    }
    .into_iter()
    .map(str::to_owned)
    .collect()];
    for (head, name, id, relationship) in rows {
        let mut row = vec!["吉州区".to_owned(), "兴桥镇".to_owned(), "钓源村".to_owned()];
        if named {
            row.push(head.to_owned());
        }
        row.extend([name.to_owned(), id, relationship.to_owned()]);
        table.push(row);
    }
    table
}

fn as_csv(table: &[Vec<String>]) -> Vec<u8> {
    table.iter().map(|row| row.join(",") + "\n").collect::<String>().into_bytes()
}

fn as_xlsx(table: &[Vec<String>]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, row) in table.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            sheet.write_string(r as u32, c as u16, cell).unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

/// The families registered in 钓源村, as (head's name, members' names), each sorted.
async fn families_of_the_village(app: &TestApp) -> Vec<(String, Vec<String>)> {
    let mut out = crate::roster::registered_families(app).await;
    for (_, names) in &mut out {
        names.sort();
    }
    out.sort();
    out
}

async fn import_neighbours(
    app: &TestApp,
    bytes: Vec<u8>,
) -> std::collections::HashMap<usize, (Verdict, String)> {
    let system = app.system();
    let plan = guanai_import::plan_roster(&app.store, &system, bytes.as_slice(), &[]).await.unwrap();
    plan.commit(&app.store, &system, |_, _| async {}).await.unwrap();
    plan.verdicts.iter().map(|v| (v.line, (v.verdict, v.reason.clone()))).collect()
}

fn sorted(names: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    names.sort();
    names
}

async fn members_of_a_refused_or_missing_head_stay_out(bytes: Vec<u8>) {
    let app = TestApp::demo().await;
    let verdicts = import_neighbours(&app, bytes).await;
    let refused = |line: usize, says: &str| {
        let (verdict, reason) = &verdicts[&line];
        assert_eq!(*verdict, Verdict::Refused, "line {line}: {reason}");
        assert!(reason.contains(says), "line {line} should say “{says}”: {reason}");
    };
    refused(5, "校验位");
    refused(6, "户主行（第5行）未能导入");
    refused(6, "请先更正第5行");
    refused(7, "户主行（第5行）未能导入");
    refused(8, "出生日期");
    refused(9, "户主行（第8行）未能导入");
    refused(10, "找不到所属户主");
    refused(11, "找不到所属户主");
    assert_eq!(
        families_of_the_village(&app).await,
        vec![
            ("周戊".to_owned(), sorted(&["周戊", "周小戊"])),
            ("张甲".to_owned(), sorted(&["张甲", "李花", "张小甲"])),
        ],
        "no member of another household joined 张甲's or 周戊's"
    );
    // And the family page says the same.
    let county = app.login("demo.county").await;
    let zhang = app
        .store
        .families()
        .search_families(
            &app.system(),
            &FamilyQuery { name: Some("张甲".into()), per_page: 5, ..Default::default() },
        )
        .await
        .unwrap()
        .families[0]
        .id;
    let page = app.get(&county, &format!("/families/{zhang}")).await;
    assert!(page.body.contains("李花"), "{}", page.body);
    for stranger in ["刘芳", "王小乙", "钱红", "吴兰", "孙小丁"] {
        assert!(!page.body.contains(stranger), "{stranger} is shown in 张甲's family");
    }
}

#[tokio::test]
async fn a_csv_roster_never_puts_the_members_of_a_refused_or_missing_head_into_the_household_above() {
    members_of_a_refused_or_missing_head_stay_out(as_csv(&neighbours(true))).await;
}

#[tokio::test]
async fn an_xlsx_roster_never_puts_the_members_of_a_refused_or_missing_head_into_the_household_above() {
    members_of_a_refused_or_missing_head_stay_out(as_xlsx(&neighbours(true))).await;
}

/// Without a head's-name column: the members below a refused head are held back with its
/// row named; members without a head row would give the household above a second spouse,
/// so that household is held back whole, never written with them.
#[tokio::test]
async fn without_a_head_name_column_refused_heads_hold_their_members_back_and_a_second_spouse_is_refused() {
    let app = TestApp::demo().await;
    let mut table = neighbours(false);
    // 孙丁's members (no head row) right under 张甲's household.
    let orphans: Vec<Vec<String>> = table.drain(9..11).collect();
    for (at, row) in orphans.into_iter().enumerate() {
        table.insert(4 + at, row);
    }
    for bytes in [as_csv(&table), as_xlsx(&table)] {
        let verdicts = import_neighbours(&app, bytes).await;
        let (verdict, reason) = &verdicts[&2];
        assert_eq!(*verdict, Verdict::Refused, "{reason}");
        assert!(reason.contains("本户有2名配偶（第3、5行）"), "{reason}");
        for line in [3, 4, 5, 6] {
            assert_eq!(verdicts[&line].0, Verdict::Refused, "line {line}: {}", verdicts[&line].1);
        }
        assert!(verdicts[&8].1.contains("户主行（第7行）未能导入"), "{}", verdicts[&8].1);
        assert!(verdicts[&11].1.contains("户主行（第10行）未能导入"), "{}", verdicts[&11].1);
        assert_eq!(
            families_of_the_village(&app).await,
            vec![("周戊".to_owned(), sorted(&["周戊", "周小戊"]))]
        );
    }
}
