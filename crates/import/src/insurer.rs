//! The insurer's returned list (承保结果回传): the list to underwrite with 承保结果, 保单号
//! and 拒保原因 filled in, or any sheet with at least 系统保单编号 or 证书编号 and those
//! three columns. Every policy it names gets a verdict before anything is written:
//! underwrite, refuse, unchanged (done already, the same way), or not imported with the
//! reason. Committing underwrites and refuses the accepted ones; a second run of the same
//! file finds them all unchanged and writes nothing.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use guanai_store::policies::{refusal_reason, ExchangePolicy, PolicyStatus};
use guanai_store::{Actor, Store};
use serde::{Deserialize, Serialize};

use crate::columns::normalise_header;
use crate::table::{decode_text, SourceRow};
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

/// What the insurer decided for a policy.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Decision {
    Underwrite { policy_id: i64, policy_no: String },
    Refuse { policy_id: i64, reason: String },
}

impl Decision {
    pub fn policy_id(&self) -> i64 {
        match self {
            Decision::Underwrite { policy_id, .. } | Decision::Refuse { policy_id, .. } => *policy_id,
        }
    }

    /// One line of text (`U<TAB>12<TAB>PJA001`, `R<TAB>13<TAB>原因`), for a hidden field.
    pub fn encode(&self) -> String {
        match self {
            Decision::Underwrite { policy_id, policy_no } => format!("U\t{policy_id}\t{policy_no}"),
            Decision::Refuse { policy_id, reason } => format!("R\t{policy_id}\t{}", one_line(reason)),
        }
    }

    pub fn decode(raw: &str) -> Option<Self> {
        let mut parts = raw.splitn(3, '\t');
        let kind = parts.next()?;
        let policy_id = parts.next()?.trim().parse().ok()?;
        let value = parts.next()?.to_owned();
        match kind {
            "U" => Some(Decision::Underwrite { policy_id, policy_no: value }),
            "R" => Some(Decision::Refuse { policy_id, reason: value }),
            _ => None,
        }
    }
}

fn one_line(text: &str) -> String {
    text.split(['\t', '\r', '\n']).map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnVerdict {
    Underwrite,
    Refuse,
    /// Done already, the same way: nothing to write.
    Unchanged,
    /// Not imported; the reason says what to correct.
    Rejected,
}

impl ReturnVerdict {
    pub const fn label(self) -> &'static str {
        match self {
            ReturnVerdict::Underwrite => "承保",
            ReturnVerdict::Refuse => "拒保",
            ReturnVerdict::Unchanged => "无变化",
            ReturnVerdict::Rejected => "不能导入",
        }
    }

    pub const fn color(self) -> &'static str {
        match self {
            ReturnVerdict::Underwrite => "green",
            ReturnVerdict::Refuse => "red",
            ReturnVerdict::Unchanged => "grey",
            ReturnVerdict::Rejected => "orange",
        }
    }
}

/// The verdict for one policy (or for a row that names none).
#[derive(Debug, Clone, Serialize)]
pub struct ReturnEntry {
    /// Rows of the file (1-based, as the user's spreadsheet numbers them).
    pub lines: Vec<usize>,
    /// The policy's id, or the number the row gave.
    pub policy_id: Option<i64>,
    /// The policy was found within the actor's scope (a page may link to it).
    pub known: bool,
    pub head_name: String,
    pub verdict: ReturnVerdict,
    /// The policy number, for an underwriting.
    pub policy_no: String,
    /// The insurer's reason for a refusal; why a row is not imported; or a note.
    pub reason: String,
}

impl ReturnEntry {
    /// `第3、4行`
    pub fn lines_label(&self) -> String {
        let lines: Vec<String> = self.lines.iter().map(usize::to_string).collect();
        format!("第{}行", lines.join("、"))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReturnTotals {
    /// Data rows read.
    pub rows: usize,
    pub underwrite: usize,
    pub refuse: usize,
    pub unchanged: usize,
    /// Rows not imported (not policies: a bogus row names no policy).
    pub rejected_rows: usize,
}

/// A row not imported: its key cells as in the file and what is wrong. The report lists
/// them in the layout of a returned file, so the insurer can correct and upload it again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedRow {
    pub line: usize,
    pub policy_id: String,
    pub cert_code: String,
    pub result: String,
    pub policy_no: String,
    pub reason: String,
    /// Why it was not imported.
    pub problem: String,
}

impl RefusedRow {
    /// One line of text, for a hidden field.
    pub fn encode(&self) -> String {
        let line = self.line.to_string();
        [&line, &self.policy_id, &self.cert_code, &self.result, &self.policy_no, &self.reason, &self.problem]
            .map(|cell| one_line(cell))
            .join("\t")
    }

    pub fn decode(raw: &str) -> Option<Self> {
        let cells: Vec<&str> = raw.split('\t').collect();
        let [line, policy_id, cert_code, result, policy_no, reason, problem] = cells.as_slice() else {
            return None;
        };
        Some(RefusedRow {
            line: line.trim().parse().ok()?,
            policy_id: (*policy_id).to_owned(),
            cert_code: (*cert_code).to_owned(),
            result: (*result).to_owned(),
            policy_no: (*policy_no).to_owned(),
            reason: (*reason).to_owned(),
            problem: (*problem).to_owned(),
        })
    }
}

/// A planned import of a returned file: the verdicts, and the decisions to write.
#[derive(Debug, Clone)]
pub struct ReturnPlan {
    pub headers: Vec<String>,
    pub entries: Vec<ReturnEntry>,
    pub totals: ReturnTotals,
    rows: Vec<ReturnRow>,
    decisions: Vec<Decision>,
}

/// What a commit wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ReturnOutcome {
    pub underwritten: usize,
    pub refused: usize,
}

/// One row as read, its key cells trimmed.
#[derive(Debug, Clone, Default)]
struct ReturnRow {
    line: usize,
    policy_id: String,
    cert_code: String,
    result: String,
    policy_no: String,
    reason: String,
}

impl ReturnRow {
    fn answer(&self) -> (&str, &str, &str) {
        (self.result.as_str(), self.policy_no.as_str(), self.reason.as_str())
    }

    fn answered(&self) -> bool {
        !(self.result.is_empty() && self.policy_no.is_empty() && self.reason.is_empty())
    }
}

// ---------------------------------------------------------------- reading

/// Rows of a `.csv` (UTF-8 or GBK) or `.xlsx` file as they are, numbered as in the file.
fn read_rows(bytes: &[u8]) -> Result<Vec<SourceRow>, ImportError> {
    if bytes.starts_with(b"PK\x03\x04") {
        let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| {
            ImportError::Unreadable(format!("无法打开 Excel 文件：{e}。请另存为 .xlsx 或 .csv 后重试"))
        })?;
        let range = workbook
            .worksheet_range_at(0)
            .ok_or_else(|| ImportError::Unreadable("Excel 文件中没有工作表".to_owned()))?
            .map_err(|e| ImportError::Unreadable(format!("无法读取第一个工作表：{e}")))?;
        let first_row = range.start().map(|(row, _)| row as usize).unwrap_or(0);
        return Ok(range
            .rows()
            .enumerate()
            .map(|(index, cells)| SourceRow {
                line: first_row + index + 1,
                cells: cells.iter().map(cell_text).collect(),
            })
            .collect());
    }
    let text = decode_text(bytes);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| ImportError::Unreadable(format!("CSV 格式有误：{e}")))?;
        let line = record.position().map(|p| p.line() as usize).unwrap_or(rows.len() + 1);
        rows.push(SourceRow { line, cells: record.iter().map(|c| c.trim().to_owned()).collect() });
    }
    Ok(rows)
}

/// A cell as text; a long number shows as a spreadsheet shows it (`8.80012345678901E+19`),
/// so a policy number stored as a number is recognised as damaged.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(text) => text.trim().to_owned(),
        Data::Int(value) => value.to_string(),
        Data::Float(value) if value.fract() == 0.0 && value.abs() < 1e15 => format!("{}", *value as i64),
        Data::Float(value) if value.abs() >= 1e15 => format!("{value:.14E}").replace('E', "E+"),
        Data::Float(value) => value.to_string(),
        Data::Bool(value) => if *value { "是" } else { "否" }.to_owned(),
        Data::DateTime(value) => match value.as_datetime() {
            Some(datetime) => datetime.date().format("%Y-%m-%d").to_string(),
            None => value.as_f64().to_string(),
        },
        Data::DateTimeIso(text) | Data::DurationIso(text) => text.clone(),
    }
}

/// How many rows from the top may be titles before the header must appear.
const HEADER_SEARCH: usize = 15;

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
fn read_return(bytes: &[u8]) -> Result<(Vec<String>, Vec<ReturnRow>), ImportError> {
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
            "找不到表头：前15行中没有一行同时含有“系统保单编号”（或“证书编号”）、“承保结果”、“保单号”、“拒保原因”。请使用系统导出的承保清单填写".to_owned(),
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

// ---------------------------------------------------------------- planning

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Underwrite,
    Refuse,
}

fn parse_answer(raw: &str) -> Option<Answer> {
    match raw {
        "承保" | "已承保" | "同意承保" | "同意" | "通过" | "承保成功" => {
            Some(Answer::Underwrite)
        }
        "拒保" | "不予承保" | "拒绝承保" | "不承保" | "拒绝" => Some(Answer::Refuse),
        _ => None,
    }
}

/// A policy number as the insurer wrote it, or what is wrong with it (the same rule as
/// underwriting one policy on its page).
fn check_policy_no(raw: &str) -> Result<String, String> {
    let no = raw.trim();
    if no.contains("E+") || no.contains("e+") {
        return Err(format!(
            "保单号“{no}”被表格软件存成了数字，末几位可能已经丢失。请把“保单号”列设为文本格式后重新填写"
        ));
    }
    if no.is_empty() || no.len() > 40 || !no.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(format!("保单号“{no}”无效：须为1到40位英文字母、数字或短横线"));
    }
    Ok(no.to_owned())
}

/// Reads a returned file and plans it; writes nothing.
pub async fn plan_return(store: &Store, actor: &Actor, bytes: &[u8]) -> Result<ReturnPlan, ImportError> {
    let (headers, returns) = read_return(bytes)?;
    plan_rows(store, actor, headers, returns).await
}

/// Plans decisions posted back from a preview, as if they were a file of their own: the
/// same checks against the database as it is now.
pub async fn plan_decisions(
    store: &Store,
    actor: &Actor,
    decisions: &[Decision],
) -> Result<ReturnPlan, ImportError> {
    let headers: Vec<String> = ["系统保单编号", "承保结果", "保单号", "拒保原因"].map(str::to_owned).to_vec();
    let mut returns = Vec::new();
    for (index, decision) in decisions.iter().enumerate() {
        let row = match decision {
            Decision::Underwrite { policy_id, policy_no } => ReturnRow {
                policy_id: policy_id.to_string(),
                result: "承保".to_owned(),
                policy_no: policy_no.clone(),
                ..Default::default()
            },
            Decision::Refuse { policy_id, reason } => ReturnRow {
                policy_id: policy_id.to_string(),
                result: "拒保".to_owned(),
                reason: one_line(reason),
                ..Default::default()
            },
        };
        returns.push(ReturnRow { line: index + 1, ..row });
    }
    plan_rows(store, actor, headers, returns).await
}

async fn plan_rows(
    store: &Store,
    actor: &Actor,
    headers: Vec<String>,
    returns: Vec<ReturnRow>,
) -> Result<ReturnPlan, ImportError> {
    let mut entries: Vec<ReturnEntry> = Vec::new();
    let reject = |row: &ReturnRow, reason: String| ReturnEntry {
        lines: vec![row.line],
        policy_id: row.policy_id.parse().ok(),
        known: false,
        head_name: String::new(),
        verdict: ReturnVerdict::Rejected,
        policy_no: String::new(),
        reason,
    };

    // 1. Rows that name a policy, and how.
    let mut named: Vec<(&ReturnRow, Option<i64>)> = Vec::new();
    for row in &returns {
        if row.policy_id.is_empty() && row.cert_code.is_empty() {
            if row.answered() {
                entries.push(reject(row, "缺少系统保单编号和证书编号，无法对应保单".to_owned()));
            }
            continue;
        }
        if row.policy_id.is_empty() {
            named.push((row, None));
            continue;
        }
        match row.policy_id.parse::<i64>() {
            Ok(id) if id > 0 => named.push((row, Some(id))),
            _ => entries
                .push(reject(row, format!("系统保单编号“{}”不是有效的编号（应为数字）", row.policy_id))),
        }
    }
    let ids: Vec<i64> = named.iter().filter_map(|(_, id)| *id).collect::<HashSet<_>>().into_iter().collect();
    let codes: Vec<String> = named
        .iter()
        .map(|(r, _)| r.cert_code.clone())
        .filter(|c| !c.is_empty())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let found = store.exchange_policies(actor, &ids, &codes).await?;
    let by_id: HashMap<i64, &ExchangePolicy> = found.iter().map(|p| (p.id, p)).collect();
    let by_code: HashMap<&str, &ExchangePolicy> = found.iter().map(|p| (p.cert_code.as_str(), p)).collect();

    // 2. Each row to its policy.
    let mut groups: BTreeMap<i64, Vec<&ReturnRow>> = BTreeMap::new();
    for (row, id) in named {
        let policy = match id {
            Some(id) => by_id.get(&id).copied(),
            None => by_code.get(row.cert_code.as_str()).copied(),
        };
        let Some(policy) = policy else {
            let reason = match id {
                Some(id) => format!("找不到系统保单编号为 {id} 的保单"),
                None => format!("找不到证书编号为 {} 的保单", row.cert_code),
            };
            entries.push(reject(row, reason));
            continue;
        };
        if !policy.in_scope {
            entries.push(reject(row, format!("保单 {} 不在您的管辖范围内", policy.id)));
            continue;
        }
        if id.is_some() && !row.cert_code.is_empty() && row.cert_code != policy.cert_code {
            entries.push(reject(
                row,
                format!("系统保单编号 {} 与证书编号 {} 不是同一份保单，请核对", policy.id, row.cert_code),
            ));
            continue;
        }
        groups.entry(policy.id).or_default().push(row);
    }

    // 3. One decision per policy.
    let mut candidates: Vec<(ReturnEntry, Option<Decision>)> = Vec::new();
    for (policy_id, group) in groups {
        let policy = by_id.get(&policy_id).copied().expect("grouped policies were found");
        let lines: Vec<usize> = group.iter().map(|r| r.line).collect();
        let mut entry = ReturnEntry {
            lines: lines.clone(),
            policy_id: Some(policy_id),
            known: true,
            head_name: policy.head_name.clone(),
            verdict: ReturnVerdict::Rejected,
            policy_no: String::new(),
            reason: String::new(),
        };
        let answered: Vec<&&ReturnRow> = group.iter().filter(|r| r.answered()).collect();
        let mut answers: Vec<(&str, &str, &str)> = answered.iter().map(|r| r.answer()).collect();
        answers.sort_unstable();
        answers.dedup();
        let decided = match answers.as_slice() {
            [] => Err("未填写承保结果：请填写“承保”（并填保单号）或“拒保”（并填拒保原因）".to_owned()),
            [one] => decide(policy, *one),
            _ => Err(format!(
                "同一保单的各行结果不一致（{}），请只保留一种结果",
                ReturnEntry { lines: answered.iter().map(|r| r.line).collect(), ..entry.clone() }
                    .lines_label()
            )),
        };
        match decided {
            Ok(Outcome::Act(decision)) => {
                match &decision {
                    Decision::Underwrite { policy_no, .. } => {
                        entry.verdict = ReturnVerdict::Underwrite;
                        entry.policy_no = policy_no.clone();
                    }
                    Decision::Refuse { reason, .. } => {
                        entry.verdict = ReturnVerdict::Refuse;
                        entry.reason = reason.clone();
                    }
                }
                candidates.push((entry, Some(decision)));
            }
            Ok(Outcome::Same { policy_no, note }) => {
                entry.verdict = ReturnVerdict::Unchanged;
                entry.policy_no = policy_no;
                entry.reason = note;
                candidates.push((entry, None));
            }
            Err(reason) => {
                entry.reason = reason;
                candidates.push((entry, None));
            }
        }
    }

    // 4. Policy numbers: one policy each, in the file and in the database.
    let mut numbers: HashMap<String, Vec<i64>> = HashMap::new();
    for (entry, decision) in &candidates {
        if let Some(Decision::Underwrite { policy_no, .. }) = decision {
            numbers.entry(policy_no.clone()).or_default().push(entry.policy_id.unwrap_or_default());
        }
        if entry.verdict == ReturnVerdict::Unchanged && !entry.policy_no.is_empty() {
            numbers.entry(entry.policy_no.clone()).or_default().push(entry.policy_id.unwrap_or_default());
        }
    }
    let wanted: Vec<String> = numbers.keys().cloned().collect();
    let taken =
        if wanted.is_empty() { HashMap::new() } else { store.policy_numbers_taken(actor, &wanted).await? };
    let mut decisions = Vec::new();
    for (mut entry, decision) in candidates {
        if let Some(decision) = decision {
            if let Decision::Underwrite { policy_id, policy_no } = &decision {
                let users = &numbers[policy_no];
                let problem = if users.len() > 1 {
                    let ids: Vec<String> = users.iter().map(i64::to_string).collect();
                    Some(format!(
                        "保单号“{policy_no}”在文件中用于多份保单（系统保单编号 {}），请核对",
                        ids.join("、")
                    ))
                } else {
                    match taken.get(policy_no) {
                        Some(other) if other != policy_id => {
                            Some(format!("保单号“{policy_no}”已被其他保单使用，请核对"))
                        }
                        _ => None,
                    }
                };
                if let Some(reason) = problem {
                    entry.verdict = ReturnVerdict::Rejected;
                    entry.policy_no = String::new();
                    entry.reason = reason;
                    entries.push(entry);
                    continue;
                }
            }
            decisions.push(decision);
        }
        entries.push(entry);
    }

    entries.sort_by_key(|e| e.lines.first().copied().unwrap_or_default());
    let mut totals = ReturnTotals { rows: returns.len(), ..Default::default() };
    for entry in &entries {
        match entry.verdict {
            ReturnVerdict::Underwrite => totals.underwrite += 1,
            ReturnVerdict::Refuse => totals.refuse += 1,
            ReturnVerdict::Unchanged => totals.unchanged += 1,
            ReturnVerdict::Rejected => totals.rejected_rows += entry.lines.len(),
        }
    }
    decisions.sort_by_key(Decision::policy_id);
    Ok(ReturnPlan { headers, entries, totals, rows: returns, decisions })
}

enum Outcome {
    Act(Decision),
    /// Done already, the same way.
    Same {
        policy_no: String,
        note: String,
    },
}

/// The decision for one policy from the insurer's answer, or why it cannot be taken.
fn decide(
    policy: &ExchangePolicy,
    (result, policy_no, reason): (&str, &str, &str),
) -> Result<Outcome, String> {
    let answer = match (result, parse_answer(result)) {
        ("", _) => return Err("未填写承保结果：请填写“承保”或“拒保”".to_owned()),
        (_, Some(answer)) => answer,
        (other, None) => return Err(format!("承保结果“{other}”无法识别，请填写“承保”或“拒保”")),
    };
    let id = policy.id;
    match answer {
        Answer::Underwrite => {
            if policy_no.is_empty() {
                return Err("承保须填写保单号".to_owned());
            }
            let policy_no = check_policy_no(policy_no)?;
            match policy.status {
                PolicyStatus::Submitted => Ok(Outcome::Act(Decision::Underwrite { policy_id: id, policy_no })),
                PolicyStatus::Underwritten if policy.policy_no.as_deref() == Some(policy_no.as_str()) => {
                    Ok(Outcome::Same { policy_no, note: "已承保，保单号相同".to_owned() })
                }
                PolicyStatus::Underwritten => Err(format!(
                    "该保单已承保，保单号为 {}，与文件中的 {policy_no} 不同；如需更正保单号，请联系系统管理员",
                    policy.policy_no.as_deref().unwrap_or_default()
                )),
                PolicyStatus::Draft => Err("该保单尚未提交承保（草稿），不能承保".to_owned()),
                PolicyStatus::Cancelled => Err(cancelled(policy)),
            }
        }
        Answer::Refuse => {
            if !policy_no.is_empty() {
                return Err("拒保的保单不应填写保单号；如已承保，请把承保结果改为“承保”".to_owned());
            }
            if reason.is_empty() {
                return Err("拒保须填写拒保原因".to_owned());
            }
            match policy.status {
                PolicyStatus::Submitted => {
                    Ok(Outcome::Act(Decision::Refuse { policy_id: id, reason: reason.to_owned() }))
                }
                PolicyStatus::Cancelled
                    if policy.cancel_reason.as_deref() == Some(refusal_reason(reason).as_str()) =>
                {
                    Ok(Outcome::Same { policy_no: String::new(), note: "已按拒保撤销".to_owned() })
                }
                PolicyStatus::Cancelled => Err(cancelled(policy)),
                PolicyStatus::Underwritten => Err(format!(
                    "该保单已承保（保单号 {}），不能再拒保；如需退保，请在保单页面撤销",
                    policy.policy_no.as_deref().unwrap_or_default()
                )),
                PolicyStatus::Draft => Err("该保单尚未提交承保（草稿），不能拒保".to_owned()),
            }
        }
    }
}

fn cancelled(policy: &ExchangePolicy) -> String {
    match policy.cancel_reason.as_deref() {
        Some(reason) => format!("该保单已撤销（{reason}），不能再处理"),
        None => "该保单已撤销，不能再处理".to_owned(),
    }
}

impl ReturnPlan {
    /// The decisions a commit writes: the policies to underwrite and to refuse.
    pub fn decisions(&self) -> &[Decision] {
        &self.decisions
    }

    /// The rows not imported, with what is wrong, in file order.
    pub fn refused_rows(&self) -> Vec<RefusedRow> {
        let by_line: HashMap<usize, &ReturnRow> = self.rows.iter().map(|r| (r.line, r)).collect();
        let mut out: Vec<RefusedRow> = self
            .entries
            .iter()
            .filter(|e| e.verdict == ReturnVerdict::Rejected)
            .flat_map(|e| {
                e.lines.iter().filter_map(|line| {
                    let row = by_line.get(line)?;
                    Some(RefusedRow {
                        line: *line,
                        policy_id: row.policy_id.clone(),
                        cert_code: row.cert_code.clone(),
                        result: row.result.clone(),
                        policy_no: row.policy_no.clone(),
                        reason: row.reason.clone(),
                        problem: e.reason.clone(),
                    })
                })
            })
            .collect();
        out.sort_by_key(|r| r.line);
        out
    }

    /// Underwrites and refuses as planned (each all or nothing), and notes the import in
    /// the audit log. Running it again for the same file finds nothing left to do.
    pub async fn commit(&self, store: &Store, actor: &Actor) -> Result<ReturnOutcome, ImportError> {
        let mut underwrite = Vec::new();
        let mut refuse = Vec::new();
        for decision in &self.decisions {
            match decision {
                Decision::Underwrite { policy_id, policy_no } => {
                    underwrite.push((*policy_id, policy_no.clone()))
                }
                Decision::Refuse { policy_id, reason } => refuse.push((*policy_id, reason.clone())),
            }
        }
        let mut outcome = ReturnOutcome::default();
        if !underwrite.is_empty() {
            outcome.underwritten = store.underwrite_many(actor, &underwrite).await?;
        }
        if !refuse.is_empty() {
            outcome.refused = store.refuse_many(actor, &refuse).await?;
        }
        let detail = format!(
            "承保{}份，拒保{}份，无变化{}份，未导入{}行",
            outcome.underwritten, outcome.refused, self.totals.unchanged, self.totals.rejected_rows
        );
        store
            .audit(
                actor,
                guanai_store::audit::AuditEvent::ok(
                    "policy.import_return",
                    "承保回传",
                    format!("{}行", self.totals.rows),
                )
                .with_detail(detail),
            )
            .await?;
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_survive_a_hidden_field() {
        let u = Decision::Underwrite { policy_id: 12, policy_no: "PJA-001".to_owned() };
        let r = Decision::Refuse { policy_id: 13, reason: "年龄\t超限\n请核对".to_owned() };
        assert_eq!(Decision::decode(&u.encode()), Some(u));
        assert_eq!(
            Decision::decode(&r.encode()),
            Some(Decision::Refuse { policy_id: 13, reason: "年龄 超限 请核对".to_owned() })
        );
        assert_eq!(Decision::decode("X\t1\tz"), None);
        let row = RefusedRow {
            line: 7,
            policy_id: "x1".to_owned(),
            cert_code: String::new(),
            result: "承保".to_owned(),
            policy_no: "P1".to_owned(),
            reason: String::new(),
            problem: "找不到保单".to_owned(),
        };
        assert_eq!(RefusedRow::decode(&row.encode()), Some(row));
        assert_eq!(Decision::decode("U\tabc\tz"), None);
    }

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

    #[test]
    fn policy_numbers_follow_the_underwriting_rule() {
        assert_eq!(check_policy_no(" PJA-2026-001 ").unwrap(), "PJA-2026-001");
        assert!(check_policy_no("8.80012345678901E+19").unwrap_err().contains("存成了数字"));
        assert!(check_policy_no("PJA 001").unwrap_err().contains("1到40位"));
        assert_eq!(parse_answer("已承保"), Some(Answer::Underwrite));
        assert_eq!(parse_answer("不予承保"), Some(Answer::Refuse));
        assert_eq!(parse_answer("待定"), None);
    }
}
