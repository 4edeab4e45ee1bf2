//! Spreadsheets Guanai hands out: the list to underwrite (承保清单) in the documented
//! exchange layout (docs/EXCHANGE.md), the refused rows of an insurer's returned file, and
//! the policy, family and ledger lists as filtered on screen.
//!
//! Every cell that holds a code or a number people copy (ID numbers, policy numbers,
//! certificate codes) is written as text, so it keeps every character when reopened;
//! money is a number in 元 with two decimals, so columns add up.

use std::collections::HashMap;

use guanai_domain::regions::short_region_name;
use guanai_domain::Fen;
use guanai_store::families::FamilySummary;
use guanai_store::funding::{LedgerLine, Source};
use guanai_store::policies::{FamilyExportRow, PolicySummary, UnderwritingList};
use rust_xlsxwriter::{Color, DataValidation, Format, Workbook, Worksheet, XlsxError};

use crate::insurer::RefusedRow;
use crate::ImportError;

pub(crate) fn xlsx_error(err: XlsxError) -> ImportError {
    ImportError::Unreadable(format!("无法生成 Excel 文件：{err}"))
}

/// Who fills a column of the exchange layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilledBy {
    System,
    Insurer,
}

/// The list to underwrite, column by column: header, meaning, who fills it. The insurer
/// returns the same columns with the last three filled. docs/EXCHANGE.md describes the same.
pub const UNDERWRITING_COLUMNS: [(&str, &str, FilledBy); 19] = [
    ("系统保单编号", "关爱系统内的保单编号（数字），回传时据此对应保单", FilledBy::System),
    ("证书编号", "保险凭证上的12位核验码；无系统保单编号时据此对应", FilledBy::System),
    ("县（市、区）", "家庭所在县（市、区）", FilledBy::System),
    ("乡镇（街道）", "家庭所在乡镇（街道）", FilledBy::System),
    ("村（社区）", "家庭所在村（社区）", FilledBy::System),
    ("户主姓名", "投保家庭的户主", FilledBy::System),
    ("被保险人姓名", "本行的被保险人", FilledBy::System),
    ("身份证号", "被保险人18位居民身份证号；无权查看完整号码的角色导出时为脱敏号码", FilledBy::System),
    ("性别", "男 / 女，由身份证号得出", FilledBy::System),
    ("出生日期", "由身份证号得出，格式 2026-09-01", FilledBy::System),
    ("与户主关系", "户主、配偶、子女、父母、孙子女等", FilledBy::System),
    ("保障方案", "“1+N”保障方案名称", FilledBy::System),
    ("份数", "投保份数", FilledBy::System),
    ("起保日期", "保险责任开始日期", FilledBy::System),
    ("终止日期", "保险责任终止日期", FilledBy::System),
    ("保费（元）", "整份保单（全户）的保费，只写在该保单的第一行，便于合计", FilledBy::System),
    ("承保结果", "保险公司填写：承保 或 拒保", FilledBy::Insurer),
    ("保单号", "保险公司填写：承保时必填，1到40位英文字母、数字或短横线", FilledBy::Insurer),
    ("拒保原因", "保险公司填写：拒保时必填", FilledBy::Insurer),
];

/// Values allowed in 承保结果.
pub const RESULT_VALUES: [&str; 2] = ["承保", "拒保"];

pub(crate) struct Formats {
    pub(crate) header: Format,
    pub(crate) fill_header: Format,
    pub(crate) text: Format,
    pub(crate) money: Format,
}

impl Formats {
    pub(crate) fn new() -> Self {
        Formats {
            header: Format::new().set_bold().set_background_color(Color::RGB(0xE8F0FE)),
            fill_header: Format::new().set_bold().set_background_color(Color::RGB(0xFFF3C4)),
            text: Format::new().set_num_format("@"),
            money: Format::new().set_num_format("#,##0.00"),
        }
    }
}

pub(crate) fn yuan(amount: Fen) -> f64 {
    // Exact to the fen for every amount a premium or a budget can be.
    amount.get() as f64 / 100.0
}

/// A sheet with a header row, frozen under it, with text-formatted columns.
pub(crate) fn header_row(
    sheet: &mut Worksheet,
    formats: &Formats,
    columns: &[(&str, f64)],
) -> Result<(), ImportError> {
    for (c, (name, width)) in columns.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *name, &formats.header).map_err(xlsx_error)?;
        sheet.set_column_width(c as u16, *width).map_err(xlsx_error)?;
    }
    sheet.set_freeze_panes(1, 0).map_err(xlsx_error)?;
    Ok(())
}

fn text(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    value: &str,
    formats: &Formats,
) -> Result<(), ImportError> {
    sheet.write_string_with_format(row, col, value, &formats.text).map_err(xlsx_error)?;
    Ok(())
}

fn money(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    value: Fen,
    formats: &Formats,
) -> Result<(), ImportError> {
    sheet.write_number_with_format(row, col, yuan(value), &formats.money).map_err(xlsx_error)?;
    Ok(())
}

/// The list to underwrite: sheet 承保清单 in the exchange layout, the insurer's columns
/// highlighted and 承保结果 offering 承保 / 拒保; sheet 填写说明 with the columns explained.
pub fn underwriting_xlsx(list: &UnderwritingList, title: &str) -> Result<Vec<u8>, ImportError> {
    let formats = Formats::new();
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("承保清单").map_err(xlsx_error)?;
    for (c, (name, _, by)) in UNDERWRITING_COLUMNS.iter().enumerate() {
        let c = c as u16;
        let format = if *by == FilledBy::Insurer { &formats.fill_header } else { &formats.header };
        sheet.write_string_with_format(0, c, *name, format).map_err(xlsx_error)?;
        let width = match *name {
            "身份证号" | "保单号" | "拒保原因" => 22.0,
            "保障方案" => 24.0,
            "证书编号" | "系统保单编号" => 15.0,
            _ => 12.0,
        };
        sheet.set_column_width(c, width).map_err(xlsx_error)?;
        if !matches!(*name, "保费（元）" | "份数") {
            sheet.set_column_format(c, &formats.text).map_err(xlsx_error)?;
        }
    }
    sheet.set_freeze_panes(1, 2).map_err(xlsx_error)?;
    for (index, row) in list.rows.iter().enumerate() {
        let r = index as u32 + 1;
        let cells = [
            row.policy_id.to_string(),
            row.cert_code.clone(),
            row.county.clone(),
            row.township.clone(),
            row.village.clone(),
            row.head_name.to_string(),
            row.insured_name.to_string(),
            row.id_number.clone(),
            row.sex.to_owned(),
            row.birth_date.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default(),
            row.relationship.to_owned(),
            row.package_name.clone(),
        ];
        for (c, value) in cells.iter().enumerate() {
            text(sheet, r, c as u16, value, &formats)?;
        }
        sheet.write_number(r, 12, f64::from(row.shares)).map_err(xlsx_error)?;
        text(sheet, r, 13, &row.start_date.format("%Y-%m-%d").to_string(), &formats)?;
        text(sheet, r, 14, &row.end_date.format("%Y-%m-%d").to_string(), &formats)?;
        if let Some(premium) = row.premium {
            money(sheet, r, 15, premium, &formats)?;
        }
    }
    if !list.rows.is_empty() {
        let validation = DataValidation::new()
            .allow_list_strings(&RESULT_VALUES)
            .map_err(xlsx_error)?
            .set_error_title("承保结果")
            .map_err(xlsx_error)?
            .set_error_message("请填写“承保”或“拒保”")
            .map_err(xlsx_error)?;
        sheet.add_data_validation(1, 16, list.rows.len() as u32, 16, &validation).map_err(xlsx_error)?;
    }

    let help = workbook.add_worksheet();
    help.set_name("填写说明").map_err(xlsx_error)?;
    help.set_column_width(0, 16).map_err(xlsx_error)?;
    help.set_column_width(1, 70).map_err(xlsx_error)?;
    help.set_column_width(2, 12).map_err(xlsx_error)?;
    help.write_string_with_format(0, 0, title, &formats.header).map_err(xlsx_error)?;
    let intro = [
        format!("共{}份保单、{}名被保险人，每行一名被保险人。", list.policies, list.rows.len()),
        "请在黄色的三列中填写承保结果，其余各列请勿修改；可以删去不处理的行，也可以只在每份保单的第一行填写。".to_owned(),
        "填好后在关爱系统“承保交换”页面上传（.xlsx 或 .csv 均可），系统先逐份预检，确认后才写入；同一文件重复上传不会重复处理。".to_owned(),
    ];
    for (r, line) in intro.iter().enumerate() {
        help.write_string(r as u32 + 1, 0, line).map_err(xlsx_error)?;
    }
    let top = intro.len() as u32 + 2;
    for (c, name) in ["列名", "含义", "填写方"].iter().enumerate() {
        help.write_string_with_format(top, c as u16, *name, &formats.header).map_err(xlsx_error)?;
    }
    for (index, (name, meaning, by)) in UNDERWRITING_COLUMNS.iter().enumerate() {
        let r = top + 1 + index as u32;
        help.write_string(r, 0, *name).map_err(xlsx_error)?;
        help.write_string(r, 1, *meaning).map_err(xlsx_error)?;
        let who = match by {
            FilledBy::System => "关爱系统",
            FilledBy::Insurer => "保险公司",
        };
        help.write_string(r, 2, who).map_err(xlsx_error)?;
    }
    workbook.save_to_buffer().map_err(xlsx_error)
}

/// The rows of an insurer's returned file that were not imported, in the layout of a
/// returned file (so it can be corrected and uploaded again), with 问题说明 and 原行号.
pub fn refused_return_xlsx(rows: &[RefusedRow]) -> Result<Vec<u8>, ImportError> {
    let formats = Formats::new();
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("未导入的行").map_err(xlsx_error)?;
    let columns = [
        ("系统保单编号", 14.0),
        ("证书编号", 15.0),
        ("承保结果", 10.0),
        ("保单号", 22.0),
        ("拒保原因", 24.0),
    ];
    header_row(sheet, &formats, &columns)?;
    let problem_header = Format::new().set_bold().set_background_color(Color::RGB(0xFDECEA));
    sheet.write_string_with_format(0, 5, "问题说明", &problem_header).map_err(xlsx_error)?;
    sheet.write_string_with_format(0, 6, "原行号", &problem_header).map_err(xlsx_error)?;
    sheet.set_column_width(5, 60).map_err(xlsx_error)?;
    for (index, row) in rows.iter().enumerate() {
        let r = index as u32 + 1;
        let cells = [&row.policy_id, &row.cert_code, &row.result, &row.policy_no, &row.reason];
        for (c, value) in cells.into_iter().enumerate() {
            text(sheet, r, c as u16, value, &formats)?;
        }
        sheet.write_string(r, 5, &row.problem).map_err(xlsx_error)?;
        sheet.write_number(r, 6, row.line as f64).map_err(xlsx_error)?;
    }
    workbook.save_to_buffer().map_err(xlsx_error)
}

/// The region codes whose names a list export needs: each village's county, township and
/// the village itself.
pub fn place_codes<'a>(village_codes: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut codes: Vec<&str> = village_codes
        .into_iter()
        .flat_map(|code| [6, 9, 12].into_iter().filter_map(move |len| code.get(..len)))
        .collect();
    codes.sort_unstable();
    codes.dedup();
    codes
}

/// A village's county, township and village names (short forms).
pub(crate) fn places(code: &str, names: &HashMap<String, String>) -> [String; 3] {
    [6, 9, 12].map(|len| {
        code.get(..len)
            .filter(|c| c.len() == len)
            .and_then(|c| names.get(c))
            .map(|n| short_region_name(n))
            .unwrap_or_default()
    })
}

/// The policy list as filtered on screen. `names` holds the names of [`place_codes`].
pub fn policies_xlsx(
    policies: &[PolicySummary],
    names: &HashMap<String, String>,
) -> Result<Vec<u8>, ImportError> {
    let formats = Formats::new();
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("保单").map_err(xlsx_error)?;
    let columns = [
        ("系统保单编号", 14.0),
        ("户主", 10.0),
        ("县（市、区）", 12.0),
        ("乡镇（街道）", 12.0),
        ("村（社区）", 12.0),
        ("保障方案", 24.0),
        ("年度", 8.0),
        ("份数", 6.0),
        ("起保日期", 12.0),
        ("终止日期", 12.0),
        ("保费（元）", 12.0),
        ("家庭自缴（元）", 14.0),
        ("已缴（元）", 12.0),
        ("渠道", 12.0),
        ("状态", 12.0),
        ("保单号", 22.0),
    ];
    header_row(sheet, &formats, &columns)?;
    for (index, p) in policies.iter().enumerate() {
        let r = index as u32 + 1;
        let [county, township, village] = places(&p.village_code, names);
        let texts = [
            (0, p.id.to_string()),
            (1, p.head_name.to_string()),
            (2, county),
            (3, township),
            (4, village),
            (5, p.package_name.clone()),
        ];
        for (c, value) in texts {
            text(sheet, r, c, &value, &formats)?;
        }
        sheet.write_number(r, 6, f64::from(p.year)).map_err(xlsx_error)?;
        sheet.write_number(r, 7, f64::from(p.shares)).map_err(xlsx_error)?;
        text(sheet, r, 8, &p.start_date.format("%Y-%m-%d").to_string(), &formats)?;
        text(sheet, r, 9, &p.end_date.format("%Y-%m-%d").to_string(), &formats)?;
        money(sheet, r, 10, p.premium, &formats)?;
        money(sheet, r, 11, p.family_part, &formats)?;
        money(sheet, r, 12, p.paid, &formats)?;
        text(sheet, r, 13, p.channel.label(), &formats)?;
        text(sheet, r, 14, p.shown.label(), &formats)?;
        text(sheet, r, 15, p.policy_no.as_deref().unwrap_or_default(), &formats)?;
    }
    workbook.save_to_buffer().map_err(xlsx_error)
}

/// The family list as filtered on screen, with the phone as the store gave it (in full or
/// masked). `names` holds the names of [`place_codes`].
pub fn families_xlsx(
    rows: &[FamilyExportRow],
    names: &HashMap<String, String>,
) -> Result<Vec<u8>, ImportError> {
    let formats = Formats::new();
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("家庭档案").map_err(xlsx_error)?;
    let columns = [
        ("户编号", 14.0),
        ("户主", 10.0),
        ("县（市、区）", 12.0),
        ("乡镇（街道）", 12.0),
        ("村（社区）", 12.0),
        ("家庭类型", 16.0),
        ("脱贫状态", 10.0),
        ("在册人数", 8.0),
        ("联系电话", 14.0),
        ("家庭住址", 30.0),
    ];
    header_row(sheet, &formats, &columns)?;
    for (index, row) in rows.iter().enumerate() {
        let r = index as u32 + 1;
        let f: &FamilySummary = &row.summary;
        let [county, township, village] = places(&f.village_code, names);
        let texts = [
            (0, f.code.clone()),
            (1, f.head_name.to_string()),
            (2, county),
            (3, township),
            (4, village),
            (5, f.category_name.clone()),
            (6, f.poverty.label().to_owned()),
            (8, row.phone.clone().unwrap_or_default()),
            (9, f.address.clone()),
        ];
        for (c, value) in texts {
            text(sheet, r, c, &value, &formats)?;
        }
        sheet.write_number(r, 7, f.members as f64).map_err(xlsx_error)?;
    }
    workbook.save_to_buffer().map_err(xlsx_error)
}

/// A funding source's ledger: its totals, then every policy it pays for.
pub fn ledger_xlsx(
    source: &Source,
    lines: &[LedgerLine],
    names: &HashMap<String, String>,
) -> Result<Vec<u8>, ImportError> {
    let formats = Formats::new();
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("资金台账").map_err(xlsx_error)?;
    sheet.set_column_width(0, 16).map_err(xlsx_error)?;
    sheet.set_column_width(1, 30).map_err(xlsx_error)?;
    let facts: [(&str, String); 5] = [
        ("资金来源", source.name.clone()),
        ("类型", source.kind.label().to_owned()),
        ("出资方", source.payer.clone()),
        ("年度", source.year.to_string()),
        ("区域", names.get(&source.region_code).cloned().unwrap_or_else(|| source.region_code.clone())),
    ];
    for (r, (label, value)) in facts.iter().enumerate() {
        sheet.write_string_with_format(r as u32, 0, *label, &formats.header).map_err(xlsx_error)?;
        text(sheet, r as u32, 1, value, &formats)?;
    }
    let amounts = [
        ("认捐（预算）（元）", source.pledged),
        ("已分配（元）", source.allocated),
        ("已到账（元）", source.received),
        ("剩余可分配（元）", source.remaining),
    ];
    for (index, (label, amount)) in amounts.iter().enumerate() {
        let r = (facts.len() + index) as u32;
        sheet.write_string_with_format(r, 0, *label, &formats.header).map_err(xlsx_error)?;
        money(sheet, r, 1, *amount, &formats)?;
    }
    let top = (facts.len() + amounts.len() + 1) as u32;
    let columns =
        ["系统保单编号", "县（市、区）", "乡镇（街道）", "村（社区）", "保单状态", "资助金额（元）"];
    for (c, name) in columns.iter().enumerate() {
        sheet.write_string_with_format(top, c as u16, *name, &formats.header).map_err(xlsx_error)?;
    }
    for c in 2..columns.len() as u16 {
        sheet.set_column_width(c, 14).map_err(xlsx_error)?;
    }
    for (index, line) in lines.iter().enumerate() {
        let r = top + 1 + index as u32;
        let [county, township, village] = places(&line.village_code, names);
        text(sheet, r, 0, &line.policy_id.to_string(), &formats)?;
        text(sheet, r, 1, &county, &formats)?;
        text(sheet, r, 2, &township, &formats)?;
        text(sheet, r, 3, &village, &formats)?;
        text(sheet, r, 4, line.status.label(), &formats)?;
        money(sheet, r, 5, line.amount, &formats)?;
    }
    workbook.save_to_buffer().map_err(xlsx_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn place_codes_are_each_level_once() {
        assert_eq!(
            place_codes(["360802100200", "360802100201"]),
            vec!["360802", "360802100", "360802100200", "360802100201"]
        );
    }

    #[test]
    fn the_layout_ends_with_the_insurers_three_columns() {
        let insurer: Vec<&str> = UNDERWRITING_COLUMNS
            .iter()
            .filter(|(_, _, by)| *by == FilledBy::Insurer)
            .map(|(n, _, _)| *n)
            .collect();
        assert_eq!(insurer, ["承保结果", "保单号", "拒保原因"]);
        assert_eq!(UNDERWRITING_COLUMNS[16].0, "承保结果");
    }
}
