//! The Insurance Law's clocks on a claim (保险法 arts. 22–25) and the fast lane's
//! (绿色快速通道), as pure functions of the claim's dates, a working-day calendar and the
//! settings. Every number is a setting with the law's or the programme's default.
//!
//! Reading of "日": the Insurance Law's periods are in 日, calendar days, not working days
//! (art. 23 "应当在三十日内作出核定", "达成…协议后十日内，履行赔偿或者给付保险金义务";
//! art. 24 "自作出核定之日起三日内"; art. 25 "自收到…请求和有关证明、资料之日起六十日内").
//! They are counted as the civil code counts every period (民法典 art. 200: periods in the
//! Gregorian calendar; art. 201: "开始的当日不计入，自下一日开始计算"; art. 203: "期间的最后
//! 一日是法定休假日的，以法定休假日结束的次日为期间的最后一日", weekends being rest days
//! unless worked in exchange): a period of n days from day d ends on d + n, moved to the
//! next working day when that is a rest day (the setting `roll_past_rest_days`, on by
//! default). The fast lane's periods are the programme's own commitment in working days
//! (工作日): n working days after d, d not counted.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::money::Fen;
use crate::workdays::WorkCalendar;

use super::kinds::ClaimKind;

/// The clocks' settings, with the law's and the programme's defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockSettings {
    /// Days from complete papers to the decision (art. 23: 30, unless the contract says).
    pub decision_days: u32,
    /// Days from the decision to payment (art. 23: 10).
    pub payment_days: u32,
    /// Days from a decision to refuse to the refusal notice (art. 24: 3).
    pub refusal_notice_days: u32,
    /// Days from complete papers after which an amount still open is paid in part (art. 25: 60).
    pub advance_days: u32,
    /// Move a statutory due date off a rest day (民法典 art. 203).
    pub roll_past_rest_days: bool,
    /// The most a claim may ask to go through the fast lane (3,000 元).
    pub fast_lane_max: Fen,
    /// The kinds the fast lane takes (small medical claims).
    pub fast_lane_kinds: Vec<ClaimKind>,
    /// Working days from the report to telling what papers are missing (1).
    pub fast_missing_papers_working_days: u32,
    /// Working days from complete papers to payment (5).
    pub fast_payment_working_days: u32,
    /// A running clock with at most this many days left is due soon (3).
    pub due_soon_days: u32,
}

impl Default for ClockSettings {
    fn default() -> ClockSettings {
        ClockSettings {
            decision_days: 30,
            payment_days: 10,
            refusal_notice_days: 3,
            advance_days: 60,
            roll_past_rest_days: true,
            fast_lane_max: Fen::from_yuan(3_000),
            fast_lane_kinds: vec![ClaimKind::AccidentOutpatient, ClaimKind::AccidentInpatient],
            fast_missing_papers_working_days: 1,
            fast_payment_working_days: 5,
            due_soon_days: 3,
        }
    }
}

impl ClockSettings {
    /// Whether a claim goes through the fast lane: a kind it takes, asking for more than
    /// nothing and at most `fast_lane_max`, with clear facts (事实清楚, the reviewer's call).
    pub fn fast_lane(&self, kind: ClaimKind, claimed: Fen, clear_facts: bool) -> bool {
        clear_facts
            && self.fast_lane_kinds.contains(&kind)
            && claimed > Fen::ZERO
            && claimed <= self.fast_lane_max
    }
}

/// The last day of a period whose nominal last day is `nominal`: that day, or the next
/// working day when it is a rest day and `roll` is set (民法典 art. 203).
pub fn period_end(nominal: NaiveDate, calendar: &WorkCalendar, roll: bool) -> NaiveDate {
    if roll {
        calendar.working_day_on_or_after(nominal).unwrap_or(nominal)
    } else {
        nominal
    }
}

/// The last day of a period of `days` calendar days from `from` (`from` not counted).
pub fn due_after_days(from: NaiveDate, days: u32, calendar: &WorkCalendar, roll: bool) -> NaiveDate {
    let nominal = from.checked_add_days(Days::new(u64::from(days))).unwrap_or(NaiveDate::MAX);
    period_end(nominal, calendar, roll)
}

crate::stored_code! {
    /// One obligation with a due date.
    #[derive(PartialOrd, Ord)]
    pub enum Deadline {
        FastMissingPapers => ("fast_missing_papers", "快速通道告知缺少材料"),
        Decision => ("decision", "核定"),
        Payment => ("payment", "赔付"),
        RefusalNotice => ("refusal_notice", "拒赔通知"),
        Advance => ("advance", "先予支付"),
        FastPayment => ("fast_payment", "快速通道赔付"),
    }
}

impl Deadline {
    /// The rule, with the settings' numbers, as a reviewer reads it.
    pub fn rule(self, settings: &ClockSettings) -> String {
        match self {
            Deadline::FastMissingPapers => format!(
                "快速通道：报案后{}个工作日内一次性告知缺少的材料",
                settings.fast_missing_papers_working_days
            ),
            Deadline::Decision => {
                format!("《保险法》第二十三条：材料齐全后{}日内作出核定", settings.decision_days)
            }
            Deadline::Payment => format!("《保险法》第二十三条：核定赔付后{}日内支付", settings.payment_days),
            Deadline::RefusalNotice => format!(
                "《保险法》第二十四条：核定拒赔后{}日内发出拒绝赔付通知书并说明理由",
                settings.refusal_notice_days
            ),
            Deadline::Advance => format!(
                "《保险法》第二十五条：材料齐全后{}日内赔付数额仍不能确定的，先予支付可以确定的部分",
                settings.advance_days
            ),
            Deadline::FastPayment => {
                format!("快速通道：材料齐全后{}个工作日内赔付", settings.fast_payment_working_days)
            }
        }
    }
}

/// What the insurer decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Approved, in full or in part: something is paid.
    Pay,
    Refuse,
}

/// The dates of a claim that start and stop its clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimDates {
    pub reported: NaiveDate,
    pub fast_lane: bool,
    pub missing_papers_told: Option<NaiveDate>,
    pub papers_complete: Option<NaiveDate>,
    pub decided: Option<(NaiveDate, Outcome)>,
    pub refusal_notified: Option<NaiveDate>,
    pub advance_paid: Option<NaiveDate>,
    pub paid: Option<NaiveDate>,
}

impl ClaimDates {
    pub fn reported(on: NaiveDate) -> ClaimDates {
        ClaimDates {
            reported: on,
            fast_lane: false,
            missing_papers_told: None,
            papers_complete: None,
            decided: None,
            refusal_notified: None,
            advance_paid: None,
            paid: None,
        }
    }
}

/// One running or finished clock of a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimClock {
    pub deadline: Deadline,
    /// The day it started (not counted).
    pub from: NaiveDate,
    /// The last day to meet it (until 24:00).
    pub due: NaiveDate,
    /// The day it was met, if it was.
    pub met: Option<NaiveDate>,
}

/// A clock at a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockStatus {
    /// Not met yet and not past due: `days_left` calendar days to the due date (0 on it).
    Running { days_left: i64, due_soon: bool },
    /// Not met and past due by `days_late` days.
    Breached { days_late: i64 },
    /// Met on `on`, `days_late` days after the due date (0: in time).
    Met { on: NaiveDate, days_late: i64 },
}

impl ClaimClock {
    pub fn status(&self, today: NaiveDate, settings: &ClockSettings) -> ClockStatus {
        if let Some(on) = self.met {
            return ClockStatus::Met { on, days_late: (on - self.due).num_days().max(0) };
        }
        let days_left = (self.due - today).num_days();
        if days_left < 0 {
            ClockStatus::Breached { days_late: -days_left }
        } else {
            ClockStatus::Running { days_left, due_soon: days_left <= i64::from(settings.due_soon_days) }
        }
    }
}

/// The clocks that apply to a claim with these dates: the fast lane's when it is in it,
/// the decision and the advance once the papers are complete (the advance not once the
/// claim is refused), then the payment or the refusal notice after the decision.
pub fn claim_clocks(
    dates: &ClaimDates,
    calendar: &WorkCalendar,
    settings: &ClockSettings,
) -> Vec<ClaimClock> {
    let roll = settings.roll_past_rest_days;
    let in_days = |from, days| due_after_days(from, days, calendar, roll);
    let in_working_days = |from: NaiveDate, n| calendar.add_working_days(from, n).unwrap_or(NaiveDate::MAX);
    let earliest = |dates: &[Option<NaiveDate>]| dates.iter().flatten().min().copied();
    let refused = matches!(dates.decided, Some((_, Outcome::Refuse)));
    let decided_on = dates.decided.map(|(on, _)| on);
    let mut clocks = Vec::new();
    if dates.fast_lane {
        clocks.push(ClaimClock {
            deadline: Deadline::FastMissingPapers,
            from: dates.reported,
            due: in_working_days(dates.reported, settings.fast_missing_papers_working_days),
            met: earliest(&[dates.missing_papers_told, dates.papers_complete]),
        });
    }
    if let Some(complete) = dates.papers_complete {
        clocks.push(ClaimClock {
            deadline: Deadline::Decision,
            from: complete,
            due: in_days(complete, settings.decision_days),
            met: decided_on,
        });
        if !refused {
            clocks.push(ClaimClock {
                deadline: Deadline::Advance,
                from: complete,
                due: in_days(complete, settings.advance_days),
                met: earliest(&[decided_on, dates.advance_paid, dates.paid]),
            });
        }
        if dates.fast_lane && !refused {
            clocks.push(ClaimClock {
                deadline: Deadline::FastPayment,
                from: complete,
                due: in_working_days(complete, settings.fast_payment_working_days),
                met: dates.paid,
            });
        }
    }
    match dates.decided {
        Some((on, Outcome::Pay)) => clocks.push(ClaimClock {
            deadline: Deadline::Payment,
            from: on,
            due: in_days(on, settings.payment_days),
            met: dates.paid,
        }),
        Some((on, Outcome::Refuse)) => clocks.push(ClaimClock {
            deadline: Deadline::RefusalNotice,
            from: on,
            due: in_days(on, settings.refusal_notice_days),
            met: dates.refusal_notified,
        }),
        None => {}
    }
    clocks
}

/// The clock a queue orders the claim by: the earliest due among those not met (a breached
/// one first, being the earliest), with its status; `None` when every clock is met.
pub fn most_urgent(
    clocks: &[ClaimClock],
    today: NaiveDate,
    settings: &ClockSettings,
) -> Option<(ClaimClock, ClockStatus)> {
    clocks.iter().filter(|c| c.met.is_none()).min_by_key(|c| c.due).map(|c| (*c, c.status(today, settings)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workdays::notice_2026 as notice;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn clock(clocks: &[ClaimClock], deadline: Deadline) -> ClaimClock {
        *clocks
            .iter()
            .find(|c| c.deadline == deadline)
            .unwrap_or_else(|| panic!("no {deadline:?} in {clocks:?}"))
    }

    fn has(clocks: &[ClaimClock], deadline: Deadline) -> bool {
        clocks.iter().any(|c| c.deadline == deadline)
    }

    fn complete_on(day: NaiveDate) -> ClaimDates {
        ClaimDates { papers_complete: Some(day), ..ClaimDates::reported(day) }
    }

    #[test]
    fn the_decision_is_due_thirty_days_after_complete_papers() {
        let settings = ClockSettings::default();
        // Papers complete Monday 10 August 2026: day 30 is Wednesday 9 September.
        let clocks = claim_clocks(&complete_on(date(2026, 8, 10)), &notice(), &settings);
        assert_eq!(clock(&clocks, Deadline::Decision).due, date(2026, 9, 9));
        // 1 September: day 30 is 1 October, National Day; the period ends on 8 October.
        let dates = complete_on(date(2026, 9, 1));
        let decision = clock(&claim_clocks(&dates, &notice(), &settings), Deadline::Decision);
        assert_eq!(decision.due, date(2026, 10, 8));
        let unrolled = ClockSettings { roll_past_rest_days: false, ..ClockSettings::default() };
        assert_eq!(
            clock(&claim_clocks(&dates, &notice(), &unrolled), Deadline::Decision).due,
            date(2026, 10, 1)
        );
        // Its status as the days go by.
        assert_eq!(
            decision.status(date(2026, 9, 1), &settings),
            ClockStatus::Running { days_left: 37, due_soon: false }
        );
        assert_eq!(
            decision.status(date(2026, 10, 4), &settings),
            ClockStatus::Running { days_left: 4, due_soon: false }
        );
        assert_eq!(
            decision.status(date(2026, 10, 5), &settings),
            ClockStatus::Running { days_left: 3, due_soon: true }
        );
        assert_eq!(
            decision.status(date(2026, 10, 8), &settings),
            ClockStatus::Running { days_left: 0, due_soon: true }
        );
        assert_eq!(decision.status(date(2026, 10, 9), &settings), ClockStatus::Breached { days_late: 1 });
        let decided = ClaimDates { decided: Some((date(2026, 10, 8), Outcome::Pay)), ..dates };
        let met = clock(&claim_clocks(&decided, &notice(), &settings), Deadline::Decision);
        assert_eq!(
            met.status(date(2026, 12, 1), &settings),
            ClockStatus::Met { on: date(2026, 10, 8), days_late: 0 }
        );
        let late = ClaimDates { decided: Some((date(2026, 10, 12), Outcome::Pay)), ..dates };
        let late = clock(&claim_clocks(&late, &notice(), &settings), Deadline::Decision);
        assert_eq!(
            late.status(date(2026, 12, 1), &settings),
            ClockStatus::Met { on: date(2026, 10, 12), days_late: 4 }
        );
        // No papers, no decision clock (art. 23 counts from complete papers).
        assert!(claim_clocks(&ClaimDates::reported(date(2026, 9, 1)), &notice(), &settings).is_empty());
    }

    #[test]
    fn payment_follows_an_approval_and_a_refusal_notice_a_refusal() {
        let settings = ClockSettings::default();
        let base = complete_on(date(2026, 9, 1));
        // Approved Thursday 17 September: day 10 is Sunday 27 September (中秋节), so Monday 28.
        let approved = ClaimDates { decided: Some((date(2026, 9, 17), Outcome::Pay)), ..base };
        let clocks = claim_clocks(&approved, &notice(), &settings);
        assert_eq!(clock(&clocks, Deadline::Payment).due, date(2026, 9, 28));
        assert!(!has(&clocks, Deadline::RefusalNotice));
        // Refused Tuesday 29 September: day 3 is 2 October, so the notice is due 8 October.
        let refused = ClaimDates { decided: Some((date(2026, 9, 29), Outcome::Refuse)), ..base };
        let clocks = claim_clocks(&refused, &notice(), &settings);
        assert_eq!(clock(&clocks, Deadline::RefusalNotice).due, date(2026, 10, 8));
        assert!(!has(&clocks, Deadline::Payment));
        assert!(!has(&clocks, Deadline::Advance), "nothing to advance on a refusal");
        // Refused Monday 14 September: due Thursday 17.
        let plain = ClaimDates { decided: Some((date(2026, 9, 14), Outcome::Refuse)), ..base };
        assert_eq!(
            clock(&claim_clocks(&plain, &notice(), &settings), Deadline::RefusalNotice).due,
            date(2026, 9, 17)
        );
    }

    #[test]
    fn the_certain_part_is_advanced_when_the_amount_is_open_sixty_days_after_the_papers() {
        let settings = ClockSettings::default();
        // Papers complete Saturday 1 August 2026: day 60 is Wednesday 30 September.
        let open = complete_on(date(2026, 8, 1));
        let advance = clock(&claim_clocks(&open, &notice(), &settings), Deadline::Advance);
        assert_eq!(advance.due, date(2026, 9, 30));
        assert_eq!(
            advance.status(date(2026, 9, 30), &settings),
            ClockStatus::Running { days_left: 0, due_soon: true }
        );
        assert_eq!(advance.status(date(2026, 10, 1), &settings), ClockStatus::Breached { days_late: 1 });
        let advanced = ClaimDates { advance_paid: Some(date(2026, 9, 29)), ..open };
        let met = clock(&claim_clocks(&advanced, &notice(), &settings), Deadline::Advance);
        assert_eq!(
            met.status(date(2026, 10, 1), &settings),
            ClockStatus::Met { on: date(2026, 9, 29), days_late: 0 }
        );
        // Decided in time: the amount is certain, nothing to advance.
        let decided = ClaimDates { decided: Some((date(2026, 8, 20), Outcome::Pay)), ..open };
        let met = clock(&claim_clocks(&decided, &notice(), &settings), Deadline::Advance);
        assert_eq!(met.met, Some(date(2026, 8, 20)));
    }

    #[test]
    fn the_fast_lane_counts_working_days_across_the_national_day_week() {
        let settings = ClockSettings::default();
        let calendar = notice();
        // Reported Wednesday 30 September: what is missing is told by Thursday 8 October.
        let reported = ClaimDates { fast_lane: true, ..ClaimDates::reported(date(2026, 9, 30)) };
        let clocks = claim_clocks(&reported, &calendar, &settings);
        assert_eq!(clocks.len(), 1);
        assert_eq!(clock(&clocks, Deadline::FastMissingPapers).due, date(2026, 10, 8));
        // Reported Friday 18 September: Sunday 20 is a make-up working day.
        let friday = ClaimDates { fast_lane: true, ..ClaimDates::reported(date(2026, 9, 18)) };
        assert_eq!(
            clock(&claim_clocks(&friday, &calendar, &settings), Deadline::FastMissingPapers).due,
            date(2026, 9, 20)
        );
        // Papers complete Thursday 24 September: paid by Friday 9 October (28, 29, 30, 8, 9).
        let complete = ClaimDates { papers_complete: Some(date(2026, 9, 24)), ..friday };
        let clocks = claim_clocks(&complete, &calendar, &settings);
        assert_eq!(clock(&clocks, Deadline::FastPayment).due, date(2026, 10, 9));
        assert_eq!(
            clock(&clocks, Deadline::FastMissingPapers).met,
            Some(date(2026, 9, 24)),
            "nothing left to tell"
        );
        let told = ClaimDates { missing_papers_told: Some(date(2026, 9, 21)), ..complete };
        let missing = clock(&claim_clocks(&told, &calendar, &settings), Deadline::FastMissingPapers);
        assert_eq!(
            missing.status(date(2026, 10, 1), &settings),
            ClockStatus::Met { on: date(2026, 9, 21), days_late: 1 }
        );
        // The statutory clocks run as well.
        assert!(has(&clocks, Deadline::Decision));
        // Without the calendar's holidays the same payment would be due 1 October.
        let weekends = claim_clocks(&complete, &WorkCalendar::weekends_only(), &settings);
        assert_eq!(clock(&weekends, Deadline::FastPayment).due, date(2026, 10, 1));
    }

    #[test]
    fn the_fast_lane_takes_small_clear_medical_claims() {
        let settings = ClockSettings::default();
        let yuan = Fen::from_yuan;
        assert!(settings.fast_lane(ClaimKind::AccidentInpatient, yuan(3_000), true));
        assert!(settings.fast_lane(ClaimKind::AccidentOutpatient, Fen::new(1), true));
        assert!(!settings.fast_lane(ClaimKind::AccidentInpatient, Fen::new(300_001), true));
        assert!(!settings.fast_lane(ClaimKind::AccidentInpatient, yuan(500), false), "facts not clear");
        assert!(!settings.fast_lane(ClaimKind::AccidentalDeath, yuan(500), true));
        assert!(!settings.fast_lane(ClaimKind::AccidentInpatient, Fen::ZERO, true));
        let wider = ClockSettings { fast_lane_max: yuan(5_000), ..ClockSettings::default() };
        assert!(wider.fast_lane(ClaimKind::AccidentInpatient, yuan(5_000), true));
    }

    #[test]
    fn the_queue_orders_by_the_earliest_clock_not_met() {
        let settings = ClockSettings::default();
        let dates = ClaimDates { fast_lane: true, ..complete_on(date(2026, 9, 24)) };
        let clocks = claim_clocks(&dates, &notice(), &settings);
        let (first, status) = most_urgent(&clocks, date(2026, 10, 9), &settings).unwrap();
        assert_eq!(first.deadline, Deadline::FastPayment);
        assert_eq!(status, ClockStatus::Running { days_left: 0, due_soon: true });
        let paid = ClaimDates {
            decided: Some((date(2026, 9, 28), Outcome::Pay)),
            paid: Some(date(2026, 9, 29)),
            ..dates
        };
        assert_eq!(
            most_urgent(&claim_clocks(&paid, &notice(), &settings), date(2026, 10, 9), &settings),
            None
        );
    }

    #[test]
    fn rules_and_codes_read_well() {
        let settings = ClockSettings::default();
        for deadline in Deadline::ALL {
            assert_eq!(Deadline::from_code(deadline.code()), Ok(deadline));
        }
        assert_eq!(Deadline::Decision.rule(&settings), "《保险法》第二十三条：材料齐全后30日内作出核定");
        assert_eq!(Deadline::FastPayment.rule(&settings), "快速通道：材料齐全后5个工作日内赔付");
        let stored = serde_json::to_string(&settings).unwrap();
        assert_eq!(serde_json::from_str::<ClockSettings>(&stored).unwrap(), settings);
    }
}
