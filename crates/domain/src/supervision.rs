//! Joint supervision visits (联合督导调研) by the association and the insurer: findings,
//! and actions with an owner, a due date and a status.

use chrono::NaiveDate;

crate::stored_code! {
    /// Where an action of a visit stands.
    pub enum ActionStatus {
        Open => ("open", "待整改"),
        Done => ("done", "已完成"),
    }
}

/// How an action shows on a day: done, open with days left, or overdue by some days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ActionState {
    Done,
    Open { days_left: i64 },
    Overdue { days_late: i64 },
}

impl ActionState {
    pub fn of(status: ActionStatus, due_on: NaiveDate, today: NaiveDate) -> Self {
        match status {
            ActionStatus::Done => ActionState::Done,
            ActionStatus::Open if today > due_on => {
                ActionState::Overdue { days_late: (today - due_on).num_days() }
            }
            ActionStatus::Open => ActionState::Open { days_left: (due_on - today).num_days() },
        }
    }

    pub fn is_overdue(self) -> bool {
        matches!(self, ActionState::Overdue { .. })
    }

    /// The words a list shows.
    pub fn label(self) -> String {
        match self {
            ActionState::Done => "已完成".to_owned(),
            ActionState::Open { days_left: 0 } => "今天到期".to_owned(),
            ActionState::Open { days_left } => format!("还剩{days_left}天"),
            ActionState::Overdue { days_late } => format!("逾期{days_late}天"),
        }
    }
}

/// Checks a new action's due date against the visit's date.
pub fn check_due(visited_on: NaiveDate, due_on: NaiveDate) -> Result<(), String> {
    if due_on < visited_on {
        Err(format!("整改期限{due_on}不能早于督导日期{visited_on}"))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn statuses_are_a_code_table() {
        crate::codes::check_table::<ActionStatus>().unwrap();
    }

    #[test]
    fn an_open_action_is_overdue_the_day_after_its_due_date() {
        let due = day("2026-11-30");
        assert_eq!(ActionState::of(ActionStatus::Open, due, due), ActionState::Open { days_left: 0 });
        assert_eq!(
            ActionState::of(ActionStatus::Open, due, day("2026-12-02")),
            ActionState::Overdue { days_late: 2 }
        );
        assert_eq!(ActionState::of(ActionStatus::Done, due, day("2027-01-01")), ActionState::Done);
        assert_eq!(ActionState::Overdue { days_late: 2 }.label(), "逾期2天");
        assert!(check_due(day("2026-12-01"), due).is_err());
        assert!(check_due(due, due).is_ok());
    }
}
