//! A policy's status as stored, the channel it came by, and the status people read.

use chrono::NaiveDate;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
