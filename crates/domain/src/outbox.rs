//! Messages to families and their village agents (SMS, WeChat template messages) as the
//! outbox keeps them: the
//! channel, the state, the quiet hours no message is sent in, the back-off between
//! attempts, and the texts, in Chinese. Pure rules; the store keeps the messages and the
//! sender job sends them.

use chrono::{Days, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};
use serde::{Deserialize, Serialize};

use crate::claims::{ClaimKind, Paper};
use crate::money::Fen;
use crate::products::prose_date;

crate::stored_code! {
    /// How a message reaches the family's phone.
    pub enum MessageChannel {
        Sms => ("sms", "短信"),
        /// A WeChat template message: not private (shown on a lock screen, to whoever
        /// follows the account), so names are masked in it.
        Wechat => ("wechat", "微信模板消息"),
    }
}

impl MessageChannel {
    /// Whether the head of the family is named in full: an SMS goes to the family's own
    /// phone; a WeChat template message is not private.
    pub const fn private(self) -> bool {
        matches!(self, MessageChannel::Sms)
    }
}

crate::stored_code! {
    /// A message's state in the outbox.
    pub enum MessageState {
        Queued => ("queued", "待发送"),
        /// Claimed by one sender (until its lease ends).
        Sending => ("sending", "发送中"),
        Sent => ("sent", "已发送"),
        /// Given up after the last attempt.
        Failed => ("failed", "发送失败"),
        /// Not sent: the family opted out.
        OptedOut => ("opted_out", "已退订，不发送"),
        /// Not sent: what it was about is settled (a reminder of a policy renewed since).
        Cancelled => ("cancelled", "已取消（已续保）"),
    }
}

/// The hours no message is sent in (China time), e.g. 21:00 to 08:00.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuietHours {
    pub from: NaiveTime,
    pub until: NaiveTime,
}

impl Default for QuietHours {
    fn default() -> Self {
        QuietHours {
            from: NaiveTime::from_hms_opt(21, 0, 0).expect("valid"),
            until: NaiveTime::from_hms_opt(8, 0, 0).expect("valid"),
        }
    }
}

impl QuietHours {
    /// Whether `local` (China time) falls in the quiet hours.
    pub fn quiet(&self, local: NaiveDateTime) -> bool {
        let t = local.time();
        if self.from <= self.until {
            t >= self.from && t < self.until
        } else {
            t >= self.from || t < self.until
        }
    }

    /// The first moment at or after `local` outside the quiet hours.
    pub fn next_allowed(&self, local: NaiveDateTime) -> NaiveDateTime {
        if !self.quiet(local) {
            return local;
        }
        let today_end = local.date().and_time(self.until);
        if today_end > local {
            today_end
        } else {
            local.date().checked_add_days(Days::new(1)).unwrap_or(local.date()).and_time(self.until)
        }
    }
}

/// Attempts before a message is given up.
pub const MAX_ATTEMPTS: i32 = 5;

/// The wait after the `attempts`-th failed attempt: 1, 5, 25 minutes … at most 6 hours.
pub fn retry_delay(attempts: i32) -> TimeDelta {
    let minutes = 5i64.saturating_pow(attempts.clamp(1, 10) as u32 - 1).min(6 * 60);
    TimeDelta::minutes(minutes)
}

/// The days before a policy's end a reminder goes out (default 30, 7 and 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderDays(pub Vec<u32>);

impl Default for ReminderDays {
    fn default() -> Self {
        ReminderDays(vec![30, 7, 1])
    }
}

impl ReminderDays {
    /// The end dates whose reminders are due on `today`, with their days before.
    pub fn ends_on(&self, today: NaiveDate) -> Vec<(u32, NaiveDate)> {
        self.0.iter().filter_map(|d| Some((*d, today.checked_add_days(Days::new(u64::from(*d)))?))).collect()
    }
}

/// The renewal reminder's text. `head` is the head's name as the channel may show it.
pub fn renewal_reminder(head: &str, end: NaiveDate, days_before: u32, family_part: Option<Fen>) -> String {
    let pay = match family_part {
        Some(part) if part.get() > 0 => format!("下一年度家庭应缴{part}。"),
        Some(_) => "下一年度保费已由资助方全额承担，家庭无需缴费。".to_owned(),
        None => String::new(),
    };
    format!(
        "【关爱保险】{head}户您好：您家的计生家庭意外伤害保险将于{}到期（还有{days_before}天），请及时联系村服务专员办理续保。{pay}回复TD退订。",
        prose_date(end)
    )
}

/// What a message is, as the outbox stores it (`outbox.template`) and its dedup key begins.
pub mod templates {
    /// Before a policy's end: renew (`renewal:<policy>:<days before>`).
    pub const REMINDER: &str = "renewal_reminder";
    /// A renewal written (`renewed:<new policy>`).
    pub const RENEWED: &str = "renewal_confirmed";
    /// A policy lapsed and its follow-up opened (`lapsed:<policy>`).
    pub const LAPSED: &str = "renewal_lapsed";
    /// To the family's village agent: the insurer asked for a claim's missing papers
    /// (`claim_papers:<claim>:<agent>:<papers>`). Sent whatever the family opted out of:
    /// it goes to the agent, not the family.
    pub const CLAIM_PAPERS: &str = "claim_papers_missing";
}

/// The text telling a family's village agent which papers of a claim the insurer asked
/// for, all at once (保险法 art. 22). `head` is the head's name as the channel may show it.
pub fn missing_papers_notice(
    agent: &str,
    head: &str,
    claim_id: i64,
    kind: ClaimKind,
    papers: &[Paper],
) -> String {
    let list: Vec<&str> = papers.iter().map(|p| p.label()).collect();
    format!(
        "【关爱保险】{agent}您好：{head}户的理赔案件{claim_id}（{}），保险公司一次性告知需补充以下材料：{}。请协助家庭尽快补齐并拍照上传。",
        kind.label(),
        list.join("、")
    )
}

/// The dedup key of a missing-papers notice: one per claim, agent and set of papers asked
/// for, so the same request made again writes nothing.
pub fn missing_papers_key(claim_id: i64, agent_id: i64, papers: &[Paper]) -> String {
    let mask = papers
        .iter()
        .filter_map(|p| Paper::ALL.iter().position(|q| q == p))
        .fold(0u64, |mask, i| mask | (1u64 << (i % 64)));
    format!("claim_papers:{claim_id}:{agent_id}:{mask:x}")
}

/// The text confirming a renewal: next year's cover and what the family pays.
pub fn renewal_confirmed(head: &str, start: NaiveDate, end: NaiveDate, family_part: Fen) -> String {
    let pay = if family_part.get() > 0 {
        format!("家庭应缴{family_part}，请按村服务专员的通知缴纳。")
    } else {
        "保费已由资助方全额承担，家庭无需缴费。".to_owned()
    };
    format!(
        "【关爱保险】{head}户您好：您家的计生家庭意外伤害保险已续保，保障期{}至{}。{pay}回复TD退订。",
        prose_date(start),
        prose_date(end)
    )
}

/// The text telling a family its policy lapsed: the grace period is over, the agent will
/// call.
pub fn lapse_notice(head: &str, end: NaiveDate) -> String {
    format!(
        "【关爱保险】{head}户您好：您家的计生家庭意外伤害保险已于{}到期，续保宽限期已过，目前未参保。村服务专员将与您联系；如需参保，请联系村服务专员办理。回复TD退订。",
        prose_date(end)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::check_table;

    fn at(h: u32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2027, 8, 1).unwrap().and_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn the_code_tables_read_back() {
        check_table::<MessageChannel>().unwrap();
        check_table::<MessageState>().unwrap();
        assert!(MessageChannel::Sms.private() && !MessageChannel::Wechat.private());
    }

    #[test]
    fn nothing_is_sent_at_night() {
        let quiet = QuietHours::default();
        assert!(quiet.quiet(at(21, 0)) && quiet.quiet(at(23, 59)) && quiet.quiet(at(7, 59)));
        assert!(!quiet.quiet(at(8, 0)) && !quiet.quiet(at(20, 59)));
        assert_eq!(quiet.next_allowed(at(10, 0)), at(10, 0));
        assert_eq!(quiet.next_allowed(at(6, 30)), at(8, 0));
        let next_morning = NaiveDate::from_ymd_opt(2027, 8, 2).unwrap().and_hms_opt(8, 0, 0).unwrap();
        assert_eq!(quiet.next_allowed(at(22, 15)), next_morning);
        // A quiet window within one day.
        let lunch = QuietHours {
            from: NaiveTime::from_hms_opt(12, 0, 0).unwrap(),
            until: NaiveTime::from_hms_opt(14, 0, 0).unwrap(),
        };
        assert!(lunch.quiet(at(12, 30)) && !lunch.quiet(at(22, 0)));
        assert_eq!(lunch.next_allowed(at(13, 0)), at(14, 0));
    }

    #[test]
    fn retries_back_off_to_at_most_six_hours() {
        assert_eq!(retry_delay(1), TimeDelta::minutes(1));
        assert_eq!(retry_delay(2), TimeDelta::minutes(5));
        assert_eq!(retry_delay(3), TimeDelta::minutes(25));
        assert_eq!(retry_delay(9), TimeDelta::hours(6));
        assert_eq!(retry_delay(0), TimeDelta::minutes(1));
    }

    #[test]
    fn reminders_go_out_thirty_seven_and_one_day_before_the_end() {
        let today = NaiveDate::from_ymd_opt(2027, 8, 1).unwrap();
        let ends = ReminderDays::default().ends_on(today);
        assert_eq!(ends[0], (30, NaiveDate::from_ymd_opt(2027, 8, 31).unwrap()));
        assert_eq!(ends[2], (1, NaiveDate::from_ymd_opt(2027, 8, 2).unwrap()));
        let text = renewal_reminder(
            "张*",
            NaiveDate::from_ymd_opt(2027, 8, 31).unwrap(),
            30,
            Some(Fen::from_yuan(90)),
        );
        assert!(text.starts_with("【关爱保险】张*户您好"), "{text}");
        assert!(
            text.contains("2027年8月31日到期（还有30天）") && text.contains("家庭应缴90.00 元"),
            "{text}"
        );
        assert!(renewal_reminder("张三", today, 1, Some(Fen::ZERO)).contains("家庭无需缴费"));
    }

    #[test]
    fn the_agent_is_told_every_missing_paper_once_per_request() {
        let papers = [Paper::BankCard, Paper::MedicalRecords];
        let text = missing_papers_notice("刘敏", "张*", 7, ClaimKind::AccidentOutpatient, &papers);
        assert!(text.starts_with("【关爱保险】刘敏您好：张*户的理赔案件7"), "{text}");
        assert!(
            text.contains(&format!("{}、{}", Paper::BankCard.label(), Paper::MedicalRecords.label())),
            "{text}"
        );
        let key = missing_papers_key(7, 3, &papers);
        assert_eq!(key, missing_papers_key(7, 3, &[Paper::MedicalRecords, Paper::BankCard]));
        assert_ne!(key, missing_papers_key(7, 3, &[Paper::BankCard]));
        assert_ne!(key, missing_papers_key(7, 4, &papers));
        assert!(missing_papers_key(i64::MAX, i64::MAX, &Paper::ALL).len() <= 100, "fits the outbox's key");
    }

    #[test]
    fn a_renewal_and_a_lapse_each_tell_the_family_in_chinese() {
        let start = NaiveDate::from_ymd_opt(2027, 9, 1).unwrap();
        let end = NaiveDate::from_ymd_opt(2028, 8, 31).unwrap();
        let text = renewal_confirmed("张三", start, end, Fen::from_yuan(110));
        assert!(
            text.contains("保障期2027年9月1日至2028年8月31日") && text.contains("家庭应缴110.00 元"),
            "{text}"
        );
        assert!(renewal_confirmed("张*", start, end, Fen::ZERO).contains("家庭无需缴费"));
        let lapsed = lapse_notice("张*", NaiveDate::from_ymd_opt(2027, 8, 31).unwrap());
        assert!(
            lapsed.starts_with("【关爱保险】张*户您好") && lapsed.contains("2027年8月31日到期"),
            "{lapsed}"
        );
    }
}
