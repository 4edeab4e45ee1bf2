//! The claims exchange with the insurer's core system (理赔交换), like the underwriting
//! exchange: the new reports go out as an `.xlsx` with their papers list; the insurer's
//! file comes back with decisions (核定) and payments (支付), one a row. Every row gets a
//! verdict before anything is written: apply, unchanged (applied already, the same way),
//! or refused with the row and the fix named. Confirming applies the valid rows with the
//! rules of the insurer's pages (`decide`, `pay`: clocks, shared limits, art. 24/25), all
//! in one transaction (`store.claims().apply_changes`): a row refused then writes nothing
//! of the file.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use guanai_domain::claims::{BankAccount, ClaimStatus, Paper, RefusalReason};
use guanai_domain::Fen;
use guanai_store::audit::AuditEvent;
use guanai_store::claims::{ChangeFailed, ClaimChange, Decision, ExportedClaim, NewPayment};
use guanai_store::{Actor, Store, StoreError};
use rust_xlsxwriter::Workbook;
use serde::Serialize;

use crate::exports::{header_row, xlsx_error, Formats};
use crate::table::{read_rows, SourceRow, HEADER_SEARCH};
use crate::ImportError;

/// The largest file accepted, and the most rows in it.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;
pub const MAX_ROWS: usize = 5_000;

/// The export's columns.
pub const EXPORT_HEADERS: [&str; 10] = [
    "案件编号",
    "村（社区）",
    "出险人",
    "出险类型",
    "出险日期",
    "报案日期",
    "申请金额（元）",
    "案件状态",
    "已收材料",
    "缺少材料",
];

/// The insurer's file's columns.
pub const IMPORT_HEADERS: [&str; 10] = [
    "案件编号",
    "类型",
    "结论",
    "拒赔原因",
    "说明",
    "金额（元）",
    "支付日期",
    "领款人",
    "银行账号",
    "支付流水号",
];

fn papers(list: &[Paper]) -> String {
    list.iter().map(|p| p.label()).collect::<Vec<_>>().join("、")
}

/// The export: sheet 理赔报案, one claim a row.
pub fn claims_xlsx(rows: &[ExportedClaim]) -> Result<Vec<u8>, ImportError> {
    let formats = Formats::new();
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("理赔报案").map_err(xlsx_error)?;
    let columns: Vec<(&str, f64)> = EXPORT_HEADERS.iter().map(|h| (*h, 16.0)).collect();
    header_row(sheet, &formats, &columns)?;
    for (index, row) in rows.iter().enumerate() {
        let r = index as u32 + 1;
        let s = &row.summary;
        let cells = [
            s.id.to_string(),
            s.village_code.clone(),
            s.person_name.to_string(),
            s.kind.label().to_owned(),
            s.incident_date.format("%Y-%m-%d").to_string(),
            s.reported_on.format("%Y-%m-%d").to_string(),
            s.claimed.yuan_string(),
            s.status.label().to_owned(),
            papers(&row.received),
            papers(&row.missing),
        ];
        for (c, value) in cells.iter().enumerate() {
            sheet.write_string_with_format(r, c as u16, value, &formats.text).map_err(xlsx_error)?;
        }
    }
    workbook.save_to_buffer().map_err(xlsx_error)
}

/// What a row of the insurer's file does.
#[derive(Debug, Clone)]
pub enum ClaimAction {
    Decide { claim_id: i64, decision: Decision },
    Pay { claim_id: i64, payment: NewPayment },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowVerdict {
    Apply,
    /// Applied already, the same way: nothing to write.
    Unchanged,
    /// Not imported; the message says what to correct.
    Refused,
}

/// One row of the preview.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedRow {
    pub line: usize,
    pub claim_id: Option<i64>,
    pub verdict: RowVerdict,
    /// What the row would do, or why it is refused (in Chinese).
    pub message: String,
    #[serde(skip)]
    pub action: Option<ClaimAction>,
}

/// The preview of an insurer's file.
#[derive(Debug, Clone, Serialize)]
pub struct ClaimsPlan {
    pub rows: Vec<PlannedRow>,
}

/// What confirming did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ClaimsOutcome {
    pub decided: usize,
    pub paid: usize,
    pub unchanged: usize,
    pub refused: usize,
}

fn parse_date(raw: &str) -> Option<NaiveDate> {
    ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"].iter().find_map(|f| NaiveDate::parse_from_str(raw, f).ok())
}

fn refusal_reason(raw: &str) -> Option<RefusalReason> {
    RefusalReason::ALL.into_iter().find(|r| r.code() == raw || r.label() == raw)
}

/// A row read: its claim and action, or the fix.
type ReadRow = Result<(i64, ClaimAction), String>;

/// A row read against its columns: the action, or the fix.
fn read_row(row: &SourceRow, at: &[Option<usize>; 10]) -> ReadRow {
    let cell = |i: usize| at[i].and_then(|c| row.cells.get(c)).map(|s| s.trim()).unwrap_or_default();
    let claim_id: i64 = cell(0).parse().map_err(|_| "“案件编号”须是导出表中的案件编号（数字）".to_owned())?;
    let amount =
        || Fen::parse_yuan(cell(5)).map_err(|_| "“金额（元）”须是以元为单位的金额，如 1200.50".to_owned());
    match cell(1) {
        "核定" => {
            let status = match cell(2) {
                "赔付" => ClaimStatus::Approved,
                "部分赔付" => ClaimStatus::PartlyApproved,
                "拒赔" => ClaimStatus::Refused,
                _ => return Err("“结论”须填“赔付”“部分赔付”或“拒赔”".to_owned()),
            };
            let mut decision = Decision {
                status,
                expenses: None,
                other_paid: None,
                days: None,
                grade: None,
                amount: None,
                reason: cell(4).to_owned(),
                refusal_reasons: Vec::new(),
            };
            if status == ClaimStatus::Refused {
                let reasons: Option<Vec<RefusalReason>> = cell(3)
                    .split(['、', ',', '，'])
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| refusal_reason(s.trim()))
                    .collect();
                match reasons {
                    Some(r) if !r.is_empty() && !decision.reason.is_empty() => decision.refusal_reasons = r,
                    _ => {
                        return Err(
                            "拒赔须在“拒赔原因”填写原因（如“非意外事故”），并在“说明”写明理由".to_owned()
                        )
                    }
                }
            } else {
                decision.amount = Some(amount()?);
            }
            Ok((claim_id, ClaimAction::Decide { claim_id, decision }))
        }
        "支付" => {
            let paid_on = parse_date(cell(6)).ok_or("“支付日期”须是日期，如 2026-10-20")?;
            let account = BankAccount::parse(cell(8))
                .map_err(|_| "“银行账号”须是领款人的银行卡号（数字）".to_owned())?;
            let payment = NewPayment {
                beneficiary: cell(7).to_owned(),
                account,
                amount: amount()?,
                paid_on,
                reference: cell(9).to_owned(),
            };
            Ok((claim_id, ClaimAction::Pay { claim_id, payment }))
        }
        _ => Err("“类型”须填“核定”或“支付”".to_owned()),
    }
}

/// The header (the first of the top `HEADER_SEARCH` rows naming 案件编号 and 类型) and the
/// rows below it that hold anything.
fn read_file(bytes: &[u8]) -> Result<(Vec<String>, Vec<SourceRow>), ImportError> {
    let mut raw = read_rows(bytes)?;
    let is_header = |row: &SourceRow| {
        [IMPORT_HEADERS[0], IMPORT_HEADERS[1]].iter().all(|name| row.cells.iter().any(|c| c.trim() == *name))
    };
    let Some(index) = raw.iter().take(HEADER_SEARCH).position(is_header) else {
        return Err(ImportError::Unreadable(format!(
            "找不到表头：前{HEADER_SEARCH}行中没有一行同时含有“案件编号”“类型”。请使用理赔交换的导入模板填写"
        )));
    };
    let data = raw.split_off(index + 1);
    let headers = raw.pop().map(|row| row.cells).unwrap_or_default();
    Ok((headers, data.into_iter().filter(|row| row.cells.iter().any(|c| !c.trim().is_empty())).collect()))
}

/// Reads the insurer's file (bounded, on a blocking thread) and plans every row; writes
/// nothing.
pub async fn plan_claims(store: &Store, actor: &Actor, bytes: Vec<u8>) -> Result<ClaimsPlan, ImportError> {
    if bytes.len() > MAX_BYTES {
        return Err(ImportError::Unreadable(format!(
            "文件超过{}MB，请拆分后分批导入",
            MAX_BYTES / 1024 / 1024
        )));
    }
    let (headers, data) = crate::blocking(move || read_file(&bytes)).await?;
    if data.len() > MAX_ROWS {
        return Err(ImportError::Unreadable(format!("文件超过{MAX_ROWS}行，请拆分后分批导入")));
    }
    let mut at = [None; 10];
    for (i, name) in IMPORT_HEADERS.iter().enumerate() {
        at[i] = headers.iter().position(|h| h.trim() == *name);
    }
    let read: Vec<(usize, ReadRow)> = data.iter().map(|row| (row.line, read_row(row, &at))).collect();
    let ids: Vec<i64> = read.iter().filter_map(|(_, r)| r.as_ref().ok().map(|(id, _)| *id)).collect();
    let known = store.claims().exchange_claims(actor, &ids).await?;
    let mut rows = Vec::with_capacity(read.len());
    // What earlier rows of the file decide (the amount approved, none when refused) and pay.
    let mut decided_here: HashMap<i64, Option<Fen>> = HashMap::new();
    let mut paid_here = HashSet::new();
    for (line, parsed) in read {
        let refused = |claim_id, why: String| PlannedRow {
            line,
            claim_id,
            verdict: RowVerdict::Refused,
            message: format!("第{line}行：{why}"),
            action: None,
        };
        let (claim_id, action) = match parsed {
            Ok(ok) => ok,
            Err(why) => {
                rows.push(refused(None, why));
                continue;
            }
        };
        let Some(claim) = known.iter().find(|c| c.id == claim_id && c.in_scope) else {
            rows.push(refused(Some(claim_id), format!("案件{claim_id}不存在或不在本辖区，请核对案件编号")));
            continue;
        };
        let (verdict, message) = match &action {
            ClaimAction::Decide { decision, .. } => {
                let done = matches!(
                    claim.status,
                    ClaimStatus::Approved
                        | ClaimStatus::PartlyApproved
                        | ClaimStatus::Refused
                        | ClaimStatus::Paid
                        | ClaimStatus::Closed
                );
                let same = claim.status == decision.status
                    || (decision.status != ClaimStatus::Refused
                        && matches!(claim.status, ClaimStatus::Paid | ClaimStatus::Closed)
                        && decision.amount.map(Fen::get) == claim.approved_fen);
                if done && same {
                    (RowVerdict::Unchanged, format!("案件{claim_id}已{}，无需再次导入", claim.status.label()))
                } else if done {
                    (
                        RowVerdict::Refused,
                        format!(
                            "第{line}行：案件{claim_id}已{}，不能改为{}",
                            claim.status.label(),
                            decision.status.label()
                        ),
                    )
                } else if !claim.status.awaits_decision() {
                    (
                        RowVerdict::Refused,
                        format!("第{line}行：案件{claim_id}{}，材料齐全后才能核定", claim.status.label()),
                    )
                } else if let Entry::Vacant(slot) = decided_here.entry(claim_id) {
                    slot.insert(
                        (decision.status != ClaimStatus::Refused).then_some(decision.amount).flatten(),
                    );
                    (RowVerdict::Apply, format!("案件{claim_id}：{}", decision.status.label()))
                } else {
                    (
                        RowVerdict::Refused,
                        format!("第{line}行：案件{claim_id}在本文件中已有核定行，请删去重复的行"),
                    )
                }
            }
            ClaimAction::Pay { payment, .. } => {
                if claim.payment_ref.as_deref() == Some(payment.reference.trim()) {
                    (
                        RowVerdict::Unchanged,
                        format!("案件{claim_id}已登记流水号{}的赔付，无需再次导入", payment.reference.trim()),
                    )
                } else if matches!(claim.status, ClaimStatus::Paid | ClaimStatus::Closed) {
                    (RowVerdict::Refused, format!("第{line}行：案件{claim_id}已以另一流水号赔付，请核对"))
                } else {
                    let approved = if claim.status.awaits_payment() {
                        claim.approved_fen.map(Fen::new)
                    } else {
                        decided_here.get(&claim_id).copied().flatten()
                    };
                    match approved {
                        _ if !paid_here.insert(claim_id) => (
                            RowVerdict::Refused,
                            format!("第{line}行：案件{claim_id}在本文件中已有支付行，请删去重复的行"),
                        ),
                        None => (
                            RowVerdict::Refused,
                            format!("第{line}行：案件{claim_id}尚未核定赔付，请先导入它的核定行"),
                        ),
                        Some(approved) if payment.amount.get() != approved.get() - claim.advance_fen => (
                            RowVerdict::Refused,
                            format!(
                                "第{line}行：赔付金额应为核定金额{approved}减去已先予支付部分，即{}",
                                Fen::new(approved.get() - claim.advance_fen)
                            ),
                        ),
                        Some(_) => (RowVerdict::Apply, format!("案件{claim_id}：登记赔付{}", payment.amount)),
                    }
                }
            }
        };
        let action = (verdict == RowVerdict::Apply).then_some(action);
        rows.push(PlannedRow { line, claim_id: Some(claim_id), verdict, message, action });
    }
    Ok(ClaimsPlan { rows })
}

impl ClaimsPlan {
    pub fn refused(&self) -> usize {
        self.rows.iter().filter(|r| r.verdict == RowVerdict::Refused).count()
    }

    /// Applies the rows to apply, in the file's order (a decision before its payment),
    /// with the rules of `decide` and `pay`, in one transaction with the file's audit
    /// entry: all of them or, when one is refused, nothing, the row and the reason named.
    pub async fn commit(&self, store: &Store, actor: &Actor) -> Result<ClaimsOutcome, ImportError> {
        let mut outcome = ClaimsOutcome { refused: self.refused(), ..Default::default() };
        let mut lines = Vec::new();
        let mut changes = Vec::new();
        for row in &self.rows {
            let change = match &row.action {
                Some(ClaimAction::Decide { claim_id, decision }) => {
                    outcome.decided += 1;
                    ClaimChange::Decide { claim_id: *claim_id, decision: decision.clone() }
                }
                Some(ClaimAction::Pay { claim_id, payment }) => {
                    outcome.paid += 1;
                    ClaimChange::Pay { claim_id: *claim_id, payment: payment.clone() }
                }
                None => {
                    outcome.unchanged += usize::from(row.verdict == RowVerdict::Unchanged);
                    continue;
                }
            };
            lines.push(row.line);
            changes.push(change);
        }
        let detail = format!(
            "核定{}件，赔付{}件，无变化{}行，未导入{}行",
            outcome.decided, outcome.paid, outcome.unchanged, outcome.refused
        );
        let summary =
            AuditEvent::ok("claim.import", "理赔交换", format!("{}行", self.rows.len())).with_detail(detail);
        match store.claims().apply_changes(actor, changes, Some(summary)).await {
            Ok(()) => Ok(outcome),
            // A rule refusing a row is the user's to fix; a database failure stays ours.
            Err(ChangeFailed {
                index: Some(index),
                error: StoreError::Invalid(why) | StoreError::Conflict(why) | StoreError::NotFound(why),
            }) => Err(ImportError::RowRefused(format!(
                "第{}行：{why}。整个文件均未导入，请改正该行后重新导入",
                lines[index]
            ))),
            Err(ChangeFailed { error, .. }) => Err(error.into()),
        }
    }
}
