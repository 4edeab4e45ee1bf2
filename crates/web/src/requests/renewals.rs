//! Renewals: the due list's filters (page and API alike), a renewal as the phone form and
//! the API body give it, a batch's region, a follow-up's outcome; parsed once into the
//! store's requests, with the Chinese message of the first wrong field.

use guanai_domain::renewals::LapseOutcome;
use guanai_domain::Fen;
use guanai_store::policies::{Channel, PAYMENT_METHODS};
use guanai_store::renewals::{BatchQuery, DueQuery, RenewRequest};
use serde::Deserialize;

use super::forms;

/// The due list's filters, as the page's form and the API's query give them.
#[derive(Deserialize, Default, Clone, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DueFilter {
    /// A county, township or village code within the caller's scope.
    #[serde(default)]
    pub region: String,
    /// A package code (P1 …).
    #[serde(default)]
    pub package: String,
    /// `open` (not renewed yet), `renewed`, or empty for both.
    #[serde(default)]
    pub state: String,
    /// From 0.
    #[serde(default)]
    #[param(value_type = Option<u64>)]
    pub page: String,
}

impl DueFilter {
    pub fn to_query(&self, per_page: u64) -> Result<DueQuery, String> {
        let open = match self.state.trim() {
            "" => None,
            "open" => Some(true),
            "renewed" => Some(false),
            other => return Err(format!("未知的续保状态“{other}”：请选择“未续保”或“已续保”")),
        };
        let package = self.package.trim();
        if package.chars().count() > 32 {
            return Err("方案代码过长".to_owned());
        }
        Ok(DueQuery {
            region: forms::optional_region("区域", &self.region)?,
            package_code: (!package.is_empty()).then(|| package.to_owned()),
            open,
            page: forms::page(&self.page)?,
            per_page,
            ..Default::default()
        })
    }

    /// The page asked for (from 0); the first page when it does not parse.
    pub fn page(&self) -> u64 {
        forms::page(&self.page).unwrap_or(0)
    }
}

/// A renewal: who is insured, what the family saw, whether the family paid now.
#[derive(Deserialize, Default, Debug, utoipa::ToSchema)]
pub struct RenewBody {
    /// The members to insure; absent: those renewal keeps or adds by default.
    #[serde(default)]
    pub member_ids: Option<Vec<i64>>,
    /// The family part (in fen) of the quote the user accepted; refused if it changed.
    #[serde(default)]
    pub expected_family_part_fen: Option<i64>,
    /// How the family paid its part now (`cash_agent`, `bank_transfer`, `online`); absent: to be collected.
    #[serde(default)]
    pub payment_method: Option<String>,
    /// The receipt number of a payment made now.
    #[serde(default)]
    pub receipt_no: Option<String>,
}

impl RenewBody {
    /// The phone form's fields: repeated `member`, `expected_family_part`, `payment_method`
    /// (empty: to be collected), `receipt_no`.
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<RenewBody, String> {
        let mut body = RenewBody::default();
        let mut members = Vec::new();
        let mut chose_members = false;
        for (key, value) in pairs {
            match key.as_str() {
                "member" => {
                    members.push(value.trim().parse().map_err(|_| "所选成员无效，请刷新后重选".to_owned())?);
                }
                "members_chosen" => chose_members = true,
                "expected_family_part" if !value.trim().is_empty() => {
                    body.expected_family_part_fen =
                        Some(value.trim().parse().map_err(|_| "核算结果无效，请重新核算".to_owned())?);
                }
                "payment_method" if !value.trim().is_empty() => body.payment_method = Some(value.clone()),
                "receipt_no" if !value.trim().is_empty() => body.receipt_no = Some(value.clone()),
                _ => {}
            }
        }
        if chose_members || !members.is_empty() {
            body.member_ids = Some(members);
        }
        Ok(body)
    }

    pub fn to_request(&self, policy_id: i64, channel: Channel) -> Result<RenewRequest, String> {
        let payment = match (&self.payment_method, &self.receipt_no) {
            (None, None) => None,
            (Some(method), receipt) => {
                if !PAYMENT_METHODS.iter().any(|(code, _)| *code == method.trim()) {
                    return Err(format!("未知的缴费方式“{}”", method.trim()));
                }
                let receipt = receipt.as_deref().unwrap_or_default().trim();
                if receipt.is_empty() {
                    return Err("现场缴费请填写收据号；暂未缴费请选择“待收取”".to_owned());
                }
                Some((method.trim().to_owned(), receipt.to_owned()))
            }
            (None, Some(_)) => return Err("填写了收据号，请同时选择缴费方式".to_owned()),
        };
        if self.member_ids.as_ref().is_some_and(Vec::is_empty) {
            return Err("请至少选择一名续保的家庭成员".to_owned());
        }
        Ok(RenewRequest {
            policy_id,
            member_ids: self.member_ids.clone(),
            expected_family_part: self.expected_family_part_fen.map(Fen::new),
            channel,
            payment,
            settings: Default::default(),
        })
    }
}

/// A batch renewal: the region, and on confirmation the count the preview showed.
#[derive(Deserialize, Default, Debug, utoipa::ToSchema)]
pub struct BatchBody {
    /// A county, township or village code within the caller's scope; empty: the whole scope.
    #[serde(default)]
    pub region: String,
    /// The households the preview showed (needed to confirm).
    #[serde(default)]
    pub expected_households: Option<u64>,
}

impl BatchBody {
    pub fn to_query(&self) -> Result<BatchQuery, String> {
        Ok(BatchQuery {
            region: forms::optional_region("区域", &self.region)?,
            expected: self.expected_households.map(|n| n as usize),
            ..Default::default()
        })
    }
}

/// How a follow-up ended.
#[derive(Deserialize, Default, Debug, utoipa::ToSchema)]
pub struct FollowUpBody {
    /// One of the outcome codes (`renewed_late`, `moved_away`, `refused`, `deceased`,
    /// `unreachable`).
    pub outcome: String,
    #[serde(default)]
    pub note: String,
}

impl FollowUpBody {
    pub fn outcome(&self) -> Result<LapseOutcome, String> {
        let raw = self.outcome.trim();
        LapseOutcome::ALL.iter().copied().find(|o| o.code() == raw || o.label() == raw).ok_or_else(|| {
            "请选择跟进结果：逾期后已续保、已迁出、拒绝续保、家庭成员已故或联系不上".to_owned()
        })
    }

    pub fn note(&self) -> Result<&str, String> {
        let note = self.note.trim();
        if note.chars().count() > 200 {
            return Err("备注不能超过200个字".to_owned());
        }
        Ok(note)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_due_filter_reads_state_region_and_page() {
        let filter = DueFilter {
            state: "open".into(),
            region: "360802".into(),
            page: "2".into(),
            ..Default::default()
        };
        let query = filter.to_query(50).unwrap();
        assert_eq!((query.open, query.page, query.region.unwrap().as_str()), (Some(true), 2, "360802"));
        let bad = DueFilter { state: "gone".into(), ..Default::default() };
        assert!(bad.to_query(50).unwrap_err().contains("未知的续保状态"));
        assert!(DueFilter { region: "x".into(), ..Default::default() }.to_query(50).is_err());
    }

    #[test]
    fn the_phone_form_and_the_api_body_make_the_same_renewal() {
        let form = RenewBody::from_pairs(&pairs(&[
            ("members_chosen", "1"),
            ("member", "3"),
            ("member", "5"),
            ("expected_family_part", "8500"),
            ("payment_method", "cash_agent"),
            ("receipt_no", " R-1 "),
        ]))
        .unwrap();
        let request = form.to_request(9, Channel::Agent).unwrap();
        assert_eq!(request.member_ids, Some(vec![3, 5]));
        assert_eq!(request.expected_family_part, Some(Fen::new(8500)));
        assert_eq!(request.payment, Some(("cash_agent".to_owned(), "R-1".to_owned())));
        let to_collect = RenewBody::from_pairs(&pairs(&[("payment_method", "")])).unwrap();
        assert_eq!(to_collect.to_request(9, Channel::Agent).unwrap().payment, None);
        assert_eq!(to_collect.member_ids, None);
        let nobody = RenewBody::from_pairs(&pairs(&[("members_chosen", "1")])).unwrap();
        assert_eq!(nobody.to_request(9, Channel::Agent).unwrap_err(), "请至少选择一名续保的家庭成员");
        let no_receipt = RenewBody { payment_method: Some("cash_agent".into()), ..Default::default() };
        assert!(no_receipt.to_request(9, Channel::Agent).unwrap_err().contains("收据号"));
        let bad = RenewBody {
            payment_method: Some("gold".into()),
            receipt_no: Some("1".into()),
            ..Default::default()
        };
        assert!(bad.to_request(9, Channel::Agent).unwrap_err().contains("gold"));
        assert!(RenewBody::from_pairs(&pairs(&[("member", "x")])).is_err());
    }

    #[test]
    fn a_follow_up_outcome_is_a_code_or_its_label() {
        let by_code = FollowUpBody { outcome: "moved_away".into(), note: String::new() };
        assert_eq!(by_code.outcome().unwrap(), LapseOutcome::MovedAway);
        let by_label = FollowUpBody { outcome: "联系不上".into(), note: String::new() };
        assert_eq!(by_label.outcome().unwrap(), LapseOutcome::Unreachable);
        assert!(FollowUpBody::default().outcome().is_err());
        assert!(FollowUpBody { outcome: "refused".into(), note: "长".repeat(201) }.note().is_err());
    }
}
