//! Funding ("几个一点") by source and source kind: what each source pays of the year's
//! premium within a region (policies not cancelled), year on year by kind.

use std::collections::{BTreeMap, HashMap};

use guanai_domain::funding::FundingKind;
use guanai_domain::{Fen, RegionCode};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::Serialize;

use super::summary::Summary;
use crate::entities::funding_sources;
use crate::error::stored;
use crate::{Actor, Store, StoreResult};

/// One source's part of the year's premium within the region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SourceRow {
    pub source_id: i64,
    pub name: String,
    pub kind: FundingKind,
    /// The source's own region (a city fund pays in every county).
    pub source_region: String,
    /// Premium this source pays for the region's policies (not cancelled), in fen.
    pub amount: Fen,
    /// How many of the region's policies it pays for.
    pub policies: u64,
    /// The source's whole pledge and what it has allocated everywhere, in fen.
    pub pledged: Fen,
    pub allocated: Fen,
}

/// One kind of source (政府财政, 家庭自缴 …): this year's and last year's amounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KindRow {
    pub kind: FundingKind,
    pub amount: Fen,
    pub last_year_amount: Fen,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FundingReport {
    pub year: i32,
    pub region: RegionCode,
    pub sources: Vec<SourceRow>,
    /// Every kind, in the order of `FundingKind::ALL`, zero where no source of it pays.
    pub kinds: Vec<KindRow>,
    /// What the sources pay of the region's policies of the year (not cancelled), added up.
    pub total: Fen,
    pub last_year_total: Fen,
}

impl crate::handles::Reports<'_> {
    /// The funding report of `region` (the scope when absent) for `year`.
    pub async fn funding(
        self,
        actor: &Actor,
        region: Option<&RegionCode>,
        year: i32,
    ) -> StoreResult<FundingReport> {
        let region = self.report_region(actor, region).await?;
        let txn = self.snapshot().await?;
        let report = match self.summary_in(&txn, &region, year - 1..=year, region.level()).await {
            Ok(summary) => self.funding_in(&txn, &summary, &region, year).await,
            Err(e) => Err(e),
        };
        txn.commit().await?;
        report
    }
}

impl Store {
    /// The funding report from `summary` (of the year and the one before, read on `db`).
    pub(crate) async fn funding_in(
        &self,
        db: &impl ConnectionTrait,
        summary: &Summary,
        region: &RegionCode,
        year: i32,
    ) -> StoreResult<FundingReport> {
        let region = region.clone();
        let this = summary.by_source(year);
        let last = summary.by_source(year - 1);
        let ids: Vec<i64> = this.keys().chain(last.keys()).copied().collect();
        let sources: HashMap<i64, funding_sources::Model> = funding_sources::Entity::find()
            .filter(funding_sources::Column::Id.is_in(ids))
            .all(db)
            .await?
            .into_iter()
            .map(|s| (s.id, s))
            .collect();
        let kind_of = |id: &i64| -> StoreResult<Option<FundingKind>> {
            sources.get(id).map(|s| stored("funding_sources.kind", &s.kind)).transpose()
        };
        let mut kinds: BTreeMap<usize, KindRow> = FundingKind::ALL
            .iter()
            .enumerate()
            .map(|(i, k)| (i, KindRow { kind: *k, amount: Fen::new(0), last_year_amount: Fen::new(0) }))
            .collect();
        let index = |k: FundingKind| FundingKind::ALL.iter().position(|x| *x == k).unwrap_or(0);
        let mut rows = Vec::new();
        let mut total = 0i64;
        for (id, (amount, n)) in &this {
            let Some(kind) = kind_of(id)? else { continue };
            let source = &sources[id];
            total += amount;
            let k = kinds.get_mut(&index(kind)).expect("every kind");
            k.amount = Fen::new(k.amount.get() + amount);
            rows.push(SourceRow {
                source_id: *id,
                name: source.name.clone(),
                kind,
                source_region: source.region_code.clone(),
                amount: Fen::new(*amount),
                policies: *n,
                pledged: Fen::new(source.pledged_fen),
                allocated: Fen::new(source.allocated_fen),
            });
        }
        let mut last_total = 0i64;
        for (id, (amount, _)) in &last {
            let Some(kind) = kind_of(id)? else { continue };
            last_total += amount;
            let k = kinds.get_mut(&index(kind)).expect("every kind");
            k.last_year_amount = Fen::new(k.last_year_amount.get() + amount);
        }
        rows.sort_by(|a, b| b.amount.get().cmp(&a.amount.get()).then(a.source_id.cmp(&b.source_id)));
        Ok(FundingReport {
            year,
            region,
            sources: rows,
            kinds: kinds.into_values().collect(),
            total: Fen::new(total),
            last_year_total: Fen::new(last_total),
        })
    }
}
