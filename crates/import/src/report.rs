//! Spreadsheets Guanai writes: the refused rows of an import, ready to fix and import
//! again (the original columns plus a reason), and the roster template with instructions.

use rust_xlsxwriter::{Color, Format, Workbook, XlsxError};

use guanai_store::imports::PlanRow;

use crate::columns::Field;
use crate::ImportError;

fn xlsx_error(err: XlsxError) -> ImportError {
    ImportError::Unreadable(format!("无法生成 Excel 文件：{err}"))
}

/// The refused rows as a plan keeps them (their original cells and reason): the header of
/// the original file plus 问题说明 and 原行号, one row each. Every cell is written as text,
/// so ID numbers keep all 18 characters when reopened.
pub fn refused_rows_xlsx(headers: &[String], rows: &[PlanRow]) -> Result<Vec<u8>, ImportError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("未导入的行").map_err(xlsx_error)?;
    let header = Format::new().set_bold().set_background_color(Color::RGB(0xFDECEA));
    let text = Format::new().set_num_format("@");
    let mut column = 0u16;
    for name in headers {
        sheet.write_string_with_format(0, column, name, &header).map_err(xlsx_error)?;
        sheet.set_column_format(column, &text).map_err(xlsx_error)?;
        column += 1;
    }
    sheet.write_string_with_format(0, column, "问题说明", &header).map_err(xlsx_error)?;
    sheet.write_string_with_format(0, column + 1, "原行号", &header).map_err(xlsx_error)?;
    sheet.set_column_width(column, 60).map_err(xlsx_error)?;
    for (index, row) in rows.iter().enumerate() {
        let at = index as u32 + 1;
        for (c, value) in row.cells.iter().enumerate().take(headers.len()) {
            sheet.write_string_with_format(at, c as u16, value, &text).map_err(xlsx_error)?;
        }
        sheet.write_string(at, column, &row.reason).map_err(xlsx_error)?;
        sheet.write_number(at, column + 1, row.line as f64).map_err(xlsx_error)?;
    }
    workbook.save_to_buffer().map_err(xlsx_error)
}

/// The roster template (模板): the columns Guanai reads best, two example rows, and a
/// sheet of instructions.
pub fn roster_template_xlsx() -> Result<Vec<u8>, ImportError> {
    let mut workbook = Workbook::new();
    let header = Format::new().set_bold().set_background_color(Color::RGB(0xE8F0FE));
    let text = Format::new().set_num_format("@");
    let columns = [
        Field::County,
        Field::Township,
        Field::Village,
        Field::HeadName,
        Field::Name,
        Field::IdNumber,
        Field::Relationship,
        Field::Phone,
        Field::Category,
        Field::Poverty,
        Field::Address,
    ];
    let sheet = workbook.add_worksheet();
    sheet.set_name("花名册").map_err(xlsx_error)?;
    for (c, field) in columns.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, field.label(), &header).map_err(xlsx_error)?;
        sheet.set_column_format(c as u16, &text).map_err(xlsx_error)?;
        sheet
            .set_column_width(c as u16, if *field == Field::IdNumber { 22 } else { 14 })
            .map_err(xlsx_error)?;
    }
    let examples = [
        [
            "吉州区",
            "兴桥镇",
            "钓源村",
            "李建国",
            "李建国",
            "11010519491231002X",
            "户主",
            "13812345678",
            "独生子女家庭",
            "",
            "3组12号",
        ],
        ["吉州区", "兴桥镇", "钓源村", "李建国", "王秀英", "（填写18位身份证号）", "配偶", "", "", "", ""],
    ];
    for (r, example) in examples.iter().enumerate() {
        for (c, value) in example.iter().enumerate() {
            sheet.write_string_with_format(r as u32 + 1, c as u16, *value, &text).map_err(xlsx_error)?;
        }
    }
    let help = workbook.add_worksheet();
    help.set_name("填写说明").map_err(xlsx_error)?;
    help.set_column_width(0, 100).map_err(xlsx_error)?;
    let lines = [
        "计生家庭参保花名册 填写说明",
        "1. 每行一人。同一户的成员紧接在户主行下面，每行的“户主姓名”都填本户户主的姓名（户主姓名或村变化处即为新的一户）；也可增加一列“户主身份证号”，在每个成员行填写户主的身份证号。户主行未能导入时，本户成员也不会导入，请更正户主行后一并重新导入。",
        "2. 身份证号请填写18位（旧的15位号码会自动升级）。请先把身份证号这一列设为“文本”格式，否则表格软件会把它存成数字，末尾几位会丢失。",
        "3. 与户主关系：户主（或本人）、配偶（妻/夫）、子女（长子、次女等）、父母、孙子女、儿媳/女婿、兄弟姐妹、其他。",
        "4. 县、乡镇、村可写简称（如“钓源村”代替“钓源村委会”），系统会在所属乡镇内匹配；也可直接填写12位村级区划代码。",
        "5. 家庭类型：独生子女家庭、农村二女户、计生特殊家庭（失独）、计生特殊家庭（伤残）、三孩政策内家庭、一般计生家庭；不填视为一般计生家庭。",
        "6. 脱贫状态：脱贫户、监测户、低保户，不是则留空。",
        "7. 表头上方可以有标题行，表格下方可以有合计行和填报人、审核人，系统会自动跳过。",
        "8. 导入前系统会先“预检”，逐行说明将新增、更新、无变化还是拒绝及原因；被拒绝的行可以下载，改正后再次导入。同一文件导入两次不会重复登记。",
    ];
    for (r, line) in lines.iter().enumerate() {
        help.write_string(r as u32, 0, *line).map_err(xlsx_error)?;
    }
    workbook.save_to_buffer().map_err(xlsx_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_reads_back_as_a_roster_with_every_column_recognised() {
        let bytes = roster_template_xlsx().unwrap();
        let table = crate::read_table(&bytes).unwrap();
        let map = crate::columns::recognise(&table.headers);
        assert!(map.missing().is_empty());
        assert_eq!(map.recognised(), 11);
        assert_eq!(map.get(Field::HeadName), Some(3));
        assert_eq!(table.rows[0].cells[5], "11010519491231002X");
    }
}
