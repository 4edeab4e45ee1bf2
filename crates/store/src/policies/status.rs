//! A policy's status as stored, the channel it came by, and the status people read.

use chrono::NaiveDate;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PolicyStatus {
    Draft,
    Submitted,
    Underwritten,
    Cancelled,
}

impl PolicyStatus {
    pub const ALL: [PolicyStatus; 4] =
        [PolicyStatus::Draft, PolicyStatus::Submitted, PolicyStatus::Underwritten, PolicyStatus::Cancelled];

    pub const fn as_str(self) -> &'static str {
        match self {
            PolicyStatus::Draft => "draft",
            PolicyStatus::Submitted => "submitted",
            PolicyStatus::Underwritten => "underwritten",
            PolicyStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// The status as lists and filters name it (the one table of these labels).
    pub const fn label(self) -> &'static str {
        match self {
            PolicyStatus::Draft => "草稿",
            PolicyStatus::Submitted => "待承保",
            PolicyStatus::Underwritten => "已承保",
            PolicyStatus::Cancelled => "已撤销",
        }
    }

    /// The label of a stored status code; "未知" for a code no version wrote.
    pub fn label_of(code: &str) -> &'static str {
        Self::parse(code).map(Self::label).unwrap_or("未知")
    }

    /// The tag colour: green done, orange waiting, red cancelled, grey a draft.
    pub const fn color(self) -> &'static str {
        match self {
            PolicyStatus::Underwritten => "green",
            PolicyStatus::Submitted => "orange",
            PolicyStatus::Cancelled => "red",
            PolicyStatus::Draft => "",
        }
    }
}

/// How a policy came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// 代办: a village agent on the family's behalf.
    Agent,
    /// By association staff.
    Staff,
    /// 送保: paid entirely by a funding source.
    Gifted,
    /// By the family itself, online.
    SelfService,
}

impl Channel {
    pub const fn as_str(self) -> &'static str {
        match self {
            Channel::Agent => "agent",
            Channel::Staff => "staff",
            Channel::Gifted => "gifted",
            Channel::SelfService => "self",
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            Channel::Agent => "代办",
            Channel::Staff => "工作人员录入",
            Channel::Gifted => "送保",
            Channel::SelfService => "自助参保",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Channel::Agent, Channel::Staff, Channel::Gifted, Channel::SelfService]
            .into_iter()
            .find(|c| c.as_str() == raw)
    }

    /// The channel of a policy a user of this role enrols by hand.
    pub fn for_role(role: guanai_domain::Role) -> Self {
        if role == guanai_domain::Role::VillageAgent {
            Channel::Agent
        } else {
            Channel::Staff
        }
    }
}

/// A policy's state as people read it, dates taken into account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ShownStatus {
    Draft,
    AwaitingUnderwriting,
    Underwritten,
    InForce,
    Expired,
    Cancelled,
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

    pub const fn label(self) -> &'static str {
        match self {
            ShownStatus::Draft => "草稿",
            ShownStatus::AwaitingUnderwriting => "待承保",
            ShownStatus::Underwritten => "已承保待生效",
            ShownStatus::InForce => "保障中",
            ShownStatus::Expired => "已到期",
            ShownStatus::Cancelled => "已撤销",
        }
    }

    /// The tag colour: green done, orange waiting, red refused, grey otherwise.
    pub const fn color(self) -> &'static str {
        match self {
            ShownStatus::Underwritten | ShownStatus::InForce => "green",
            ShownStatus::AwaitingUnderwriting => "orange",
            ShownStatus::Cancelled => "red",
            ShownStatus::Draft | ShownStatus::Expired => "grey",
        }
    }
}

/// What the public check of a certificate says its policy is: a genuine code is not yet a
/// policy in force. A cancelled policy that had been underwritten was surrendered (退保);
/// one cancelled before (or refused by the insurer) never took effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CertificateState {
    Draft,
    AwaitingUnderwriting,
    NotYetInForce,
    InForce,
    Expired,
    Withdrawn,
    Surrendered,
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

    /// The tag: the state in a few words.
    pub const fn label(self) -> &'static str {
        match self {
            CertificateState::Draft => "草稿，未生效",
            CertificateState::AwaitingUnderwriting => "待承保，未生效",
            CertificateState::NotYetInForce => "已承保，尚未起保",
            CertificateState::InForce => "有效（保障中）",
            CertificateState::Expired => "已过期",
            CertificateState::Withdrawn => "已撤销，未生效",
            CertificateState::Surrendered => "已退保（已注销）",
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

    /// The tag colour: green valid, orange waiting, red void, grey over.
    pub const fn color(self) -> &'static str {
        match self {
            CertificateState::InForce | CertificateState::NotYetInForce => "green",
            CertificateState::AwaitingUnderwriting => "orange",
            CertificateState::Draft | CertificateState::Withdrawn | CertificateState::Surrendered => "red",
            CertificateState::Expired => "grey",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: &str) -> NaiveDate {
        NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap()
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
            assert_ne!(s.color(), "green");
        }
        assert!(InForce.verdict().contains("真实有效") && InForce.is_valid());
        assert_eq!(Surrendered.label(), "已退保（已注销）");
        assert_eq!(InForce.label(), "有效（保障中）");
        assert_eq!(Draft.label(), "草稿，未生效");
    }
}
