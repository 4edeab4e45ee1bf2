//! Targets from a spreadsheet (.xlsx or .csv), and the same layout handed out to fill in:
//! one row per region — 区划代码 (or its name, matched within the user's scope), and any of
//! 目标户数, 目标人数, 续保率目标（%）, 应保户数 — for the year chosen on the form or a 年度
//! column. Every row is read before anything is written: one wrong row refuses the whole
//! file with every problem listed by its line, and a file imported twice changes nothing
//! the second time (`store.targets().set_targets`).

use guanai_domain::targets::{check_year, parse_count, Permille};
use guanai_domain::RegionCode;
use guanai_store::regions::DivisionRow;
use guanai_store::targets::{Target, TargetChange, TargetValues};
use guanai_store::{Actor, Store};
use rust_xlsxwriter::{Color, Format, Workbook};

use crate::table::{read_rows, HEADER_SEARCH};
use crate::ImportError;

/// The columns of the layout, as written and as recognised (besides these names, a few
/// common variants are read).
pub const COLUMNS: [&str; 7] =
    ["区划代码", "区划名称", "年度", "目标户数", "目标人数", "续保率目标（%）", "应保户数"];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Column {
    Code,
    Name,
    Year,
    Households,
    Persons,
    Renewal,
    Eligible,
}

fn recognise(header: &str) -> Option<Column> {
    let h: String = header.chars().filter(|c| !c.is_whitespace()).collect();
    let h = h.replace(['(', ')', '（', '）', '%', '％'], "");
    Some(match h.as_str() {
        "区划代码" | "行政区划代码" | "代码" | "区域代码" => Column::Code,
        "区划名称" | "区划" | "名称" | "区域" | "县市区" | "乡镇街道" | "村社区" => {
            Column::Name
        }
        "年度" | "年份" => Column::Year,
        "目标户数" | "参保户数目标" | "任务户数" => Column::Households,
        "目标人数" | "参保人数目标" | "任务人数" => Column::Persons,
        "续保率目标" | "续保率" | "目标续保率" => Column::Renewal,
        "应保户数" | "应参保户数" | "符合条件户数" => Column::Eligible,
        _ => return None,
    })
}

/// What reading a file gave: the changes to make, or every problem found.
#[derive(Debug, Default)]
pub struct TargetFile {
    pub changes: Vec<TargetChange>,
    /// "第5行：…" — the file is refused when there is any.
    pub problems: Vec<String>,
}

/// Reads a targets file for a user whose regions are `regions` (the scope and below),
/// `year` when the file has no 年度 column. Runs on a blocking thread.
pub async fn read_targets(
    bytes: Vec<u8>,
    regions: Vec<DivisionRow>,
    year: i32,
) -> Result<TargetFile, ImportError> {
    crate::blocking(move || parse_targets(&bytes, &regions, year)).await
}

fn parse_targets(bytes: &[u8], regions: &[DivisionRow], year: i32) -> Result<TargetFile, ImportError> {
    let rows = read_rows(bytes)?;
    let header_at = rows.iter().take(HEADER_SEARCH).position(|r| {
        let found: Vec<Column> = r.cells.iter().filter_map(|c| recognise(c)).collect();
        (found.contains(&Column::Code) || found.contains(&Column::Name)) && found.len() >= 2
    });
    let Some(header_at) = header_at else {
        return Err(ImportError::Unreadable(
            format!("找不到表头：前{HEADER_SEARCH}行中没有一行同时含有“区划代码”（或“区划名称”）和“目标户数”等列名。请下载模板对照填写"),
        ));
    };
    let columns: Vec<Option<Column>> = rows[header_at].cells.iter().map(|c| recognise(c)).collect();
    let at = |col: Column| columns.iter().position(|c| *c == Some(col));
    let mut file = TargetFile::default();
    for row in &rows[header_at + 1..] {
        let cell = |col: Column| at(col).and_then(|i| row.cells.get(i)).map(|s| s.trim()).unwrap_or("");
        if row.cells.iter().all(|c| c.trim().is_empty()) || cell(Column::Name).starts_with("合计") {
            continue;
        }
        let line = row.line;
        let mut problem = |message: String| file.problems.push(format!("第{line}行：{message}"));
        let region = match (cell(Column::Code), cell(Column::Name)) {
            ("", "") => {
                problem("缺少区划代码或区划名称".to_owned());
                continue;
            }
            ("", name) => {
                let found: Vec<&DivisionRow> =
                    regions.iter().filter(|r| r.name == name || r.short_name == name).collect();
                match found.as_slice() {
                    [one] => one.code.clone(),
                    [] => {
                        problem(format!("在您的管理范围内找不到区划“{name}”，请填写区划代码"));
                        continue;
                    }
                    _ => {
                        problem(format!("区划名称“{name}”有重名，请填写区划代码"));
                        continue;
                    }
                }
            }
            (code, _) => match RegionCode::parse(code.trim_end_matches(".0")) {
                Ok(code) if regions.iter().any(|r| r.code == code) => code,
                Ok(code) => {
                    problem(format!("区划“{code}”不在您的管理范围内，或代码有误"));
                    continue;
                }
                Err(e) => {
                    problem(format!("区划代码：{e}"));
                    continue;
                }
            },
        };
        let year = match cell(Column::Year) {
            "" => year,
            raw => match raw
                .trim_end_matches(['年', '度'])
                .trim_end_matches(".0")
                .parse::<i32>()
                .ok()
                .map(check_year)
            {
                Some(Ok(y)) => y,
                _ => {
                    problem(format!("年度“{raw}”须为2021到2100之间的四位数字"));
                    continue;
                }
            },
        };
        let mut values = TargetValues::default();
        let mut bad = false;
        for (col, label) in
            [(Column::Households, "目标户数"), (Column::Persons, "目标人数"), (Column::Eligible, "应保户数")]
        {
            match cell(col) {
                "" => {}
                raw => match parse_count(label, raw) {
                    Ok(n) => match col {
                        Column::Households => values.households = Some(n),
                        Column::Persons => values.persons = Some(n),
                        _ => values.eligible_households = Some(n),
                    },
                    Err(e) => {
                        problem(e.to_string());
                        bad = true;
                    }
                },
            }
        }
        match cell(Column::Renewal) {
            "" => {}
            raw => match Permille::parse_percent(raw) {
                Ok(p) => values.renewal_permille = Some(p),
                Err(e) => {
                    problem(e.to_string());
                    bad = true;
                }
            },
        }
        if !bad && values != TargetValues::default() {
            file.changes.push(TargetChange { region, year, values });
        }
    }
    if file.changes.is_empty() && file.problems.is_empty() {
        file.problems.push("文件中没有可导入的任务指标：请在表头下逐行填写区划和指标".to_owned());
    }
    Ok(file)
}

/// Imports a targets file: read, every row checked, then all set in one transaction, or
/// nothing when any row is wrong. `Ok(Err(problems))` lists what to correct; `Ok(Ok(n))`
/// says how many regions changed.
pub async fn import_targets(
    store: &Store,
    actor: &Actor,
    bytes: Vec<u8>,
    year: i32,
) -> Result<Result<usize, Vec<String>>, ImportError> {
    let regions = store.regions().regions_under(actor.scope()).await?;
    let file = read_targets(bytes, regions, year).await?;
    if !file.problems.is_empty() {
        return Ok(Err(file.problems));
    }
    match store.targets().set_targets(actor, &file.changes).await {
        Ok(n) => Ok(Ok(n)),
        Err(guanai_store::StoreError::Invalid(message)) => Ok(Err(vec![message])),
        Err(e) => Err(e.into()),
    }
}

/// The layout filled with `regions` (code, name) and their targets of `year` where set:
/// the template to fill in, and the export of what is set.
pub fn targets_xlsx(
    regions: &[(RegionCode, String)],
    set: &[Target],
    year: i32,
) -> Result<Vec<u8>, ImportError> {
    let err = |e: rust_xlsxwriter::XlsxError| ImportError::Unreadable(format!("无法生成 Excel 文件：{e}"));
    let header = Format::new().set_bold().set_background_color(Color::RGB(0xE8F0FE));
    let text = Format::new().set_num_format("@");
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("任务指标").map_err(err)?;
    for (c, name) in COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *name, &header).map_err(err)?;
        sheet.set_column_width(c as u16, if c < 2 { 18 } else { 14 }).map_err(err)?;
    }
    sheet.set_freeze_panes(1, 2).map_err(err)?;
    for (i, (code, name)) in regions.iter().enumerate() {
        let r = i as u32 + 1;
        sheet.write_string_with_format(r, 0, code.as_str(), &text).map_err(err)?;
        sheet.write_string_with_format(r, 1, name, &text).map_err(err)?;
        sheet.write_number(r, 2, f64::from(year)).map_err(err)?;
        if let Some(t) = set.iter().find(|t| &t.region_code == code && t.year == year) {
            let v = &t.values;
            for (c, n) in [(3u16, v.households), (4, v.persons), (6, v.eligible_households)] {
                if let Some(n) = n {
                    sheet.write_number(r, c, n as f64).map_err(err)?;
                }
            }
            if let Some(p) = v.renewal_permille {
                sheet
                    .write_string_with_format(r, 5, format!("{}.{}", p.get() / 10, p.get() % 10), &text)
                    .map_err(err)?;
            }
        }
    }
    workbook.save_to_buffer().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regions() -> Vec<DivisionRow> {
        [("360802", "吉州区", "吉州区"), ("360803", "青原区", "青原区")]
            .iter()
            .map(|(c, n, s)| DivisionRow {
                code: RegionCode::parse(c).unwrap(),
                name: (*n).into(),
                short_name: (*s).into(),
            })
            .collect()
    }

    #[test]
    fn a_file_is_read_by_code_or_name_and_every_problem_listed() {
        let csv = "2026年任务指标\n区划代码,区划名称,目标户数,续保率目标（%）\n360802,吉州区,\"12,000\",87.5\n,青原区,9000,\n360899,无此区,1,\n360803,,abc,120\n";
        let file = parse_targets(csv.as_bytes(), &regions(), 2026).unwrap();
        assert_eq!(file.changes.len(), 2, "{file:?}");
        assert_eq!(file.changes[0].values.households, Some(12_000));
        assert_eq!(file.changes[0].values.renewal_permille.map(Permille::get), Some(875));
        assert_eq!(file.changes[1].region.as_str(), "360803");
        assert_eq!(file.problems.len(), 3, "{:?}", file.problems);
        assert!(file.problems[0].starts_with("第5行：区划“360899”不在您的管理范围内"), "{:?}", file.problems);
        assert!(file.problems[1].starts_with("第6行：目标户数“abc”"), "{:?}", file.problems);
    }

    #[test]
    fn the_template_reads_back_as_it_was_written() {
        let list: Vec<(RegionCode, String)> = regions().into_iter().map(|r| (r.code, r.name)).collect();
        let bytes = targets_xlsx(&list, &[], 2026).unwrap();
        let file = parse_targets(&bytes, &regions(), 2026).unwrap();
        assert!(file.changes.is_empty());
        assert_eq!(file.problems, ["文件中没有可导入的任务指标：请在表头下逐行填写区划和指标"]);
    }
}
