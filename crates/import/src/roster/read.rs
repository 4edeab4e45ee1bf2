//! Step 1 of a roster plan: each row on its own, read into a person as the file is read
//! (name, ID number, relationship, village, family category …), or refused with the reason.

use chrono::NaiveDate;
use guanai_domain::families::{FamilyCategory, PovertyStatus, Relationship};
use guanai_domain::identity::{IdNumber, Mobile};
use guanai_store::Actor;

use super::Verdict;
use crate::columns::{recognise, ColumnMap, Field};
use crate::places::{Places, VillageMemo};
use crate::table::SourceRow;
use crate::ImportError;

/// A row read into a person, before households and the registry are looked at. A
/// million of these are held at once: what only a household's head gives (address, phone)
/// is kept for heads only.
#[derive(Debug, Clone)]
pub(super) struct PersonRow {
    pub(super) index: usize,
    pub(super) name: Box<str>,
    pub(super) id: IdNumber,
    pub(super) relationship: Relationship,
    /// The village's number in the reading's [`VillageMemo`].
    pub(super) village: u32,
    /// Phone and address, for a household's head only.
    pub(super) head: Option<Box<(Option<Mobile>, String)>>,
    pub(super) category: &'static str,
    pub(super) poverty: PovertyStatus,
    pub(super) head_id: Option<IdNumber>,
    /// Remarks for a warned row, joined by `；` (empty when none).
    pub(super) remarks: Box<str>,
}

fn category_code(raw: &str) -> Option<&'static str> {
    let text = raw.trim();
    if text.is_empty() {
        return Some("general");
    }
    if let Some((code, _)) =
        FamilyCategory::DEFAULTS.iter().find(|(code, name)| *code == text || *name == text)
    {
        return Some(code);
    }
    let code = if text.contains("失独") {
        "special_lost"
    } else if text.contains("伤残") {
        "special_disabled"
    } else if text.contains("独生") {
        "only_child"
    } else if text.contains("二女") || text.contains("双女") {
        "rural_two_daughters"
    } else if text.contains("三孩") {
        "three_child"
    } else if text.contains("一般") || text.contains("其他") {
        "general"
    } else {
        return None;
    };
    Some(code)
}

fn poverty(raw: &str) -> Option<PovertyStatus> {
    match raw.trim() {
        "是" | "脱贫" | "脱贫人口" => Some(PovertyStatus::Lifted),
        "否" | "非贫困户" | "一般户" => Some(PovertyStatus::None),
        "低保" => Some(PovertyStatus::Dibao),
        "监测对象" | "监测" => Some(PovertyStatus::Monitored),
        other => PovertyStatus::parse(other),
    }
}

/// A date as rosters write it: `1990-01-01`, `1990/1/1`, `1990.1.1`, `19900101`,
/// `1990年1月1日`, or a spreadsheet date serial.
pub fn parse_roster_date(raw: &str) -> Option<NaiveDate> {
    let text = raw.trim();
    if let Ok(serial) = text.parse::<f64>() {
        if (1.0..80_000.0).contains(&serial) && !(text.len() == 8 && text.starts_with(['1', '2'])) {
            // Spreadsheet serials count days from 1899-12-30.
            return NaiveDate::from_ymd_opt(1899, 12, 30)?
                .checked_add_signed(chrono::Duration::days(serial.trunc() as i64));
        }
    }
    let normalised: String = text
        .replace(['年', '月', '/', '.'], "-")
        .trim_end_matches('日')
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    NaiveDate::parse_from_str(&normalised, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(&normalised, "%Y%m%d"))
        .ok()
}

fn cell<'a>(row: &'a SourceRow, map: &ColumnMap, field: Field) -> &'a str {
    map.get(field).and_then(|i| row.cells.get(i)).map(|c| c.trim()).unwrap_or_default()
}

pub(super) fn read_person(
    index: usize,
    row: &SourceRow,
    map: &ColumnMap,
    places: &Places,
    memo: &mut VillageMemo,
    today: NaiveDate,
) -> Result<PersonRow, String> {
    let name = cell(row, map, Field::Name);
    if name.is_empty() {
        return Err("姓名为空".to_owned());
    }
    if name.chars().count() > 50 {
        return Err("姓名过长（超过50个字）".to_owned());
    }
    let parsed = IdNumber::parse(cell(row, map, Field::IdNumber)).map_err(|e| format!("身份证号：{e}"))?;
    let mut remarks = Vec::new();
    if parsed.upgraded_from_15 {
        remarks.push(format!("15位旧身份证号已升级为18位（{}）", parsed.id.masked()));
    }
    let id = parsed.id;
    if id.birth_date() > today {
        return Err(format!("身份证号中的出生日期 {} 晚于今天，请核对", id.birth_date()));
    }
    let relationship_text = cell(row, map, Field::Relationship);
    let relationship = Relationship::parse(relationship_text).ok_or_else(|| {
        format!("与户主关系“{relationship_text}”无法识别，请填写 户主、配偶、子女、父母、孙子女 等")
    })?;
    let village = memo.village(
        places,
        cell(row, map, Field::County),
        cell(row, map, Field::Township),
        cell(row, map, Field::Village),
    )?;
    let phone_text = cell(row, map, Field::Phone);
    let phone = if phone_text.is_empty() {
        None
    } else {
        match Mobile::parse(phone_text) {
            Ok(phone) => Some(phone),
            Err(_) => {
                remarks.push(format!("联系电话“{phone_text}”不是有效手机号，未导入"));
                None
            }
        }
    };
    let category_text = cell(row, map, Field::Category);
    let category =
        category_code(category_text).ok_or_else(|| format!("家庭类型“{category_text}”无法识别"))?;
    let poverty_text = cell(row, map, Field::Poverty);
    let poverty = poverty(poverty_text)
        .ok_or_else(|| format!("脱贫状态“{poverty_text}”无法识别，请填写 脱贫户、监测户、低保户 或留空"))?;
    let birth_text = cell(row, map, Field::BirthDate);
    if !birth_text.is_empty() {
        match parse_roster_date(birth_text) {
            Some(date) if date != id.birth_date() => {
                remarks.push(format!(
                    "出生日期 {date} 与身份证号中的 {} 不一致，以身份证号为准",
                    id.birth_date()
                ));
            }
            Some(_) => {}
            None => remarks.push(format!("出生日期“{birth_text}”无法识别，以身份证号为准")),
        }
    }
    let sex_text = cell(row, map, Field::Sex);
    if !sex_text.is_empty() && sex_text != id.sex().label() {
        remarks.push(format!("性别“{sex_text}”与身份证号不一致，以身份证号为准"));
    }
    let head_text = cell(row, map, Field::HeadIdNumber);
    let head_id = if head_text.is_empty() {
        None
    } else {
        Some(IdNumber::parse(head_text).map_err(|e| format!("户主身份证号：{e}"))?.id)
    };
    let head = (relationship == Relationship::Head)
        .then(|| Box::new((phone, cell(row, map, Field::Address).chars().take(200).collect())));
    Ok(PersonRow {
        index,
        name: name.into(),
        id,
        relationship,
        village,
        head,
        category,
        poverty,
        head_id,
        remarks: remarks.join("；").into(),
    })
}

/// What a row says about the household it belongs to, whether it was read into a person
/// or refused: rows are grouped into households from these, so the members of a refused
/// head are never taken for the household above.
#[derive(Debug, Clone, Copy)]
pub(super) struct Mark {
    /// The household's key (its village and, when the roster has the column, its head's
    /// name); `None` when the row does not say (the household goes on).
    pub(super) key: Option<u64>,
    /// The row is a head's (与户主关系 says 户主), read or refused.
    pub(super) head: bool,
}

/// Step 1 of a plan: each row on its own, as the file is read.
pub(super) struct Reading {
    pub(super) headers: Vec<String>,
    pub(super) map: ColumnMap,
    pub(super) memo: VillageMemo,
    pub(super) people: Vec<PersonRow>,
    /// Per row: its line in the file, and its verdict once known.
    pub(super) lines: Vec<usize>,
    /// Today in China: no one is born after it.
    today: NaiveDate,
    pub(super) outcome: Vec<Option<(Verdict, String)>>,
    /// Per row: its household mark.
    pub(super) marks: Vec<Mark>,
}

impl Reading {
    /// `today` (the store's clock, a China date) bounds the birth dates.
    pub(super) fn new(
        headers: Vec<String>,
        overrides: &[(Field, usize)],
        today: NaiveDate,
    ) -> Result<Reading, ImportError> {
        let mut map = recognise(&headers);
        for (field, column) in overrides {
            map.assign(*field, *column);
        }
        let missing = map.missing();
        if !missing.is_empty() {
            let names: Vec<&str> = missing.iter().map(|f| f.label()).collect();
            return Err(ImportError::MissingColumns { names: names.join("、"), headers });
        }
        Ok(Reading {
            headers,
            map,
            today,
            memo: VillageMemo::default(),
            people: Vec::new(),
            lines: Vec::new(),
            outcome: Vec::new(),
            marks: Vec::new(),
        })
    }

    /// The row's household mark: its village (the code when the names are found, else
    /// the names as written) and, in a roster with a head's-name column, that name (the
    /// row's own name on a head's row that leaves it empty).
    fn mark(&mut self, row: &SourceRow, places: &Places) -> Mark {
        use std::hash::{Hash, Hasher};
        let map = &self.map;
        let head = Relationship::parse(cell(row, map, Field::Relationship)) == Some(Relationship::Head);
        let (county, township, village) =
            (cell(row, map, Field::County), cell(row, map, Field::Township), cell(row, map, Field::Village));
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        match self.memo.village(places, county, township, village) {
            Ok(number) => (0u8, number).hash(&mut hasher),
            Err(_) => (1u8, county, township, village).hash(&mut hasher),
        }
        if map.get(Field::HeadName).is_some() {
            let named = cell(row, map, Field::HeadName);
            let name = if named.is_empty() && head { cell(row, map, Field::Name) } else { named };
            if name.is_empty() {
                return Mark { key: None, head };
            }
            name.hash(&mut hasher);
        }
        Mark { key: Some(hasher.finish()), head }
    }

    pub(super) fn read(&mut self, row: &SourceRow, places: &Places, actor: &Actor) {
        let index = self.lines.len();
        self.lines.push(row.line);
        let mark = self.mark(row, places);
        self.marks.push(mark);
        let refused = match read_person(index, row, &self.map, places, &mut self.memo, self.today) {
            Ok(person) if !actor.sees(self.memo.code(person.village)) => {
                Some(format!("{}不在您的管辖范围内", places.name(self.memo.code(person.village))))
            }
            Ok(person) => {
                self.people.push(person);
                None
            }
            Err(reason) => Some(reason),
        };
        self.outcome.push(refused.map(|reason| (Verdict::Refused, reason)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_every_form_people_write_them() {
        let d = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap();
        for text in ["1990-01-01", "1990/1/1", "1990.1.1", "19900101", "1990年1月1日", "32874"] {
            assert_eq!(parse_roster_date(text), Some(d), "{text}");
        }
        assert_eq!(parse_roster_date("1990-02-30"), None);
        assert_eq!(parse_roster_date("明天"), None);
    }

    #[test]
    fn category_and_poverty_words_are_understood() {
        assert_eq!(category_code("独生子女户"), Some("only_child"));
        assert_eq!(category_code("农村二女户"), Some("rural_two_daughters"));
        assert_eq!(category_code("计生特殊家庭（失独）"), Some("special_lost"));
        assert_eq!(category_code(""), Some("general"));
        assert_eq!(category_code("外星家庭"), None);
        assert_eq!(poverty("是"), Some(PovertyStatus::Lifted));
        assert_eq!(poverty("低保户"), Some(PovertyStatus::Dibao));
        assert_eq!(poverty(""), Some(PovertyStatus::None));
    }
}
