//! Planning a returned file: one verdict per policy it names, checked against the
//! database as it is now, before anything is written.

use std::collections::{BTreeMap, HashMap, HashSet};

use guanai_store::policies::{refusal_reason, ExchangePolicy, PolicyNo, PolicyStatus};
use guanai_store::{Actor, Store};

use super::read::read_return;
use super::{
    one_line, Decision, RefusedRow, ReturnEntry, ReturnPlan, ReturnRow, ReturnTotals, ReturnVerdict,
};
use crate::ImportError;

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

/// Reads a returned file (on a blocking thread) and plans it; writes nothing.
pub async fn plan_return(
    store: &Store,
    actor: &Actor,
    bytes: impl Into<Vec<u8>>,
) -> Result<ReturnPlan, ImportError> {
    Ok(plan_return_and_keep(store, actor, bytes.into()).await?.0)
}

/// [`plan_return`], handing the file back (for its job to keep).
pub async fn plan_return_and_keep(
    store: &Store,
    actor: &Actor,
    bytes: Vec<u8>,
) -> Result<(ReturnPlan, Vec<u8>), ImportError> {
    let (headers, returns, bytes) = crate::blocking(move || {
        let (headers, returns) = read_return(&bytes)?;
        Ok((headers, returns, bytes))
    })
    .await?;
    Ok((plan_rows(store, actor, headers, returns).await?, bytes))
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
                policy_no: policy_no.to_string(),
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
    let found = store.policies().exchange_policies(actor, &ids, &codes).await?;
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
            head_name: policy.head_name.to_string(),
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
                        entry.policy_no = policy_no.to_string();
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
            numbers.entry(policy_no.to_string()).or_default().push(entry.policy_id.unwrap_or_default());
        }
        if entry.verdict == ReturnVerdict::Unchanged && !entry.policy_no.is_empty() {
            numbers.entry(entry.policy_no.clone()).or_default().push(entry.policy_id.unwrap_or_default());
        }
    }
    let wanted: Vec<String> = numbers.keys().cloned().collect();
    let taken = if wanted.is_empty() {
        HashMap::new()
    } else {
        store.policies().policy_numbers_taken(actor, &wanted).await?
    };
    let mut decisions = Vec::new();
    for (mut entry, decision) in candidates {
        if let Some(decision) = decision {
            if let Decision::Underwrite { policy_id, policy_no } = &decision {
                let users = &numbers[policy_no.as_str()];
                let problem = if users.len() > 1 {
                    let ids: Vec<String> = users.iter().map(i64::to_string).collect();
                    Some(format!(
                        "保单号“{policy_no}”在文件中用于多份保单（系统保单编号 {}），请核对",
                        ids.join("、")
                    ))
                } else {
                    match taken.get(policy_no.as_str()) {
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
            let policy_no = PolicyNo::parse(policy_no).map_err(|e| e.to_string())?;
            match policy.status {
                PolicyStatus::Submitted => Ok(Outcome::Act(Decision::Underwrite { policy_id: id, policy_no })),
                PolicyStatus::Underwritten if policy.policy_no.as_deref() == Some(policy_no.as_str()) => {
                    Ok(Outcome::Same { policy_no: policy_no.into_string(), note: "已承保，保单号相同".to_owned() })
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_in_the_insurer_s_words() {
        assert_eq!(parse_answer("已承保"), Some(Answer::Underwrite));
        assert_eq!(parse_answer("不予承保"), Some(Answer::Refuse));
        assert_eq!(parse_answer("待定"), None);
    }
}
