//! Village agents (村级服务专员 and the village "three heads", 三长): who they are, the
//! villages they serve, and the rules of a handover when an agent leaves (village
//! elections). No I/O: the store keeps the registry and applies these rules.

use chrono::NaiveDate;

use crate::regions::{RegionCode, RegionLevel};

crate::stored_code! {
    /// What an agent is in the village.
    pub enum AgentKind {
        /// 村级服务专员: advises families and acts for them (代办).
        Specialist => ("specialist", "村级服务专员"),
        /// One of the village "three heads" (三长), trained by the insurer.
        ThreeHeads => ("three_heads", "村“三长”"),
    }
}

/// Why a set of villages cannot be served by one agent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VillagesError {
    #[error("请至少选择一个服务的村（社区）")]
    None,
    #[error("“{0}”不是村（社区）级区划代码（须为12位）")]
    NotAVillage(String),
    #[error("一名服务专员服务的村须在同一个乡镇（街道）：“{0}”与“{1}”不在同一乡镇")]
    Townships(String, String),
    #[error("村（社区）“{0}”重复")]
    Twice(String),
}

/// The villages one agent serves: at least one, each a village, all in one township, none
/// twice. Once held, [`AgentVillages::login_scope`] is the scope of the agent's login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentVillages(Vec<RegionCode>);

impl AgentVillages {
    pub fn new(villages: Vec<RegionCode>) -> Result<Self, VillagesError> {
        let first = villages.first().ok_or(VillagesError::None)?.clone();
        let mut seen = std::collections::HashSet::new();
        for village in &villages {
            if village.level() != RegionLevel::Village {
                return Err(VillagesError::NotAVillage(village.to_string()));
            }
            if village.parent() != first.parent() {
                return Err(VillagesError::Townships(first.to_string(), village.to_string()));
            }
            if !seen.insert(village.as_str()) {
                return Err(VillagesError::Twice(village.to_string()));
            }
        }
        Ok(AgentVillages(villages))
    }

    pub fn as_slice(&self) -> &[RegionCode] {
        &self.0
    }

    /// The township the villages lie in.
    pub fn township(&self) -> RegionCode {
        self.0[0].parent().expect("a village has a township")
    }

    /// The region the agent's login is scoped to: the village when there is one, the
    /// township when the agent serves several of its villages (a role's scope is one region).
    pub fn login_scope(&self) -> RegionCode {
        match self.0.as_slice() {
            [one] => one.clone(),
            _ => self.township(),
        }
    }
}

/// Why a handover cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandoverError {
    #[error("交接对象不能是离任的服务专员本人")]
    ToSelf,
    #[error("该服务专员已于{0}离任，已交接过，无需再次交接")]
    AlreadyLeft(NaiveDate),
    #[error("接任的服务专员已于{0}离任，不能接任")]
    SuccessorLeft(NaiveDate),
    #[error("离任日期{left}早于其任职日期{appointed}")]
    BeforeAppointment { left: NaiveDate, appointed: NaiveDate },
    #[error("离任日期{0}不能晚于今天")]
    InFuture(NaiveDate),
}

/// The facts of one agent a handover checks.
#[derive(Debug, Clone, Copy)]
pub struct Tenure {
    pub id: i64,
    pub appointed_on: NaiveDate,
    pub left_on: Option<NaiveDate>,
}

/// Checks that `leaving` may hand over to `successor` on `day` (today at the latest).
pub fn check_handover(
    leaving: Tenure,
    successor: Tenure,
    day: NaiveDate,
    today: NaiveDate,
) -> Result<(), HandoverError> {
    if leaving.id == successor.id {
        return Err(HandoverError::ToSelf);
    }
    if let Some(left) = leaving.left_on {
        return Err(HandoverError::AlreadyLeft(left));
    }
    if let Some(left) = successor.left_on {
        return Err(HandoverError::SuccessorLeft(left));
    }
    if day < leaving.appointed_on {
        return Err(HandoverError::BeforeAppointment { left: day, appointed: leaving.appointed_on });
    }
    if day > today {
        return Err(HandoverError::InFuture(day));
    }
    Ok(())
}

/// An agent's work in one season, as a funnel: families enrolled for, of those renewed,
/// claims reported and followed. Raw counts, so every ratio can be computed either way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Funnel {
    /// Families whose policy of the year the agent entered (代办).
    pub enrolled: u64,
    /// Of those, policies the insurer underwrote.
    pub underwritten: u64,
    /// Families the agent renewed for (a policy of the year for a family insured the year before).
    pub renewed: u64,
    /// Claims the agent reported for families (none until the claims feature records them).
    pub claims_reported: u64,
}

impl Funnel {
    /// Whether the agent did nothing that season.
    pub fn is_idle(&self) -> bool {
        self.enrolled == 0 && self.renewed == 0 && self.claims_reported == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap()
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn kinds_are_a_code_table() {
        crate::codes::check_table::<AgentKind>().unwrap();
    }

    #[test]
    fn villages_of_one_township_give_the_login_scope() {
        let one = AgentVillages::new(vec![code("360802100201")]).unwrap();
        assert_eq!(one.login_scope(), code("360802100201"));
        let two = AgentVillages::new(vec![code("360802100201"), code("360802100202")]).unwrap();
        assert_eq!(two.login_scope(), code("360802100"));
        assert_eq!(two.township(), code("360802100"));
    }

    #[test]
    fn villages_are_refused_when_empty_mixed_or_repeated() {
        assert_eq!(AgentVillages::new(vec![]), Err(VillagesError::None));
        assert!(matches!(AgentVillages::new(vec![code("360802100")]), Err(VillagesError::NotAVillage(_))));
        assert!(matches!(
            AgentVillages::new(vec![code("360802100201"), code("360802101201")]),
            Err(VillagesError::Townships(..))
        ));
        assert!(matches!(
            AgentVillages::new(vec![code("360802100201"), code("360802100201")]),
            Err(VillagesError::Twice(_))
        ));
    }

    #[test]
    fn a_handover_needs_two_serving_agents_and_a_day_in_the_tenure() {
        let today = day("2026-12-01");
        let a = Tenure { id: 1, appointed_on: day("2023-01-01"), left_on: None };
        let b = Tenure { id: 2, appointed_on: day("2026-11-01"), left_on: None };
        assert_eq!(check_handover(a, b, today, today), Ok(()));
        assert_eq!(check_handover(a, a, today, today), Err(HandoverError::ToSelf));
        let gone = Tenure { left_on: Some(day("2026-10-01")), ..a };
        assert!(matches!(check_handover(gone, b, today, today), Err(HandoverError::AlreadyLeft(_))));
        let successor_gone = Tenure { left_on: Some(day("2026-11-15")), ..b };
        assert!(matches!(
            check_handover(a, successor_gone, today, today),
            Err(HandoverError::SuccessorLeft(_))
        ));
        assert!(matches!(
            check_handover(a, b, day("2022-01-01"), today),
            Err(HandoverError::BeforeAppointment { .. })
        ));
        assert!(matches!(check_handover(a, b, day("2026-12-02"), today), Err(HandoverError::InFuture(_))));
    }

    #[test]
    fn an_idle_funnel_has_no_work() {
        assert!(Funnel::default().is_idle());
        assert!(!Funnel { renewed: 1, ..Default::default() }.is_idle());
    }
}
