//! The insurer's returned list (承保结果回传): the list to underwrite with 承保结果, 保单号
//! and 拒保原因 filled in, or any sheet with at least 系统保单编号 or 证书编号 and those
//! three columns. Every policy it names gets a verdict before anything is written:
//! underwrite, refuse, unchanged (done already, the same way), or not imported with the
//! reason. Committing underwrites and refuses the accepted ones; a second run of the same
//! file finds them all unchanged and writes nothing.

mod commit;
mod plan;
mod read;

use guanai_store::policies::PolicyNo;
use serde::{Deserialize, Serialize};

pub use plan::{plan_decisions, plan_return, plan_return_and_keep};
pub use read::ReturnField;

/// What the insurer decided for a policy.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Decision {
    Underwrite { policy_id: i64, policy_no: PolicyNo },
    Refuse { policy_id: i64, reason: String },
}

impl Decision {
    pub fn policy_id(&self) -> i64 {
        match self {
            Decision::Underwrite { policy_id, .. } | Decision::Refuse { policy_id, .. } => *policy_id,
        }
    }
}

fn one_line(text: &str) -> String {
    text.split(['\t', '\r', '\n']).map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
    pub const ALL: [ReturnVerdict; 4] =
        [ReturnVerdict::Underwrite, ReturnVerdict::Refuse, ReturnVerdict::Unchanged, ReturnVerdict::Rejected];

    /// The code a job's stored rows carry.
    pub const fn as_str(self) -> &'static str {
        match self {
            ReturnVerdict::Underwrite => "underwrite",
            ReturnVerdict::Refuse => "refuse",
            ReturnVerdict::Unchanged => "unchanged",
            ReturnVerdict::Rejected => "rejected",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        ReturnVerdict::ALL.into_iter().find(|v| v.as_str() == raw)
    }

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
#[derive(Debug, Clone, Serialize, Deserialize)]
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

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
