//! Reading a returned file: its header, found by the return columns, and its data rows'
//! key cells.

use std::collections::BTreeMap;

use super::{one_line, ReturnRow};
use crate::columns::normalise_header;
use crate::table::{read_rows, SourceRow, HEADER_SEARCH};
use crate::ImportError;

/// The columns a returned file is read by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReturnField {
    PolicyId,
    CertCode,
    Result,
    PolicyNo,
    Reason,
}

impl ReturnField {
    const ALL: [ReturnField; 5] = [
        ReturnField::PolicyId,
        ReturnField::CertCode,
        ReturnField::Result,
        ReturnField::PolicyNo,
        ReturnField::Reason,
    ];

    /// Header names, after `normalise_header` (half-width brackets, no spaces).
    fn synonyms(self) -> &'static [&'static str] {
        match self {
            ReturnField::PolicyId => &["系统保单编号", "系统编号", "系统保单号", "保单编号(系统)"],
            ReturnField::CertCode => &["证书编号", "凭证编号", "保险凭证编号", "证书号", "核验码"],
            ReturnField::Result => &["承保结果", "核保结果", "承保意见", "审核结果"],
            ReturnField::PolicyNo => &["保单号", "保单号码", "保险单号", "承保保单号"],
            ReturnField::Reason => &["拒保原因", "不予承保原因", "拒保理由", "原因"],
        }
    }
}

fn recognise(headers: &[String]) -> BTreeMap<ReturnField, usize> {
    let mut map = BTreeMap::new();
    for (index, header) in headers.iter().enumerate() {
        let name = normalise_header(header);
        if let Some(field) = ReturnField::ALL.into_iter().find(|f| f.synonyms().contains(&name.as_str())) {
            map.entry(field).or_insert(index);
        }
    }
    map
}

fn is_footer(row: &SourceRow) -> bool {
    let filled: Vec<&str> = row.cells.iter().map(|c| c.trim()).filter(|c| !c.is_empty()).collect();
    let first = filled.first().copied().unwrap_or_default();
    ["合计", "总计", "小计", "共计"].iter().any(|w| first.starts_with(w))
        || (filled.len() <= 3
            && filled.iter().any(|c| {
                ["填报人", "审核人", "制表人", "负责人", "经办人", "盖章"].iter().any(|w| c.contains(w))
            }))
}

/// The header, the data rows and their key cells.
pub(super) fn read_return(bytes: &[u8]) -> Result<(Vec<String>, Vec<ReturnRow>), ImportError> {
    let raw = read_rows(bytes)?;
    let found = raw.iter().enumerate().take(HEADER_SEARCH).find_map(|(index, row)| {
        let map = recognise(&row.cells);
        let keyed = map.contains_key(&ReturnField::PolicyId) || map.contains_key(&ReturnField::CertCode);
        let answered = [ReturnField::Result, ReturnField::PolicyNo, ReturnField::Reason]
            .iter()
            .all(|f| map.contains_key(f));
        (keyed && answered).then_some((index, map))
    });
    let Some((header_index, map)) = found else {
        return Err(ImportError::Unreadable(
            format!("找不到表头：前{HEADER_SEARCH}行中没有一行同时含有“系统保单编号”（或“证书编号”）、“承保结果”、“保单号”、“拒保原因”。请使用系统导出的承保清单填写"),
        ));
    };
    let headers = raw[header_index].cells.clone();
    let rows: Vec<SourceRow> = raw[header_index + 1..]
        .iter()
        .filter(|r| r.cells.iter().any(|c| !c.trim().is_empty()) && !is_footer(r))
        .cloned()
        .collect();
    let cell = |row: &SourceRow, field: ReturnField| -> String {
        map.get(&field).and_then(|i| row.cells.get(*i)).map(|c| c.trim().to_owned()).unwrap_or_default()
    };
    let returns = rows
        .iter()
        .map(|row| ReturnRow {
            line: row.line,
            policy_id: cell(row, ReturnField::PolicyId),
            cert_code: cell(row, ReturnField::CertCode).to_uppercase(),
            result: cell(row, ReturnField::Result).chars().filter(|c| !c.is_whitespace()).collect(),
            policy_no: cell(row, ReturnField::PolicyNo),
            reason: one_line(&cell(row, ReturnField::Reason)),
        })
        .collect();
    Ok((headers, returns))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minimal_return_file_is_read_with_titles_and_footers() {
        let text = "吉州区承保结果回传\n证书编号,承保结果,保单号,拒保原因\nabcdefghjklm, 承 保 ,PJA001,\n\n,,,\nBCDEFGHJKLMN,拒保,,年龄\n合计,1份,,\n";
        let (headers, returns) = read_return(text.as_bytes()).unwrap();
        assert_eq!(headers[0], "证书编号");
        assert_eq!(returns.len(), 2);
        assert_eq!(returns[0].line, 3);
        assert_eq!(returns[1].line, 6);
        assert_eq!(returns[0].cert_code, "ABCDEFGHJKLM");
        assert_eq!(returns[0].result, "承保");
        let err = read_return("姓名,身份证号\n张三,1\n".as_bytes()).unwrap_err();
        assert!(err.to_string().contains("找不到表头"), "{err}");
    }
}
