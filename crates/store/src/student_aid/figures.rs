//! Student-aid figures per county and year: applications, grants approved and paid.

use std::collections::BTreeMap;

use guanai_domain::student_aid::AidStatus;
use guanai_domain::{Fen, Permission, RegionCode, RegionLevel};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::Serialize;

use crate::entities::aid_applications;
use crate::{Actor, StoreResult};

#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AidFigure {
    pub county_code: String,
    pub year: i32,
    pub applications: u64,
    /// Approved by the city (paid or waiting for payment).
    pub approved: u64,
    pub paid: u64,
    pub refused: u64,
    pub amount_approved: Fen,
    pub amount_paid: Fen,
}

impl crate::handles::StudentAid<'_> {
    /// Figures per county and year within the actor's scope (every year when none given).
    pub async fn figures(self, actor: &Actor, year: Option<i32>) -> StoreResult<Vec<AidFigure>> {
        self.require(actor, Permission::ViewAssociationWork).await?;
        let mut select = aid_applications::Entity::find()
            .select_only()
            .column(aid_applications::Column::VillageCode)
            .column(aid_applications::Column::Year)
            .column(aid_applications::Column::Status)
            .column(aid_applications::Column::AmountFen)
            .filter(actor.scope_condition(aid_applications::Column::VillageCode));
        if let Some(year) = year {
            select = select.filter(aid_applications::Column::Year.eq(year));
        }
        let rows: Vec<(String, i32, String, i64)> = select.into_tuple().all(&self.db).await?;
        let mut figures: BTreeMap<(i32, String), AidFigure> = BTreeMap::new();
        for (village, year, status, amount) in rows {
            let county = RegionCode::parse(&village)
                .ok()
                .and_then(|r| r.at_level(RegionLevel::County))
                .map(|r| r.to_string())
                .unwrap_or(village);
            let status: AidStatus = crate::error::stored("aid_applications.status", &status)?;
            let f = figures.entry((year, county.clone())).or_insert_with(|| AidFigure {
                county_code: county,
                year,
                ..Default::default()
            });
            f.applications += 1;
            let amount = Fen::new(amount);
            match status {
                AidStatus::CityApproved | AidStatus::Paid => {
                    f.approved += 1;
                    f.amount_approved = f.amount_approved.checked_add(amount).unwrap_or(f.amount_approved);
                    if status == AidStatus::Paid {
                        f.paid += 1;
                        f.amount_paid = f.amount_paid.checked_add(amount).unwrap_or(f.amount_paid);
                    }
                }
                AidStatus::Refused => f.refused += 1,
                AidStatus::Submitted | AidStatus::CountyApproved => {}
            }
        }
        Ok(figures.into_values().collect())
    }
}
