//! Reading a spreadsheet as people make them: CSV in UTF-8 (with or without BOM) or
//! GBK/GB18030, or `.xlsx`; title lines above the header, blank lines, a totals line and
//! signatures at the end. What comes out is the header row and the data rows, each with
//! its row number in the original file.

use std::io::Cursor;

use calamine::{Data, DataRef, Reader, Xlsx};

use crate::columns::{recognise, ColumnMap};
use crate::ImportError;

/// One data row: its number in the original file (1-based) and its cells as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRow {
    pub line: usize,
    pub cells: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Table {
    /// Row number of the header in the original file.
    pub header_line: usize,
    pub headers: Vec<String>,
    pub rows: Vec<SourceRow>,
}

/// How many rows from the top may be titles before the header must appear (every file
/// Guanai reads: rosters, the insurer's returns, the claims exchange).
pub(crate) const HEADER_SEARCH: usize = 15;

/// Reads a `.csv` or `.xlsx` file (decided by its content, not its name).
pub fn read_table(bytes: &[u8]) -> Result<Table, ImportError> {
    let mut table = Table { header_line: 0, headers: Vec::new(), rows: Vec::new() };
    scan_table(bytes, |scanned| {
        match scanned {
            Scanned::Header { line, cells } => {
                table.header_line = line;
                table.headers = cells;
            }
            Scanned::Row(row) => table.rows.push(row),
        }
        Ok(())
    })?;
    Ok(table)
}

/// The header row of a `.csv` or `.xlsx` file, read on a blocking thread; the rows below it
/// are not read.
pub async fn read_header(bytes: Vec<u8>) -> Result<Vec<String>, ImportError> {
    crate::blocking(move || {
        let mut headers = None;
        let scanned = scan_table(&bytes, |scanned| match scanned {
            Scanned::Header { cells, .. } => {
                headers = Some(cells);
                Err(ImportError::Stopped)
            }
            Scanned::Row(_) => Err(ImportError::Stopped),
        });
        match (scanned, headers) {
            (_, Some(headers)) => Ok(headers),
            (Err(err), None) => Err(err),
            (Ok(()), None) => Err(ImportError::NoHeader),
        }
    })
    .await
}

/// What [`scan_table`] hands on: the header once, then each data row.
#[derive(Debug)]
pub enum Scanned {
    Header { line: usize, cells: Vec<String> },
    Row(SourceRow),
}

/// Reads a table row by row, keeping none of them: finds the header, hands it on, then
/// each data row (blank lines and footers skipped). A million-row roster is never held as
/// cells all at once.
pub fn scan_table(
    bytes: &[u8],
    mut each: impl FnMut(Scanned) -> Result<(), ImportError>,
) -> Result<(), ImportError> {
    // Rows above the header, until it is found among the first `HEADER_SEARCH`.
    let mut top: Vec<SourceRow> = Vec::new();
    let mut found = false;
    let header_then_rest = |top: &mut Vec<SourceRow>,
                            each: &mut dyn FnMut(Scanned) -> Result<(), ImportError>|
     -> Result<(), ImportError> {
        let mut best: Option<(usize, ColumnMap)> = None;
        for (index, row) in top.iter().enumerate() {
            let map = recognise(&row.cells);
            if map.recognised() >= 2 && best.as_ref().is_none_or(|(_, b)| map.recognised() > b.recognised()) {
                best = Some((index, map));
            }
        }
        let (index, _) = best.ok_or(ImportError::NoHeader)?;
        let below = top.split_off(index + 1);
        let header = top.pop().expect("the header row");
        each(Scanned::Header { line: header.line, cells: header.cells })?;
        for row in below {
            if is_data(&row) {
                each(Scanned::Row(row))?;
            }
        }
        Ok(())
    };
    each_raw_row(bytes, |row| {
        if found {
            if is_data(&row) {
                each(Scanned::Row(row))?;
            }
        } else {
            top.push(row);
            if top.len() == HEADER_SEARCH {
                header_then_rest(&mut top, &mut each)?;
                found = true;
            }
        }
        Ok(())
    })?;
    if !found {
        header_then_rest(&mut top, &mut each)?;
    }
    Ok(())
}

fn is_data(row: &SourceRow) -> bool {
    !is_blank(row) && !is_footer(row)
}

/// Every row of a `.csv` (UTF-8 or GBK) or `.xlsx` file (decided by its content, not its
/// name) as it is, blank lines, titles and footers included, numbered as in the file.
pub fn read_rows(bytes: &[u8]) -> Result<Vec<SourceRow>, ImportError> {
    let mut rows = Vec::new();
    each_raw_row(bytes, |row| {
        rows.push(row);
        Ok(())
    })?;
    Ok(rows)
}

fn each_raw_row(
    bytes: &[u8],
    each: impl FnMut(SourceRow) -> Result<(), ImportError>,
) -> Result<(), ImportError> {
    if bytes.starts_with(b"PK\x03\x04") {
        each_xlsx_row(bytes, each)
    } else {
        each_csv_row(bytes, each)
    }
}

/// Text of a CSV file: UTF-8 when it is valid UTF-8 (a BOM is dropped), GB18030 (a
/// superset of GBK) otherwise.
pub fn decode_text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => encoding_rs::GB18030.decode(bytes).0,
    }
}

fn each_csv_row(
    bytes: &[u8],
    mut each: impl FnMut(SourceRow) -> Result<(), ImportError>,
) -> Result<(), ImportError> {
    let text = decode_text(bytes);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    // The reader skips blank lines without counting them; the line people see in their
    // editor is counted from the byte offset instead.
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i + 1))
        .collect();
    let mut record = csv::StringRecord::new();
    let mut count = 0;
    while reader
        .read_record(&mut record)
        .map_err(|e| ImportError::Unreadable(format!("CSV 格式有误：{e}")))?
    {
        count += 1;
        if count > MAX_ROWS {
            return Err(too_far_down(count));
        }
        let line = record
            .position()
            .map(|p| {
                // A record's position can be the blank lines before it.
                let bytes = text.as_bytes();
                let mut at = p.byte() as usize;
                while at < bytes.len() && matches!(bytes[at], b'\n' | b'\r') {
                    at += 1;
                }
                line_starts.partition_point(|start| *start <= at)
            })
            .unwrap_or(count);
        // Empty fields to the right (a line of commas) are dropped; text there is refused.
        let width = (0..record.len()).rev().find(|&at| !record[at].trim().is_empty()).map_or(0, |at| at + 1);
        if width > MAX_COLUMNS {
            return Err(too_far_right(line, width - 1));
        }
        each(SourceRow { line, cells: record.iter().take(width).map(|c| c.trim().to_owned()).collect() })?;
    }
    Ok(())
}

/// Most rows a sheet may have (a city's roster is about a million).
pub const MAX_ROWS: usize = 2_000_000;
/// Most columns a row may have: a roster has a dozen, an exchange file fewer.
pub const MAX_COLUMNS: usize = 200;

/// Excel's name of a column (0 → A, 16383 → XFD).
fn column_name(mut column: usize) -> String {
    let mut name = Vec::new();
    loop {
        name.push(b'A' + (column % 26) as u8);
        if column < 26 {
            break;
        }
        column = column / 26 - 1;
    }
    name.reverse();
    String::from_utf8(name).expect("ASCII")
}

fn too_far_right(line: usize, column: usize) -> ImportError {
    ImportError::Unreadable(format!(
        "第{line}行的{}列（第{}列）有内容，超出了可导入的{MAX_COLUMNS}列：请删除表格右侧多余的单元格，或把名单复制到一个新工作表后另存再导入",
        column_name(column),
        column + 1
    ))
}

fn too_far_down(line: usize) -> ImportError {
    ImportError::Unreadable(format!(
        "第{line}行有内容，超出了可导入的{MAX_ROWS}行：请删除表格下方多余的单元格，或把名单复制到一个新工作表后另存再导入（行数过多时请拆分文件）"
    ))
}

/// Reads the first sheet cell by cell, as the file stores them, and hands on each row
/// that has a cell. Never builds a grid from the sheet's declared size or from its far
/// corners: a stray cell at XFD1048576 is refused by its place, not allocated for.
fn each_xlsx_row(
    bytes: &[u8],
    mut each: impl FnMut(SourceRow) -> Result<(), ImportError>,
) -> Result<(), ImportError> {
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| {
        ImportError::Unreadable(format!("无法打开 Excel 文件：{e}。请另存为 .xlsx 或 .csv 后重试"))
    })?;
    let first = workbook
        .sheet_names()
        .into_iter()
        .next()
        .ok_or_else(|| ImportError::Unreadable("Excel 文件中没有工作表".to_owned()))?;
    let unreadable = |e: calamine::XlsxError| ImportError::Unreadable(format!("无法读取第一个工作表：{e}"));
    let mut cells = workbook.worksheet_cells_reader(&first).map_err(unreadable)?;
    // The row being gathered: its number in the file (1-based) and its cells so far.
    let mut current: Option<SourceRow> = None;
    while let Some(cell) = cells.next_cell().map_err(unreadable)? {
        let value = cell.get_value();
        if matches!(value, DataRef::Empty) {
            continue;
        }
        let (row, column) = cell.get_position();
        let (line, column) = (row as usize + 1, column as usize);
        if line > MAX_ROWS {
            return Err(too_far_down(line));
        }
        if column >= MAX_COLUMNS {
            return Err(too_far_right(line, column));
        }
        if current.as_ref().is_some_and(|r| r.line != line) {
            each(current.take().expect("a row"))?;
        }
        let row = current.get_or_insert_with(|| SourceRow { line, cells: Vec::new() });
        if row.cells.len() <= column {
            row.cells.resize(column + 1, String::new());
        }
        row.cells[column] = cell_text(&Data::from(value.clone()));
    }
    if let Some(row) = current {
        each(row)?;
    }
    Ok(())
}

/// A cell as text. Large numbers are shown as a spreadsheet shows them (`3.60802199001011E+17`),
/// so an ID number stored as a number is recognised as mangled, not silently "fixed".
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(text) => text.trim().to_owned(),
        Data::Int(value) => value.to_string(),
        Data::Float(value) => {
            if value.fract() == 0.0 && value.abs() < 1e15 {
                format!("{}", *value as i64)
            } else if value.abs() >= 1e15 {
                format!("{value:.14E}").replace('E', "E+")
            } else {
                value.to_string()
            }
        }
        Data::Bool(value) => if *value { "是" } else { "否" }.to_owned(),
        Data::DateTime(value) => match value.as_datetime() {
            Some(datetime) => datetime.date().format("%Y-%m-%d").to_string(),
            None => value.as_f64().to_string(),
        },
        Data::DateTimeIso(text) | Data::DurationIso(text) => text.clone(),
        Data::Error(_) => String::new(),
    }
}

fn is_blank(row: &SourceRow) -> bool {
    row.cells.iter().all(|c| c.trim().is_empty())
}

/// A totals line or a signature line under the table (合计, 填报人 …).
fn is_footer(row: &SourceRow) -> bool {
    let filled: Vec<&str> = row.cells.iter().map(|c| c.trim()).filter(|c| !c.is_empty()).collect();
    let first = filled.first().copied().unwrap_or_default();
    ["合计", "总计", "小计", "共计"].iter().any(|w| first.starts_with(w))
        || (filled.len() <= 3
            && filled.iter().any(|c| {
                ["填报人", "审核人", "制表人", "负责人", "填表人", "联系人：", "填报日期"]
                    .iter()
                    .any(|w| c.contains(w))
            }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gbk_csv_with_titles_totals_and_signatures_reads_as_a_table() {
        let text = "某某市计生家庭意外伤害保险参保花名册\n填报单位：兴桥镇计生协,,,\n序号,姓名,身份证号码,与户主关系\n1,张三,11010519491231002X,户主\n\n2,李四,110105194912310021,妻\n合计,2人,,\n填报人：王五,审核人：赵六,,\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        let table = read_table(&gbk).unwrap();
        assert_eq!(table.header_line, 3);
        assert_eq!(table.headers[1], "姓名");
        assert_eq!(table.rows.len(), 2);
        assert_eq!(table.rows[0].line, 4);
        assert_eq!(table.rows[1].line, 6);
        assert_eq!(table.rows[1].cells[1], "李四");
    }

    #[test]
    fn utf8_with_bom_is_read_as_utf8() {
        let text = "\u{feff}姓名,公民身份号码,关系\n张三,11010519491231002X,本人\n";
        let table = read_table(text.as_bytes()).unwrap();
        assert_eq!(table.headers[0], "姓名");
        assert_eq!(table.rows.len(), 1);
    }

    #[test]
    fn a_file_without_a_recognisable_header_is_refused() {
        assert!(matches!(read_table("a,b,c\n1,2,3\n".as_bytes()), Err(ImportError::NoHeader)));
        assert!(matches!(read_table(b"PK\x03\x04garbage"), Err(ImportError::Unreadable(_))));
    }

    #[test]
    fn a_cell_far_away_is_refused_by_its_place_with_what_to_do() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "姓名").unwrap();
        sheet.write_string(0, 1, "身份证号").unwrap();
        sheet.write_string(1_048_575, 16_383, "x").unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let err = read_table(&bytes).unwrap_err().to_string();
        assert!(err.contains("第1048576行的XFD列"), "{err}");
        assert!(err.contains("新工作表"), "{err}");
        assert_eq!(column_name(0), "A");
        assert_eq!(column_name(25), "Z");
        assert_eq!(column_name(26), "AA");
        assert_eq!(column_name(16_383), "XFD");
        let wide = format!("姓名,身份证号{}x\n", ",".repeat(300));
        assert!(read_table(wide.as_bytes()).unwrap_err().to_string().contains("第302列"));
        let trailing = format!("姓名,身份证号{}\n张三,1{}\n", ",".repeat(300), ",".repeat(300));
        assert_eq!(
            read_table(trailing.as_bytes()).unwrap().headers.len(),
            2,
            "empty cells to the right are dropped"
        );
    }

    #[test]
    fn numbers_show_as_a_spreadsheet_shows_them() {
        assert_eq!(cell_text(&Data::Float(360802199001011000.0)), "3.60802199001011E+17");
        assert_eq!(cell_text(&Data::Float(13812345678.0)), "13812345678");
        assert_eq!(cell_text(&Data::Float(1.5)), "1.5");
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn no_bytes_make_the_reader_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2_000)) {
            let _ = super::read_table(&bytes);
        }

        #[test]
        fn no_zip_like_bytes_make_the_reader_panic(tail in proptest::collection::vec(any::<u8>(), 0..2_000)) {
            let mut bytes = b"PK\x03\x04".to_vec();
            bytes.extend(tail);
            let _ = super::read_table(&bytes);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        /// Cells anywhere in a sheet, far apart: the reader never panics, never builds a
        /// grid (what it hands on is at most the cells written, in rows of at most
        /// `MAX_COLUMNS`), and refuses a cell past the bounds by naming it.
        #[test]
        fn sparse_far_away_cells_are_read_without_a_grid(
            cells in proptest::collection::vec((0u32..1_048_576, 0u16..16_384, "[a-z0-9]{1,6}"), 1..12),
        ) {
            let mut book = rust_xlsxwriter::Workbook::new();
            let sheet = book.add_worksheet();
            for (row, column, text) in &cells {
                sheet.write_string(*row, *column, text).unwrap();
            }
            let bytes = book.save_to_buffer().unwrap();
            let mut rows = 0usize;
            let mut held = 0usize;
            let read = super::each_raw_row(&bytes, |row| {
                rows += 1;
                held += row.cells.len();
                assert!(row.cells.len() <= super::MAX_COLUMNS);
                Ok(())
            });
            let distinct: std::collections::HashSet<(u32, u16)> = cells.iter().map(|(r, c, _)| (*r, *c)).collect();
            prop_assert!(rows <= distinct.len());
            prop_assert!(held <= distinct.len() * super::MAX_COLUMNS);
            let too_far = cells.iter().any(|(_, column, _)| usize::from(*column) >= super::MAX_COLUMNS);
            match read {
                Ok(()) => prop_assert!(!too_far),
                Err(err) => {
                    prop_assert!(too_far, "{}", err);
                    prop_assert!(err.to_string().contains("新工作表"), "{}", err);
                }
            }
            // The table readers over the same bytes never panic either.
            let _ = super::read_table(&bytes);
            let _ = super::read_rows(&bytes);
        }
    }
}
