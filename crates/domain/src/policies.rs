//! Policies: a policy's status as stored, the channel it came by, the status people read
//! (dates taken into account), what the public check of a certificate says, and the
//! insurer's policy number. Tag colours are the web layer's (`web/src/format.rs`).

use std::fmt;
use std::ops::Deref;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::users::Role;

crate::stored_code! {
    /// A policy's status as stored.
    pub enum PolicyStatus {
        Draft => ("draft", "草稿"),
        Submitted => ("submitted", "待承保"),
        Underwritten => ("underwritten", "已承保"),
        Cancelled => ("cancelled", "已撤销"),
    }
}

crate::stored_code! {
    /// How a policy came about.
    pub enum Channel {
        /// 代办: a village agent on the family's behalf.
        Agent => ("agent", "代办"),
        /// By association staff.
        Staff => ("staff", "工作人员录入"),
        /// 送保: paid entirely by a funding source.
        Gifted => ("gifted", "送保"),
        /// By the family itself, online.
        SelfService => ("self", "自助参保"),
    }
}

impl Channel {
    /// The channel of a policy a user of this role enrols by hand.
    pub fn for_role(role: Role) -> Self {
        if role == Role::VillageAgent {
            Channel::Agent
        } else {
            Channel::Staff
        }
    }
}

crate::stored_code! {
    /// A policy's state as people read it, dates taken into account.
    pub enum ShownStatus {
        Draft => ("draft", "草稿"),
        AwaitingUnderwriting => ("awaiting_underwriting", "待承保"),
        Underwritten => ("underwritten", "已承保待生效"),
        InForce => ("in_force", "保障中"),
        Expired => ("expired", "已到期"),
        Cancelled => ("cancelled", "已撤销"),
    }
}

impl ShownStatus {
    pub fn of(status: PolicyStatus, start: NaiveDate, end: NaiveDate, today: NaiveDate) -> Self {
        match status {
            PolicyStatus::Draft => ShownStatus::Draft,
            PolicyStatus::Submitted => ShownStatus::AwaitingUnderwriting,
            PolicyStatus::Cancelled => ShownStatus::Cancelled,
            PolicyStatus::Underwritten if today < start => ShownStatus::Underwritten,
            PolicyStatus::Underwritten if today > end => ShownStatus::Expired,
            PolicyStatus::Underwritten => ShownStatus::InForce,
        }
    }
}

crate::stored_code! {
    /// What the public check of a certificate says its policy is: a genuine code is not yet
    /// a policy in force. A cancelled policy that had been underwritten was surrendered
    /// (退保); one cancelled before (or refused by the insurer) never took effect. The label
    /// is the tag: the state in a few words.
    pub enum CertificateState {
        Draft => ("draft", "草稿，未生效"),
        AwaitingUnderwriting => ("awaiting_underwriting", "待承保，未生效"),
        NotYetInForce => ("not_yet_in_force", "已承保，尚未起保"),
        InForce => ("in_force", "有效（保障中）"),
        Expired => ("expired", "已过期"),
        Withdrawn => ("withdrawn", "已撤销，未生效"),
        Surrendered => ("surrendered", "已退保（已注销）"),
    }
}

impl CertificateState {
    /// From the status as shown (dates taken into account) and whether the insurer had
    /// underwritten the policy (it has a policy number).
    pub const fn of(shown: ShownStatus, underwritten: bool) -> Self {
        match shown {
            ShownStatus::Draft => CertificateState::Draft,
            ShownStatus::AwaitingUnderwriting => CertificateState::AwaitingUnderwriting,
            ShownStatus::Underwritten => CertificateState::NotYetInForce,
            ShownStatus::InForce => CertificateState::InForce,
            ShownStatus::Expired => CertificateState::Expired,
            ShownStatus::Cancelled if underwritten => CertificateState::Surrendered,
            ShownStatus::Cancelled => CertificateState::Withdrawn,
        }
    }

    /// The sentence the check answers with.
    pub const fn verdict(self) -> &'static str {
        match self {
            CertificateState::InForce => "凭证真实有效，当前在保险期间内。",
            CertificateState::NotYetInForce => "凭证真实，保单已承保，但保险责任尚未开始，请以保险期间为准。",
            CertificateState::AwaitingUnderwriting => "凭证对应的保单尚待保险公司承保，保险责任尚未生效。",
            CertificateState::Draft => "凭证对应的保单仍是草稿，尚未提交承保，不具保险效力。",
            CertificateState::Expired => "凭证对应的保单保险期间已经结束，已过期，不再提供保障。",
            CertificateState::Withdrawn => "凭证对应的保单已撤销，从未生效，不具保险效力。",
            CertificateState::Surrendered => "凭证对应的保单已退保注销，凭证作废，不再提供保障。",
        }
    }

    /// Whether the policy gives cover now or will from its start date.
    pub const fn is_valid(self) -> bool {
        matches!(self, CertificateState::InForce | CertificateState::NotYetInForce)
    }
}

/// The insurer's policy number (保单号): 1 to [`PolicyNo::MAX_LEN`] ASCII letters, digits
/// or dashes, spaces around it dropped. Made only by [`PolicyNo::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "String", into = "String")]
pub struct PolicyNo(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyNoError {
    #[error("请填写保单号")]
    Empty,
    #[error("保单号“{0}”被表格软件存成了数字，末几位可能已经丢失。请把“保单号”列设为文本格式后重新填写")]
    StoredAsNumber(String),
    #[error("保单号“{0}”无效：须为1到40位英文字母、数字或短横线")]
    Invalid(String),
}

impl PolicyNo {
    pub const MAX_LEN: usize = 40;

    pub fn parse(raw: &str) -> Result<Self, PolicyNoError> {
        let no = raw.trim();
        if no.is_empty() {
            return Err(PolicyNoError::Empty);
        }
        // 8.80012345678901E+19: a spreadsheet took the number for a number.
        if no.contains("E+") || no.contains("e+") {
            return Err(PolicyNoError::StoredAsNumber(no.to_owned()));
        }
        if no.len() > Self::MAX_LEN || !no.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            let shown: String = no.chars().filter(|c| !c.is_control()).take(Self::MAX_LEN + 10).collect();
            return Err(PolicyNoError::Invalid(shown));
        }
        Ok(PolicyNo(no.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl Deref for PolicyNo {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PolicyNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for PolicyNo {
    type Error = PolicyNoError;

    fn try_from(raw: String) -> Result<Self, PolicyNoError> {
        PolicyNo::parse(&raw)
    }
}

impl From<PolicyNo> for String {
    fn from(no: PolicyNo) -> String {
        no.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::check_table;

    fn day(d: &str) -> NaiveDate {
        NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_policy_code_tables_read_back_with_unique_codes_and_labels() {
        check_table::<PolicyStatus>().unwrap();
        check_table::<Channel>().unwrap();
        check_table::<ShownStatus>().unwrap();
        check_table::<CertificateState>().unwrap();
        // The codes already stored stay what they were.
        let codes: Vec<_> = PolicyStatus::ALL.iter().map(|s| s.code()).collect();
        assert_eq!(codes, ["draft", "submitted", "underwritten", "cancelled"]);
        assert_eq!(Channel::SelfService.code(), "self");
        assert_eq!(Channel::from_code("self"), Ok(Channel::SelfService));
    }

    #[test]
    fn a_village_agent_enrols_as_an_agent_everyone_else_as_staff() {
        assert_eq!(Channel::for_role(Role::VillageAgent), Channel::Agent);
        for role in Role::ALL.into_iter().filter(|r| *r != Role::VillageAgent) {
            assert_eq!(Channel::for_role(role), Channel::Staff, "{role:?}");
        }
    }

    #[test]
    fn the_certificate_check_names_each_state_by_status_and_dates() {
        let (start, end) = (day("2026-09-01"), day("2027-08-31"));
        let state = |status, policy_no: bool, today: &str| {
            CertificateState::of(ShownStatus::of(status, start, end, day(today)), policy_no)
        };
        use CertificateState::*;
        assert_eq!(state(PolicyStatus::Draft, false, "2026-10-01"), Draft);
        assert_eq!(state(PolicyStatus::Submitted, false, "2026-10-01"), AwaitingUnderwriting);
        assert_eq!(state(PolicyStatus::Underwritten, true, "2026-08-31"), NotYetInForce);
        assert_eq!(state(PolicyStatus::Underwritten, true, "2026-09-01"), InForce);
        assert_eq!(state(PolicyStatus::Underwritten, true, "2027-08-31"), InForce);
        assert_eq!(state(PolicyStatus::Underwritten, true, "2027-09-01"), Expired);
        assert_eq!(state(PolicyStatus::Cancelled, false, "2026-10-01"), Withdrawn);
        assert_eq!(state(PolicyStatus::Cancelled, true, "2026-10-01"), Surrendered);
        for s in [Draft, AwaitingUnderwriting, Expired, Withdrawn, Surrendered] {
            assert!(!s.is_valid() && !s.verdict().contains("有效"), "{s:?}");
        }
        assert!(InForce.verdict().contains("真实有效") && InForce.is_valid());
        assert_eq!(Surrendered.label(), "已退保（已注销）");
        assert_eq!(InForce.label(), "有效（保障中）");
        assert_eq!(Draft.label(), "草稿，未生效");
    }

    #[test]
    fn a_policy_number_is_letters_digits_and_dashes() {
        assert_eq!(PolicyNo::parse(" PJA-2026-001 ").unwrap().as_str(), "PJA-2026-001");
        assert_eq!(&*PolicyNo::parse("p1").unwrap(), "p1");
        assert_eq!(PolicyNo::parse("A".repeat(40).as_str()).unwrap().len(), 40);
        assert_eq!(PolicyNo::parse("  "), Err(PolicyNoError::Empty));
        assert_eq!(PolicyNo::parse("A".repeat(41).as_str()), Err(PolicyNoError::Invalid("A".repeat(41))));
        for bad in ["PJA 001", "PJA\t001", "PJA_001", "保单001", "PJA/001", "PJA\u{0}1", "ＰＪＡ１"] {
            assert!(matches!(PolicyNo::parse(bad), Err(PolicyNoError::Invalid(_))), "{bad:?}");
        }
        let number = PolicyNo::parse("8.80012345678901E+19").unwrap_err();
        assert_eq!(number, PolicyNoError::StoredAsNumber("8.80012345678901E+19".into()));
        assert!(number.to_string().contains("存成了数字"));
        assert!(PolicyNo::parse("PJA 001").unwrap_err().to_string().contains("1到40位"));
        assert_eq!(
            PolicyNo::parse("\u{7}").unwrap_err().to_string(),
            "保单号“”无效：须为1到40位英文字母、数字或短横线"
        );
    }

    #[test]
    fn a_policy_number_travels_as_a_string_and_is_checked_when_read() {
        let no = PolicyNo::parse("PJA-1").unwrap();
        assert_eq!(serde_json::to_string(&no).unwrap(), "\"PJA-1\"");
        assert_eq!(serde_json::from_str::<PolicyNo>("\"PJA-1\"").unwrap(), no);
        assert!(serde_json::from_str::<PolicyNo>("\"PJA 1\"").is_err());
        assert_eq!(no.to_string(), "PJA-1");
    }
}
