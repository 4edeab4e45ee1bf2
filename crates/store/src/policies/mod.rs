//! Policies: one family, one package, one year. Drafted with the premium split among the
//! funding sources (`enrol`), submitted to the insurer once the family's consents are in,
//! underwritten by the insurer with its policy number, in force from the start date,
//! expired after the end date; cancelled with a reason, which gives the funding back.
//! Gifted policies (`gifting`) are paid entirely by one source. Every policy carries a
//! certificate code that anyone can check (`certificate`).

mod batch;
mod certificate;
mod coverage;
mod enrol;
mod exchange;
mod gifting;
mod write;

pub use batch::{BatchOutcome, Skipped};
pub use certificate::{Certificate, PublicCertificate};
pub use coverage::{Coverage, CoveredBy};
pub use enrol::{EnrolRequest, FundingLine, Quote, QuoteLine, QuotedMember};
pub use exchange::{
    refusal_reason, ExchangePolicy, FamilyExportRow, UnderwritingList, UnderwritingQuery, UnderwritingRow,
    EXPORT_LIMIT, REFUSAL_PREFIX,
};
pub use gifting::{GiftOutcome, GiftPreview, GiftRequest, GiftSelection, GiftSkip};

use chrono::{NaiveDate, Utc};
use guanai_domain::{Fen, Permission, RegionCode};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use serde::Serialize;

use crate::audit::AuditEvent;
use crate::entities::{cover_slots, families, packages, payments, policies, policy_funding, policy_members};
use crate::families::ConsentKind;
use crate::{Actor, Store, StoreError, StoreResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyStatus {
    Draft,
    Submitted,
    Underwritten,
    Cancelled,
}

impl PolicyStatus {
    pub const ALL: [PolicyStatus; 4] =
        [PolicyStatus::Draft, PolicyStatus::Submitted, PolicyStatus::Underwritten, PolicyStatus::Cancelled];

    pub const fn as_str(self) -> &'static str {
        match self {
            PolicyStatus::Draft => "draft",
            PolicyStatus::Submitted => "submitted",
            PolicyStatus::Underwritten => "underwritten",
            PolicyStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// How a policy came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// 代办: a village agent on the family's behalf.
    Agent,
    /// By association staff.
    Staff,
    /// 送保: paid entirely by a funding source.
    Gifted,
    /// By the family itself, online.
    SelfService,
}

impl Channel {
    pub const fn as_str(self) -> &'static str {
        match self {
            Channel::Agent => "agent",
            Channel::Staff => "staff",
            Channel::Gifted => "gifted",
            Channel::SelfService => "self",
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            Channel::Agent => "代办",
            Channel::Staff => "工作人员录入",
            Channel::Gifted => "送保",
            Channel::SelfService => "自助参保",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Channel::Agent, Channel::Staff, Channel::Gifted, Channel::SelfService]
            .into_iter()
            .find(|c| c.as_str() == raw)
    }

    /// The channel of a policy a user of this role enrols by hand.
    pub fn for_role(role: guanai_domain::Role) -> Self {
        if role == guanai_domain::Role::VillageAgent {
            Channel::Agent
        } else {
            Channel::Staff
        }
    }
}

/// A policy's state as people read it, dates taken into account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ShownStatus {
    Draft,
    AwaitingUnderwriting,
    Underwritten,
    InForce,
    Expired,
    Cancelled,
}

impl ShownStatus {
    pub fn of(status: PolicyStatus, start: NaiveDate, end: NaiveDate, today: NaiveDate) -> Self {
        match status {
            PolicyStatus::Draft => ShownStatus::Draft,
            PolicyStatus::Submitted => ShownStatus::AwaitingUnderwriting,
            PolicyStatus::Cancelled => ShownStatus::Cancelled,
            PolicyStatus::Underwritten if today < start => ShownStatus::Underwritten,
            PolicyStatus::Underwritten if today > end => ShownStatus::Expired,
            PolicyStatus::Underwritten => ShownStatus::InForce,
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            ShownStatus::Draft => "草稿",
            ShownStatus::AwaitingUnderwriting => "待承保",
            ShownStatus::Underwritten => "已承保待生效",
            ShownStatus::InForce => "保障中",
            ShownStatus::Expired => "已到期",
            ShownStatus::Cancelled => "已撤销",
        }
    }

    /// The tag colour: green done, orange waiting, red refused, grey otherwise.
    pub const fn color(self) -> &'static str {
        match self {
            ShownStatus::Underwritten | ShownStatus::InForce => "green",
            ShownStatus::AwaitingUnderwriting => "orange",
            ShownStatus::Cancelled => "red",
            ShownStatus::Draft | ShownStatus::Expired => "grey",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PolicySummary {
    pub id: i64,
    pub family_id: i64,
    pub head_name: String,
    pub village_code: String,
    pub package_id: i64,
    pub package_name: String,
    pub year: i32,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub shares: i32,
    pub status: PolicyStatus,
    pub shown: ShownStatus,
    pub channel: Channel,
    pub premium: Fen,
    pub family_part: Fen,
    pub paid: Fen,
    pub policy_no: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct InsuredMember {
    pub person_id: i64,
    pub name: String,
    pub id_masked: String,
    pub age_at_start: i32,
    pub relationship: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Payment {
    pub amount: Fen,
    pub method: String,
    pub receipt_no: String,
    pub paid_on: NaiveDate,
    pub recorded_by: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PolicyDetail {
    pub summary: PolicySummary,
    pub members: Vec<InsuredMember>,
    pub lines: Vec<QuoteLine>,
    pub funding: Vec<FundingLine>,
    pub payments: Vec<Payment>,
    pub cert_code: String,
    pub created_by: String,
    pub underwritten_by: Option<String>,
    pub cancel_reason: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct PolicyQuery {
    pub region: Option<RegionCode>,
    pub year: Option<i32>,
    pub status: Option<PolicyStatus>,
    pub family_id: Option<i64>,
    pub page: u64,
    pub per_page: u64,
}

pub struct PolicyPage {
    pub policies: Vec<PolicySummary>,
    pub total: u64,
}

/// Payment methods of the family's part.
pub const PAYMENT_METHODS: [(&str, &str); 3] =
    [("cash_agent", "现金（交服务专员）"), ("bank_transfer", "银行转账"), ("online", "网上支付")];

/// An insurer's policy number: 1 to 40 letters, digits or dashes.
pub(crate) fn check_policy_no(raw: &str) -> StoreResult<&str> {
    let policy_no = raw.trim();
    if policy_no.is_empty()
        || policy_no.len() > 40
        || !policy_no.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(StoreError::invalid(format!("保单号“{policy_no}”须为1到40位英文字母、数字或短横线")));
    }
    Ok(policy_no)
}

fn today() -> NaiveDate {
    // Policy dates are China dates.
    (Utc::now() + chrono::Duration::hours(8)).date_naive()
}

impl Store {
    pub(crate) async fn policy_row(&self, actor: &Actor, id: i64) -> StoreResult<policies::Model> {
        actor.require(Permission::ViewFamilies)?;
        match policies::Entity::find_by_id(id).one(&self.db).await? {
            Some(row) if row.village_code.starts_with(actor.scope().as_str()) => Ok(row),
            Some(_) => Err(self.deny(actor, "policy.view", "保单", id.to_string()).await),
            None => Err(StoreError::not_found(format!("找不到保单“{id}”"))),
        }
    }

    async fn summaries_of(&self, rows: Vec<policies::Model>) -> StoreResult<Vec<PolicySummary>> {
        let family_ids: Vec<i64> = rows.iter().map(|r| r.family_id).collect();
        let package_ids: Vec<i64> = rows.iter().map(|r| r.package_id).collect();
        let heads: Vec<(i64, String)> = if family_ids.is_empty() {
            Vec::new()
        } else {
            families::Entity::find()
                .select_only()
                .column(families::Column::Id)
                .column(families::Column::HeadName)
                .filter(families::Column::Id.is_in(family_ids))
                .into_tuple()
                .all(&self.db)
                .await?
        };
        let names: Vec<(i64, String)> = if package_ids.is_empty() {
            Vec::new()
        } else {
            packages::Entity::find()
                .select_only()
                .column(packages::Column::Id)
                .column(packages::Column::Name)
                .filter(packages::Column::Id.is_in(package_ids))
                .into_tuple()
                .all(&self.db)
                .await?
        };
        let today = today();
        Ok(rows
            .into_iter()
            .map(|row| {
                let status = PolicyStatus::parse(&row.status).unwrap_or(PolicyStatus::Draft);
                PolicySummary {
                    head_name: heads
                        .iter()
                        .find(|(id, _)| *id == row.family_id)
                        .map(|(_, n)| n.clone())
                        .unwrap_or_default(),
                    package_name: names
                        .iter()
                        .find(|(id, _)| *id == row.package_id)
                        .map(|(_, n)| n.clone())
                        .unwrap_or_default(),
                    shown: ShownStatus::of(status, row.start_date, row.end_date, today),
                    status,
                    channel: Channel::parse(&row.channel).unwrap_or(Channel::Staff),
                    premium: Fen::new(row.premium_fen),
                    family_part: Fen::new(row.family_fen),
                    paid: Fen::new(row.paid_fen),
                    id: row.id,
                    family_id: row.family_id,
                    village_code: row.village_code,
                    package_id: row.package_id,
                    year: row.year,
                    start_date: row.start_date,
                    end_date: row.end_date,
                    shares: row.shares,
                    policy_no: row.policy_no,
                }
            })
            .collect())
    }

    /// Policies within the actor's scope, newest first.
    pub async fn search_policies(&self, actor: &Actor, query: &PolicyQuery) -> StoreResult<PolicyPage> {
        actor.require(Permission::ViewFamilies)?;
        let mut select =
            policies::Entity::find().filter(actor.scope_condition(policies::Column::VillageCode));
        if let Some(region) = &query.region {
            select =
                select.filter(crate::access::within_region(policies::Column::VillageCode, region.as_str()));
        }
        if let Some(year) = query.year {
            select = select.filter(policies::Column::Year.eq(year));
        }
        if let Some(status) = query.status {
            select = select.filter(policies::Column::Status.eq(status.as_str()));
        }
        if let Some(family) = query.family_id {
            select = select.filter(policies::Column::FamilyId.eq(family));
        }
        let total = select.clone().count(&self.db).await?;
        let per_page = query.per_page.clamp(1, 1000);
        let rows = select
            .order_by_desc(policies::Column::Id)
            .offset(query.page * per_page)
            .limit(per_page)
            .all(&self.db)
            .await?;
        Ok(PolicyPage { policies: self.summaries_of(rows).await?, total })
    }

    pub async fn policy(&self, actor: &Actor, id: i64) -> StoreResult<PolicyDetail> {
        let row = self.policy_row(actor, id).await?;
        let cert_code = row.cert_code.clone();
        let created_by = row.created_by.clone();
        let underwritten_by = row.underwritten_by.clone();
        let cancel_reason = row.cancel_reason.clone();
        let summary = self.summaries_of(vec![row]).await?.remove(0);
        let members = self.insured_members(id).await?;
        let lines = self.policy_lines(id).await?;
        let funding = self.policy_funding_lines(id, summary.family_part).await?;
        let payments = payments::Entity::find()
            .filter(payments::Column::PolicyId.eq(id))
            .order_by_asc(payments::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|p| Payment {
                amount: Fen::new(p.amount_fen),
                method: PAYMENT_METHODS
                    .iter()
                    .find(|(code, _)| *code == p.method)
                    .map(|(_, label)| (*label).to_owned())
                    .unwrap_or(p.method),
                receipt_no: p.receipt_no,
                paid_on: p.paid_on,
                recorded_by: p.recorded_by,
            })
            .collect();
        Ok(PolicyDetail {
            summary,
            members,
            lines,
            funding,
            payments,
            cert_code,
            created_by,
            underwritten_by,
            cancel_reason,
        })
    }

    async fn insured_members(&self, policy_id: i64) -> StoreResult<Vec<InsuredMember>> {
        use crate::entities::persons;
        let rows = policy_members::Entity::find()
            .filter(policy_members::Column::PolicyId.eq(policy_id))
            .all(&self.db)
            .await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.person_id).collect();
        let people = persons::Entity::find().filter(persons::Column::Id.is_in(ids)).all(&self.db).await?;
        Ok(rows
            .into_iter()
            .filter_map(|m| {
                let p = people.iter().find(|p| p.id == m.person_id)?;
                Some(InsuredMember {
                    person_id: p.id,
                    name: p.name.clone(),
                    id_masked: p.id_masked.clone(),
                    age_at_start: m.age_at_start,
                    relationship: guanai_domain::families::Relationship::parse(&p.relationship)
                        .map(|r| r.label().to_owned())
                        .unwrap_or_default(),
                })
            })
            .collect())
    }

    /// Sends a draft to the insurer. Needs the family's consent to processing and to
    /// sharing with the insurer, and a guardian's consent for every insured child under 14.
    pub async fn submit_policy(&self, actor: &Actor, id: i64) -> StoreResult<()> {
        actor.require(Permission::Enrol)?;
        let row = self.policy_row(actor, id).await?;
        if row.status != PolicyStatus::Draft.as_str() {
            return Err(StoreError::invalid("只有草稿状态的保单可以提交承保"));
        }
        self.check_consents(row.family_id, &self.insured_members(id).await?).await?;
        let result = policies::Entity::update_many()
            .col_expr(policies::Column::Status, Expr::value(PolicyStatus::Submitted.as_str()))
            .col_expr(policies::Column::SubmittedAt, Expr::value(Utc::now()))
            .filter(policies::Column::Id.eq(id))
            .filter(policies::Column::Status.eq(PolicyStatus::Draft.as_str()))
            .exec(&self.db)
            .await?;
        if result.rows_affected != 1 {
            return Err(StoreError::Conflict("保单状态已被他人修改，请刷新后重试".to_owned()));
        }
        self.audit(actor, AuditEvent::ok("policy.submit", "保单", id.to_string())).await
    }

    /// What consents are missing before the family's data may go to the insurer; an
    /// `Invalid` naming each.
    pub(crate) async fn check_consents(&self, family_id: i64, members: &[InsuredMember]) -> StoreResult<()> {
        use crate::entities::consents;
        let given = consents::Entity::find()
            .filter(consents::Column::FamilyId.eq(family_id))
            .filter(consents::Column::WithdrawnAt.is_null())
            .all(&self.db)
            .await?;
        let has = |kind: ConsentKind| given.iter().any(|c| c.kind == kind.as_str());
        let mut missing = Vec::new();
        if !has(ConsentKind::Processing) {
            missing.push("家庭未签署“同意处理个人信息”".to_owned());
        }
        if !has(ConsentKind::InsurerSharing) {
            missing.push("家庭未签署“同意向保险公司提供个人信息”".to_owned());
        }
        for member in members.iter().filter(|m| m.age_at_start < 14) {
            let guardian = given
                .iter()
                .any(|c| c.kind == ConsentKind::Guardian.as_str() && c.person_id == Some(member.person_id));
            if !guardian {
                missing.push(format!("{}未满14周岁，缺少监护人同意", member.name));
            }
        }
        if missing.is_empty() {
            Ok(())
        } else {
            Err(StoreError::invalid(format!(
                "不能提交保险公司：{}。请先在家庭页面登记同意书",
                missing.join("；")
            )))
        }
    }

    /// The insurer confirms a submitted policy with its own policy number.
    pub async fn underwrite_policy(&self, actor: &Actor, id: i64, policy_no: &str) -> StoreResult<()> {
        actor.require(Permission::Underwrite)?;
        let policy_no = check_policy_no(policy_no)?;
        let row = self.policy_row(actor, id).await?;
        if row.status != PolicyStatus::Submitted.as_str() {
            return Err(StoreError::invalid("只有待承保的保单可以确认承保"));
        }
        let result = policies::Entity::update_many()
            .col_expr(policies::Column::Status, Expr::value(PolicyStatus::Underwritten.as_str()))
            .col_expr(policies::Column::PolicyNo, Expr::value(policy_no))
            .col_expr(policies::Column::UnderwrittenAt, Expr::value(Utc::now()))
            .col_expr(policies::Column::UnderwrittenBy, Expr::value(actor.username()))
            .filter(policies::Column::Id.eq(id))
            .filter(policies::Column::Status.eq(PolicyStatus::Submitted.as_str()))
            .exec(&self.db)
            .await
            .map_err(|e| {
                StoreError::from_write(e, &format!("保单号“{policy_no}”已被其他保单使用，请核对"))
            })?;
        if result.rows_affected != 1 {
            return Err(StoreError::Conflict("保单状态已被他人修改，请刷新后重试".to_owned()));
        }
        self.audit(actor, AuditEvent::ok("policy.underwrite", "保单", id.to_string()).with_detail(policy_no))
            .await
    }

    /// Cancels a policy with a reason: the association before underwriting, the insurer
    /// after. The funding it took goes back to its sources and its cover slots are freed.
    pub async fn cancel_policy(&self, actor: &Actor, id: i64, reason: &str) -> StoreResult<()> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(StoreError::invalid("请填写撤销原因"));
        }
        let row = self.policy_row(actor, id).await?;
        let status = PolicyStatus::parse(&row.status).unwrap_or(PolicyStatus::Draft);
        match status {
            PolicyStatus::Draft | PolicyStatus::Submitted => actor.require(Permission::Enrol)?,
            PolicyStatus::Underwritten => actor.require(Permission::Underwrite)?,
            PolicyStatus::Cancelled => return Err(StoreError::invalid("该保单已撤销")),
        }
        let txn = self.db.begin().await?;
        let result = policies::Entity::update_many()
            .col_expr(policies::Column::Status, Expr::value(PolicyStatus::Cancelled.as_str()))
            .col_expr(policies::Column::CancelledAt, Expr::value(Utc::now()))
            .col_expr(
                policies::Column::CancelReason,
                Expr::value(reason.chars().take(200).collect::<String>()),
            )
            .filter(policies::Column::Id.eq(id))
            .filter(policies::Column::Status.eq(status.as_str()))
            .exec(&txn)
            .await?;
        if result.rows_affected != 1 {
            return Err(StoreError::Conflict("保单状态已被他人修改，请刷新后重试".to_owned()));
        }
        let parts =
            policy_funding::Entity::find().filter(policy_funding::Column::PolicyId.eq(id)).all(&txn).await?;
        for part in parts {
            self.release(&txn, part.source_id, Fen::new(part.amount_fen)).await?;
        }
        cover_slots::Entity::delete_many().filter(cover_slots::Column::PolicyId.eq(id)).exec(&txn).await?;
        txn.commit().await?;
        self.audit(actor, AuditEvent::ok("policy.cancel", "保单", id.to_string()).with_detail(reason)).await
    }

    /// Records (part of) the family's payment, with its receipt number.
    pub async fn record_payment(
        &self,
        actor: &Actor,
        id: i64,
        amount: Fen,
        method: &str,
        receipt_no: &str,
        paid_on: NaiveDate,
    ) -> StoreResult<()> {
        actor.require(Permission::Enrol)?;
        let row = self.policy_row(actor, id).await?;
        if row.status == PolicyStatus::Cancelled.as_str() {
            return Err(StoreError::invalid("已撤销的保单不能收款"));
        }
        if !PAYMENT_METHODS.iter().any(|(code, _)| *code == method) {
            return Err(StoreError::invalid("请选择缴费方式"));
        }
        let receipt_no = receipt_no.trim();
        if receipt_no.is_empty() || receipt_no.chars().count() > 40 {
            return Err(StoreError::invalid("请填写收据号（不超过40个字符）"));
        }
        let owed = row.family_fen - row.paid_fen;
        if amount.get() <= 0 || amount.get() > owed {
            return Err(StoreError::invalid(format!("收款金额须大于0且不超过待缴的 {}", Fen::new(owed))));
        }
        let txn = self.db.begin().await?;
        let result = policies::Entity::update_many()
            .col_expr(policies::Column::PaidFen, Expr::col(policies::Column::PaidFen).add(amount.get()))
            .filter(policies::Column::Id.eq(id))
            .filter(
                Expr::expr(Expr::col(policies::Column::PaidFen).add(amount.get()))
                    .lte(Expr::col(policies::Column::FamilyFen)),
            )
            .exec(&txn)
            .await?;
        if result.rows_affected != 1 {
            return Err(StoreError::Conflict("该保单已有其他收款记录，请刷新后重试".to_owned()));
        }
        payments::Entity::insert(payments::ActiveModel {
            id: NotSet,
            policy_id: Set(id),
            amount_fen: Set(amount.get()),
            method: Set(method.to_owned()),
            receipt_no: Set(receipt_no.to_owned()),
            paid_on: Set(paid_on),
            recorded_by: Set(actor.username().to_owned()),
            recorded_at: Set(Utc::now()),
        })
        .exec_without_returning(&txn)
        .await
        .map_err(|e| StoreError::from_write(e, &format!("收据号“{receipt_no}”已经登记过")))?;
        txn.commit().await?;
        self.audit(
            actor,
            AuditEvent::ok("policy.payment", "保单", id.to_string())
                .with_detail(format!("{amount} {receipt_no}")),
        )
        .await
    }
}

impl Store {
    /// The insurer confirms many submitted policies at once, each with its policy number
    /// (an insurer's return file). All or nothing; returns how many were underwritten.
    pub async fn underwrite_many(&self, actor: &Actor, items: &[(i64, String)]) -> StoreResult<usize> {
        actor.require(Permission::Underwrite)?;
        for (_, policy_no) in items {
            check_policy_no(policy_no)?;
        }
        let txn = self.db.begin().await?;
        for (id, policy_no) in items {
            let policy_no = policy_no.trim();
            let result = policies::Entity::update_many()
                .col_expr(policies::Column::Status, Expr::value(PolicyStatus::Underwritten.as_str()))
                .col_expr(policies::Column::PolicyNo, Expr::value(policy_no))
                .col_expr(policies::Column::UnderwrittenAt, Expr::value(Utc::now()))
                .col_expr(policies::Column::UnderwrittenBy, Expr::value(actor.username()))
                .filter(policies::Column::Id.eq(*id))
                .filter(policies::Column::Status.eq(PolicyStatus::Submitted.as_str()))
                .filter(actor.scope_condition(policies::Column::VillageCode))
                .exec(&txn)
                .await
                .map_err(|e| StoreError::from_write(e, &format!("保单号“{policy_no}”已被其他保单使用")))?;
            if result.rows_affected != 1 {
                return Err(StoreError::Conflict(format!("保单 {id} 不是本辖区待承保的保单")));
            }
        }
        txn.commit().await?;
        self.audit(actor, AuditEvent::ok("policy.underwrite_batch", "保单", format!("{}份", items.len())))
            .await?;
        Ok(items.len())
    }
}

/// Counts for a home page: policies of a year by status, within the scope.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PolicyCounts {
    pub draft: u64,
    pub submitted: u64,
    pub underwritten: u64,
    pub cancelled: u64,
    /// Premium of the policies not cancelled.
    pub premium: Fen,
}

impl Store {
    pub async fn policy_counts(&self, actor: &Actor, year: i32) -> StoreResult<PolicyCounts> {
        actor.require(Permission::ViewFamilies)?;
        let rows: Vec<(String, i64, Option<i64>)> = policies::Entity::find()
            .select_only()
            .column(policies::Column::Status)
            .column_as(policies::Column::Id.count(), "n")
            .column_as(self.sum_i64(policies::Column::PremiumFen), "premium")
            .filter(actor.scope_condition(policies::Column::VillageCode))
            .filter(policies::Column::Year.eq(year))
            .group_by(policies::Column::Status)
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut counts = PolicyCounts::default();
        let mut premium = 0i64;
        for (status, n, sum) in rows {
            let n = n.max(0) as u64;
            match PolicyStatus::parse(&status) {
                Some(PolicyStatus::Draft) => counts.draft = n,
                Some(PolicyStatus::Submitted) => counts.submitted = n,
                Some(PolicyStatus::Underwritten) => counts.underwritten = n,
                Some(PolicyStatus::Cancelled) => counts.cancelled = n,
                None => {}
            }
            if status != PolicyStatus::Cancelled.as_str() {
                premium += sum.unwrap_or(0);
            }
        }
        counts.premium = Fen::new(premium);
        Ok(counts)
    }
}
