//! The due list as a spreadsheet (待续保清单): one row a due policy, with what renewal does
//! with the family next year; names as the store showed them to the user.

use std::collections::HashMap;

use guanai_store::renewals::DuePolicy;
use rust_xlsxwriter::Workbook;

use crate::exports::{header_row, places, xlsx_error, yuan, Formats};
use crate::ImportError;

/// The due list as filtered. `names` holds the names of `exports::place_codes`.
pub fn due_xlsx(due: &[DuePolicy], names: &HashMap<String, String>) -> Result<Vec<u8>, ImportError> {
    let formats = Formats::new();
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("待续保清单").map_err(xlsx_error)?;
    let columns = [
        ("系统保单编号", 14.0),
        ("户主", 10.0),
        ("县（市、区）", 12.0),
        ("乡镇（街道）", 12.0),
        ("村（社区）", 12.0),
        ("保障方案", 24.0),
        ("年度", 8.0),
        ("终止日期", 12.0),
        ("续保截止日", 12.0),
        ("续保状态", 10.0),
        ("上年被保险人数", 10.0),
        ("可续保人数", 10.0),
        ("成员变化", 40.0),
        ("不能续保的原因", 50.0),
        ("下年度保费（元）", 14.0),
        ("下年度家庭应缴（元）", 16.0),
        ("说明", 30.0),
    ];
    header_row(sheet, &formats, &columns)?;
    for (index, d) in due.iter().enumerate() {
        let r = index as u32 + 1;
        let [county, township, village] = places(&d.village_code, names);
        let changes: Vec<String> =
            d.members.iter().map(|m| format!("{}：{}", m.name, m.change.label())).collect();
        let rules: Vec<&str> = d.members.iter().filter_map(|m| m.rule.as_deref()).collect();
        let insured = d.next.as_ref().map(|n| n.member_ids.len()).unwrap_or(0);
        let texts = [
            (0, d.policy_id.to_string()),
            (1, d.head_name.to_string()),
            (2, county),
            (3, township),
            (4, village),
            (5, d.package_name.clone()),
            (7, d.end_date.format("%Y-%m-%d").to_string()),
            (8, d.last_renewal_day.format("%Y-%m-%d").to_string()),
            (9, d.state.label().to_owned()),
            (12, changes.join("；")),
            (13, rules.join("；")),
            (16, d.note.clone().unwrap_or_default()),
        ];
        for (c, value) in texts {
            sheet.write_string_with_format(r, c, &value, &formats.text).map_err(xlsx_error)?;
        }
        sheet.write_number(r, 6, f64::from(d.year)).map_err(xlsx_error)?;
        sheet.write_number(r, 10, f64::from(d.insured_last_year)).map_err(xlsx_error)?;
        sheet.write_number(r, 11, insured as f64).map_err(xlsx_error)?;
        if let Some(next) = &d.next {
            sheet.write_number_with_format(r, 14, yuan(next.premium), &formats.money).map_err(xlsx_error)?;
            sheet
                .write_number_with_format(r, 15, yuan(next.family_part), &formats.money)
                .map_err(xlsx_error)?;
        }
    }
    workbook.save_to_buffer().map_err(xlsx_error)
}
