//! The claims' measures (PRODUCT.md "Measures") and the families' satisfaction, per county
//! (and its insurer sub-branch, the county's insurer organisation) for one year, as raw
//! counts so every ratio can be computed both ways: claim frequency (reported ÷ insured
//! persons), paid share (paid ÷ reported), loss ratio (paid ÷ premium), days from report
//! to payment (their sum and each claim's days, for the average and the median), fast-lane
//! share, deadline breaches, and satisfaction (count, sum and each score).
//!
//! The year is the cover year of the claim's policy, the year the coverage report counts
//! premium and insured persons in (`reports/coverage.rs`, whose grouped reads are reused
//! here), so the loss ratio divides like by like. Read on one snapshot.

use std::collections::BTreeMap;

use guanai_domain::claims::{claim_clocks, ClockSettings, ClockState};
use guanai_domain::orgs::OrgKind;
use guanai_domain::reports::Ratio;
use guanai_domain::{Fen, Permission, RegionCode, RegionLevel};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::Serialize;

use super::claim_dates;
use crate::access::within_region;
use crate::entities::{claims, orgs, policies};
use crate::reports::tally;
use crate::{Actor, Store, StoreResult};

/// One county's claims of a year, as raw counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CountyMeasures {
    /// The county's code; empty on the total line.
    pub county: String,
    pub county_name: String,
    /// The county's insurer sub-branch (支公司), when one is registered.
    pub sub_branch: Option<String>,
    /// Insured persons of the year's underwritten policies (claim frequency's denominator).
    pub insured_persons: u64,
    /// Premium of the year's underwritten policies (the loss ratio's denominator).
    pub premium: Fen,
    pub reported: u64,
    pub paid: u64,
    pub refused: u64,
    /// What was paid, advances included.
    pub amount_paid: Fen,
    /// Days from report to payment, added up over the paid claims.
    pub days_to_payment_sum: u64,
    /// Each paid claim's days from report to payment, smallest first (for the median).
    pub days_to_payment: Vec<u64>,
    pub fast_lane: u64,
    /// Claims with a clock breached or met late.
    pub breached: u64,
    /// Claims whose satisfaction was recorded, the scores added up, and how many gave each
    /// score (1 to 5).
    pub satisfaction_count: u64,
    pub satisfaction_sum: u64,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<u64>))]
    pub satisfaction_scores: [u64; 5],
    /// The average score, when any was recorded.
    pub satisfaction_average: Option<f64>,
}

impl CountyMeasures {
    /// Reported claims ÷ insured persons.
    pub fn frequency(&self) -> Ratio {
        Ratio::new(self.reported, self.insured_persons)
    }

    /// Paid ÷ reported claims.
    pub fn paid_share(&self) -> Ratio {
        Ratio::new(self.paid, self.reported)
    }

    /// Paid amount ÷ premium.
    pub fn loss_ratio(&self) -> Ratio {
        Ratio::new(self.amount_paid.get().max(0) as u64, self.premium.get().max(0) as u64)
    }

    /// Fast-lane ÷ reported claims.
    pub fn fast_lane_share(&self) -> Ratio {
        Ratio::new(self.fast_lane, self.reported)
    }

    /// The average days from report to payment, to a tenth: `12.5`, or `—`.
    pub fn average_days(&self) -> String {
        tenths(self.days_to_payment_sum * 10, self.days_to_payment.len() as u64)
    }

    /// The median days from report to payment, to a tenth: `12.5`, or `—`.
    pub fn median_days(&self) -> String {
        let days = &self.days_to_payment;
        match days.len() {
            0 => "—".to_owned(),
            n if n % 2 == 1 => tenths(days[n / 2] * 10, 1),
            n => tenths((days[n / 2 - 1] + days[n / 2]) * 5, 1),
        }
    }

    /// The average satisfaction, to a tenth: `4.5`, or `—`.
    pub fn satisfaction_text(&self) -> String {
        tenths(self.satisfaction_sum * 10, self.satisfaction_count)
    }

    fn add(&mut self, other: &CountyMeasures) {
        self.insured_persons += other.insured_persons;
        self.premium = Fen::new(self.premium.get() + other.premium.get());
        self.reported += other.reported;
        self.paid += other.paid;
        self.refused += other.refused;
        self.amount_paid = Fen::new(self.amount_paid.get() + other.amount_paid.get());
        self.days_to_payment_sum += other.days_to_payment_sum;
        self.days_to_payment.extend_from_slice(&other.days_to_payment);
        self.fast_lane += other.fast_lane;
        self.breached += other.breached;
        self.satisfaction_count += other.satisfaction_count;
        self.satisfaction_sum += other.satisfaction_sum;
        for (sum, n) in self.satisfaction_scores.iter_mut().zip(other.satisfaction_scores) {
            *sum += n;
        }
    }

    fn finish(&mut self) {
        self.days_to_payment.sort_unstable();
        self.satisfaction_average = (self.satisfaction_count > 0)
            .then(|| self.satisfaction_sum as f64 / self.satisfaction_count as f64);
    }
}

/// `tenfold ÷ n` shown to one decimal, rounded half up; `—` when `n` is 0.
fn tenths(tenfold: u64, n: u64) -> String {
    if n == 0 {
        return "—".to_owned();
    }
    let t = (tenfold * 2 + n) / (n * 2);
    format!("{}.{}", t / 10, t % 10)
}

/// The measures of the actor's scope for a year, per county.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClaimMeasures {
    pub year: i32,
    pub region: RegionCode,
    pub rows: Vec<CountyMeasures>,
    pub total: CountyMeasures,
}

/// Each county's premium and insured persons of a year (the loss ratio's and the claim
/// frequency's denominators), as the coverage report counts them.
pub(crate) type CountyBase = BTreeMap<String, (Fen, u64)>;

impl crate::handles::Claims<'_> {
    /// The measures and satisfaction of the claims within the actor's scope whose policy
    /// covers `year`, per county, with the county's premium and insured persons of that
    /// year; counties with neither claims nor premium are left out.
    pub async fn measures(self, actor: &Actor, year: i32) -> StoreResult<ClaimMeasures> {
        self.require(actor, Permission::ViewClaims).await?;
        let region = actor.scope().clone();
        let txn = self.snapshot().await?;
        let measures = self.measures_in(&txn, &region, year, None).await;
        txn.commit().await?;
        measures
    }
}

impl Store {
    /// The measures of the claims within `region` whose policy covers `year`, read on `db`
    /// (one snapshot); `base` the counties' premium and insured persons when the caller
    /// has them already (the coverage report's), else read here.
    pub(crate) async fn measures_in(
        &self,
        db: &impl ConnectionTrait,
        region: &RegionCode,
        year: i32,
        base: Option<CountyBase>,
    ) -> StoreResult<ClaimMeasures> {
        let (calendar, settings) = (super::calendar::work_calendar_in(db).await?, ClockSettings::default());
        let today = self.today();
        let base = match base {
            Some(base) => base,
            None => self.county_bases(db, region, year..=year).await?.remove(&year).unwrap_or_default(),
        };
        // The region's claims, each probing its own policy's year: a join would let SQLite
        // walk the year's policies (a hundred thousand at city scale) for a few claims.
        let of_year = Query::select()
            .expr(Expr::val(1))
            .from(policies::Entity)
            .and_where(
                Expr::col((policies::Entity, policies::Column::Id))
                    .equals((claims::Entity, claims::Column::PolicyId)),
            )
            .and_where(Expr::col((policies::Entity, policies::Column::Year)).eq(year))
            .to_owned();
        let rows = claims::Entity::find()
            .filter(within_region(claims::Column::VillageCode, region.as_str()))
            .filter(Expr::exists(of_year))
            .all(db)
            .await?;
        let mut by_county: BTreeMap<String, CountyMeasures> = BTreeMap::new();
        let county_of = |code: &str| code.chars().take(RegionLevel::County.code_len()).collect::<String>();
        for (county, (premium, persons)) in base {
            let m = by_county.entry(county).or_default();
            m.premium = premium;
            m.insured_persons = persons;
        }
        for row in &rows {
            let m = by_county.entry(county_of(&row.village_code)).or_default();
            m.reported += 1;
            m.fast_lane += u64::from(row.fast_lane);
            if row.status == guanai_domain::claims::ClaimStatus::Refused.code() {
                m.refused += 1;
            }
            if let (Some(paid_on), Some(paid)) = (row.paid_on, row.paid_fen) {
                m.paid += 1;
                m.amount_paid = Fen::new(m.amount_paid.get() + paid);
                let days = tally((paid_on - row.reported_on).num_days());
                m.days_to_payment_sum += days;
                m.days_to_payment.push(days);
            }
            let breached = claim_clocks(&claim_dates(row), &calendar, &settings).iter().any(|c| {
                matches!(
                    ClockState::of(c.status(today, &settings)).0,
                    ClockState::Breached | ClockState::MetLate
                )
            });
            m.breached += u64::from(breached);
            if let Some(score) = row.satisfaction.filter(|s| (1..=5).contains(s)) {
                m.satisfaction_count += 1;
                m.satisfaction_sum += score as u64;
                m.satisfaction_scores[score as usize - 1] += 1;
            }
        }
        let counties: Vec<&str> = by_county.keys().map(String::as_str).collect();
        let names = crate::regions::region_names_in(db, &counties).await?;
        let branches: BTreeMap<String, String> = orgs::Entity::find()
            .filter(orgs::Column::Kind.eq(OrgKind::Insurer.code()))
            .filter(orgs::Column::RegionCode.is_in(counties.iter().copied()))
            .all(db)
            .await?
            .into_iter()
            .map(|o| (o.region_code, o.name))
            .collect();
        let mut total = CountyMeasures { county_name: "合计".to_owned(), ..Default::default() };
        let mut lines = Vec::with_capacity(by_county.len());
        for (county, mut m) in by_county {
            m.county_name = names.get(&county).cloned().unwrap_or_else(|| county.clone());
            m.sub_branch = branches.get(&county).cloned();
            m.county = county;
            m.finish();
            total.add(&m);
            lines.push(m);
        }
        total.finish();
        Ok(ClaimMeasures { year, region: region.clone(), rows: lines, total })
    }
}
