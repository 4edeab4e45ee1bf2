//! Roster import: every row of a county's roster gets a verdict (created, updated,
//! unchanged, warned, refused) with its reason, before anything is written; then the
//! accepted households are written in batches. Importing the same file again changes
//! nothing; a corrected file adds what was missing and nothing twice.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use guanai_domain::families::{FamilyCategory, PovertyStatus, Relationship};
use guanai_domain::identity::{IdNumber, Mobile};
use guanai_domain::RegionLevel;
use guanai_store::families::ConsentKind;
use guanai_store::households::{HouseholdDraft, MemberUpdate, NewMember, Registered};
use guanai_store::{Actor, Store};
use serde::{Deserialize, Serialize};

use crate::columns::{recognise, ColumnMap, Field};
use crate::places::Places;
use crate::table::{read_table, SourceRow, Table};
use crate::ImportError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Created,
    Updated,
    Unchanged,
    /// Imported, with a remark the user should read.
    Warned,
    Refused,
}

impl Verdict {
    pub const fn label(self) -> &'static str {
        match self {
            Verdict::Created => "新增",
            Verdict::Updated => "更新",
            Verdict::Unchanged => "无变化",
            Verdict::Warned => "导入（有提示）",
            Verdict::Refused => "拒绝",
        }
    }

    pub const fn color(self) -> &'static str {
        match self {
            Verdict::Created | Verdict::Updated => "green",
            Verdict::Unchanged => "grey",
            Verdict::Warned => "orange",
            Verdict::Refused => "red",
        }
    }
}

/// One row's verdict, with its row number in the original file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RowVerdict {
    pub line: usize,
    pub verdict: Verdict,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub warned: usize,
    pub refused: usize,
    pub households_new: usize,
}

impl Totals {
    fn count(&mut self, verdict: Verdict) {
        self.rows += 1;
        match verdict {
            Verdict::Created => self.created += 1,
            Verdict::Updated => self.updated += 1,
            Verdict::Unchanged => self.unchanged += 1,
            Verdict::Warned => self.warned += 1,
            Verdict::Refused => self.refused += 1,
        }
    }
}

/// A planned import: the verdicts and what would be written.
#[derive(Debug, Clone)]
pub struct RosterPlan {
    pub headers: Vec<String>,
    pub map: ColumnMap,
    pub verdicts: Vec<RowVerdict>,
    pub totals: Totals,
    /// The original cells of the refused rows only (for the report), in file order.
    refused_rows: Vec<SourceRow>,
    households: Vec<HouseholdDraft>,
    members: Vec<NewMember>,
    updates: Vec<MemberUpdate>,
}

/// A row read into a person, before households and the registry are looked at.
#[derive(Debug, Clone)]
struct PersonRow {
    index: usize,
    name: String,
    id: IdNumber,
    relationship: Relationship,
    village: guanai_domain::RegionCode,
    phone: Option<Mobile>,
    category: String,
    poverty: PovertyStatus,
    address: String,
    head_id: Option<IdNumber>,
    remarks: Vec<String>,
}

fn category_code(raw: &str) -> Option<String> {
    let text = raw.trim();
    if text.is_empty() {
        return Some("general".to_owned());
    }
    if let Some((code, _)) =
        FamilyCategory::DEFAULTS.iter().find(|(code, name)| *code == text || *name == text)
    {
        return Some((*code).to_owned());
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
    Some(code.to_owned())
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

fn read_person(index: usize, row: &SourceRow, map: &ColumnMap, places: &Places) -> Result<PersonRow, String> {
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
    if id.birth_date() > chrono::Utc::now().date_naive() {
        return Err(format!("身份证号中的出生日期 {} 晚于今天，请核对", id.birth_date()));
    }
    let relationship_text = cell(row, map, Field::Relationship);
    let relationship = Relationship::parse(relationship_text).ok_or_else(|| {
        format!("与户主关系“{relationship_text}”无法识别，请填写 户主、配偶、子女、父母、孙子女 等")
    })?;
    let village = places.village(
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
    Ok(PersonRow {
        index,
        name: name.to_owned(),
        id,
        relationship,
        village,
        phone,
        category,
        poverty,
        address: cell(row, map, Field::Address).chars().take(200).collect(),
        head_id,
        remarks,
    })
}

/// Reads and plans an import; writes nothing. `overrides` assign columns the recogniser
/// missed (or got wrong).
pub async fn plan_roster(
    store: &Store,
    actor: &Actor,
    bytes: &[u8],
    overrides: &[(Field, usize)],
) -> Result<RosterPlan, ImportError> {
    let table = read_table(bytes)?;
    plan_table(store, actor, table, overrides).await
}

pub async fn plan_table(
    store: &Store,
    actor: &Actor,
    table: Table,
    overrides: &[(Field, usize)],
) -> Result<RosterPlan, ImportError> {
    let mut map = recognise(&table.headers);
    for (field, column) in overrides {
        map.assign(*field, *column);
    }
    let missing = map.missing();
    if !missing.is_empty() {
        let names: Vec<&str> = missing.iter().map(|f| f.label()).collect();
        return Err(ImportError::MissingColumns(names.join("、")));
    }
    let city = actor.scope().at_level(RegionLevel::City).unwrap_or_else(|| actor.scope().clone());
    let places = Places::new(&store.regions_under(&city).await?);
    let rows = table.rows;
    let mut outcome: Vec<Option<(Verdict, String)>> = vec![None; rows.len()];
    let refuse = |outcome: &mut Vec<Option<(Verdict, String)>>, index: usize, reason: String| {
        outcome[index] = Some((Verdict::Refused, reason));
    };

    // 1. Each row on its own.
    let mut people: Vec<PersonRow> = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        match read_person(index, row, &map, &places) {
            Ok(person) if !actor.sees(&person.village) => {
                refuse(&mut outcome, index, format!("{}不在您的管辖范围内", places.name(&person.village)))
            }
            Ok(person) => people.push(person),
            Err(reason) => refuse(&mut outcome, index, reason),
        }
    }

    // 2. The same ID number twice in the file.
    let mut first_seen: HashMap<String, usize> = HashMap::new();
    let mut duplicates: HashSet<usize> = HashSet::new();
    for person in &people {
        match first_seen.get(person.id.as_str()) {
            None => {
                first_seen.insert(person.id.as_str().to_owned(), person.index);
            }
            Some(&first) => {
                let earlier = people.iter().find(|p| p.index == first).expect("seen");
                let same = earlier.name == person.name
                    && earlier.relationship == person.relationship
                    && earlier.village == person.village;
                let line = rows[first].line;
                outcome[person.index] = Some(if same {
                    (Verdict::Unchanged, format!("与第{line}行重复，已忽略"))
                } else {
                    (
                        Verdict::Refused,
                        format!("身份证号与第{line}行相同，但姓名、关系或村不同，请核对是哪一行填错"),
                    )
                });
                duplicates.insert(person.index);
            }
        }
    }
    people.retain(|p| !duplicates.contains(&p.index));

    // 3. Households: by the head's ID column when there is one, else a head row starts
    // a household and the rows below it are its members.
    let mut households: Vec<Vec<PersonRow>> = Vec::new();
    if map.get(Field::HeadIdNumber).is_some() {
        let mut by_head: HashMap<String, usize> = HashMap::new();
        for person in people {
            let key = person.head_id.as_ref().unwrap_or(&person.id).as_str().to_owned();
            let slot = *by_head.entry(key).or_insert_with(|| {
                households.push(Vec::new());
                households.len() - 1
            });
            households[slot].push(person);
        }
    } else {
        for person in people {
            if person.relationship == Relationship::Head {
                households.push(vec![person]);
            } else if let Some(current) = households.last_mut() {
                current.push(person);
            } else {
                refuse(
                    &mut outcome,
                    person.index,
                    "找不到所属户主：请把户主行放在家庭成员之前，或增加“户主身份证号”列".to_owned(),
                );
            }
        }
    }

    // 4. Against the registry.
    let ids: Vec<IdNumber> = households.iter().flatten().map(|p| p.id.clone()).collect();
    let registered: HashMap<String, Registered> = store.registered_persons(actor, &ids).await?;
    let mut plan_households = Vec::new();
    let mut plan_members = Vec::new();
    let mut plan_updates = Vec::new();
    for household in households {
        let heads: Vec<&PersonRow> =
            household.iter().filter(|p| p.relationship == Relationship::Head).collect();
        if heads.len() != 1 {
            let reason = if heads.is_empty() {
                "该户没有户主行"
            } else {
                "该户有多个户主，请核对与户主关系"
            };
            for person in &household {
                refuse(&mut outcome, person.index, reason.to_owned());
            }
            continue;
        }
        let head = heads[0];
        let family = registered.get(head.id.as_str()).map(|r| r.family_id);
        if let Some(existing) = registered.get(head.id.as_str()) {
            if !existing.village_code.starts_with(actor.scope().as_str()) {
                for person in &household {
                    refuse(&mut outcome, person.index, "该户已在您辖区以外登记".to_owned());
                }
                continue;
            }
        }
        let mut new_members = Vec::new();
        for person in &household {
            let remarks = person.remarks.join("；");
            let verdict_with = |changed: bool| -> (Verdict, String) {
                match (changed, remarks.is_empty()) {
                    (_, false) => (Verdict::Warned, remarks.clone()),
                    (true, true) => (Verdict::Created, String::new()),
                    (false, true) => (Verdict::Unchanged, String::new()),
                }
            };
            if person.village != head.village {
                refuse(
                    &mut outcome,
                    person.index,
                    format!("与户主不在同一村（户主在{}）", places.name(&head.village)),
                );
                continue;
            }
            match (registered.get(person.id.as_str()), family) {
                (Some(existing), Some(family_id)) if existing.family_id == family_id => {
                    if existing.name != person.name || existing.relationship != person.relationship {
                        plan_updates.push(MemberUpdate {
                            person_id: existing.person_id,
                            name: person.name.clone(),
                            relationship: person.relationship,
                        });
                        let (verdict, reason) = if remarks.is_empty() {
                            (Verdict::Updated, format!("姓名或关系已更新（原为 {}，{}）", existing.name, existing.relationship.label()))
                        } else {
                            (Verdict::Warned, remarks.clone())
                        };
                        outcome[person.index] = Some((verdict, reason));
                    } else {
                        outcome[person.index] = Some(verdict_with(false));
                    }
                }
                (Some(existing), _) => refuse(
                    &mut outcome,
                    person.index,
                    format!(
                        "该身份证号已在另一家庭登记（{}），同一人只能属于一个家庭；如需迁入，请在系统中使用“迁移成员”",
                        guanai_domain::mask_name(&existing.name)
                    ),
                ),
                (None, Some(family_id)) => {
                    plan_members.push(NewMember {
                        family_id,
                        name: person.name.clone(),
                        id_number: person.id.clone(),
                        relationship: person.relationship,
                    });
                    outcome[person.index] = Some(verdict_with(true));
                }
                (None, None) => {
                    new_members.push((person.name.clone(), person.id.clone(), person.relationship));
                    outcome[person.index] = Some(verdict_with(true));
                }
            }
        }
        if family.is_none() {
            // The head comes first, whatever the order of the rows.
            new_members.sort_by_key(|(_, _, relationship)| *relationship != Relationship::Head);
            if new_members.first().is_some_and(|(_, _, r)| *r == Relationship::Head) {
                plan_households.push(HouseholdDraft {
                    village: head.village.clone(),
                    category: head.category.clone(),
                    poverty: head.poverty,
                    address: head.address.clone(),
                    phone: head.phone.clone(),
                    members: new_members,
                    consents: Vec::<ConsentKind>::new(),
                });
            }
        }
    }

    let mut totals = Totals { households_new: plan_households.len(), ..Default::default() };
    let verdicts: Vec<RowVerdict> = outcome
        .into_iter()
        .enumerate()
        .map(|(index, verdict)| {
            let (verdict, reason) = verdict.unwrap_or((Verdict::Refused, "未能处理该行".to_owned()));
            totals.count(verdict);
            RowVerdict { line: rows[index].line, verdict, reason }
        })
        .collect();
    let refused_rows = rows
        .into_iter()
        .zip(&verdicts)
        .filter(|(_, v)| v.verdict == Verdict::Refused)
        .map(|(row, _)| row)
        .collect();
    Ok(RosterPlan {
        headers: table.headers,
        map,
        verdicts,
        totals,
        refused_rows,
        households: plan_households,
        members: plan_members,
        updates: plan_updates,
    })
}

/// Households written per transaction.
pub const COMMIT_BATCH: usize = 5_000;

impl RosterPlan {
    /// Writes the accepted rows, `COMMIT_BATCH` households per transaction. `progress` is
    /// told how many of the households are written after each batch.
    pub async fn commit<F, Fut>(
        &self,
        store: &Store,
        actor: &Actor,
        mut progress: F,
    ) -> Result<Totals, ImportError>
    where
        F: FnMut(usize, usize) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        // Members and updates of registered families first, in one batch: small.
        if !self.members.is_empty() || !self.updates.is_empty() {
            store.apply_roster_batch(actor, &[], &self.members, &self.updates).await?;
        }
        let total = self.households.len();
        let mut done = 0;
        for chunk in self.households.chunks(COMMIT_BATCH) {
            store.apply_roster_batch(actor, chunk, &[], &[]).await?;
            done += chunk.len();
            progress(done, total).await;
        }
        Ok(self.totals.clone())
    }

    /// The refused rows with their original cells, for the report.
    pub fn refused_rows(&self) -> impl Iterator<Item = (&SourceRow, &RowVerdict)> {
        self.refused_rows.iter().zip(self.verdicts.iter().filter(|v| v.verdict == Verdict::Refused))
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
        assert_eq!(category_code("独生子女户").as_deref(), Some("only_child"));
        assert_eq!(category_code("农村二女户").as_deref(), Some("rural_two_daughters"));
        assert_eq!(category_code("计生特殊家庭（失独）").as_deref(), Some("special_lost"));
        assert_eq!(category_code("").as_deref(), Some("general"));
        assert_eq!(category_code("外星家庭"), None);
        assert_eq!(poverty("是"), Some(PovertyStatus::Lifted));
        assert_eq!(poverty("低保户"), Some(PovertyStatus::Dibao));
        assert_eq!(poverty(""), Some(PovertyStatus::None));
    }
}
