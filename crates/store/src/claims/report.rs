//! A report (报案) and its checks, each refusing with its rule named; a second report of
//! the same incident (person, day, kind) is flagged and answered with the first claim,
//! never written twice. Papers received are marked here too (ticked, or as files: `papers.rs`).

use chrono::{NaiveDate, Utc};
use guanai_domain::claims::{
    check_in_cover, check_insured, check_time_limit, check_waiting_period, ClaimKind, ClaimStatus,
    ClockSettings, Paper, PaperChecklist, ReportChannel,
};
use guanai_domain::products::CoverItem;
use guanai_domain::workdays::WorkCalendar;
use guanai_domain::{Fen, Permission};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QuerySelect, TransactionTrait,
};

use crate::access::Target;
use crate::audit::AuditEvent;
use crate::entities::{claim_papers, claims, families, persons, policies, policy_members};
use crate::error::stored;
use crate::group_commit::GroupWrite;
use crate::policies::PolicyStatus;
use crate::{Actor, Store, StoreError, StoreResult};

/// A report as the form or the API gives it, parsed.
#[derive(Debug, Clone)]
pub struct NewClaim {
    pub person_id: i64,
    pub kind: ClaimKind,
    pub incident_date: NaiveDate,
    pub place: String,
    pub description: String,
    /// What the claimant asks for; decides the fast lane.
    pub claimed: Fen,
    pub expenses: Option<Fen>,
    pub other_paid: Option<Fen>,
    pub days: Option<u32>,
    pub grade: Option<u8>,
    pub channel: ReportChannel,
}

/// The claim a report made, or the one it repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reported {
    pub id: i64,
    /// The same incident was reported before: this is that claim, nothing was written.
    pub duplicate: bool,
}

fn bounded(what: &str, text: &str, max: usize) -> StoreResult<String> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > max {
        return Err(StoreError::invalid(format!("请填写{what}（不超过{max}个字）")));
    }
    Ok(text.to_owned())
}

impl Store {
    async fn existing_claim(&self, new: &NewClaim) -> StoreResult<Option<i64>> {
        Ok(claims::Entity::find()
            .filter(claims::Column::PersonId.eq(new.person_id))
            .filter(claims::Column::IncidentDate.eq(new.incident_date))
            .filter(claims::Column::Kind.eq(new.kind.code()))
            .one(&self.db)
            .await?
            .map(|c| c.id))
    }

    /// The underwritten policy that covers the person on the incident day, or the check
    /// that refuses it, named.
    async fn covering_policy(&self, person: &persons::Model, new: &NewClaim) -> StoreResult<policies::Model> {
        // One read through the membership, the status filtered here: with the status in
        // the statement, SQLite (without statistics) walked the status index over every
        // underwritten policy of the city, 224 ms on the benchmark's city.
        let mut insured: Vec<policies::Model> = policies::Entity::find()
            .join(JoinType::InnerJoin, members_of_policy())
            .filter(policy_members::Column::PersonId.eq(person.id))
            .all(&self.db)
            .await?
            .into_iter()
            .filter(|p| p.status == PolicyStatus::Underwritten.code())
            .collect();
        insured.sort_by_key(|p| p.start_date);
        let rule = |e: guanai_domain::claims::ClaimRuleError| StoreError::invalid(e.to_string());
        if insured.is_empty() {
            check_insured(&person.id, &person.name, &[]).map_err(rule)?;
        }
        let incident = new.incident_date;
        if let Some(policy) = insured.iter().find(|p| p.start_date <= incident && incident <= p.end_date) {
            return Ok(policy.clone());
        }
        // The policy nearest the incident names the cover it falls outside.
        let nearest =
            insured.iter().rev().find(|p| p.start_date <= incident).or(insured.first()).expect("not empty");
        check_in_cover(incident, nearest.start_date, nearest.end_date).map_err(rule)?;
        unreachable!("outside every policy, so refused above")
    }
}

impl crate::handles::Claims<'_> {
    /// Reports a claim for an insured person, after its checks: the two-year limit (art.
    /// 26), the person insured under an underwritten policy in force on the incident day,
    /// the kind among the policy's covers, a disease cover's waiting period.
    pub async fn report_claim(self, actor: &Actor, new: NewClaim) -> StoreResult<Reported> {
        self.require(actor, Permission::ReportClaims).await?;
        let place = bounded("出险地点", &new.place, 100)?;
        let description = bounded("出险经过", &new.description, 500)?;
        if new.claimed.is_negative() || new.claimed > Fen::from_yuan(10_000_000) {
            return Err(StoreError::invalid("申请金额须在0到1,000万元之间"));
        }
        const PERSON: Target = Target { action: "claim.report", kind: "人员" };
        let found = persons::Entity::find_by_id(new.person_id)
            .join(JoinType::InnerJoin, family_of_person())
            .select_also(families::Entity)
            .one(&self.db)
            .await?;
        let region =
            found.as_ref().map(|(_, family)| family.as_ref().map_or("", |f| f.village_code.as_str()));
        self.check_scope(actor, PERSON, new.person_id, region).await?;
        let (person, family) = found.expect("in scope");
        let family = family.expect("in scope");
        if let Some(id) = self.existing_claim(&new).await? {
            return self.flag_duplicate(actor, id).await;
        }
        let today = self.today();
        let (calendar, settings) = (self.work_calendar().await?, ClockSettings::default());
        let rule = |e: guanai_domain::claims::ClaimRuleError| StoreError::invalid(e.to_string());
        check_time_limit(new.incident_date, today, &calendar, settings.roll_past_rest_days).map_err(rule)?;
        let policy = self.covering_policy(&person, &new).await?;
        let Some((item, _product)) = self.cover_for(&policy, new.kind).await? else {
            return Err(StoreError::invalid(format!(
                "保单的保障方案不包含“{}”责任，不能按此类型报案，请核对理赔类型（保险责任规则）",
                new.kind.label()
            )));
        };
        if let CoverItem::Disease { label, waiting_days, .. } = &item {
            check_waiting_period(label, new.incident_date, policy.start_date, *waiting_days).map_err(rule)?;
        }
        let mut row = claims::Model {
            id: 0,
            policy_id: policy.id,
            family_id: family.id,
            person_id: person.id,
            village_code: family.village_code.clone(),
            kind: new.kind.code().to_owned(),
            incident_date: new.incident_date,
            place,
            description,
            reported_on: today,
            channel: new.channel.code().to_owned(),
            reported_by: actor.username().to_owned(),
            status: ClaimStatus::Reported.code().to_owned(),
            claimed_fen: new.claimed.get(),
            fast_lane: settings.fast_lane(new.kind, new.claimed, true),
            expenses_fen: new.expenses.map(Fen::get),
            other_paid_fen: new.other_paid.map(Fen::get),
            days: new.days.map(|d| d.min(10_000) as i32),
            grade: new.grade.map(i32::from),
            missing_papers: None,
            missing_told_on: None,
            papers_complete_on: None,
            decided_on: None,
            proposed_fen: None,
            approved_fen: None,
            override_reason: None,
            refusal_reasons: None,
            refusal_text: None,
            refusal_notified_on: None,
            advance_fen: 0,
            advance_paid_on: None,
            paid_on: None,
            paid_fen: None,
            payment_ref: None,
            beneficiary: None,
            bank_enc: None,
            bank_masked: None,
            satisfaction: None,
            satisfaction_comment: None,
            due_on: None,
            sent_on: None,
            created_at: Utc::now(),
        };
        row.due_on = super::due_on(&row, &calendar, &settings);
        let draft = ReportDraft { actor: actor.clone(), new, row };
        self.write_grouped(|w| &w.claim_reports, draft).await
    }

    /// Marks papers as received (photographed or handed in). When every paper the kind
    /// needs is in, the papers are complete and the decision clock starts (art. 23).
    /// Adding a paper again changes nothing.
    pub async fn add_papers(self, actor: &Actor, id: i64, papers: &[Paper]) -> StoreResult<()> {
        let row = self.claim_taking_papers(actor, id, papers).await?;
        let calendar = self.work_calendar().await?;
        let txn = self.db.begin().await?;
        self.receive_papers_in(&txn, &row, papers, actor, &calendar).await?;
        txn.commit().await?;
        let names: Vec<&str> = papers.iter().map(|p| p.label()).collect();
        self.audit(
            actor,
            AuditEvent::ok("claim.paper", "理赔案件", id.to_string()).with_detail(names.join("、")),
        )
        .await
    }
}

impl Store {
    /// The claim `id` in scope if papers may still be added and `papers` are among its
    /// kind's checklist (the caller may report claims).
    pub(crate) async fn claim_taking_papers(
        &self,
        actor: &Actor,
        id: i64,
        papers: &[Paper],
    ) -> StoreResult<claims::Model> {
        self.require(actor, Permission::ReportClaims).await?;
        let row = self.claim_row(actor, id).await?;
        let status: ClaimStatus = stored("claims.status", &row.status)?;
        if !status.takes_papers() {
            return Err(StoreError::invalid(format!("案件{}，不能再补充材料", status.label())));
        }
        let kind: ClaimKind = stored("claims.kind", &row.kind)?;
        if papers.is_empty() {
            return Err(StoreError::invalid("请选择收到的材料"));
        }
        if let Some(other) = papers.iter().find(|p| !PaperChecklist::default().required(kind).contains(p)) {
            return Err(StoreError::invalid(format!("“{}”不是{}需要的材料", other.label(), kind.label())));
        }
        Ok(row)
    }

    /// Marks `papers` received today in `db` (the caller's transaction; written first, so it
    /// takes SQLite's lock), idempotently; when the checklist is complete, the claim goes
    /// under review and the decision clock starts.
    pub(crate) async fn receive_papers_in(
        &self,
        db: &impl ConnectionTrait,
        row: &claims::Model,
        papers: &[Paper],
        actor: &Actor,
        calendar: &WorkCalendar,
    ) -> StoreResult<()> {
        let settings = ClockSettings::default();
        let kind: ClaimKind = stored("claims.kind", &row.kind)?;
        let today = self.today();
        for paper in papers {
            let line = claim_papers::ActiveModel {
                claim_id: Set(row.id),
                paper: Set(paper.code().to_owned()),
                received_on: Set(today),
                recorded_by: Set(actor.username().to_owned()),
            };
            claim_papers::Entity::insert(line)
                .on_conflict(
                    OnConflict::columns([claim_papers::Column::ClaimId, claim_papers::Column::Paper])
                        .value(
                            claim_papers::Column::ReceivedOn,
                            Expr::col((claim_papers::Entity, claim_papers::Column::ReceivedOn)),
                        )
                        .to_owned(),
                )
                .exec_without_returning(db)
                .await?;
        }
        let have: Vec<Paper> = self.claim_papers(db, row.id).await?.into_iter().map(|p| p.paper).collect();
        let mut new = row.clone();
        if PaperChecklist::default().missing(kind, &have).is_empty() && row.papers_complete_on.is_none() {
            new.papers_complete_on = Some(today);
            new.status = ClaimStatus::UnderReview.code().to_owned();
        }
        self.save_claim(db, row, new, calendar, &settings).await
    }
}

/// A person's family: `families` joined on the person.
fn family_of_person() -> sea_orm::RelationDef {
    persons::Entity::belongs_to(families::Entity)
        .from(persons::Column::FamilyId)
        .to(families::Column::Id)
        .into()
}

/// A policy's members: `policy_members` joined on the policy.
fn members_of_policy() -> sea_orm::RelationDef {
    policies::Entity::belongs_to(policy_members::Entity)
        .from(policies::Column::Id)
        .to(policy_members::Column::PolicyId)
        .into()
}

/// A report checked, its claim's row made (all but the id), ready to write.
#[derive(Debug)]
pub(crate) struct ReportDraft {
    actor: Actor,
    new: NewClaim,
    row: claims::Model,
}

impl ReportDraft {
    fn insert(&self) -> claims::ActiveModel {
        let mut active: claims::ActiveModel = self.row.clone().into();
        active.id = NotSet;
        active
    }

    fn audit_event(&self, id: i64) -> AuditEvent {
        AuditEvent::ok("claim.report", "理赔案件", id.to_string())
            .with_subject(format!("person:{}", self.new.person_id))
            .with_detail(self.new.kind.label())
    }
}

/// Reports are written many to a transaction (`group_commit`): each claim with its limit's
/// row, and every audit entry in one insert.
impl GroupWrite for ReportDraft {
    type Written = Reported;
    const WHAT: &'static str = "claim reports";

    /// Two reports of one person might be the same incident: the later one goes alone,
    /// where a duplicate is answered with the first claim.
    fn exclusive_keys(&self) -> Vec<(&'static str, i64)> {
        vec![("persons", self.row.person_id)]
    }

    async fn commit_group(store: &Store, group: &mut [Self]) -> StoreResult<Vec<StoreResult<Reported>>> {
        let turn = store.write_gate.turn().await;
        let txn = turn.db.begin().await?;
        let mut ids = Vec::with_capacity(group.len());
        for draft in group.iter() {
            ids.push(claims::Entity::insert(draft.insert()).exec(&txn).await?.last_insert_id);
            store.open_limit(&txn, draft.row.policy_id, draft.new.kind, draft.row.person_id).await?;
        }
        let entries = group.iter().zip(&ids).map(|(d, id)| (&d.actor, d.audit_event(*id))).collect();
        store.audit_many_in(&txn, entries).await?;
        txn.commit().await?;
        drop(turn);
        Ok(ids.into_iter().map(|id| Ok(Reported { id, duplicate: false })).collect())
    }

    async fn write_alone(store: &Store, draft: Self) -> StoreResult<Reported> {
        store.report_alone(draft).await
    }
}

impl Store {
    /// One report in a transaction of its own: the claim and its limit's row, in turn with
    /// the store's other writers (on SQLite they would otherwise meet in its busy handler).
    async fn report_alone(&self, draft: ReportDraft) -> StoreResult<Reported> {
        let turn = self.write_gate.turn().await;
        let txn = turn.db.begin().await?;
        let id = match claims::Entity::insert(draft.insert()).exec(&txn).await {
            Ok(done) => done.last_insert_id,
            // The same incident reported at the same moment: the other report won.
            Err(err) => {
                txn.rollback().await?;
                drop(turn);
                return match StoreError::from_write(err, "") {
                    StoreError::Conflict(_) => {
                        let id = self
                            .existing_claim(&draft.new)
                            .await?
                            .ok_or_else(|| StoreError::Conflict("请重试".into()))?;
                        self.flag_duplicate(&draft.actor, id).await
                    }
                    other => Err(other),
                };
            }
        };
        self.open_limit(&txn, draft.row.policy_id, draft.new.kind, draft.row.person_id).await?;
        self.audit_in(&txn, &draft.actor, draft.audit_event(id)).await?;
        txn.commit().await?;
        drop(turn);
        Ok(Reported { id, duplicate: false })
    }

    async fn flag_duplicate(&self, actor: &Actor, id: i64) -> StoreResult<Reported> {
        self.audit(
            actor,
            AuditEvent::ok("claim.report", "理赔案件", id.to_string()).with_detail("重复报案，已指向原案件"),
        )
        .await?;
        Ok(Reported { id, duplicate: true })
    }
}
