//! Student aid (金秋助学): applications for students of registered families, reviewed by
//! the county, approved by the city with the funding source that pays the grant, and
//! payment recorded. The grant is taken from the source's budget by the funding ledger's
//! one conditional allocation (`Store::allocate`) in the approval's transaction, so no
//! source ever grants beyond its budget, however many approvals run at once.
//!
//! A student's name is personal data of a family (often a child): shown as the family's
//! visibility allows (`shown.rs`).

mod figures;

pub use figures::AidFigure;

use chrono::{DateTime, NaiveDate, Utc};
use guanai_domain::student_aid::{AidSettings, AidStatus, AidStep};
use guanai_domain::{Fen, Permission, RegionLevel};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use serde::Serialize;

use crate::access::Target;
use crate::audit::AuditEvent;
use crate::entities::{aid_applications, funding_sources};
use crate::shown::ShownName;
use crate::{Actor, Store, StoreError, StoreResult};

const APPLICATION: Target = Target { action: "student_aid.view", kind: "助学申请" };

#[derive(Debug, Clone)]
pub struct NewApplication {
    pub family_id: i64,
    pub student_name: String,
    pub school: String,
    pub admission_year: i32,
    pub amount: Fen,
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AidApplication {
    pub id: i64,
    pub year: i32,
    pub family_id: i64,
    pub village_code: String,
    pub student_name: ShownName,
    pub school: String,
    pub admission_year: i32,
    pub amount: Fen,
    pub status: AidStatus,
    pub source_id: Option<i64>,
    pub source_name: Option<String>,
    pub note: String,
    pub created_at: DateTime<Utc>,
    pub county_by: Option<String>,
    pub city_by: Option<String>,
    pub paid_on: Option<NaiveDate>,
    pub refused_reason: Option<String>,
}

/// A review decision.
#[derive(Debug, Clone)]
pub enum Review {
    /// The county's review passes the application on to the city.
    CountyApprove,
    /// The city approves, paying from this source.
    CityApprove { source_id: i64 },
    /// Paid to the family on this day.
    Pay { paid_on: NaiveDate },
    /// Refused (county or city), with the reason.
    Refuse { reason: String },
}

impl Review {
    fn step(&self) -> AidStep {
        match self {
            Review::CountyApprove => AidStep::CountyReview,
            Review::CityApprove { .. } => AidStep::CityApproval,
            Review::Pay { .. } => AidStep::Payment,
            Review::Refuse { .. } => AidStep::Refusal,
        }
    }
}

impl Store {
    async fn applications_from_rows(
        &self,
        actor: &Actor,
        rows: Vec<aid_applications::Model>,
    ) -> StoreResult<Vec<AidApplication>> {
        let visibility = self.visibility(actor, rows.iter().map(|r| r.family_id)).await?;
        let source_ids: Vec<i64> = rows.iter().filter_map(|r| r.source_id).collect();
        let names: std::collections::HashMap<i64, String> = if source_ids.is_empty() {
            Default::default()
        } else {
            funding_sources::Entity::find()
                .filter(funding_sources::Column::Id.is_in(source_ids))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|s| (s.id, s.name))
                .collect()
        };
        rows.into_iter()
            .map(|r| {
                Ok(AidApplication {
                    status: crate::error::stored("aid_applications.status", &r.status)?,
                    student_name: visibility.name(r.family_id, &r.student_name),
                    source_name: r.source_id.and_then(|s| names.get(&s).cloned()),
                    id: r.id,
                    year: r.year,
                    family_id: r.family_id,
                    village_code: r.village_code,
                    school: r.school,
                    admission_year: r.admission_year,
                    amount: Fen::new(r.amount_fen),
                    source_id: r.source_id,
                    note: r.note,
                    created_at: r.created_at,
                    county_by: r.county_by.map(|u| crate::audit_labels::shown_username(&u).to_owned()),
                    city_by: r.city_by.map(|u| crate::audit_labels::shown_username(&u).to_owned()),
                    paid_on: r.paid_on,
                    refused_reason: r.refused_reason,
                })
            })
            .collect()
    }
}

impl crate::handles::StudentAid<'_> {
    /// Enters an application for a student of a family in the actor's scope.
    pub async fn apply(self, actor: &Actor, new: NewApplication) -> StoreResult<i64> {
        self.require(actor, Permission::ApplyStudentAid).await?;
        let family = self.family_row(actor, new.family_id).await?;
        let settings = AidSettings::default();
        let today = self.today();
        let student = guanai_domain::families::PersonName::parse(&new.student_name)
            .map_err(|_| StoreError::invalid("学生姓名不能为空，且不超过50个字"))?;
        let school = crate::training::required_text("学校", &new.school, 100)?;
        settings.check_admission(new.admission_year, today).map_err(StoreError::Invalid)?;
        settings.check_grant(new.amount).map_err(StoreError::Invalid)?;
        let id = aid_applications::Entity::insert(aid_applications::ActiveModel {
            id: NotSet,
            family_id: Set(family.id),
            village_code: Set(family.village_code.clone()),
            year: Set(chrono::Datelike::year(&today)),
            student_name: Set(student.as_str().to_owned()),
            school: Set(school),
            admission_year: Set(new.admission_year),
            amount_fen: Set(new.amount.get()),
            source_id: Set(None),
            status: Set(AidStatus::Submitted.code().to_owned()),
            note: Set(new.note.trim().chars().take(500).collect()),
            created_by: Set(actor.username().to_owned()),
            created_at: Set(Utc::now()),
            county_by: Set(None),
            county_at: Set(None),
            city_by: Set(None),
            city_at: Set(None),
            paid_on: Set(None),
            paid_by: Set(None),
            refused_reason: Set(None),
        })
        .exec(&self.db)
        .await?
        .last_insert_id;
        self.audit(
            actor,
            AuditEvent::ok("student_aid.apply", "助学申请", id.to_string())
                .with_subject(format!("family:{}", family.id)),
        )
        .await?;
        Ok(id)
    }

    /// Applications of the actor's scope, newest first; of one year and status when given.
    pub async fn applications(
        self,
        actor: &Actor,
        year: Option<i32>,
        status: Option<AidStatus>,
    ) -> StoreResult<Vec<AidApplication>> {
        self.require(actor, Permission::ViewAssociationWork).await?;
        let mut select = aid_applications::Entity::find()
            .filter(actor.scope_condition(aid_applications::Column::VillageCode));
        if let Some(year) = year {
            select = select.filter(aid_applications::Column::Year.eq(year));
        }
        if let Some(status) = status {
            select = select.filter(aid_applications::Column::Status.eq(status.code()));
        }
        let rows = select.order_by_desc(aid_applications::Column::Id).limit(1000).all(&self.db).await?;
        self.applications_from_rows(actor, rows).await
    }

    /// One application of the actor's scope.
    pub async fn application(self, actor: &Actor, id: i64) -> StoreResult<AidApplication> {
        self.require(actor, Permission::ViewAssociationWork).await?;
        let row =
            self.scoped_find::<aid_applications::Entity>(actor, APPLICATION, id, |a| &a.village_code).await?;
        Ok(self.applications_from_rows(actor, vec![row]).await?.remove(0))
    }

    /// One step of the review: the county's review by county staff, the city's approval
    /// (taking the grant from the source's budget) and the payment by the city, a refusal
    /// by either. Each step changes the application only from the status it expects, so
    /// two reviewers at once cannot both take it; a budget too small refuses the approval
    /// and changes nothing.
    pub async fn review(self, actor: &Actor, id: i64, review: Review) -> StoreResult<AidStatus> {
        self.require(actor, Permission::ReviewStudentAid).await?;
        let row =
            self.scoped_find::<aid_applications::Entity>(actor, APPLICATION, id, |a| &a.village_code).await?;
        let status: AidStatus = crate::error::stored("aid_applications.status", &row.status)?;
        let step = review.step();
        let level = actor.scope().level();
        let needs_city = match step {
            AidStep::CountyReview => false,
            AidStep::CityApproval | AidStep::Payment => true,
            AidStep::Refusal => status == AidStatus::CountyApproved,
        };
        if needs_city && level != RegionLevel::City {
            return Err(StoreError::Forbidden(format!("“{}”由市计生协办理", step.label())));
        }
        if !needs_city && level != RegionLevel::County {
            return Err(StoreError::Forbidden(format!("“{}”由县（区）计生协办理", step.label())));
        }
        let next = status.after(step).map_err(|e| StoreError::Conflict(e.to_string()))?;
        let source = match &review {
            Review::CityApprove { source_id } => {
                let source = self.source_row(actor, *source_id).await?;
                self.require_spend(actor, &source).await?;
                Some(source)
            }
            _ => None,
        };
        let now = Utc::now();
        let mut update = aid_applications::Entity::update_many()
            .col_expr(aid_applications::Column::Status, Expr::value(next.code()))
            .filter(aid_applications::Column::Id.eq(id))
            .filter(aid_applications::Column::Status.eq(status.code()));
        let mut detail = format!("{} → {}", status.label(), next.label());
        match &review {
            Review::CountyApprove => {
                update = update
                    .col_expr(aid_applications::Column::CountyBy, Expr::value(actor.username()))
                    .col_expr(aid_applications::Column::CountyAt, Expr::value(now));
            }
            Review::CityApprove { source_id } => {
                update = update
                    .col_expr(aid_applications::Column::CityBy, Expr::value(actor.username()))
                    .col_expr(aid_applications::Column::CityAt, Expr::value(now))
                    .col_expr(aid_applications::Column::SourceId, Expr::value(*source_id));
                detail = format!("{detail}，资金来源 {source_id}，{}", Fen::new(row.amount_fen));
            }
            Review::Pay { paid_on } => {
                if *paid_on > self.today() {
                    return Err(StoreError::invalid("发放日期不能晚于今天"));
                }
                update = update
                    .col_expr(aid_applications::Column::PaidOn, Expr::value(*paid_on))
                    .col_expr(aid_applications::Column::PaidBy, Expr::value(actor.username()));
            }
            Review::Refuse { reason } => {
                let reason = reason.trim();
                if reason.is_empty() {
                    return Err(StoreError::invalid("请填写不予通过的理由"));
                }
                let reason: String = reason.chars().take(200).collect();
                detail = format!("{detail}：{reason}");
                update = update.col_expr(aid_applications::Column::RefusedReason, Expr::value(reason));
            }
        }
        let turn = self.write_gate.turn().await;
        let txn = turn.db.begin().await?;
        // Write first. The allocation before the status: the application's new source id
        // takes a shared lock on the source's row (its foreign key) on MySQL-compatible
        // engines, so two approvals updating the row after that would deadlock.
        if let Some(source) = &source {
            // The one conditional allocation of the funding ledger: never past the budget.
            self.allocate(&txn, source.id, Fen::new(row.amount_fen)).await?;
        }
        // The status moves once, from the one it was read in (else all is rolled back).
        if update.exec(&txn).await?.rows_affected != 1 {
            return Err(StoreError::Conflict("该申请刚被他人处理过，请刷新后查看".to_owned()));
        }
        self.audit_in(
            &txn,
            actor,
            AuditEvent::ok("student_aid.review", "助学申请", id.to_string())
                .with_subject(format!("family:{}", row.family_id))
                .with_detail(detail),
        )
        .await?;
        txn.commit().await?;
        drop(turn);
        Ok(next)
    }
}
