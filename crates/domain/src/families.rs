//! Families (计生家庭) and their members: categories, poverty status, relationships and
//! member events. Category names are settings (a scheme may add its own); the codes of the
//! defaults below are what the database stores.

use serde::{Deserialize, Serialize};

/// A family category: a stable code and the name users read. The list is configurable;
/// [`FamilyCategory::DEFAULTS`] are PRODUCT.md's.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FamilyCategory {
    pub code: String,
    pub name: String,
}

impl FamilyCategory {
    pub const DEFAULTS: [(&'static str, &'static str); 6] = [
        ("only_child", "独生子女家庭"),
        ("rural_two_daughters", "农村二女户"),
        ("special_lost", "计生特殊家庭（失独）"),
        ("special_disabled", "计生特殊家庭（伤残）"),
        ("three_child", "三孩政策内家庭"),
        ("general", "一般计生家庭"),
    ];

    pub fn defaults() -> Vec<FamilyCategory> {
        Self::DEFAULTS
            .iter()
            .map(|(code, name)| FamilyCategory { code: (*code).to_owned(), name: (*name).to_owned() })
            .collect()
    }

    /// Special families (失独/伤残): sensitive under PIPL, shown only to roles that need it.
    pub fn is_special(code: &str) -> bool {
        code.starts_with("special_")
    }
}

/// A person's name as users type it: trimmed, 1 to [`PersonName::MAX_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PersonName(String);

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("姓名不能为空，且不超过{max}个字", max = PersonName::MAX_CHARS)]
pub struct PersonNameError;

impl PersonName {
    pub const MAX_CHARS: usize = 50;

    pub fn parse(raw: &str) -> Result<PersonName, PersonNameError> {
        let name = raw.trim();
        if name.is_empty() || name.chars().count() > Self::MAX_CHARS {
            return Err(PersonNameError);
        }
        Ok(PersonName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

crate::stored_code! {
    /// Poverty status (脱贫户 / 监测户 / 低保户), used by subsidy rules.
    pub enum PovertyStatus {
        None => ("none", "无"),
        /// 脱贫户: lifted out of poverty, still supported.
        Lifted => ("lifted", "脱贫户"),
        /// 监测户: monitored for relapse.
        Monitored => ("monitored", "监测户"),
        /// 低保户: on minimum living allowance.
        Dibao => ("dibao", "低保户"),
    }
}

impl PovertyStatus {
    /// Reads what a person typed: the code, the label, or nothing for none.
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        Self::ALL
            .into_iter()
            .find(|s| s.code() == raw || s.label() == raw || (raw.is_empty() && *s == PovertyStatus::None))
    }
}

crate::stored_code! {
    /// A member's relationship to the head of the household (与户主关系).
    pub enum Relationship {
        Head => ("head", "户主"),
        Spouse => ("spouse", "配偶"),
        Child => ("child", "子女"),
        Parent => ("parent", "父母"),
        Grandchild => ("grandchild", "孙子女"),
        ChildInLaw => ("child_in_law", "儿媳/女婿"),
        Sibling => ("sibling", "兄弟姐妹"),
        Other => ("other", "其他"),
    }
}

impl Relationship {
    /// Reads the code or the words rosters use (本人, 妻, 长子, 之女 …).
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        if let Some(found) = Self::ALL.into_iter().find(|r| r.code() == raw || r.label() == raw) {
            return Some(found);
        }
        let found = match raw {
            "本人" | "户主本人" => Relationship::Head,
            "妻" | "夫" | "妻子" | "丈夫" => Relationship::Spouse,
            "父亲" | "母亲" | "父" | "母" => Relationship::Parent,
            "儿媳" | "女婿" => Relationship::ChildInLaw,
            "孙子" | "孙女" | "外孙" | "外孙女" => Relationship::Grandchild,
            "兄" | "弟" | "姐" | "妹" => Relationship::Sibling,
            _ if raw.ends_with('子') || raw.ends_with('女') => Relationship::Child,
            _ => return None,
        };
        Some(found)
    }
}

crate::stored_code! {
    /// What happened to a member, recorded with its date.
    pub enum MemberEvent {
        Birth => ("birth", "出生"),
        Death => ("death", "死亡"),
        Marriage => ("marriage", "婚姻"),
        MoveAway => ("move_away", "迁出"),
        /// Moved to another family (an explicit, audited action).
        Transfer => ("transfer", "转入其他家庭"),
    }
}

impl MemberEvent {
    /// Whether the member stops being part of the household from that date.
    pub const fn ends_membership(self) -> bool {
        matches!(self, MemberEvent::Death | MemberEvent::MoveAway | MemberEvent::Transfer)
    }
}

/// Below this age (in full years) a child's personal data is processed only with a
/// guardian's consent (PIPL art. 28 and 31: personal information of minors under 14 is
/// sensitive and needs the consent of a parent or other guardian).
pub const GUARDIAN_CONSENT_AGE: u32 = 14;

/// Whether a person born on `birth` needs a guardian's consent on `on`: under
/// [`GUARDIAN_CONSENT_AGE`] full years (the fourteenth birthday ends it).
pub fn needs_guardian_consent(birth: chrono::NaiveDate, on: chrono::NaiveDate) -> bool {
    crate::products::full_years(birth, on) < GUARDIAN_CONSENT_AGE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guardian_consents_until_the_fourteenth_birthday() {
        let d = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert!(needs_guardian_consent(d(2012, 9, 2), d(2026, 9, 1)), "13 the day before");
        assert!(!needs_guardian_consent(d(2012, 9, 1), d(2026, 9, 1)), "14 on the birthday");
        assert!(!needs_guardian_consent(d(2011, 6, 1), d(2026, 9, 1)), "15");
        assert!(!needs_guardian_consent(d(1990, 1, 1), d(2026, 9, 1)));
    }

    #[test]
    fn roster_words_map_to_relationships() {
        assert_eq!(Relationship::parse("本人"), Some(Relationship::Head));
        assert_eq!(Relationship::parse("妻"), Some(Relationship::Spouse));
        assert_eq!(Relationship::parse("长子"), Some(Relationship::Child));
        assert_eq!(Relationship::parse("次女"), Some(Relationship::Child));
        assert_eq!(Relationship::parse("孙女"), Some(Relationship::Grandchild));
        assert_eq!(Relationship::parse("spouse"), Some(Relationship::Spouse));
        assert_eq!(Relationship::parse("邻居"), None);
    }

    #[test]
    fn poverty_status_reads_codes_and_labels() {
        assert_eq!(PovertyStatus::parse("低保户"), Some(PovertyStatus::Dibao));
        assert_eq!(PovertyStatus::parse("lifted"), Some(PovertyStatus::Lifted));
        assert_eq!(PovertyStatus::parse(""), Some(PovertyStatus::None));
        assert_eq!(PovertyStatus::parse("富裕户"), None);
    }

    #[test]
    fn special_categories_are_recognised() {
        assert!(FamilyCategory::is_special("special_lost"));
        assert!(!FamilyCategory::is_special("only_child"));
        assert_eq!(FamilyCategory::defaults().len(), 6);
    }

    #[test]
    fn a_name_is_trimmed_and_bounded() {
        assert_eq!(PersonName::parse("  张三 ").unwrap().as_str(), "张三");
        assert_eq!(PersonName::parse(" \t"), Err(PersonNameError));
        assert!(PersonName::parse(&"王".repeat(50)).is_ok());
        assert_eq!(PersonName::parse(&"王".repeat(51)), Err(PersonNameError));
        assert_eq!(PersonNameError.to_string(), "姓名不能为空，且不超过50个字");
    }
}
