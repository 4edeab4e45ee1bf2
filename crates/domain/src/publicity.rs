//! Publicity activities (宣传活动) and the code an enrolment carries to say which activity
//! brought it, so each activity's enrolments and premium can be counted.

crate::stored_code! {
    /// The kinds of the speech (三进门, 进村入户, 典型现身说法 …): the ones a city starts
    /// with. The city keeps its kinds in the store (`activity_kinds`), where it renames,
    /// stops and adds them, so an activity's kind is a code of that list, not of this enum.
    pub enum ActivityKind {
        Agencies => ("agencies", "进机关"),
        Schools => ("schools", "进学校"),
        Enterprises => ("enterprises", "进企业"),
        DoorToDoor => ("door_to_door", "进村入户"),
        Testimony => ("testimony", "典型现身说法"),
        News => ("news", "新闻报道"),
        Leaflets => ("leaflets", "资料印发"),
        HappyFamily => ("happy_family", "幸福家庭评比"),
    }
}

/// An activity's code: `HD` and six characters easy to read aloud and type (no 0/O, 1/I).
/// Typed loosely: spaces dropped, lower case folded.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ActivityCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("活动码“{0}”格式不对：活动码以 HD 开头，共8位，如 HD7KQ2MX，见活动的二维码或宣传材料")]
pub struct ActivityCodeError(pub String);

/// The characters of a code after `HD`.
pub const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

impl ActivityCode {
    pub fn parse(input: &str) -> Result<Self, ActivityCodeError> {
        let code: String =
            input.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
        let ok = code.len() == 8
            && code.starts_with("HD")
            && code.bytes().skip(2).all(|b| CODE_ALPHABET.contains(&b));
        if ok {
            Ok(ActivityCode(code))
        } else {
            Err(ActivityCodeError(input.trim().to_owned()))
        }
    }

    /// An optional code from a form or body: empty is none.
    pub fn parse_optional(input: Option<&str>) -> Result<Option<Self>, ActivityCodeError> {
        match input.map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(raw) => Self::parse(raw).map(Some),
        }
    }

    /// A code from six indexes into [`CODE_ALPHABET`] (the store draws them).
    pub fn from_indexes(indexes: [u8; 6]) -> Self {
        let tail: String =
            indexes.iter().map(|i| CODE_ALPHABET[*i as usize % CODE_ALPHABET.len()] as char).collect();
        ActivityCode(format!("HD{tail}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ActivityCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The longest name of an activity kind, in characters.
pub const KIND_LABEL_MAX: usize = 20;

/// Checks the name the city gives a kind of activity: trimmed, 2 to 20 characters, no
/// control characters.
pub fn check_kind_label(raw: &str) -> Result<String, String> {
    let label = raw.trim();
    let count = label.chars().count();
    if !(2..=KIND_LABEL_MAX).contains(&count) || label.chars().any(char::is_control) {
        return Err(format!("活动类型名称须为2到{KIND_LABEL_MAX}个字，如“进社区”"));
    }
    Ok(label.to_owned())
}

/// Checks what an activity records that needs no database.
pub fn check_reached(people: i64) -> Result<i64, String> {
    if (0..=10_000_000).contains(&people) {
        Ok(people)
    } else {
        Err("覆盖人数须在0到10,000,000之间".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kind_label_is_two_to_twenty_characters_without_control_characters() {
        assert_eq!(check_kind_label("  进社区 "), Ok("进社区".to_owned()));
        assert!(check_kind_label("进").is_err());
        assert!(check_kind_label(&"宣".repeat(21)).is_err());
        assert!(check_kind_label(&"宣".repeat(20)).is_ok());
        assert!(check_kind_label("进\n社区").is_err());
    }

    #[test]
    fn kinds_are_a_code_table() {
        crate::codes::check_table::<ActivityKind>().unwrap();
        assert_eq!(ActivityKind::ALL.len(), 8);
    }

    #[test]
    fn codes_are_read_loosely_and_checked() {
        assert_eq!(ActivityCode::parse(" hd7k q2mx ").unwrap().as_str(), "HD7KQ2MX");
        for bad in ["", "HD7KQ2M", "XX7KQ2MX", "HD7KQ2M0", "HD7KQ2MI", "HD7KQ2MXX"] {
            assert!(ActivityCode::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(ActivityCode::parse_optional(Some("  ")).unwrap(), None);
        let drawn = ActivityCode::from_indexes([0, 1, 2, 31, 32, 255]);
        assert_eq!(ActivityCode::parse(drawn.as_str()).unwrap(), drawn);
    }
}
