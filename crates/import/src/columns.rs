//! Recognising a roster's columns by the names counties give them (身份证号 / 身份证号码 /
//! 公民身份号码 / 证件号码 …), full-width and half-width brackets alike; the user maps what
//! is left.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What a roster column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Name,
    IdNumber,
    Relationship,
    County,
    Township,
    Village,
    Phone,
    Category,
    Poverty,
    Address,
    BirthDate,
    Sex,
    /// The head's ID number on every member's row: groups rows into households.
    HeadIdNumber,
    /// The head's name on every member's row: a household starts where it (or the
    /// village) changes.
    HeadName,
}

impl Field {
    pub const ALL: [Field; 14] = [
        Field::Name,
        Field::IdNumber,
        Field::Relationship,
        Field::County,
        Field::Township,
        Field::Village,
        Field::Phone,
        Field::Category,
        Field::Poverty,
        Field::Address,
        Field::BirthDate,
        Field::Sex,
        Field::HeadIdNumber,
        Field::HeadName,
    ];

    pub const fn label(self) -> &'static str {
        match self {
            Field::Name => "姓名",
            Field::IdNumber => "身份证号",
            Field::Relationship => "与户主关系",
            Field::County => "县（市、区）",
            Field::Township => "乡镇（街道）",
            Field::Village => "村（社区）",
            Field::Phone => "联系电话",
            Field::Category => "家庭类型",
            Field::Poverty => "脱贫状态",
            Field::Address => "家庭住址",
            Field::BirthDate => "出生日期",
            Field::Sex => "性别",
            Field::HeadIdNumber => "户主身份证号",
            Field::HeadName => "户主姓名",
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::IdNumber => "id_number",
            Field::Relationship => "relationship",
            Field::County => "county",
            Field::Township => "township",
            Field::Village => "village",
            Field::Phone => "phone",
            Field::Category => "category",
            Field::Poverty => "poverty",
            Field::Address => "address",
            Field::BirthDate => "birth_date",
            Field::Sex => "sex",
            Field::HeadIdNumber => "head_id_number",
            Field::HeadName => "head_name",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == raw)
    }

    /// Required for an import: without these a row cannot become a person in a village.
    pub const REQUIRED: [Field; 4] = [Field::Name, Field::IdNumber, Field::Relationship, Field::Village];

    /// Header names seen in county rosters, after normalisation.
    fn synonyms(self) -> &'static [&'static str] {
        match self {
            Field::Name => &["姓名", "被保险人姓名", "成员姓名", "参保人姓名", "名字", "参保人员姓名"],
            Field::IdNumber => &[
                "身份证号",
                "身份证号码",
                "公民身份号码",
                "证件号码",
                "身份证",
                "公民身份证号码",
                "被保险人身份证号",
            ],
            Field::Relationship => &["与户主关系", "关系", "家庭关系", "与户主的关系"],
            Field::County => {
                &["县(市、区)", "县区", "县(市,区)", "县市区", "县(区)", "县", "区县", "县(市区)"]
            }
            Field::Township => {
                &["乡镇(街道)", "乡镇", "乡(镇)", "乡镇街道", "乡(镇、街道)", "街道", "乡镇(场)"]
            }
            Field::Village => &["村(社区)", "村居", "村", "社区", "村(居)", "村委会", "村(居)委会", "行政村"],
            Field::Phone => &["联系电话", "手机号码", "手机号", "电话", "电话号码", "联系方式"],
            Field::Category => &["家庭类型", "计生家庭类型", "户类型", "家庭类别"],
            Field::Poverty => &["脱贫状态", "是否脱贫户", "贫困状态", "脱贫户类型", "帮扶类型"],
            Field::Address => &["家庭住址", "地址", "住址", "家庭地址"],
            Field::BirthDate => &["出生日期", "出生年月", "出生年月日"],
            Field::Sex => &["性别"],
            Field::HeadIdNumber => &["户主身份证号", "户主身份证号码", "户主公民身份号码"],
            Field::HeadName => &["户主姓名", "户主", "户主名", "户主名字", "户主姓名(户主)"],
        }
    }
}

/// A header as compared: no spaces, markers or line breaks; full-width brackets and
/// commas as half-width.
pub fn normalise_header(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '*' | '＊' | '※'))
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            '，' => ',',
            '、' => '、',
            other => other,
        })
        .collect()
}

/// Which column holds which field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnMap {
    pub fields: BTreeMap<Field, usize>,
}

impl ColumnMap {
    pub fn recognised(&self) -> usize {
        self.fields.len()
    }

    pub fn get(&self, field: Field) -> Option<usize> {
        self.fields.get(&field).copied()
    }

    /// The user's column choices as stored with a job: `name=3;village=5` (0-based).
    pub fn encode_overrides(overrides: &[(Field, usize)]) -> String {
        overrides.iter().map(|(f, c)| format!("{}={c}", f.as_str())).collect::<Vec<_>>().join(";")
    }

    pub fn decode_overrides(text: &str) -> Vec<(Field, usize)> {
        text.split(';')
            .filter_map(|pair| {
                let (field, column) = pair.split_once('=')?;
                Some((Field::parse(field)?, column.parse().ok()?))
            })
            .collect()
    }

    /// Required fields no column holds.
    pub fn missing(&self) -> Vec<Field> {
        Field::REQUIRED.into_iter().filter(|f| !self.fields.contains_key(f)).collect()
    }

    /// The user's choice for a column wins over recognition.
    pub fn assign(&mut self, field: Field, column: usize) {
        self.fields.retain(|_, c| *c != column);
        self.fields.insert(field, column);
    }
}

/// Recognises the columns of a header row. The first column with a name wins a field.
pub fn recognise(headers: &[String]) -> ColumnMap {
    let mut map = ColumnMap::default();
    for (index, header) in headers.iter().enumerate() {
        let name = normalise_header(header);
        if name.is_empty() {
            continue;
        }
        let field = Field::ALL.into_iter().find(|f| f.synonyms().iter().any(|s| *s == name));
        if let Some(field) = field {
            map.fields.entry(field).or_insert(index);
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn variants_of_county_rosters_are_recognised() {
        let map = recognise(&headers(&[
            "序号",
            "县（市、区）",
            "乡镇",
            "村居",
            "姓 名",
            "公民身份号码",
            "关系",
            "手机号码",
        ]));
        assert_eq!(map.get(Field::County), Some(1));
        assert_eq!(map.get(Field::Township), Some(2));
        assert_eq!(map.get(Field::Village), Some(3));
        assert_eq!(map.get(Field::Name), Some(4));
        assert_eq!(map.get(Field::IdNumber), Some(5));
        assert_eq!(map.get(Field::Relationship), Some(6));
        assert_eq!(map.get(Field::Phone), Some(7));
        assert!(map.missing().is_empty());
        let headed = recognise(&headers(&["户主", "姓名", "身份证号", "关系", "村"]));
        assert_eq!(headed.get(Field::HeadName), Some(0));
        assert_eq!(recognise(&headers(&["户主姓名"])).get(Field::HeadName), Some(0));
        let other = recognise(&headers(&["姓名", "证件号码*", "与户主关系", "村(社区)", "县(市、区)"]));
        assert_eq!(other.get(Field::IdNumber), Some(1));
        assert_eq!(other.get(Field::County), Some(4));
    }

    #[test]
    fn unknown_columns_can_be_assigned_by_the_user() {
        let mut map = recognise(&headers(&["姓名", "身份证", "户内身份", "所在村"]));
        assert_eq!(map.missing(), vec![Field::Relationship, Field::Village]);
        map.assign(Field::Relationship, 2);
        map.assign(Field::Village, 3);
        assert!(map.missing().is_empty());
    }
}
