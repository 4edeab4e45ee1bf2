//! Roster import: every row of a county's roster gets a verdict (created, updated,
//! unchanged, warned, refused) with its reason, before anything is written; then the
//! accepted households are written in batches. Importing the same file again changes
//! nothing; a corrected file adds what was missing and nothing twice.

use std::collections::{HashMap, HashSet};

use futures_util::StreamExt;
use guanai_domain::families::Relationship;
use guanai_domain::identity::IdNumber;
use guanai_domain::RegionLevel;
use guanai_store::families::ConsentKind;
use guanai_store::households::{HouseholdDraft, MemberUpdate, NewMember, Registered};
use guanai_store::{Actor, Store};
use serde::{Deserialize, Serialize};

use crate::columns::{ColumnMap, Field};
use crate::places::Places;
use crate::table::{Scanned, SourceRow};
use crate::ImportError;

mod group;
mod read;

pub use read::parse_roster_date;
use read::{PersonRow, Reading};

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
    pub const ALL: [Verdict; 5] =
        [Verdict::Created, Verdict::Updated, Verdict::Unchanged, Verdict::Warned, Verdict::Refused];

    /// The code a job's stored rows carry.
    pub const fn as_str(self) -> &'static str {
        match self {
            Verdict::Created => "created",
            Verdict::Updated => "updated",
            Verdict::Unchanged => "unchanged",
            Verdict::Warned => "warned",
            Verdict::Refused => "refused",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Verdict::ALL.into_iter().find(|v| v.as_str() == raw)
    }

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
    /// The persons read, and the new households as their positions there (head first):
    /// each batch's households are drafted only when it is written, so a million persons
    /// are not held twice.
    people: Vec<PersonRow>,
    villages: Vec<guanai_domain::RegionCode>,
    households: Vec<Vec<u32>>,
    members: Vec<NewMember>,
    updates: Vec<MemberUpdate>,
}

/// Reads and plans an import; writes nothing. `overrides` assign columns the recogniser
/// missed (or got wrong). The file is read row by row on a blocking thread: only the rows
/// read into persons are kept, and the cells of refused rows are read again for the report.
pub async fn plan_roster(
    store: &Store,
    actor: &Actor,
    bytes: impl Into<Vec<u8>>,
    overrides: &[(Field, usize)],
) -> Result<RosterPlan, ImportError> {
    let bytes = bytes.into();
    let places = city_places(store, actor).await?;
    let (reader, overrides, today) = (actor.clone(), overrides.to_vec(), store.today());
    let (reading, places, bytes) = crate::blocking(move || {
        let reading = read_rows(&bytes, &places, &reader, &overrides, today)?;
        Ok((reading, places, bytes))
    })
    .await?;
    let mut plan = plan_people(store, actor, reading, &places).await?;
    let wanted = plan.refused_indices();
    if !wanted.is_empty() {
        plan.refused_rows = crate::blocking(move || {
            let mut rows = Vec::with_capacity(wanted.len());
            let mut index = 0;
            crate::table::scan_table(&bytes, |scanned| {
                if let Scanned::Row(row) = scanned {
                    if wanted.binary_search(&index).is_ok() {
                        rows.push(row);
                    }
                    index += 1;
                }
                Ok(())
            })?;
            Ok(rows)
        })
        .await?;
    }
    Ok(plan)
}

/// Step 1, as the file is read.
fn read_rows(
    bytes: &[u8],
    places: &Places,
    actor: &Actor,
    overrides: &[(Field, usize)],
    today: chrono::NaiveDate,
) -> Result<Reading, ImportError> {
    let mut reading: Option<Reading> = None;
    crate::table::scan_table(bytes, |scanned| {
        match scanned {
            Scanned::Header { cells, .. } => {
                let mut new = Reading::new(cells, overrides, today)?;
                // A CSV has about as many rows as lines: room for them at once, not by
                // doubling (which would hold two copies of a million rows for a moment).
                if !bytes.starts_with(b"PK") {
                    new.people.reserve(bytes.iter().filter(|b| **b == b'\n').count());
                }
                reading = Some(new);
            }
            Scanned::Row(row) => reading.as_mut().expect("the header comes first").read(&row, places, actor),
        }
        Ok(())
    })?;
    reading.ok_or(ImportError::NoHeader)
}

async fn city_places(store: &Store, actor: &Actor) -> Result<Places, ImportError> {
    let city = actor.scope().at_level(RegionLevel::City).unwrap_or_else(|| actor.scope().clone());
    Ok(Places::new(&store.regions().regions_under(&city).await?))
}

/// Steps 2 to 4: duplicates, households, and the registry.
async fn plan_people(
    store: &Store,
    actor: &Actor,
    reading: Reading,
    places: &Places,
) -> Result<RosterPlan, ImportError> {
    let Reading { headers, map, mut people, lines, mut outcome, memo, marks, .. } = reading;
    let refuse = |outcome: &mut Vec<Option<(Verdict, String)>>, index: usize, reason: String| {
        outcome[index] = Some((Verdict::Refused, reason));
    };

    // 2. The same ID number twice in the file.
    // Sorted by number, then by position: the first of a run of one number is the earliest.
    let mut duplicates: HashSet<usize> = HashSet::new();
    // Rows that repeat an earlier row of the same person, and that row.
    let mut same_as: HashMap<usize, usize> = HashMap::new();
    {
        let mut by_id: Vec<(&str, u32)> =
            people.iter().enumerate().map(|(position, p)| (p.id.as_str(), position as u32)).collect();
        by_id.sort_unstable();
        let mut first = 0;
        for at in 1..by_id.len() {
            if by_id[at].0 != by_id[first].0 {
                first = at;
                continue;
            }
            let earlier = &people[by_id[first].1 as usize];
            let person = &people[by_id[at].1 as usize];
            let same = earlier.name == person.name
                && earlier.relationship == person.relationship
                && earlier.village == person.village;
            let line = lines[earlier.index];
            if same {
                same_as.insert(person.index, earlier.index);
            }
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
    people.retain(|p| !duplicates.contains(&p.index));

    // 3. Households: by the head's ID column when there is one, else by the rows (a
    // household starts at its head's row, or where the village or the head's name
    // changes). Households hold positions in `people`, not copies of them.
    let households: Vec<Vec<u32>> = if map.get(Field::HeadIdNumber).is_some() {
        group::by_head_id(&people)
    } else {
        let rows = group::Rows {
            people: &people,
            lines: &lines,
            marks: &marks,
            same_as: &same_as,
            outcome: &mut outcome,
        };
        group::by_rows(rows, map.get(Field::HeadName).is_some())
    };
    drop(marks);

    // 4. Against the registry.
    let ids: Vec<&IdNumber> = households.iter().flatten().map(|&p| &people[p as usize].id).collect();
    let registered: HashMap<String, Registered> = store.families().registered_persons(actor, &ids).await?;
    drop(ids);
    let mut family_ids: Vec<i64> = registered.values().map(|r| r.family_id).collect();
    family_ids.sort_unstable();
    family_ids.dedup();
    let spouses_of: HashMap<i64, Vec<i64>> = store.families().family_spouses(actor, &family_ids).await?;
    drop(family_ids);
    let mut plan_households = Vec::new();
    let mut plan_members = Vec::new();
    let mut plan_updates = Vec::new();
    for positions in households {
        let household: Vec<&PersonRow> = positions.iter().map(|&p| &people[p as usize]).collect();
        let heads: Vec<&PersonRow> =
            household.iter().copied().filter(|p| p.relationship == Relationship::Head).collect();
        if heads.len() != 1 {
            let reason = if heads.is_empty() {
                "该户没有户主行：名单中没有该户主身份证号的户主行，或户主行未能导入。请补上或更正户主行后，本户一并重新导入"
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
            if existing.relationship != Relationship::Head {
                let reason = format!(
                    "户主（第{}行）在系统中登记为另一户的{}，不是户主：请核对与户主关系；如需变更户主，请在家庭页面办理",
                    lines[head.index],
                    existing.relationship.label()
                );
                for person in &household {
                    refuse(&mut outcome, person.index, reason.clone());
                }
                continue;
            }
        }
        // One spouse per household: a second one is held back, never written.
        let registered_spouses =
            family.and_then(|f| spouses_of.get(&f)).map(Vec::as_slice).unwrap_or_default();
        let new_spouses: Vec<&PersonRow> = household
            .iter()
            .copied()
            .filter(|p| p.relationship == Relationship::Spouse)
            .filter(|p| {
                !registered.get(p.id.as_str()).is_some_and(|r| registered_spouses.contains(&r.person_id))
            })
            .collect();
        let spouse_lines = |rows: &[&PersonRow]| {
            rows.iter().map(|p| lines[p.index].to_string()).collect::<Vec<_>>().join("、")
        };
        if family.is_none() && new_spouses.len() > 1 {
            let reason = format!(
                "本户有{}名配偶（第{}行），一户只能有一名配偶：请核对与户主关系，或是否把另一户的成员排在了本户之下（可增加“户主姓名”列区分各户）",
                new_spouses.len(),
                spouse_lines(&new_spouses)
            );
            for person in &household {
                refuse(&mut outcome, person.index, reason.clone());
            }
            continue;
        }
        let mut held_back: HashSet<usize> = HashSet::new();
        if family.is_some()
            && !new_spouses.is_empty()
            && (!registered_spouses.is_empty() || new_spouses.len() > 1)
        {
            let reason = if registered_spouses.is_empty() {
                format!(
                    "本户有{}名配偶（第{}行），一户只能有一名配偶：请核对与户主关系",
                    new_spouses.len(),
                    spouse_lines(&new_spouses)
                )
            } else {
                "该户已登记配偶，一户只能有一名配偶：请核对本行的与户主关系，或是否把另一户的成员排在了本户之下".to_owned()
            };
            for person in &new_spouses {
                refuse(&mut outcome, person.index, reason.clone());
                held_back.insert(person.index);
            }
        }
        let mut new_members: Vec<u32> = Vec::new();
        for (&position, person) in positions.iter().zip(&household) {
            if held_back.contains(&person.index) {
                continue;
            }
            let remarks = person.remarks.to_string();
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
                    format!("与户主不在同一村（户主在{}）", places.name(memo.code(head.village))),
                );
                continue;
            }
            match (registered.get(person.id.as_str()), family) {
                (Some(existing), Some(family_id)) if existing.family_id == family_id => {
                    if *existing.name != *person.name || existing.relationship != person.relationship {
                        plan_updates.push(MemberUpdate {
                            person_id: existing.person_id,
                            name: person.name.to_string(),
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
                        name: person.name.to_string(),
                        id_number: person.id.clone(),
                        relationship: person.relationship,
                    });
                    outcome[person.index] = Some(verdict_with(true));
                }
                (None, None) => {
                    new_members.push(position);
                    outcome[person.index] = Some(verdict_with(true));
                }
            }
        }
        if family.is_none() {
            // The head comes first, whatever the order of the rows.
            new_members.sort_by_key(|&p| people[p as usize].relationship != Relationship::Head);
            if new_members.first().is_some_and(|&p| people[p as usize].relationship == Relationship::Head) {
                plan_households.push(new_members);
            }
        }
    }

    let mut totals = Totals { households_new: plan_households.len(), ..Default::default() };
    let verdicts: Vec<RowVerdict> = outcome
        .into_iter()
        .zip(lines)
        .map(|(verdict, line)| {
            let (verdict, reason) = verdict.unwrap_or((Verdict::Refused, "未能处理该行".to_owned()));
            totals.count(verdict);
            RowVerdict { line, verdict, reason }
        })
        .collect();
    Ok(RosterPlan {
        headers,
        map,
        verdicts,
        totals,
        refused_rows: Vec::new(),
        people,
        villages: memo.into_codes(),
        households: plan_households,
        members: plan_members,
        updates: plan_updates,
    })
}

/// Households written per transaction. Large, because each transaction rewrites the pages
/// of the ID-number index it touches, and 50,000 households touch most of them; a
/// household is never split between transactions whatever the size. (On PostgreSQL and
/// MySQL two batches are written at once, `Store::bulk_writers`: 25,000 households a batch
/// made no difference there beyond the runs' noise, docs/BENCHMARKS.md, twenty-sixth
/// session.)
pub const COMMIT_BATCH: usize = 50_000;

impl RosterPlan {
    /// Writes the accepted rows, `COMMIT_BATCH` households per transaction. `progress` is
    /// told how many of the households are written after each batch.
    pub async fn commit<F, Fut>(
        &self,
        store: &Store,
        actor: &Actor,
        progress: F,
    ) -> Result<Totals, ImportError>
    where
        F: FnMut(usize, usize) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        self.commit_in_batches(store, actor, COMMIT_BATCH, progress).await
    }

    /// [`RosterPlan::commit`] with `batch` households per transaction.
    pub async fn commit_in_batches<F, Fut>(
        &self,
        store: &Store,
        actor: &Actor,
        batch: usize,
        mut progress: F,
    ) -> Result<Totals, ImportError>
    where
        F: FnMut(usize, usize) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let bulk = store.bulk().await?;
        // Members and updates of registered families first, in one batch: small.
        if !self.members.is_empty() || !self.updates.is_empty() {
            bulk.families().apply_roster_batch(actor, &[], &self.members, &self.updates).await?;
        }
        let total = self.households.len();
        let mut done = 0;
        // Each batch is a transaction of its own, so a database server may write several at
        // once (`Store::bulk_writers`); each batch's drafts are made when its turn comes.
        // (Batches go by their start, not as slices: a closure taking a slice would make the
        // future borrow for any lifetime, which a spawned import's `Send` bound rejects.)
        let (bulk_ref, batch) = (&bulk, batch.max(1));
        let writes = (0..total).step_by(batch).map(|start| async move {
            let chunk = &self.households[start..total.min(start + batch)];
            let drafts: Vec<HouseholdDraft> = chunk.iter().map(|household| self.draft(household)).collect();
            bulk_ref.families().apply_roster_batch(actor, &drafts, &[], &[]).await.map(|()| chunk.len())
        });
        let mut writes = futures_util::stream::iter(writes).buffer_unordered(bulk.bulk_writers());
        while let Some(written) = writes.next().await {
            done += written?;
            progress(done, total).await;
        }
        drop(writes);
        bulk.finish_bulk().await?;
        Ok(self.totals.clone())
    }

    fn draft(&self, household: &[u32]) -> HouseholdDraft {
        let head = &self.people[household[0] as usize];
        let (phone, address) = head.head.as_deref().cloned().unwrap_or_default();
        HouseholdDraft {
            village: self.villages[head.village as usize].clone(),
            category: head.category.to_owned(),
            poverty: head.poverty,
            address,
            phone,
            members: household
                .iter()
                .map(|&p| {
                    let person = &self.people[p as usize];
                    (person.name.to_string(), person.id.clone(), person.relationship)
                })
                .collect(),
            consents: Vec::<ConsentKind>::new(),
        }
    }

    /// Positions (among the data rows) of the refused rows, in order.
    fn refused_indices(&self) -> Vec<usize> {
        self.verdicts
            .iter()
            .enumerate()
            .filter(|(_, v)| v.verdict == Verdict::Refused)
            .map(|(index, _)| index)
            .collect()
    }

    /// The refused rows with their original cells, for the report.
    pub fn refused_rows(&self) -> impl Iterator<Item = (&SourceRow, &RowVerdict)> {
        self.refused_rows.iter().zip(self.verdicts.iter().filter(|v| v.verdict == Verdict::Refused))
    }
}
