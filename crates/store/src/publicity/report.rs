//! The report of a year's activities by kind and county, with what they brought.

use std::collections::BTreeMap;

use guanai_domain::{Fen, RegionCode, RegionLevel};
use serde::Serialize;

use crate::audit::AuditEvent;
use crate::{Actor, StoreResult};

/// One kind of activity in one county (or the city, for the city's own activities).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActivityReportRow {
    pub kind: String,
    pub kind_label: String,
    pub region_code: String,
    pub activities: u64,
    pub people_reached: i64,
    pub enrolments: u64,
    pub premium: Fen,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActivityReport {
    pub year: i32,
    pub rows: Vec<ActivityReportRow>,
    pub activities: u64,
    pub people_reached: i64,
    pub enrolments: u64,
    pub premium: Fen,
}

impl crate::handles::Publicity<'_> {
    /// The actor's activities of `year` by kind and county; audited as a report read.
    pub async fn report(self, actor: &Actor, year: i32) -> StoreResult<ActivityReport> {
        let activities = self.activities(actor, Some(year), None).await?;
        let mut rows: BTreeMap<(String, String), ActivityReportRow> = BTreeMap::new();
        for a in &activities {
            let county = RegionCode::parse(&a.region_code)
                .ok()
                .and_then(|r| r.at_level(RegionLevel::County))
                .map(|r| r.to_string())
                .unwrap_or_else(|| a.region_code.clone());
            let row = rows.entry((county.clone(), a.kind.clone())).or_insert_with(|| ActivityReportRow {
                kind: a.kind.clone(),
                kind_label: a.kind_label.clone(),
                region_code: county,
                activities: 0,
                people_reached: 0,
                enrolments: 0,
                premium: Fen::ZERO,
            });
            row.activities += 1;
            row.people_reached = row.people_reached.saturating_add(a.people_reached);
            row.enrolments += a.enrolments;
            row.premium = row.premium.checked_add(a.premium).unwrap_or(row.premium);
        }
        let rows: Vec<ActivityReportRow> = rows.into_values().collect();
        let report = ActivityReport {
            year,
            activities: rows.iter().map(|r| r.activities).sum(),
            people_reached: rows.iter().map(|r| r.people_reached).fold(0, i64::saturating_add),
            enrolments: rows.iter().map(|r| r.enrolments).sum(),
            premium: Fen::sum_checked(rows.iter().map(|r| r.premium)).unwrap_or(Fen::ZERO),
            rows,
        };
        self.audit(actor, AuditEvent::ok("activity.report", "宣传活动", year.to_string())).await?;
        Ok(report)
    }
}
