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

pub use plan::{plan_decisions, plan_return};
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
            "U" => Some(Decision::Underwrite { policy_id, policy_no: PolicyNo::parse(&value).ok()? }),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_survive_a_hidden_field() {
        let u = Decision::Underwrite { policy_id: 12, policy_no: PolicyNo::parse("PJA-001").unwrap() };
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
        assert_eq!(Decision::decode("U\t12\tPJA 001"), None, "a policy number is checked when read back");
    }
}
