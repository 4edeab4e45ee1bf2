//! The demo's targets: each county's households and persons for the demo year, a little
//! above what it insured the year before (so that some reach theirs and some do not), a
//! renewal rate of 85 %; and 吉州区's townships, handed down by the county the same way.

use guanai_domain::reports::Dimension;
use guanai_domain::targets::Permille;
use guanai_domain::RegionCode;
use guanai_store::reports::ReportQuery;
use guanai_store::targets::{TargetChange, TargetValues};
use guanai_store::{Actor, Store};

use super::catalog::DEMO_YEAR;
use super::DEMO_COUNTY;

/// Sets the demo year's targets from last year's figures (nothing when none is insured).
pub async fn set_targets(store: &Store, city: &RegionCode) -> anyhow::Result<usize> {
    let mut changed = 0;
    for region in [city.clone(), RegionCode::parse(DEMO_COUNTY)?] {
        // The county's targets are its own to set: it acts for itself.
        let actor = Actor::system(region.clone());
        let query = ReportQuery { year: DEMO_YEAR - 1, region: Some(region.clone()), by: Dimension::Region };
        let last = store.reports().coverage(&actor, &query).await?;
        let changes: Vec<TargetChange> = last
            .rows
            .iter()
            .filter(|row| row.insured_households > 0)
            .filter_map(|row| {
                Some(TargetChange {
                    region: RegionCode::parse(&row.key).ok()?,
                    year: DEMO_YEAR,
                    values: TargetValues {
                        // 2 % to 12 % more than last year, varying by region.
                        households: Some(
                            row.insured_households
                                * (102 + (row.key.len() as u64 * 7 + row.insured_households) % 11)
                                / 100,
                        ),
                        persons: Some(row.insured_persons * 105 / 100),
                        renewal_permille: Permille::new(850),
                        eligible_households: None,
                    },
                })
            })
            .collect();
        changed += store.targets().set_targets(&actor, &changes).await?;
    }
    Ok(changed)
}
