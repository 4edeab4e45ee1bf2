//! A report's table as shown on screen, and its `.xlsx`: the page and the spreadsheet are
//! made from the same [`ReportTable`], so the export is exactly what was shown — the same
//! columns, rows and texts; counts and money as numbers that add up, rates as the text
//! shown (`87.5%`).

use guanai_domain::Fen;
use rust_xlsxwriter::{Color, Format, Workbook};

use crate::ImportError;

/// One cell of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Text(String),
    Count(u64),
    /// Money, shown as `1,234.56`.
    Money(Fen),
    /// A rate or growth as shown (`87.5%`, `+6.2%`, `—`).
    Rate(String),
}

impl Cell {
    /// The text the page shows.
    pub fn shown(&self) -> String {
        match self {
            Cell::Text(t) | Cell::Rate(t) => t.clone(),
            Cell::Count(n) => n.to_string(),
            Cell::Money(f) => f.yuan_string(),
        }
    }

    pub fn is_number(&self) -> bool {
        !matches!(self, Cell::Text(_))
    }
}

/// A report's table: its title, the column names, the rows (with an optional link per
/// cell, for the page only) and a total line.
#[derive(Debug, Clone, Default)]
pub struct ReportTable {
    pub title: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<(Cell, Option<String>)>>,
    pub total: Option<Vec<Cell>>,
}

fn xlsx_error(err: rust_xlsxwriter::XlsxError) -> ImportError {
    ImportError::Unreadable(format!("无法生成 Excel 文件：{err}"))
}

/// The tables as a workbook, one sheet each (named by the title, cut to Excel's 31
/// characters): a title line, the header, the rows, the total.
pub fn report_xlsx(tables: &[ReportTable]) -> Result<Vec<u8>, ImportError> {
    let header = Format::new().set_bold().set_background_color(Color::RGB(0xE8F0FE));
    let title = Format::new().set_bold().set_font_size(14);
    let text = Format::new().set_num_format("@");
    let money = Format::new().set_num_format("#,##0.00");
    let bold = Format::new().set_bold();
    let mut workbook = Workbook::new();
    for (index, table) in tables.iter().enumerate() {
        let sheet = workbook.add_worksheet();
        let name: String =
            table.title.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(28).collect::<String>();
        sheet
            .set_name(format!("{}{}", name, if index > 0 { format!("-{index}") } else { String::new() }))
            .map_err(xlsx_error)?;
        sheet.write_string_with_format(0, 0, &table.title, &title).map_err(xlsx_error)?;
        for (c, name) in table.headers.iter().enumerate() {
            sheet.write_string_with_format(1, c as u16, name, &header).map_err(xlsx_error)?;
            sheet.set_column_width(c as u16, if c == 0 { 18 } else { 12 }).map_err(xlsx_error)?;
        }
        sheet.set_freeze_panes(2, 1).map_err(xlsx_error)?;
        let lines = table.rows.iter().map(|r| r.iter().map(|(c, _)| c.clone()).collect::<Vec<_>>());
        for (r, cells) in lines.chain(table.total.clone()).enumerate() {
            let r = r as u32 + 2;
            for (c, cell) in cells.iter().enumerate() {
                let c = c as u16;
                match cell {
                    Cell::Text(t) | Cell::Rate(t) => sheet.write_string_with_format(r, c, t, &text),
                    Cell::Count(n) => sheet.write_number(r, c, *n as f64),
                    Cell::Money(f) => sheet.write_number_with_format(r, c, f.get() as f64 / 100.0, &money),
                }
                .map_err(xlsx_error)?;
            }
            if table.total.is_some() && r as usize == table.rows.len() + 2 {
                sheet.set_row_format(r, &bold).map_err(xlsx_error)?;
            }
        }
    }
    workbook.save_to_buffer().map_err(xlsx_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workbook_reads_back_as_shown() {
        let table = ReportTable {
            title: "2026年度参保覆盖".into(),
            headers: vec!["区划".into(), "参保户数".into(), "覆盖率".into(), "保费（元）".into()],
            rows: vec![vec![
                (Cell::Text("吉州区".into()), None),
                (Cell::Count(1234), Some("/x".into())),
                (Cell::Rate("87.5%".into()), None),
                (Cell::Money(Fen::new(123_456)), None),
            ]],
            total: Some(vec![
                Cell::Text("合计".into()),
                Cell::Count(1234),
                Cell::Rate("87.5%".into()),
                Cell::Money(Fen::new(123_456)),
            ]),
        };
        let bytes = report_xlsx(&[table]).unwrap();
        let rows = crate::table::read_rows(&bytes).unwrap();
        assert_eq!(rows[0].cells[0], "2026年度参保覆盖");
        assert_eq!(rows[1].cells, ["区划", "参保户数", "覆盖率", "保费（元）"]);
        assert_eq!(rows[2].cells[..3], ["吉州区", "1234", "87.5%"]);
        assert_eq!(rows[3].cells[0], "合计");
    }
}
