//! Regions: loading the official tree, and browsing it within one's scope.

mod files;

pub use files::{
    demo_city, read_division_dir, read_embedded_divisions, DivisionFileError, DivisionRow, DivisionSet,
};

use std::collections::HashMap;

use guanai_domain::{Permission, RegionCode, RegionLevel};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};
use serde::Serialize;

use crate::entities::regions;
use crate::{Actor, Store, StoreResult};

/// A region as pages and the API show it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Region {
    pub code: RegionCode,
    pub name: String,
    pub short_name: String,
    pub level: RegionLevel,
    /// How many regions sit directly below.
    pub children: u64,
}

/// What an import changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RegionImportSummary {
    pub added: usize,
    pub renamed: usize,
    pub unchanged: usize,
}

const INSERT_BATCH: usize = 500;

impl crate::handles::Regions<'_> {
    /// Loads a city's regions: adds new codes, renames changed names, leaves the rest.
    /// Running it twice changes nothing the second time. All or nothing.
    pub async fn import_regions(self, set: &DivisionSet) -> StoreResult<RegionImportSummary> {
        let prefix = set.city.parent().unwrap_or_else(|| set.city.clone());
        let existing: HashMap<String, String> = regions::Entity::find()
            .filter(crate::access::within_region(regions::Column::Code, prefix.as_str()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|r| (r.code, r.name))
            .collect();
        let mut summary = RegionImportSummary::default();
        let mut new_rows = Vec::new();
        let mut renamed = Vec::new();
        for row in &set.rows {
            match existing.get(row.code.as_str()) {
                None => new_rows.push(row),
                Some(name) if name != &row.name => renamed.push(row),
                Some(_) => summary.unchanged += 1,
            }
        }
        summary.added = new_rows.len();
        summary.renamed = renamed.len();
        let txn = self.db.begin().await?;
        for batch in new_rows.chunks(INSERT_BATCH) {
            let models = batch.iter().map(|row| regions::ActiveModel {
                code: Set(row.code.to_string()),
                name: Set(row.name.clone()),
                short_name: Set(row.short_name.clone()),
                level: Set(row.code.level().code_len() as i16),
                parent_code: Set(row.code.parent().map(|p| p.to_string())),
            });
            regions::Entity::insert_many(models).exec_without_returning(&txn).await?;
        }
        for row in renamed {
            regions::Entity::update(regions::ActiveModel {
                code: Set(row.code.to_string()),
                name: Set(row.name.clone()),
                short_name: Set(row.short_name.clone()),
                ..Default::default()
            })
            .exec(&txn)
            .await?;
        }
        txn.commit().await?;
        Ok(summary)
    }

    /// Whether a region with this code is loaded.
    pub async fn region_exists(self, code: &RegionCode) -> StoreResult<bool> {
        Ok(regions::Entity::find_by_id(code.as_str()).one(&self.db).await?.is_some())
    }

    /// The cities loaded, for the CLI's choice of a default city.
    pub async fn cities(self) -> StoreResult<Vec<RegionCode>> {
        let rows = regions::Entity::find()
            .filter(regions::Column::Level.eq(RegionLevel::City.code_len() as i16))
            .order_by_asc(regions::Column::Code)
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().filter_map(|r| RegionCode::parse(&r.code).ok()).collect())
    }

    /// One region within the actor's scope, with its child count. Outside the scope the
    /// answer is "not found", and the attempt is audit-logged.
    pub async fn region(self, actor: &Actor, code: &RegionCode) -> StoreResult<Region> {
        self.require(actor, Permission::ViewRegions).await?;
        if !actor.sees(code) {
            return Err(self.deny(actor, "region.view", "区划", code.as_str()).await);
        }
        let Some(row) = regions::Entity::find_by_id(code.as_str()).one(&self.db).await? else {
            return Err(crate::StoreError::not_found(format!("找不到区划“{code}”")));
        };
        let counts = self.child_counts(std::slice::from_ref(&row.code)).await?;
        Ok(to_region(row, &counts))
    }

    /// The regions directly below `code`, which must be within the actor's scope.
    pub async fn region_children(self, actor: &Actor, code: &RegionCode) -> StoreResult<Vec<Region>> {
        self.region(actor, code).await?;
        let rows = regions::Entity::find()
            .filter(regions::Column::ParentCode.eq(code.as_str()))
            .order_by_asc(regions::Column::Code)
            .all(&self.db)
            .await?;
        let codes: Vec<String> = rows.iter().map(|r| r.code.clone()).collect();
        let counts = self.child_counts(&codes).await?;
        Ok(rows.into_iter().map(|row| to_region(row, &counts)).collect())
    }

    /// Every region at or below `code`: the map a roster's place names are matched on.
    /// Region names are public facts, so this needs no actor.
    pub async fn regions_under(self, code: &RegionCode) -> StoreResult<Vec<DivisionRow>> {
        let rows = regions::Entity::find()
            .filter(crate::access::within_region(regions::Column::Code, code.as_str()))
            .order_by_asc(regions::Column::Code)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                Some(DivisionRow {
                    code: RegionCode::parse(&r.code).ok()?,
                    name: r.name,
                    short_name: r.short_name,
                })
            })
            .collect())
    }

    /// Names of the given regions, for labels; codes not loaded are left out.
    pub async fn region_names(self, codes: &[&str]) -> StoreResult<HashMap<String, String>> {
        region_names_in(&self.db, codes).await
    }
}

/// [`region_names`](crate::handles::Regions::region_names) read on `db`: inside a
/// transaction, on its connection (another taken from the pool meanwhile could wait for
/// ever once every pooled connection is held by such a transaction).
pub(crate) async fn region_names_in(
    db: &impl sea_orm::ConnectionTrait,
    codes: &[&str],
) -> StoreResult<HashMap<String, String>> {
    if codes.is_empty() {
        return Ok(HashMap::new());
    }
    let rows =
        regions::Entity::find().filter(regions::Column::Code.is_in(codes.iter().copied())).all(db).await?;
    Ok(rows.into_iter().map(|r| (r.code, r.name)).collect())
}

impl Store {
    async fn child_counts(&self, codes: &[String]) -> StoreResult<HashMap<String, u64>> {
        #[derive(FromQueryResult)]
        struct Count {
            parent_code: Option<String>,
            n: i64,
        }
        let mut counts = HashMap::new();
        for chunk in codes.chunks(INSERT_BATCH) {
            let rows = regions::Entity::find()
                .select_only()
                .column(regions::Column::ParentCode)
                .column_as(regions::Column::Code.count(), "n")
                .filter(regions::Column::ParentCode.is_in(chunk.iter().cloned()))
                .group_by(regions::Column::ParentCode)
                .into_model::<Count>()
                .all(&self.db)
                .await?;
            for row in rows {
                if let Some(parent) = row.parent_code {
                    counts.insert(parent, row.n.max(0) as u64);
                }
            }
        }
        Ok(counts)
    }
}

fn to_region(row: regions::Model, counts: &HashMap<String, u64>) -> Region {
    let code = RegionCode::parse(&row.code).expect("codes are validated before they are stored");
    Region {
        level: code.level(),
        children: counts.get(&row.code).copied().unwrap_or(0),
        code,
        name: row.name,
        short_name: row.short_name,
    }
}
