//! Funding sources ("几个一点"), their subsidy rules, and their ledgers. A source's
//! `allocated` only ever grows through one conditional UPDATE that refuses to pass the
//! pledged budget, so no source over-allocates, however many enrolments run at once on
//! however many server instances: the database guarantees it.

use chrono::{NaiveDate, Utc};
use guanai_domain::funding::{FamilyFacts, FundingKind, RuleInput, RuleScope, SubsidyAmount};
use guanai_domain::identity::Uscc;
use guanai_domain::{Fen, Permission, RegionCode, MAX_RECEIPT};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};
use serde::Serialize;

use crate::audit::AuditEvent;
use crate::entities::{
    aid_applications, funding_sources, policies, policy_funding, source_receipts, subsidy_rules,
};
use crate::{Actor, Store, StoreError, StoreResult};

#[derive(Debug, Clone)]
pub struct NewSource {
    pub name: String,
    pub kind: FundingKind,
    pub payer: String,
    pub uscc: Option<Uscc>,
    pub year: i32,
    pub region: RegionCode,
    pub pledged: Fen,
}

/// A source with its ledger totals.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Source {
    pub id: i64,
    pub name: String,
    pub kind: FundingKind,
    pub payer: String,
    pub uscc: Option<String>,
    pub year: i32,
    pub region_code: String,
    pub pledged: Fen,
    pub allocated: Fen,
    pub received: Fen,
    pub remaining: Fen,
}

#[derive(Debug, Clone)]
pub struct NewRule {
    pub source_id: i64,
    pub name: String,
    pub priority: i32,
    pub scope: RuleScope,
    pub amount: SubsidyAmount,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rule {
    pub id: i64,
    pub source_id: i64,
    pub name: String,
    pub priority: i32,
    pub scope: RuleScope,
    pub amount: SubsidyAmount,
    pub active: bool,
}

/// One policy a source pays for.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LedgerLine {
    pub policy_id: i64,
    pub village_code: String,
    pub status: guanai_domain::policies::PolicyStatus,
    pub amount: Fen,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ledger {
    pub source: Source,
    pub rules: Vec<Rule>,
    pub lines: Vec<LedgerLine>,
    pub receipts: Vec<Receipt>,
    /// Student-aid grants (金秋助学) the city approved from this source, in the actor's scope.
    pub aid_grants: Vec<AidGrantLine>,
}

/// A student-aid grant paid from a source: the application, where, and where it stands.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AidGrantLine {
    pub application_id: i64,
    pub village_code: String,
    pub status: guanai_domain::student_aid::AidStatus,
    pub amount: Fen,
    pub paid_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Receipt {
    pub amount: Fen,
    pub received_on: NaiveDate,
    pub note: String,
    pub recorded_by: String,
}

fn to_source(row: funding_sources::Model) -> StoreResult<Source> {
    Ok(Source {
        kind: crate::error::stored("funding_sources.kind", &row.kind)?,
        pledged: Fen::new(row.pledged_fen),
        allocated: Fen::new(row.allocated_fen),
        received: Fen::new(row.received_fen),
        remaining: Fen::new(row.pledged_fen - row.allocated_fen),
        id: row.id,
        name: row.name,
        payer: row.payer,
        uscc: row.uscc,
        year: row.year,
        region_code: row.region_code,
    })
}

fn to_rule(row: subsidy_rules::Model) -> StoreResult<Rule> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("subsidy rule {}: bad {what}", row.id));
    Ok(Rule {
        amount: SubsidyAmount::from_parts(&row.amount_kind, row.amount_value)
            .ok_or_else(|| corrupt("amount"))?,
        scope: RuleScope {
            region: row
                .region_code
                .as_deref()
                .map(RegionCode::parse)
                .transpose()
                .map_err(|_| corrupt("region"))?,
            category: row.category,
            poverty: row
                .poverty
                .as_deref()
                .map(|p| crate::error::stored("subsidy_rules.poverty", p))
                .transpose()?,
            package_id: row.package_id,
        },
        id: row.id,
        source_id: row.source_id,
        name: row.name,
        priority: row.priority,
        active: row.active,
    })
}

impl Store {
    /// Sources visible to the actor: those of its region and below, and those above it
    /// (a city fund pays for a county's families too).
    fn source_visibility(&self, actor: &Actor) -> Condition {
        let mut visible = Condition::any().add(actor.scope_condition(funding_sources::Column::RegionCode));
        for ancestor in actor.scope().ancestry() {
            visible = visible.add(funding_sources::Column::RegionCode.eq(ancestor.as_str()));
        }
        visible
    }
}

impl crate::handles::Funding<'_> {
    pub async fn create_source(self, actor: &Actor, new: NewSource) -> StoreResult<i64> {
        self.require(actor, Permission::ManageFunding).await?;
        if new.kind == FundingKind::Family {
            return Err(StoreError::invalid("家庭自缴部分由系统按保费自动计算，无需登记为资金来源"));
        }
        if !actor.sees(&new.region) {
            return Err(StoreError::Forbidden(format!("区划“{}”不在您的管理范围内", new.region)));
        }
        if !self.regions().region_exists(&new.region).await? {
            return Err(StoreError::invalid(format!("区划代码“{}”不存在", new.region)));
        }
        if matches!(new.kind, FundingKind::Company | FundingKind::PairedUnit) && new.uscc.is_none() {
            return Err(StoreError::invalid(format!("{}须填写统一社会信用代码", new.kind.label())));
        }
        if new.pledged.get() <= 0 {
            return Err(StoreError::invalid("认捐（预算）金额须大于0"));
        }
        let name = new.name.trim();
        let payer = new.payer.trim();
        if name.is_empty() || payer.is_empty() || name.chars().count() > 100 || payer.chars().count() > 100 {
            return Err(StoreError::invalid("名称和出资方不能为空，且不超过100个字"));
        }
        let id = funding_sources::Entity::insert(funding_sources::ActiveModel {
            id: NotSet,
            name: Set(name.to_owned()),
            kind: Set(new.kind.code().to_owned()),
            payer: Set(payer.to_owned()),
            uscc: Set(new.uscc.map(|u| u.as_str().to_owned())),
            year: Set(new.year),
            region_code: Set(new.region.to_string()),
            pledged_fen: Set(new.pledged.get()),
            allocated_fen: Set(0),
            received_fen: Set(0),
            created_at: Set(Utc::now()),
        })
        .exec(&self.db)
        .await
        .map_err(|e| StoreError::from_write(e, &format!("{}年度已有名为“{name}”的资金来源", new.year)))?
        .last_insert_id;
        self.audit(actor, AuditEvent::ok("funding.create", "资金来源", id.to_string()).with_detail(name))
            .await?;
        Ok(id)
    }

    /// The sources the actor may see, for one year when given.
    pub async fn sources(self, actor: &Actor, year: Option<i32>) -> StoreResult<Vec<Source>> {
        self.require(actor, Permission::ViewFunding).await?;
        let mut select = funding_sources::Entity::find().filter(self.source_visibility(actor));
        if let Some(year) = year {
            select = select.filter(funding_sources::Column::Year.eq(year));
        }
        let rows = select
            .order_by_desc(funding_sources::Column::Year)
            .order_by_asc(funding_sources::Column::Id)
            .all(&self.db)
            .await?;
        rows.into_iter().map(to_source).collect()
    }
}

impl Store {
    pub(crate) async fn source_row(&self, actor: &Actor, id: i64) -> StoreResult<funding_sources::Model> {
        let row = funding_sources::Entity::find_by_id(id).one(&self.db).await?;
        let Some(row) = row else {
            return Err(StoreError::not_found(format!("找不到资金来源“{id}”")));
        };
        let region = RegionCode::parse(&row.region_code).map_err(|e| StoreError::invalid(e.to_string()))?;
        if actor.sees(&region) || region.contains(actor.scope()) {
            Ok(row)
        } else {
            Err(self.deny(actor, "funding.view", "资金来源", id.to_string()).await)
        }
    }
}

impl crate::handles::Funding<'_> {
    /// A source with its rules, receipts and the policies it pays for (newest 500).
    pub async fn ledger(&self, actor: &Actor, id: i64) -> StoreResult<Ledger> {
        self.require(actor, Permission::ViewFunding).await?;
        let source = to_source(self.source_row(actor, id).await?)?;
        let rules = subsidy_rules::Entity::find()
            .filter(subsidy_rules::Column::SourceId.eq(id))
            .order_by_asc(subsidy_rules::Column::Priority)
            .all(&self.db)
            .await?
            .into_iter()
            .map(to_rule)
            .collect::<StoreResult<_>>()?;
        let lines = self.ledger_lines(actor, id, true, 500).await?;
        let receipts = source_receipts::Entity::find()
            .filter(source_receipts::Column::SourceId.eq(id))
            .order_by_asc(source_receipts::Column::ReceivedOn)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|r| Receipt {
                amount: Fen::new(r.amount_fen),
                received_on: r.received_on,
                note: r.note,
                recorded_by: crate::audit_labels::shown_username(&r.recorded_by).to_owned(),
            })
            .collect();
        let aid_grants = aid_applications::Entity::find()
            .filter(aid_applications::Column::SourceId.eq(id))
            .filter(actor.scope_condition(aid_applications::Column::VillageCode))
            .order_by_desc(aid_applications::Column::Id)
            .limit(500)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|a| {
                Ok(AidGrantLine {
                    status: crate::error::stored("aid_applications.status", &a.status)?,
                    application_id: a.id,
                    village_code: a.village_code,
                    amount: Fen::new(a.amount_fen),
                    paid_on: a.paid_on,
                })
            })
            .collect::<StoreResult<_>>()?;
        Ok(Ledger { source, rules, lines, receipts, aid_grants })
    }
}

impl Store {
    /// The policies a source pays for within the actor's scope: the newest `limit` or, in
    /// order of payment, the first `limit`.
    pub(crate) async fn ledger_lines(
        &self,
        actor: &Actor,
        source_id: i64,
        newest_first: bool,
        limit: u64,
    ) -> StoreResult<Vec<LedgerLine>> {
        let order = if newest_first { sea_orm::Order::Desc } else { sea_orm::Order::Asc };
        let lines: Vec<(i64, i64, String, String)> = policy_funding::Entity::find()
            .select_only()
            .column(policy_funding::Column::PolicyId)
            .column(policy_funding::Column::AmountFen)
            .column(policies::Column::VillageCode)
            .column(policies::Column::Status)
            .join(
                sea_orm::JoinType::InnerJoin,
                policy_funding::Entity::belongs_to(policies::Entity)
                    .from(policy_funding::Column::PolicyId)
                    .to(policies::Column::Id)
                    .into(),
            )
            .filter(policy_funding::Column::SourceId.eq(source_id))
            .filter(actor.scope_condition(policies::Column::VillageCode))
            .order_by(policy_funding::Column::Id, order)
            .limit(limit)
            .into_tuple()
            .all(&self.db)
            .await?;
        lines
            .into_iter()
            .map(|(policy_id, amount, village_code, status)| {
                Ok(LedgerLine {
                    policy_id,
                    village_code,
                    status: crate::error::stored("policies.status", &status)?,
                    amount: Fen::new(amount),
                })
            })
            .collect()
    }
}

impl crate::handles::Funding<'_> {
    /// Adds a subsidy rule to a source; the rule's region must lie within the source's.
    pub async fn create_rule(self, actor: &Actor, new: NewRule) -> StoreResult<i64> {
        self.require(actor, Permission::ManageFunding).await?;
        let source = self.source_row(actor, new.source_id).await?;
        if !actor
            .sees(&RegionCode::parse(&source.region_code).map_err(|e| StoreError::invalid(e.to_string()))?)
        {
            return Err(StoreError::Forbidden("只能为本辖区的资金来源设置资助规则".to_owned()));
        }
        if let Some(region) = &new.scope.region {
            if !region.as_str().starts_with(&source.region_code) {
                return Err(StoreError::invalid(format!(
                    "规则的适用区域“{region}”须在资金来源的区域“{}”之内",
                    source.region_code
                )));
            }
        }
        if let Some(region) = &new.scope.region {
            if !self.regions().region_exists(region).await? {
                return Err(StoreError::invalid(format!("区划代码“{region}”不存在")));
            }
        }
        if let Some(category) = new.scope.category.as_deref().filter(|c| !c.is_empty()) {
            if !guanai_domain::families::FamilyCategory::DEFAULTS.iter().any(|(code, _)| *code == category) {
                return Err(StoreError::invalid(format!("未知的家庭类型“{category}”")));
            }
        }
        if let Some(package_id) = new.scope.package_id {
            let package = self.products().package(package_id).await?;
            if package.year != source.year {
                return Err(StoreError::invalid(format!(
                    "保障方案“{}”是{}年度的，资金来源是{}年度的",
                    package.name, package.year, source.year
                )));
            }
        }
        if let SubsidyAmount::Share(bp) = new.amount {
            if bp == 0 || bp > 10_000 {
                return Err(StoreError::invalid("资助比例须在0.01%到100%之间"));
            }
        }
        let name = new.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(StoreError::invalid("规则名称不能为空，且不超过100个字"));
        }
        let id = subsidy_rules::Entity::insert(subsidy_rules::ActiveModel {
            id: NotSet,
            source_id: Set(new.source_id),
            name: Set(name.to_owned()),
            priority: Set(new.priority),
            region_code: Set(new.scope.region.as_ref().map(|r| r.to_string())),
            category: Set(new.scope.category.clone().filter(|c| !c.is_empty())),
            poverty: Set(new.scope.poverty.map(|p| p.code().to_owned())),
            package_id: Set(new.scope.package_id),
            amount_kind: Set(new.amount.kind_str().to_owned()),
            amount_value: Set(new.amount.value()),
            active: Set(true),
            created_at: Set(Utc::now()),
        })
        .exec(&self.db)
        .await?
        .last_insert_id;
        self.audit(actor, AuditEvent::ok("funding.rule", "资助规则", id.to_string()).with_detail(name))
            .await?;
        Ok(id)
    }

    /// Records money a funder actually transferred.
    pub async fn record_receipt(
        self,
        actor: &Actor,
        source_id: i64,
        amount: Fen,
        received_on: NaiveDate,
        note: &str,
    ) -> StoreResult<()> {
        self.require(actor, Permission::ManageFunding).await?;
        let source = self.source_row(actor, source_id).await?;
        if !actor.holds(&source.region_code) {
            return Err(StoreError::Forbidden("只能为本辖区的资金来源登记到账".to_owned()));
        }
        let amount = amount
            .positive_up_to(MAX_RECEIPT)
            .map_err(|range| StoreError::invalid(format!("单笔到账金额{range}")))?;
        let txn = self.db.begin().await?;
        // The total grows in one statement that refuses a sum past `i64::MAX` (on SQLite
        // such a sum would silently become a REAL and break every read of the source).
        let added = funding_sources::Entity::update_many()
            .col_expr(
                funding_sources::Column::ReceivedFen,
                Expr::col(funding_sources::Column::ReceivedFen).add(amount.get()),
            )
            .filter(funding_sources::Column::Id.eq(source_id))
            .filter(funding_sources::Column::ReceivedFen.lte(i64::MAX - amount.get()))
            .exec(&txn)
            .await?;
        if added.rows_affected != 1 {
            return Err(StoreError::invalid(format!(
                "资金来源“{}”的到账累计金额将超出可记录的范围，本笔未登记",
                source.name
            )));
        }
        source_receipts::Entity::insert(source_receipts::ActiveModel {
            id: NotSet,
            source_id: Set(source_id),
            amount_fen: Set(amount.get()),
            received_on: Set(received_on),
            note: Set(note.trim().chars().take(200).collect()),
            recorded_by: Set(actor.username().to_owned()),
            recorded_at: Set(Utc::now()),
        })
        .exec_without_returning(&txn)
        .await?;
        txn.commit().await?;
        self.audit(
            actor,
            AuditEvent::ok("funding.receipt", "资金来源", source_id.to_string())
                .with_detail(amount.to_string()),
        )
        .await
    }
}

impl Store {
    /// Every active rule of `year` in priority order, with its scope and what its source
    /// has left; and the names of those sources. One query (rules joined to their sources),
    /// as enrolment reads it inside its write transaction.
    pub(crate) async fn all_rules(
        &self,
        db: &impl ConnectionTrait,
        year: i32,
    ) -> StoreResult<(Vec<(RuleScope, RuleInput)>, Vec<(i64, String)>)> {
        let rows = subsidy_rules::Entity::find()
            .select_also(funding_sources::Entity)
            .join(
                sea_orm::JoinType::InnerJoin,
                subsidy_rules::Entity::belongs_to(funding_sources::Entity)
                    .from(subsidy_rules::Column::SourceId)
                    .to(funding_sources::Column::Id)
                    .into(),
            )
            .filter(funding_sources::Column::Year.eq(year))
            .filter(subsidy_rules::Column::Active.eq(true))
            .order_by_asc(subsidy_rules::Column::Priority)
            .order_by_asc(subsidy_rules::Column::Id)
            .all(db)
            .await?;
        let mut inputs = Vec::with_capacity(rows.len());
        let mut names: Vec<(i64, String)> = Vec::new();
        for (rule, source) in rows {
            let Some(source) = source else { continue };
            let rule = to_rule(rule)?;
            if !names.iter().any(|(id, _)| *id == source.id) {
                names.push((source.id, source.name.clone()));
            }
            let input = RuleInput {
                rule_id: rule.id,
                source_id: rule.source_id,
                amount: rule.amount,
                budget_left: Fen::new(source.pledged_fen - source.allocated_fen),
            };
            inputs.push((rule.scope, input));
        }
        Ok((inputs, names))
    }

    /// The active rules of `year` that match a family, in priority order, with what each
    /// source has left.
    pub(crate) async fn matching_rules(
        &self,
        db: &impl ConnectionTrait,
        year: i32,
        facts: &FamilyFacts<'_>,
    ) -> StoreResult<(Vec<RuleInput>, Vec<(i64, String)>)> {
        let (rules, names) = self.all_rules(db, year).await?;
        let matching =
            rules.into_iter().filter(|(scope, _)| scope.matches(facts)).map(|(_, input)| input).collect();
        Ok((matching, names))
    }

    /// Takes `amount` from a source's budget, or fails without changing anything when the
    /// budget has less left. One statement: safe under any concurrency.
    pub(crate) async fn allocate(
        &self,
        db: &impl ConnectionTrait,
        source_id: i64,
        amount: Fen,
    ) -> StoreResult<()> {
        let result = funding_sources::Entity::update_many()
            .col_expr(
                funding_sources::Column::AllocatedFen,
                Expr::col(funding_sources::Column::AllocatedFen).add(amount.get()),
            )
            .filter(funding_sources::Column::Id.eq(source_id))
            .filter(
                Expr::expr(Expr::col(funding_sources::Column::AllocatedFen).add(amount.get()))
                    .lte(Expr::col(funding_sources::Column::PledgedFen)),
            )
            .exec(db)
            .await?;
        if result.rows_affected == 1 {
            return Ok(());
        }
        let source = funding_sources::Entity::find_by_id(source_id).one(db).await?;
        let (name, left) = source
            .map(|s| (s.name, Fen::new(s.pledged_fen - s.allocated_fen)))
            .unwrap_or_else(|| (source_id.to_string(), Fen::ZERO));
        Err(StoreError::Conflict(format!(
            "资金来源“{name}”的预算不足：还剩 {left}，本次需要 {amount}。请刷新后重新核算，或联系资金管理人员追加预算"
        )))
    }

    /// Gives back what a cancelled policy had taken from a source.
    pub(crate) async fn release(
        &self,
        db: &impl ConnectionTrait,
        source_id: i64,
        amount: Fen,
    ) -> StoreResult<()> {
        funding_sources::Entity::update_many()
            .col_expr(
                funding_sources::Column::AllocatedFen,
                Expr::col(funding_sources::Column::AllocatedFen).sub(amount.get()),
            )
            .filter(funding_sources::Column::Id.eq(source_id))
            .exec(db)
            .await?;
        Ok(())
    }
}
