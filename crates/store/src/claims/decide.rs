//! The insurer's side of a claim: asking for every missing paper at once (art. 22), the
//! decision with the amount the rules propose or an override with its reason (art. 23) or
//! a refusal with reason codes and a written reason (art. 24), the advance of the certain
//! part (art. 25), the payment into a sealed bank account; and the satisfaction the agent
//! records after payment.
//!
//! Every change is one conditional UPDATE of the claim on the status it was read in, so
//! two people acting on one claim at once cannot both succeed; a decision also takes its
//! amount from the shared limits in the same transaction (`ledger`). A decision and a
//! payment are written by `decide_in` and `pay_in` in a transaction they are given: that of
//! `apply.rs`, for the claim's page (one change) and an insurer's file (all its changes)
//! alike.

use chrono::{NaiveDate, Utc};
use guanai_domain::claims::{
    check_score, BankAccount, ClaimKind, ClaimStatus, ClockSettings, Paper, PaperChecklist, RefusalReason,
};
use guanai_domain::families::MemberEvent;
use guanai_domain::workdays::WorkCalendar;
use guanai_domain::{Fen, Permission};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait,
};

use super::join_codes;
use super::ledger::CoverTerms;
use crate::audit::AuditEvent;
use crate::entities::{claims, person_events, persons};
use crate::error::stored;
use crate::{Actor, Store, StoreError, StoreResult};

/// The insurer's decision on a claim.
#[derive(Debug, Clone)]
pub struct Decision {
    /// `Approved`, `PartlyApproved` or `Refused`.
    pub status: ClaimStatus,
    /// Corrections of the figures the benefit is computed from.
    pub expenses: Option<Fen>,
    pub other_paid: Option<Fen>,
    pub days: Option<u32>,
    pub grade: Option<u8>,
    /// An amount other than the rules propose (then `reason` says why).
    pub amount: Option<Fen>,
    /// Why the amount differs, or the written reason of a refusal.
    pub reason: String,
    pub refusal_reasons: Vec<RefusalReason>,
}

/// A payment of an approved claim.
#[derive(Debug, Clone)]
pub struct NewPayment {
    pub beneficiary: String,
    pub account: BankAccount,
    pub amount: Fen,
    pub paid_on: NaiveDate,
    pub reference: String,
}

fn conflict() -> StoreError {
    StoreError::Conflict("该理赔案件刚被其他人处理过，请刷新页面后再操作".to_owned())
}

impl Store {
    /// Writes `new` over `old` (its clock's due date recomputed) if the claim is still in
    /// the status it was read in; a conflict otherwise. Nothing changed, nothing written.
    pub(crate) async fn save_claim(
        &self,
        db: &impl ConnectionTrait,
        old: &claims::Model,
        mut new: claims::Model,
        calendar: &WorkCalendar,
        settings: &ClockSettings,
    ) -> StoreResult<()> {
        new.due_on = super::due_on(&new, calendar, settings);
        if &new == old {
            return Ok(());
        }
        let mut active: claims::ActiveModel = new.into();
        active = active.reset_all();
        active.not_set(claims::Column::Id);
        let result = claims::Entity::update_many()
            .set(active)
            .filter(claims::Column::Id.eq(old.id))
            .filter(claims::Column::Status.eq(old.status.as_str()))
            .exec(db)
            .await?;
        if result.rows_affected != 1 {
            return Err(conflict());
        }
        Ok(())
    }

    /// The claim in scope, its status, and the clocks' calendar and settings.
    async fn claim_for_change(
        &self,
        actor: &Actor,
        id: i64,
        permission: Permission,
    ) -> StoreResult<(claims::Model, ClaimStatus, WorkCalendar, ClockSettings)> {
        self.require(actor, permission).await?;
        let row = self.claim_row(actor, id).await?;
        let status: ClaimStatus = stored("claims.status", &row.status)?;
        Ok((row, status, self.work_calendar().await?, ClockSettings::default()))
    }

    /// The person of a death claim leaves the registry on the incident day, with the
    /// event recorded, unless already closed.
    async fn close_person(
        &self,
        db: &impl ConnectionTrait,
        actor: &Actor,
        row: &claims::Model,
    ) -> StoreResult<()> {
        let closed = persons::Entity::update_many()
            .col_expr(persons::Column::Active, sea_orm::sea_query::Expr::value(false))
            .col_expr(persons::Column::LeftOn, sea_orm::sea_query::Expr::value(Some(row.incident_date)))
            .filter(persons::Column::Id.eq(row.person_id))
            .filter(persons::Column::Active.eq(true))
            .exec(db)
            .await?;
        if closed.rows_affected == 1 {
            person_events::Entity::insert(person_events::ActiveModel {
                id: NotSet,
                person_id: Set(row.person_id),
                family_id: Set(row.family_id),
                kind: Set(MemberEvent::Death.code().to_owned()),
                event_date: Set(row.incident_date),
                note: Set(format!("理赔案件{}核定意外身故", row.id)),
                recorded_by: Set(actor.username().to_owned()),
                recorded_at: Set(Utc::now()),
            })
            .exec_without_returning(db)
            .await?;
        }
        Ok(())
    }
    /// Decides the claim `row`, read in `db` (the caller's transaction, after its first
    /// write): every rule of a decision, the claim saved on the status it was read in, the
    /// amount taken from the shared limit in the same transaction (what earlier decisions
    /// of that transaction took counted), a death closing the person. Returns the audit
    /// entry, for the caller to write in the transaction.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn decide_in(
        &self,
        db: &impl ConnectionTrait,
        actor: &Actor,
        row: &claims::Model,
        decision: Decision,
        terms: &Result<CoverTerms, String>,
        calendar: &WorkCalendar,
        settings: &ClockSettings,
    ) -> StoreResult<AuditEvent> {
        let status: ClaimStatus = stored("claims.status", &row.status)?;
        if !status.awaits_decision() {
            return Err(StoreError::invalid(format!("案件已{}，不能再次核定", status.label())));
        }
        let id = row.id;
        let today = self.today();
        let reason = decision.reason.trim();
        if reason.chars().count() > 200 {
            return Err(StoreError::invalid("理由不超过200个字"));
        }
        let mut new = row.clone();
        new.expenses_fen = decision.expenses.map(Fen::get).or(row.expenses_fen);
        new.other_paid_fen = decision.other_paid.map(Fen::get).or(row.other_paid_fen);
        new.days = decision.days.map(|d| d.min(10_000) as i32).or(row.days);
        new.grade = decision.grade.map(i32::from).or(row.grade);
        new.decided_on = Some(today);
        if decision.status == ClaimStatus::Refused {
            if decision.refusal_reasons.is_empty() || reason.is_empty() {
                return Err(StoreError::invalid(
                    "拒赔须选择拒赔原因并写明理由（保险法第二十四条：书面说明理由）",
                ));
            }
            new.status = ClaimStatus::Refused.code().to_owned();
            new.refusal_reasons = Some(join_codes(&decision.refusal_reasons));
            new.refusal_text = Some(reason.to_owned());
            new.refusal_notified_on = Some(today);
            self.save_claim(db, row, new, calendar, settings).await?;
            let detail = format!("拒赔：{reason}");
            return Ok(AuditEvent::ok("claim.decide", "理赔案件", id.to_string()).with_detail(detail));
        }
        if !matches!(decision.status, ClaimStatus::Approved | ClaimStatus::PartlyApproved) {
            return Err(StoreError::invalid("请选择核定结论：赔付、部分赔付或拒赔"));
        }
        if row.papers_complete_on.is_none() {
            return Err(StoreError::invalid("材料齐全后才能核定赔付，请先一次性告知需补充的材料"));
        }
        let assessment = self.assess_in(db, &new, terms).await?.map_err(StoreError::invalid)?;
        let proposed = assessment.benefit.amount;
        let amount = decision.amount.unwrap_or(proposed);
        if amount <= Fen::ZERO {
            return Err(StoreError::invalid("核定赔付金额须大于0；不予赔付请选择拒赔并写明理由"));
        }
        if amount != proposed && reason.is_empty() {
            return Err(StoreError::invalid(format!("核定金额与按条款计算的{proposed}不同，请写明调整理由")));
        }
        if amount.get() < row.advance_fen {
            return Err(StoreError::invalid(format!(
                "核定金额不能少于已先予支付的{}",
                Fen::new(row.advance_fen)
            )));
        }
        new.status = decision.status.code().to_owned();
        new.proposed_fen = Some(proposed.get());
        new.approved_fen = Some(amount.get());
        new.override_reason = (amount != proposed).then(|| reason.to_owned());
        self.save_claim(db, row, new, calendar, settings).await?;
        if !self.spend(db, row.policy_id, assessment.limiter, amount).await? {
            return Err(StoreError::Conflict(format!(
                "共用保额（限额）剩余不足{amount}，可能刚被同一家庭的其他理赔核定占用；请刷新页面，按新的计算结果核定"
            )));
        }
        if stored::<ClaimKind>("claims.kind", &row.kind)? == ClaimKind::AccidentalDeath {
            self.close_person(db, actor, row).await?;
        }
        Ok(AuditEvent::ok("claim.decide", "理赔案件", id.to_string())
            .with_detail(format!("{} {amount}", decision.status.label())))
    }

    /// Records the payment of the claim `row`, read in `db` (the caller's transaction):
    /// the rest of the approved amount after any advance, between the decision and today,
    /// the account sealed. Returns the audit entry, for the caller to write in the
    /// transaction.
    pub(super) async fn pay_in(
        &self,
        db: &impl ConnectionTrait,
        row: &claims::Model,
        payment: NewPayment,
        calendar: &WorkCalendar,
        settings: &ClockSettings,
    ) -> StoreResult<AuditEvent> {
        let status: ClaimStatus = stored("claims.status", &row.status)?;
        if !status.awaits_payment() {
            return Err(StoreError::invalid(format!("案件{}，不能登记赔付", status.label())));
        }
        let approved = Fen::new(row.approved_fen.unwrap_or(0));
        let rest = Fen::new(approved.get() - row.advance_fen);
        if payment.amount != rest {
            return Err(StoreError::invalid(format!(
                "赔付金额应为核定金额{approved}减去已先予支付部分，即{rest}"
            )));
        }
        if payment.paid_on > self.today() || Some(payment.paid_on) < row.decided_on {
            return Err(StoreError::invalid("支付日期须在核定日期和今天之间"));
        }
        let beneficiary = payment.beneficiary.trim();
        let reference = payment.reference.trim();
        if beneficiary.is_empty() || beneficiary.chars().count() > 32 {
            return Err(StoreError::invalid("请填写领款人姓名（不超过32个字）"));
        }
        if reference.is_empty() || reference.chars().count() > 64 {
            return Err(StoreError::invalid("请填写支付流水号（不超过64个字符）"));
        }
        let mut new = row.clone();
        new.status = ClaimStatus::Paid.code().to_owned();
        new.paid_on = Some(payment.paid_on);
        new.paid_fen = Some(approved.get());
        new.payment_ref = Some(reference.to_owned());
        new.beneficiary = Some(beneficiary.to_owned());
        new.bank_enc = Some(self.keys.seal(payment.account.as_str()));
        new.bank_masked = Some(payment.account.masked());
        self.save_claim(db, row, new, calendar, settings).await?;
        Ok(AuditEvent::ok("claim.pay", "理赔案件", row.id.to_string()).with_detail(rest.to_string()))
    }
}

impl crate::handles::Claims<'_> {
    /// Asks for every paper still missing, at once (art. 22), and returns them; when none
    /// is missing the papers are complete and the decision clock starts. The family's
    /// village agent is told the missing papers by a message written in the same
    /// transaction (`notices.rs`), once for the same request.
    pub async fn request_missing_papers(self, actor: &Actor, id: i64) -> StoreResult<Vec<Paper>> {
        let (row, status, calendar, settings) =
            self.claim_for_change(actor, id, Permission::DecideClaims).await?;
        if !matches!(status, ClaimStatus::Reported | ClaimStatus::PapersPending) {
            return Err(StoreError::invalid(format!("案件{}，不需要再补材料", status.label())));
        }
        let kind: ClaimKind = stored("claims.kind", &row.kind)?;
        let have: Vec<Paper> = self.claim_papers(&self.db, id).await?.into_iter().map(|p| p.paper).collect();
        let missing = PaperChecklist::default().missing(kind, &have);
        let today = self.today();
        let mut new = row.clone();
        if missing.is_empty() {
            new.status = ClaimStatus::UnderReview.code().to_owned();
            new.papers_complete_on = Some(today);
        } else {
            new.status = ClaimStatus::PapersPending.code().to_owned();
            new.missing_papers = Some(join_codes(&missing));
            new.missing_told_on = row.missing_told_on.or(Some(today));
        }
        // Read before the transaction: nothing in it uses another pooled connection.
        let (agents, head) = if missing.is_empty() {
            (Vec::new(), String::new())
        } else {
            (self.village_agents(&row.village_code).await?, self.family_head(row.family_id).await?)
        };
        let txn = self.db.begin().await?;
        self.save_claim(&txn, &row, new, &calendar, &settings).await?;
        super::notices::tell_agents(&txn, &row, kind, &missing, &head, agents, self.clock().now()).await?;
        txn.commit().await?;
        let names: Vec<&str> = missing.iter().map(|p| p.label()).collect();
        let detail = if names.is_empty() {
            "材料齐全".to_owned()
        } else {
            format!("一次性告知补充：{}", names.join("、"))
        };
        self.audit(
            actor,
            AuditEvent::ok("claim.papers_request", "理赔案件", id.to_string()).with_detail(detail),
        )
        .await?;
        Ok(missing)
    }

    /// Decides a claim: pays what the rules propose (or an amount with its reason) from
    /// the shared limits, or refuses it with reason codes and a written reason, the
    /// refusal notice going out the same day (art. 24). A death closes the person. One
    /// transaction (`apply.rs`), as every decision of an insurer's file.
    pub async fn decide(self, actor: &Actor, id: i64, decision: Decision) -> StoreResult<()> {
        let change = super::ClaimChange::Decide { claim_id: id, decision };
        self.apply_changes(actor, vec![change], None).await.map_err(|failed| failed.error)
    }

    /// Pays the certain part in advance while the amount is still open (art. 25).
    pub async fn pay_advance(
        self,
        actor: &Actor,
        id: i64,
        amount: Fen,
        paid_on: NaiveDate,
    ) -> StoreResult<()> {
        let (row, status, calendar, settings) =
            self.claim_for_change(actor, id, Permission::DecideClaims).await?;
        if status != ClaimStatus::UnderReview {
            return Err(StoreError::invalid("只有材料齐全、尚未核定的案件可以先予支付"));
        }
        if row.advance_paid_on.is_some() {
            return Err(StoreError::invalid("该案件已先予支付过"));
        }
        if paid_on > self.today() || paid_on < row.reported_on {
            return Err(StoreError::invalid("支付日期须在报案日期和今天之间"));
        }
        let most = match self.propose(&row).await? {
            Ok(p) => p.amount,
            Err(_) => Fen::new(row.claimed_fen),
        };
        if amount <= Fen::ZERO || amount > most {
            return Err(StoreError::invalid(format!("先予支付的金额须大于0且不超过可以确定的{most}")));
        }
        let mut new = row.clone();
        new.advance_fen = amount.get();
        new.advance_paid_on = Some(paid_on);
        self.save_claim(&self.db, &row, new, &calendar, &settings).await?;
        self.audit(
            actor,
            AuditEvent::ok("claim.advance", "理赔案件", id.to_string()).with_detail(amount.to_string()),
        )
        .await
    }

    /// Records the payment of an approved claim: the rest after any advance, to a
    /// beneficiary's account (sealed; shown masked). One transaction (`apply.rs`), as every
    /// payment of an insurer's file.
    pub async fn pay(self, actor: &Actor, id: i64, payment: NewPayment) -> StoreResult<()> {
        let change = super::ClaimChange::Pay { claim_id: id, payment };
        self.apply_changes(actor, vec![change], None).await.map_err(|failed| failed.error)
    }

    /// The family's satisfaction after payment (1–5, and a comment), recorded once; the
    /// claim is closed with it.
    pub async fn record_satisfaction(
        self,
        actor: &Actor,
        id: i64,
        score: i64,
        comment: &str,
    ) -> StoreResult<()> {
        let (row, status, calendar, settings) =
            self.claim_for_change(actor, id, Permission::ReportClaims).await?;
        if status != ClaimStatus::Paid {
            return Err(StoreError::invalid(if status == ClaimStatus::Closed {
                "该案件已登记过满意度".to_owned()
            } else {
                "赔付后才能登记满意度".to_owned()
            }));
        }
        let score = check_score(score).map_err(StoreError::invalid)?;
        let comment = comment.trim();
        if comment.chars().count() > 200 {
            return Err(StoreError::invalid("意见不超过200个字"));
        }
        let mut new = row.clone();
        new.status = ClaimStatus::Closed.code().to_owned();
        new.satisfaction = Some(i32::from(score));
        new.satisfaction_comment = (!comment.is_empty()).then(|| comment.to_owned());
        self.save_claim(&self.db, &row, new, &calendar, &settings).await?;
        self.audit(
            actor,
            AuditEvent::ok("claim.satisfaction", "理赔案件", id.to_string())
                .with_detail(format!("{score}分")),
        )
        .await
    }
}
