//! Targets (任务指标) per region and scheme year and the coverage base per village
//! (`targets` table, one row per region and year). The city sets its counties' targets, a
//! county its townships' (`domain::targets::check_target_level`); the base is entered per
//! village within one's scope. A change names only the figures it sets: a figure left out
//! stays as it was, so entering the same values again, or importing the same file twice,
//! changes nothing and writes no audit entry.

use std::collections::HashMap;

use guanai_domain::targets::{check_base_level, check_target_level, check_year, Permille};
use guanai_domain::{Permission, RegionCode};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};

use crate::audit::AuditEvent;
use crate::entities::{regions, targets};
use crate::{Actor, StoreError, StoreResult};

/// One region's targets and base for a year, as stored (`None`: not set).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TargetValues {
    /// Insured households to reach.
    pub households: Option<u64>,
    /// Insured persons to reach.
    pub persons: Option<u64>,
    /// The renewal rate to reach, in tenths of a percent (875 = 87.5 %).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u32>))]
    pub renewal_permille: Option<Permille>,
    /// Households eligible (应保户数), entered for a village; the registry's count when
    /// none is entered.
    pub eligible_households: Option<u64>,
}

/// A region's targets for a year, with its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Target {
    pub region_code: RegionCode,
    pub region_name: String,
    pub year: i32,
    pub values: TargetValues,
}

/// A change to one region's targets or base: the figures given are set, the others kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetChange {
    pub region: RegionCode,
    pub year: i32,
    pub values: TargetValues,
}

impl TargetValues {
    fn sets_a_target(&self) -> bool {
        self.households.is_some() || self.persons.is_some() || self.renewal_permille.is_some()
    }

    /// These values laid over `old`: what is given replaces, what is not stays.
    fn over(&self, old: &TargetValues) -> TargetValues {
        TargetValues {
            households: self.households.or(old.households),
            persons: self.persons.or(old.persons),
            renewal_permille: self.renewal_permille.or(old.renewal_permille),
            eligible_households: self.eligible_households.or(old.eligible_households),
        }
    }
}

fn values_of(row: &targets::Model) -> StoreResult<TargetValues> {
    let count = |v: Option<i64>| v.map(|n| n.max(0) as u64);
    let renewal = match row.renewal_permille {
        None => None,
        Some(p) => Some(
            u32::try_from(p)
                .ok()
                .and_then(Permille::new)
                .ok_or_else(|| StoreError::Corrupt(format!("bad rate {p} in targets.renewal_permille")))?,
        ),
    };
    Ok(TargetValues {
        households: count(row.households),
        persons: count(row.persons),
        renewal_permille: renewal,
        eligible_households: count(row.eligible_households),
    })
}

fn as_i64(n: Option<u64>) -> Option<i64> {
    n.map(|n| i64::try_from(n).unwrap_or(i64::MAX))
}

impl crate::handles::Targets<'_> {
    /// Sets targets and bases, all or none: every change is checked first (the region in
    /// the actor's scope and known, a target one level below the actor's region, a base
    /// on a village), then the changed rows are written in one transaction. Returns how
    /// many regions changed; each change is audit-logged (`target.set`).
    pub async fn set_targets(self, actor: &Actor, changes: &[TargetChange]) -> StoreResult<usize> {
        self.require(actor, Permission::ManageTargets).await?;
        let mut by_key: HashMap<(String, i32), TargetValues> = HashMap::new();
        for change in changes {
            check_year(change.year).map_err(|e| StoreError::invalid(e.to_string()))?;
            if !actor.sees(&change.region) {
                return Err(StoreError::invalid(format!("区划“{}”不在您的管理范围内", change.region)));
            }
            if change.values.sets_a_target() {
                check_target_level(actor.scope().level(), change.region.level())
                    .map_err(|e| StoreError::invalid(format!("{}：{e}", change.region)))?;
            }
            if change.values.eligible_households.is_some() {
                check_base_level(change.region.level())
                    .map_err(|e| StoreError::invalid(format!("{}：{e}", change.region)))?;
            }
            let key = (change.region.as_str().to_owned(), change.year);
            let merged = change.values.over(by_key.get(&key).unwrap_or(&TargetValues::default()));
            by_key.insert(key, merged);
        }
        if by_key.is_empty() {
            return Ok(0);
        }
        let codes: Vec<&str> = by_key.keys().map(|(c, _)| c.as_str()).collect();
        let known =
            regions::Entity::find().filter(regions::Column::Code.is_in(codes.clone())).all(&self.db).await?;
        if let Some((code, _)) = by_key.keys().find(|(c, _)| !known.iter().any(|r| &r.code == c)) {
            return Err(StoreError::invalid(format!("找不到区划“{code}”，请核对区划代码")));
        }
        let years: Vec<i32> = by_key.keys().map(|(_, y)| *y).collect();
        let existing = targets::Entity::find()
            .filter(targets::Column::RegionCode.is_in(codes))
            .filter(targets::Column::Year.is_in(years))
            .all(&self.db)
            .await?;
        let mut old: HashMap<(String, i32), targets::Model> =
            existing.into_iter().map(|row| ((row.region_code.clone(), row.year), row)).collect();
        let now = chrono::Utc::now();
        let mut keys: Vec<_> = by_key.keys().cloned().collect();
        keys.sort();
        let mut events = Vec::new();
        let txn = self.db.begin().await?;
        for key in keys {
            let given = &by_key[&key];
            let before = match old.get(&key) {
                Some(row) => values_of(row)?,
                None => TargetValues::default(),
            };
            let after = given.over(&before);
            if after == before && old.contains_key(&key) {
                continue;
            }
            let conflict = "该区划的任务指标刚被他人修改，请刷新后重试";
            match old.remove(&key) {
                Some(row) => {
                    let mut active = row.into_active_model();
                    active.households = Set(as_i64(after.households));
                    active.persons = Set(as_i64(after.persons));
                    active.renewal_permille = Set(after.renewal_permille.map(|p| p.get() as i32));
                    active.eligible_households = Set(as_i64(after.eligible_households));
                    active.updated_by = Set(actor.username().to_owned());
                    active.updated_at = Set(now);
                    active.update(&txn).await.map_err(|e| StoreError::from_write(e, conflict))?;
                }
                None => {
                    targets::ActiveModel {
                        region_code: Set(key.0.clone()),
                        year: Set(key.1),
                        households: Set(as_i64(after.households)),
                        persons: Set(as_i64(after.persons)),
                        renewal_permille: Set(after.renewal_permille.map(|p| p.get() as i32)),
                        eligible_households: Set(as_i64(after.eligible_households)),
                        updated_by: Set(actor.username().to_owned()),
                        updated_at: Set(now),
                        ..Default::default()
                    }
                    .insert(&txn)
                    .await
                    .map_err(|e| StoreError::from_write(e, conflict))?;
                }
            }
            events.push(
                AuditEvent::ok("target.set", "任务指标", format!("{}/{}", key.0, key.1)).with_detail(
                    format!(
                        "户数{:?}→{:?}；人数{:?}→{:?}；续保率‰{:?}→{:?}；应保户数{:?}→{:?}",
                        before.households,
                        after.households,
                        before.persons,
                        after.persons,
                        before.renewal_permille.map(Permille::get),
                        after.renewal_permille.map(Permille::get),
                        before.eligible_households,
                        after.eligible_households
                    ),
                ),
            );
        }
        txn.commit().await?;
        let changed = events.len();
        for event in events {
            self.audit(actor, event).await?;
        }
        Ok(changed)
    }

    /// The targets and bases of `year` set for `region` and every region below it (within
    /// the actor's scope), by region code.
    pub async fn targets_under(
        self,
        actor: &Actor,
        region: &RegionCode,
        year: i32,
    ) -> StoreResult<Vec<Target>> {
        self.require(actor, Permission::ViewReports).await?;
        if !actor.sees(region) {
            return Err(self.deny(actor, "target.view", "区划", region.as_str()).await);
        }
        let rows = targets::Entity::find()
            .filter(crate::access::within_region(targets::Column::RegionCode, region.as_str()))
            .filter(targets::Column::Year.eq(year))
            .order_by_asc(targets::Column::RegionCode)
            .all(&self.db)
            .await?;
        let codes: Vec<&str> = rows.iter().map(|r| r.region_code.as_str()).collect();
        let names = self.regions().region_names(&codes).await?;
        rows.iter()
            .map(|row| {
                Ok(Target {
                    region_code: RegionCode::parse(&row.region_code).map_err(|_| {
                        StoreError::Corrupt(format!("bad region '{}' in targets", row.region_code))
                    })?,
                    region_name: names.get(&row.region_code).cloned().unwrap_or_default(),
                    year: row.year,
                    values: values_of(row)?,
                })
            })
            .collect()
    }
}
