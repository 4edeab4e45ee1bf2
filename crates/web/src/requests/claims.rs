//! Claims: the report, the decision, the payment and the queue's filters, as the API's
//! bodies and the pages' forms give them, parsed once into the store's types. A page's
//! form (strings, amounts in 元) becomes the API's body (typed, amounts in fen) first, so
//! both give the same Chinese message for the same mistake.

use std::collections::HashMap;

use chrono::NaiveDate;
use guanai_domain::claims::{BankAccount, ClaimKind, ClaimStatus, Paper, RefusalReason, ReportChannel};
use guanai_domain::{Fen, StoredCode};
use guanai_store::claims::{ClaimFilter, ClaimQuery, Decision, NewClaim, NewPayment};
use serde::Deserialize;
use utoipa::ToSchema;

use super::forms;

/// A report (报案).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ReportBody {
    /// The insured person.
    pub person_id: i64,
    pub kind: ClaimKind,
    pub incident_date: NaiveDate,
    /// Where it happened.
    pub place: String,
    /// What happened.
    pub description: String,
    /// What the claimant asks for, in fen (an estimate; decides the fast lane).
    #[serde(default)]
    pub claimed_fen: i64,
    /// Reasonable medical expenses, in fen (medical claims).
    pub expenses_fen: Option<i64>,
    /// What social medical insurance or other insurance paid of them, in fen.
    pub other_paid_fen: Option<i64>,
    /// Days in hospital (hospital allowance).
    pub days: Option<u32>,
    /// Disability grade, 1 to 10 (disability claims).
    pub grade: Option<u8>,
}

fn non_negative(label: &str, fen: Option<i64>) -> Result<Option<Fen>, String> {
    match fen {
        Some(f) if !(0..=1_000_000_000_000).contains(&f) => Err(format!("{label}须在0到100亿元之间")),
        other => Ok(other.map(Fen::new)),
    }
}

fn grade(raw: Option<u8>) -> Result<Option<u8>, String> {
    match raw {
        Some(g) if !(1..=10).contains(&g) => Err("伤残等级须为1至10级（1级最重）".to_owned()),
        other => Ok(other),
    }
}

impl ReportBody {
    pub fn to_new_claim(&self, channel: ReportChannel) -> Result<NewClaim, String> {
        Ok(NewClaim {
            person_id: self.person_id,
            kind: self.kind,
            incident_date: self.incident_date,
            place: self.place.clone(),
            description: self.description.clone(),
            claimed: non_negative("申请金额", Some(self.claimed_fen))?.unwrap_or(Fen::ZERO),
            expenses: non_negative("合理医疗费用", self.expenses_fen)?,
            other_paid: non_negative("其他保险已赔付金额", self.other_paid_fen)?,
            days: self.days,
            grade: grade(self.grade)?,
            channel,
        })
    }
}

/// The report form of the agent's phone and the offices' pages.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct ReportForm {
    #[serde(default)]
    pub person_id: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub incident_date: String,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub claimed: String,
    #[serde(default)]
    pub expenses: String,
    #[serde(default)]
    pub other_paid: String,
    #[serde(default)]
    pub days: String,
    #[serde(default)]
    pub grade: String,
}

fn optional_money(label: &str, raw: &str) -> Result<Option<i64>, String> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        forms::money(label, raw).map(|f| Some(f.get()))
    }
}

fn optional_number<T: std::str::FromStr + PartialOrd + std::fmt::Display>(
    label: &str,
    raw: &str,
    min: T,
    max: T,
) -> Result<Option<T>, String> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        forms::number(label, raw, min, max).map(Some)
    }
}

/// A code chosen in a form, or the message naming what was expected.
fn code<T: StoredCode>(what: &str, raw: &str) -> Result<T, String> {
    T::from_code(raw.trim()).map_err(|_| format!("请选择{what}"))
}

impl ReportForm {
    pub fn to_body(&self) -> Result<ReportBody, String> {
        Ok(ReportBody {
            person_id: forms::number("出险人", &self.person_id, 1, i64::MAX)
                .map_err(|_| "请选择出险人".to_owned())?,
            kind: code("理赔类型", &self.kind)?,
            incident_date: forms::date("出险日期", &self.incident_date)?,
            place: self.place.clone(),
            description: self.description.clone(),
            claimed_fen: optional_money("申请金额", &self.claimed)?.unwrap_or(0),
            expenses_fen: optional_money("合理医疗费用", &self.expenses)?,
            other_paid_fen: optional_money("其他保险已赔付金额", &self.other_paid)?,
            days: optional_number("住院天数", &self.days, 1, 3650)?,
            grade: optional_number("伤残等级", &self.grade, 1, 10)?,
        })
    }
}

/// The insurer's decision.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct DecisionBody {
    /// `approved`, `partly_approved` or `refused`.
    pub status: ClaimStatus,
    /// An amount (fen) other than the rules propose; `reason` says why.
    pub amount_fen: Option<i64>,
    /// Why the amount differs, or the written reason of a refusal.
    #[serde(default)]
    pub reason: String,
    /// A refusal's reason codes.
    #[serde(default)]
    pub refusal_reasons: Vec<RefusalReason>,
    pub expenses_fen: Option<i64>,
    pub other_paid_fen: Option<i64>,
    pub days: Option<u32>,
    pub grade: Option<u8>,
}

impl DecisionBody {
    pub fn to_decision(&self) -> Result<Decision, String> {
        Ok(Decision {
            status: self.status,
            expenses: non_negative("合理医疗费用", self.expenses_fen)?,
            other_paid: non_negative("其他保险已赔付金额", self.other_paid_fen)?,
            days: self.days,
            grade: grade(self.grade)?,
            amount: non_negative("核定金额", self.amount_fen)?,
            reason: self.reason.clone(),
            refusal_reasons: self.refusal_reasons.clone(),
        })
    }
}

/// The decision form: the amount in 元, one refusal reason.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct DecisionForm {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub amount: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub refusal_reason: String,
    #[serde(default)]
    pub expenses: String,
    #[serde(default)]
    pub other_paid: String,
    #[serde(default)]
    pub days: String,
    #[serde(default)]
    pub grade: String,
}

impl DecisionForm {
    pub fn to_body(&self) -> Result<DecisionBody, String> {
        let status = code::<ClaimStatus>("核定结论", &self.status)?;
        let refusal_reasons = match self.refusal_reason.trim() {
            "" => Vec::new(),
            raw => vec![code::<RefusalReason>("拒赔原因", raw)?],
        };
        Ok(DecisionBody {
            status,
            amount_fen: optional_money("核定金额", &self.amount)?,
            reason: self.reason.clone(),
            refusal_reasons,
            expenses_fen: optional_money("合理医疗费用", &self.expenses)?,
            other_paid_fen: optional_money("其他保险已赔付金额", &self.other_paid)?,
            days: optional_number("住院天数", &self.days, 1, 3650)?,
            grade: optional_number("伤残等级", &self.grade, 1, 10)?,
        })
    }
}

/// A payment of an approved claim.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct PaymentBody {
    pub beneficiary: String,
    /// The bank card or account number (stored sealed, shown masked).
    pub account: String,
    pub amount_fen: i64,
    pub paid_on: NaiveDate,
    /// The bank's or the insurer's payment reference.
    pub reference: String,
}

impl PaymentBody {
    pub fn to_payment(&self) -> Result<NewPayment, String> {
        Ok(NewPayment {
            beneficiary: self.beneficiary.clone(),
            account: BankAccount::parse(&self.account).map_err(|e| e.to_string())?,
            amount: non_negative("赔付金额", Some(self.amount_fen))?.unwrap_or(Fen::ZERO),
            paid_on: self.paid_on,
            reference: self.reference.clone(),
        })
    }
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct PaymentForm {
    #[serde(default)]
    pub beneficiary: String,
    #[serde(default)]
    pub account: String,
    #[serde(default)]
    pub amount: String,
    #[serde(default)]
    pub paid_on: String,
    #[serde(default)]
    pub reference: String,
}

impl PaymentForm {
    pub fn to_body(&self) -> Result<PaymentBody, String> {
        Ok(PaymentBody {
            beneficiary: self.beneficiary.clone(),
            account: self.account.clone(),
            amount_fen: forms::money("赔付金额", &self.amount)?.get(),
            paid_on: forms::date("支付日期", &self.paid_on)?,
            reference: self.reference.clone(),
        })
    }
}

/// Papers received.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct PapersBody {
    pub papers: Vec<Paper>,
}

/// The papers ticked on a form: a checkbox `paper_<code>` each.
pub fn papers_ticked(form: &HashMap<String, String>) -> Vec<Paper> {
    Paper::ALL.into_iter().filter(|p| form.contains_key(&format!("paper_{}", p.code()))).collect()
}

/// The advance of the certain part (art. 25).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct AdvanceBody {
    pub amount_fen: i64,
    pub paid_on: NaiveDate,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct AdvanceForm {
    #[serde(default)]
    pub amount: String,
    #[serde(default)]
    pub paid_on: String,
}

impl AdvanceForm {
    pub fn to_body(&self) -> Result<AdvanceBody, String> {
        Ok(AdvanceBody {
            amount_fen: forms::money("先予支付金额", &self.amount)?.get(),
            paid_on: forms::date("支付日期", &self.paid_on)?,
        })
    }
}

/// The family's satisfaction after payment.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct SatisfactionBody {
    /// 1 (very dissatisfied) to 5 (very satisfied).
    pub score: i64,
    #[serde(default)]
    pub comment: String,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct SatisfactionForm {
    #[serde(default)]
    pub score: String,
    #[serde(default)]
    pub comment: String,
}

impl SatisfactionForm {
    pub fn to_body(&self) -> Result<SatisfactionBody, String> {
        Ok(SatisfactionBody {
            score: forms::number("满意度评分", &self.score, 1, 5)?,
            comment: self.comment.clone(),
        })
    }
}

/// The claim lists' filters (page and API alike).
#[derive(Debug, Clone, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClaimListQuery {
    /// `open` (the queue, by the clock), `due_soon`, `breached`, `papers_pending`; empty: all.
    #[serde(default)]
    pub filter: String,
    /// A claim status.
    #[serde(default)]
    #[param(value_type = Option<ClaimStatus>)]
    pub status: String,
    /// A region code within the caller's scope.
    #[serde(default)]
    pub region: String,
    /// From 0.
    #[serde(default)]
    #[param(value_type = Option<u64>)]
    pub page: String,
}

impl ClaimListQuery {
    pub fn to_query(&self, per_page: u64) -> Result<ClaimQuery, String> {
        let filter = match self.filter.trim() {
            "" | "all" => ClaimFilter::All,
            "open" => ClaimFilter::Open,
            "due_soon" => ClaimFilter::DueSoon,
            "breached" => ClaimFilter::Breached,
            "papers_pending" => ClaimFilter::PapersPending,
            other => {
                return Err(format!("未知的筛选“{other}”，可选 open、due_soon、breached、papers_pending"))
            }
        };
        let status = match self.status.trim() {
            "" => None,
            raw => Some(ClaimStatus::from_code(raw).map_err(|_| format!("未知的理赔状态“{raw}”"))?),
        };
        Ok(ClaimQuery {
            filter,
            status,
            region: forms::optional_region("区域", &self.region)?.map(|r| r.as_str().to_owned()),
            page: forms::page(&self.page)?,
            per_page,
        })
    }

    pub fn page(&self) -> u64 {
        forms::page(&self.page).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_form_reads_like_the_api_body() {
        let form = ReportForm {
            person_id: "7".into(),
            kind: "accident_outpatient".into(),
            incident_date: "2026-10-12".into(),
            place: "村道".into(),
            description: "摔伤".into(),
            claimed: "1,234.50".into(),
            expenses: "1234.5".into(),
            ..Default::default()
        };
        let body = form.to_body().unwrap();
        assert_eq!((body.person_id, body.claimed_fen, body.expenses_fen), (7, 123_450, Some(123_450)));
        let claim = body.to_new_claim(ReportChannel::Agent).unwrap();
        assert_eq!(claim.kind, ClaimKind::AccidentOutpatient);
        let bad = ReportForm { kind: "death".into(), ..form.clone() }.to_body().unwrap_err();
        assert_eq!(bad, "请选择理赔类型");
        let bad = ReportForm { grade: "11".into(), ..form.clone() }.to_body().unwrap_err();
        assert!(bad.contains("伤残等级"), "{bad}");
        let api = ReportBody { grade: Some(11), ..body }.to_new_claim(ReportChannel::Api).unwrap_err();
        assert!(api.contains("伤残等级"), "{api}");
    }

    #[test]
    fn filters_and_decisions_are_read_strictly() {
        let q = ClaimListQuery { filter: "breached".into(), ..Default::default() }.to_query(50).unwrap();
        assert_eq!(q.filter, ClaimFilter::Breached);
        assert!(ClaimListQuery { filter: "late".into(), ..Default::default() }.to_query(50).is_err());
        assert!(ClaimListQuery { status: "lost".into(), ..Default::default() }.to_query(50).is_err());
        let refusal = DecisionForm {
            status: "refused".into(),
            refusal_reason: "not_accident".into(),
            reason: "疾病所致".into(),
            ..Default::default()
        };
        let decision = refusal.to_body().unwrap().to_decision().unwrap();
        assert_eq!(decision.refusal_reasons, [RefusalReason::NotAccident]);
        assert!(DecisionForm { status: "maybe".into(), ..Default::default() }.to_body().is_err());
        let pay = PaymentForm {
            beneficiary: "张三".into(),
            account: "6222 0212 3456 789".into(),
            amount: "80".into(),
            paid_on: "2026-10-20".into(),
            reference: "P1".into(),
        };
        assert_eq!(pay.to_body().unwrap().to_payment().unwrap().amount, Fen::from_yuan(80));
        let bad = PaymentForm { account: "12".into(), ..pay }.to_body().unwrap().to_payment().unwrap_err();
        assert!(bad.contains("银行账号"), "{bad}");
    }
}

/// The cover year of the claims' measures.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MeasuresQuery {
    /// The cover year of the claims' policies; the current year when empty.
    #[serde(default)]
    #[param(value_type = Option<i32>)]
    pub year: String,
}

impl MeasuresQuery {
    pub fn year(&self, today: NaiveDate) -> Result<i32, String> {
        forms::year_or_current(&self.year, today)
    }
}
