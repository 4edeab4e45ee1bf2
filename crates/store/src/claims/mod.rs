//! Claims (理赔): reports with their checks (`report`), papers as files (`papers`), the
//! insurer's decision, the advance of art. 25, payment and satisfaction (`decide`; decisions
//! and payments applied in one transaction, one or a whole file's, in `apply`), the
//! agent told of missing papers through the outbox (`notices`), the limits a family's
//! claims share (`ledger`), the working-day calendar (`calendar`), the measures and
//! satisfaction per county (`measures`), and the reads: one claim with its clocks, and the
//! queues ordered by the clock (this file).
//!
//! Every claim stores the due date of its most urgent clock (`due_on`, recomputed on each
//! change), so a queue is ordered and a breach list filtered by the database, on the
//! region's index.

mod apply;
mod bulk;
mod calendar;
mod decide;
mod exchange;
mod ledger;
mod measures;
mod notices;
mod papers;
mod report;

use std::collections::HashMap;

use chrono::NaiveDate;
use guanai_domain::claims::{
    claim_clocks, most_urgent, ClaimDates, ClaimKind, ClaimStatus, ClockSettings, ClockState, Deadline,
    Outcome, Paper, PaperChecklist, RefusalReason, ReportChannel,
};
use guanai_domain::workdays::WorkCalendar;
use guanai_domain::{Fen, Permission};
use sea_orm::sea_query::{Expr, Order};
use sea_orm::{ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;

pub use apply::{ChangeFailed, ClaimChange};
pub use bulk::ClaimsTopUp;
pub use decide::{Decision, NewPayment};
pub use exchange::{ExchangeClaim, ExportedClaim, EXPORT_LIMIT};
pub(crate) use measures::CountyBase;
pub use measures::{ClaimMeasures, CountyMeasures};
pub use papers::PaperFile;
pub(crate) use report::ReportDraft;
pub use report::{NewClaim, Reported};

use crate::access::Target;
use crate::audit::AuditEvent;
use crate::entities::{claim_papers, claims, persons};
use crate::error::stored;
use crate::shown::{ShownName, Visibility};
use crate::{page_offset, Actor, Store, StoreResult};

const CLAIM: Target = Target { action: "claim.view", kind: "理赔案件" };

/// One clock of a claim on the day it is read.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClockLine {
    pub deadline: Deadline,
    /// The rule with its numbers, as a reviewer reads it.
    pub rule: String,
    pub from: NaiveDate,
    pub due: NaiveDate,
    pub met: Option<NaiveDate>,
    pub state: ClockState,
    /// Days left (running) or late (breached, met late).
    pub days: i64,
    /// The state in words: 还剩3天, 已超期2天, 按时完成.
    pub words: String,
}

/// A claim in a list.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClaimSummary {
    pub id: i64,
    pub family_id: i64,
    pub person_id: i64,
    pub person_name: ShownName,
    pub village_code: String,
    pub kind: ClaimKind,
    pub incident_date: NaiveDate,
    pub reported_on: NaiveDate,
    pub status: ClaimStatus,
    pub fast_lane: bool,
    /// What the claimant asks for (an estimate at the report).
    pub claimed: Fen,
    pub approved: Option<Fen>,
    pub paid: Option<Fen>,
    /// The most urgent clock not yet met; none when every clock is met or none runs yet.
    pub clock: Option<ClockLine>,
}

/// A paper received, and when.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaperLine {
    pub paper: Paper,
    pub received_on: NaiveDate,
}

/// What the rules propose to pay, with the working.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Proposal {
    pub amount: Fen,
    /// What the terms give before the limits shared with earlier claims.
    pub before_limits: Fen,
    /// Why the amount is less than the terms alone would give.
    pub limited_by: Option<String>,
    pub working: Vec<String>,
}

/// One claim with everything its page shows.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClaimDetail {
    #[serde(flatten)]
    pub summary: ClaimSummary,
    pub policy_id: i64,
    pub policy_no: Option<String>,
    pub place: String,
    pub description: String,
    pub channel: ReportChannel,
    pub reported_by: String,
    /// The papers the claim's kind needs (the checklist).
    pub required_papers: Vec<Paper>,
    pub papers: Vec<PaperLine>,
    /// What the insurer asked for and is not in yet (art. 22: all at once).
    pub missing_papers: Vec<Paper>,
    pub missing_told_on: Option<NaiveDate>,
    pub papers_complete_on: Option<NaiveDate>,
    pub expenses: Option<Fen>,
    pub other_paid: Option<Fen>,
    pub days: Option<i32>,
    pub grade: Option<i32>,
    /// What the rules propose now (undecided claims), or why they cannot yet.
    pub proposal: Option<Proposal>,
    pub proposal_note: Option<String>,
    pub decided_on: Option<NaiveDate>,
    pub proposed: Option<Fen>,
    pub override_reason: Option<String>,
    pub refusal_reasons: Vec<RefusalReason>,
    pub refusal_text: Option<String>,
    pub refusal_notified_on: Option<NaiveDate>,
    pub advance: Fen,
    pub advance_paid_on: Option<NaiveDate>,
    pub paid_on: Option<NaiveDate>,
    pub payment_ref: Option<String>,
    pub beneficiary: Option<ShownName>,
    pub bank_masked: Option<String>,
    pub satisfaction: Option<i32>,
    pub satisfaction_comment: Option<String>,
    pub clocks: Vec<ClockLine>,
}

/// Which claims a queue lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClaimFilter {
    /// Every claim in scope.
    #[default]
    All,
    /// Claims some clock still runs on, most urgent first.
    Open,
    /// Open claims due within the settings' "due soon" days (not yet breached).
    DueSoon,
    /// Open claims past a due date.
    Breached,
    /// Claims waiting for papers the insurer asked for.
    PapersPending,
}

#[derive(Debug, Clone, Default)]
pub struct ClaimQuery {
    pub filter: ClaimFilter,
    pub status: Option<ClaimStatus>,
    /// A region within the actor's scope.
    pub region: Option<String>,
    pub page: u64,
    pub per_page: u64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClaimPage {
    pub total: u64,
    pub claims: Vec<ClaimSummary>,
}

/// Open claims by their clocks, for home panels.
#[derive(Debug, Clone, Copy, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClockCounts {
    pub open: u64,
    pub due_soon: u64,
    pub breached: u64,
    pub papers_pending: u64,
}

/// The dates the clocks read, from a stored claim.
pub(crate) fn claim_dates(row: &claims::Model) -> ClaimDates {
    let outcome = if row.status == ClaimStatus::Refused.code() { Outcome::Refuse } else { Outcome::Pay };
    ClaimDates {
        reported: row.reported_on,
        fast_lane: row.fast_lane,
        missing_papers_told: row.missing_told_on,
        papers_complete: row.papers_complete_on,
        decided: row.decided_on.map(|on| (on, outcome)),
        refusal_notified: row.refusal_notified_on,
        advance_paid: row.advance_paid_on,
        paid: row.paid_on,
    }
}

/// The due date a claim is queued by: its most urgent clock's, none when all are met.
pub(crate) fn due_on(
    row: &claims::Model,
    calendar: &WorkCalendar,
    settings: &ClockSettings,
) -> Option<NaiveDate> {
    let clocks = claim_clocks(&claim_dates(row), calendar, settings);
    clocks.iter().filter(|c| c.met.is_none()).map(|c| c.due).min()
}

fn clock_lines(
    row: &claims::Model,
    calendar: &WorkCalendar,
    settings: &ClockSettings,
    today: NaiveDate,
) -> Vec<ClockLine> {
    claim_clocks(&claim_dates(row), calendar, settings)
        .into_iter()
        .map(|c| {
            let (state, days, words) = ClockState::of(c.status(today, settings));
            ClockLine {
                deadline: c.deadline,
                rule: c.deadline.rule(settings),
                from: c.from,
                due: c.due,
                met: c.met,
                state,
                days,
                words,
            }
        })
        .collect()
}

/// Codes joined for a text column, and read back.
pub(crate) fn join_codes<T: guanai_domain::StoredCode>(values: &[T]) -> String {
    values.iter().map(|v| v.code()).collect::<Vec<_>>().join(",")
}

pub(crate) fn split_codes<T: guanai_domain::StoredCode>(
    column: &str,
    raw: Option<&str>,
) -> StoreResult<Vec<T>> {
    raw.unwrap_or_default().split(',').filter(|c| !c.is_empty()).map(|c| stored(column, c)).collect()
}

impl Store {
    /// The claim `id` if it lies within the actor's scope (denied and audited otherwise).
    pub(crate) async fn claim_row(&self, actor: &Actor, id: i64) -> StoreResult<claims::Model> {
        self.scoped_find::<claims::Entity>(actor, CLAIM, id, |row| &row.village_code).await
    }

    fn claim_summary(
        &self,
        row: &claims::Model,
        name: &str,
        shown: &Visibility,
        calendar: &WorkCalendar,
        settings: &ClockSettings,
    ) -> StoreResult<ClaimSummary> {
        let today = self.today();
        let clock = most_urgent(&claim_clocks(&claim_dates(row), calendar, settings), today, settings).map(
            |(c, status)| {
                let (state, days, words) = ClockState::of(status);
                ClockLine {
                    deadline: c.deadline,
                    rule: c.deadline.rule(settings),
                    from: c.from,
                    due: c.due,
                    met: c.met,
                    state,
                    days,
                    words,
                }
            },
        );
        Ok(ClaimSummary {
            id: row.id,
            family_id: row.family_id,
            person_id: row.person_id,
            person_name: shown.name(row.family_id, name),
            village_code: row.village_code.clone(),
            kind: stored("claims.kind", &row.kind)?,
            incident_date: row.incident_date,
            reported_on: row.reported_on,
            status: stored("claims.status", &row.status)?,
            fast_lane: row.fast_lane,
            claimed: Fen::new(row.claimed_fen),
            approved: row.approved_fen.map(Fen::new),
            paid: row.paid_fen.map(Fen::new),
            clock,
        })
    }

    /// The papers received for each of `ids` (a claim without any is absent), read in
    /// chunks rather than one query a claim.
    pub(crate) async fn received_papers(&self, ids: &[i64]) -> StoreResult<HashMap<i64, Vec<Paper>>> {
        let mut received: HashMap<i64, Vec<Paper>> = HashMap::new();
        for chunk in ids.chunks(crate::policies::CHUNK) {
            let rows: Vec<(i64, String)> = claim_papers::Entity::find()
                .select_only()
                .column(claim_papers::Column::ClaimId)
                .column(claim_papers::Column::Paper)
                .filter(claim_papers::Column::ClaimId.is_in(chunk.iter().copied()))
                .order_by_asc(claim_papers::Column::ReceivedOn)
                .into_tuple()
                .all(&self.db)
                .await?;
            for (claim, paper) in rows {
                received.entry(claim).or_default().push(stored("claim_papers.paper", &paper)?);
            }
        }
        Ok(received)
    }

    /// The papers received for a claim, in the checklist's order of codes.
    pub(crate) async fn claim_papers(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        id: i64,
    ) -> StoreResult<Vec<PaperLine>> {
        claim_papers::Entity::find()
            .filter(claim_papers::Column::ClaimId.eq(id))
            .order_by_asc(claim_papers::Column::ReceivedOn)
            .all(db)
            .await?
            .into_iter()
            .map(|p| {
                Ok(PaperLine { paper: stored("claim_papers.paper", &p.paper)?, received_on: p.received_on })
            })
            .collect()
    }
}

impl crate::handles::Claims<'_> {
    /// One claim with its papers, clocks and what the rules propose; the view is audited
    /// (a claim carries health and bank data).
    pub async fn claim(self, actor: &Actor, id: i64) -> StoreResult<ClaimDetail> {
        self.require(actor, Permission::ViewClaims).await?;
        let row = self.claim_row(actor, id).await?;
        let (calendar, settings) = (self.work_calendar().await?, ClockSettings::default());
        let person = persons::Entity::find_by_id(row.person_id).one(&self.db).await?;
        let name = person.map(|p| p.name).unwrap_or_default();
        let shown = self.visibility(actor, [row.family_id]).await?;
        let summary = self.claim_summary(&row, &name, &shown, &calendar, &settings)?;
        let papers = self.claim_papers(&self.db, id).await?;
        let kind = summary.kind;
        let checklist = PaperChecklist::default();
        let have: Vec<Paper> = papers.iter().map(|p| p.paper).collect();
        let asked: Vec<Paper> = split_codes("claims.missing_papers", row.missing_papers.as_deref())?;
        let (proposal, proposal_note) = if summary.status.awaits_decision() {
            match self.propose(&row).await? {
                Ok(p) => (Some(p), None),
                Err(note) => (None, Some(note)),
            }
        } else {
            (None, None)
        };
        let policy_no = crate::entities::policies::Entity::find_by_id(row.policy_id)
            .one(&self.db)
            .await?
            .and_then(|p| p.policy_no);
        self.audit(
            actor,
            AuditEvent::ok("claim.view", "理赔案件", id.to_string())
                .with_subject(format!("person:{}", row.person_id)),
        )
        .await?;
        Ok(ClaimDetail {
            policy_id: row.policy_id,
            policy_no,
            place: row.place.clone(),
            description: row.description.clone(),
            channel: stored("claims.channel", &row.channel)?,
            reported_by: crate::audit_labels::shown_username(&row.reported_by).to_owned(),
            required_papers: checklist.required(kind).to_vec(),
            missing_papers: asked.into_iter().filter(|p| !have.contains(p)).collect(),
            papers,
            missing_told_on: row.missing_told_on,
            papers_complete_on: row.papers_complete_on,
            expenses: row.expenses_fen.map(Fen::new),
            other_paid: row.other_paid_fen.map(Fen::new),
            days: row.days,
            grade: row.grade,
            proposal,
            proposal_note,
            decided_on: row.decided_on,
            proposed: row.proposed_fen.map(Fen::new),
            override_reason: row.override_reason.clone(),
            refusal_reasons: split_codes("claims.refusal_reasons", row.refusal_reasons.as_deref())?,
            refusal_text: row.refusal_text.clone(),
            refusal_notified_on: row.refusal_notified_on,
            advance: Fen::new(row.advance_fen),
            advance_paid_on: row.advance_paid_on,
            paid_on: row.paid_on,
            payment_ref: row.payment_ref.clone(),
            beneficiary: row.beneficiary.as_deref().map(|b| shown.name(row.family_id, b)),
            bank_masked: row.bank_masked.clone(),
            satisfaction: row.satisfaction,
            satisfaction_comment: row.satisfaction_comment.clone(),
            clocks: clock_lines(&row, &calendar, &settings, self.today()),
            summary,
        })
    }

    /// A page of the claims in scope: open ones ordered by their most urgent clock (the
    /// insurer's queue), the rest newest first after them.
    pub async fn claims(self, actor: &Actor, query: &ClaimQuery) -> StoreResult<ClaimPage> {
        self.require(actor, Permission::ViewClaims).await?;
        let offset = page_offset(query.page, query.per_page)?;
        let mut condition = Condition::all().add(actor.scope_condition(claims::Column::VillageCode));
        if let Some(region) = &query.region {
            condition = condition.add(crate::access::within_region(claims::Column::VillageCode, region));
        }
        if let Some(status) = query.status {
            condition = condition.add(claims::Column::Status.eq(status.code()));
        }
        condition = condition.add(self.filter_condition(query.filter));
        let select = claims::Entity::find().filter(condition);
        let total = select.clone().count(&self.db).await?;
        let rows = select
            .order_by(Expr::col(claims::Column::DueOn).is_null(), Order::Asc)
            .order_by_asc(claims::Column::DueOn)
            .order_by_desc(claims::Column::Id)
            .offset(offset)
            .limit(query.per_page)
            .all(&self.db)
            .await?;
        let claims = self.claim_summaries(actor, rows).await?;
        Ok(ClaimPage { total, claims })
    }

    /// How many open claims of the actor's scope run, are due soon, are breached, wait
    /// for papers.
    pub async fn clock_counts(self, actor: &Actor) -> StoreResult<ClockCounts> {
        self.require(actor, Permission::ViewClaims).await?;
        let mut counts = ClockCounts::default();
        for (filter, slot) in [
            (ClaimFilter::Open, &mut counts.open),
            (ClaimFilter::DueSoon, &mut counts.due_soon),
            (ClaimFilter::Breached, &mut counts.breached),
            (ClaimFilter::PapersPending, &mut counts.papers_pending),
        ] {
            *slot = claims::Entity::find()
                .filter(actor.scope_condition(claims::Column::VillageCode))
                .filter(self.filter_condition(filter))
                .count(&self.db)
                .await?;
        }
        Ok(counts)
    }
}

impl Store {
    fn filter_condition(&self, filter: ClaimFilter) -> Condition {
        let today = self.today();
        let open = ClaimStatus::ALL.into_iter().filter(|s| s.is_open()).map(|s| s.code());
        let open = claims::Column::Status.is_in(open);
        match filter {
            ClaimFilter::All => Condition::all(),
            ClaimFilter::Open => Condition::all().add(open),
            ClaimFilter::DueSoon => {
                let soon = today + chrono::Days::new(u64::from(ClockSettings::default().due_soon_days));
                Condition::all()
                    .add(open)
                    .add(claims::Column::DueOn.gte(today))
                    .add(claims::Column::DueOn.lte(soon))
            }
            ClaimFilter::Breached => Condition::all().add(open).add(claims::Column::DueOn.lt(today)),
            ClaimFilter::PapersPending => {
                Condition::all().add(claims::Column::Status.eq(ClaimStatus::PapersPending.code()))
            }
        }
    }

    async fn claim_summaries(
        &self,
        actor: &Actor,
        rows: Vec<claims::Model>,
    ) -> StoreResult<Vec<ClaimSummary>> {
        let person_ids: Vec<i64> = rows.iter().map(|r| r.person_id).collect();
        let names: std::collections::HashMap<i64, String> = persons::Entity::find()
            .filter(persons::Column::Id.is_in(person_ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|p| (p.id, p.name))
            .collect();
        let shown = self.visibility(actor, rows.iter().map(|r| r.family_id)).await?;
        let (calendar, settings) = (self.work_calendar().await?, ClockSettings::default());
        rows.iter()
            .map(|row| {
                let name = names.get(&row.person_id).map(String::as_str).unwrap_or_default();
                self.claim_summary(row, name, &shown, &calendar, &settings)
            })
            .collect()
    }
}
