//! A policy's state changes: submitted to the insurer once the consents are in,
//! underwritten with the insurer's policy number (one by one or from a return file), or
//! cancelled with a reason, which gives the funding back.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, Utc};
use guanai_domain::products::LateStart;
use guanai_domain::{Fen, Permission};
use sea_orm::sea_query::{CaseStatement, Expr};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait};

use super::{PolicyNo, PolicyStatus};
use crate::audit::AuditEvent;
use crate::consents::ConsentKind;
use crate::entities::{cover_slots, policies, policy_funding};
use crate::error::stored;
use crate::shown::ShownName;
use crate::{Actor, Store, StoreError, StoreResult};

/// Policies per underwriting statement. The database reads a `CASE` of this many arms for
/// each row it changes, so the chunk stays small; every full chunk is the same statement,
/// prepared once.
const UNDERWRITE_CHUNK: usize = 100;

impl crate::handles::Policies<'_> {
    /// Sends a draft to the insurer. Needs the family's consent to processing and to
    /// sharing with the insurer, and a guardian's consent for every insured child under 14.
    pub async fn submit_policy(self, actor: &Actor, id: i64) -> StoreResult<()> {
        self.require(actor, Permission::Enrol).await?;
        let row = self.policy_row(actor, id).await?;
        if row.status != PolicyStatus::Draft.code() {
            return Err(StoreError::invalid("只有草稿状态的保单可以提交承保"));
        }
        let seen = self.visibility(actor, [row.family_id]).await?;
        let members = self.insured_members(&seen, row.family_id, id).await?;
        let births = self.births(members.iter().map(|m| m.person_id)).await?;
        let members: Vec<(i64, &ShownName, NaiveDate)> =
            members.iter().filter_map(|m| Some((m.person_id, &m.name, *births.get(&m.person_id)?))).collect();
        self.check_consents(row.family_id, &members).await?;
        let result = policies::Entity::update_many()
            .col_expr(policies::Column::Status, Expr::value(PolicyStatus::Submitted.code()))
            .col_expr(policies::Column::SubmittedAt, Expr::value(Utc::now()))
            .filter(policies::Column::Id.eq(id))
            .filter(policies::Column::Status.eq(PolicyStatus::Draft.code()))
            .exec(&self.db)
            .await?;
        if result.rows_affected != 1 {
            return Err(StoreError::Conflict("保单状态已被他人修改，请刷新后重试".to_owned()));
        }
        self.audit(actor, AuditEvent::ok("policy.submit", "保单", id.to_string())).await
    }
}

impl Store {
    /// What consents are missing before the family's data may go to the insurer; an
    /// `Invalid` naming each.
    /// `members`: the persons to insure (id, name as the user sees it, birth date).
    pub(crate) async fn check_consents(
        &self,
        family_id: i64,
        members: &[(i64, &ShownName, NaiveDate)],
    ) -> StoreResult<()> {
        use crate::entities::consents;
        let given = consents::Entity::find()
            .filter(consents::Column::FamilyId.eq(family_id))
            .filter(consents::Column::WithdrawnAt.is_null())
            .all(&self.db)
            .await?;
        let has = |kind: ConsentKind| given.iter().any(|c| c.kind == kind.code());
        let mut missing = Vec::new();
        if !has(ConsentKind::Processing) {
            missing.push("家庭未签署“同意处理个人信息”".to_owned());
        }
        if !has(ConsentKind::InsurerSharing) {
            missing.push("家庭未签署“同意向保险公司提供个人信息”".to_owned());
        }
        // A guardian consents for a child under 14 when the data goes to the insurer: today.
        let today = self.today();
        let child = |(_, _, birth): &&(i64, &ShownName, NaiveDate)| {
            guanai_domain::families::needs_guardian_consent(*birth, today)
        };
        for (person, name, _) in members.iter().filter(child) {
            let guardian =
                given.iter().any(|c| c.kind == ConsentKind::Guardian.code() && c.person_id == Some(*person));
            if !guardian {
                missing.push(format!("{name}未满14周岁，缺少监护人同意"));
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

    /// The birth date of each of `persons`.
    async fn births(&self, persons: impl Iterator<Item = i64>) -> StoreResult<HashMap<i64, NaiveDate>> {
        use crate::entities::persons;
        let rows: Vec<(i64, NaiveDate)> = persons::Entity::find()
            .select_only()
            .column(persons::Column::Id)
            .column(persons::Column::BirthDate)
            .filter(persons::Column::Id.is_in(persons))
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().collect())
    }
}

impl crate::handles::Policies<'_> {
    /// The insurer confirms a submitted policy with its own policy number.
    pub async fn underwrite_policy(&self, actor: &Actor, id: i64, policy_no: &str) -> StoreResult<()> {
        self.require(actor, Permission::Underwrite).await?;
        let policy_no = PolicyNo::parse(policy_no)?;
        let row = self.policy_row(actor, id).await?;
        if row.status != PolicyStatus::Submitted.code() {
            return Err(StoreError::invalid("只有待承保的保单可以确认承保"));
        }
        let now = self.clock().now();
        let start = self
            .start_on_underwriting(&[(row.id, row.package_id, row.start_date, row.end_date)], now)
            .await?;
        let start = start.first().map_or(row.start_date, |(_, day)| *day);
        let result = policies::Entity::update_many()
            .col_expr(policies::Column::Status, Expr::value(PolicyStatus::Underwritten.code()))
            .col_expr(policies::Column::PolicyNo, Expr::value(policy_no.as_str()))
            .col_expr(policies::Column::StartDate, Expr::value(start))
            .col_expr(policies::Column::UnderwrittenAt, Expr::value(now))
            .col_expr(policies::Column::UnderwrittenBy, Expr::value(actor.username()))
            .filter(policies::Column::Id.eq(id))
            .filter(policies::Column::Status.eq(PolicyStatus::Submitted.code()))
            .exec(&self.db)
            .await
            .map_err(|e| {
                StoreError::from_write(e, &format!("保单号“{policy_no}”已被其他保单使用，请核对"))
            })?;
        if result.rows_affected != 1 {
            return Err(StoreError::Conflict("保单状态已被他人修改，请刷新后重试".to_owned()));
        }
        self.audit(
            actor,
            AuditEvent::ok("policy.underwrite", "保单", id.to_string()).with_detail(policy_no.as_str()),
        )
        .await
    }

    /// Cancels a policy with a reason: the association before underwriting, the insurer
    /// after. The funding it took goes back to its sources and its cover slots are freed.
    pub async fn cancel_policy(self, actor: &Actor, id: i64, reason: &str) -> StoreResult<()> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(StoreError::invalid("请填写撤销原因"));
        }
        let row = self.policy_row(actor, id).await?;
        let status: PolicyStatus = stored("policies.status", &row.status)?;
        match status {
            PolicyStatus::Draft | PolicyStatus::Submitted => self.require(actor, Permission::Enrol).await?,
            PolicyStatus::Underwritten => self.require(actor, Permission::Underwrite).await?,
            PolicyStatus::Cancelled => return Err(StoreError::invalid("该保单已撤销")),
        }
        let txn = self.db.begin().await?;
        let result = policies::Entity::update_many()
            .col_expr(policies::Column::Status, Expr::value(PolicyStatus::Cancelled.code()))
            .col_expr(policies::Column::CancelledAt, Expr::value(Utc::now()))
            .col_expr(
                policies::Column::CancelReason,
                Expr::value(reason.chars().take(200).collect::<String>()),
            )
            .filter(policies::Column::Id.eq(id))
            .filter(policies::Column::Status.eq(status.code()))
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

    /// The insurer confirms many submitted policies at once, each with its policy number
    /// (an insurer's return file). All or nothing; returns how many were underwritten.
    ///
    /// A few set-based statements rather than one per policy: each covers
    /// [`UNDERWRITE_CHUNK`] policies (`policy_no = CASE WHEN id = … THEN … END`, `WHERE id
    /// IN (…)`, still submitted and within scope) and must change every one of them; the
    /// write gate is taken once for the batch.
    pub async fn underwrite_many(&self, actor: &Actor, items: &[(i64, PolicyNo)]) -> StoreResult<usize> {
        self.require(actor, Permission::Underwrite).await?;
        let mut numbers = HashSet::with_capacity(items.len());
        let mut ids = HashSet::with_capacity(items.len());
        for (id, policy_no) in items {
            if !numbers.insert(policy_no) {
                return Err(StoreError::Conflict(format!("保单号“{policy_no}”在本批中用于多份保单")));
            }
            if !ids.insert(*id) {
                return Err(StoreError::Conflict(format!(
                    "保单 {id} 在本批中出现多次，每份保单只能承保一次"
                )));
            }
        }
        if items.is_empty() {
            return Ok(0);
        }
        let now = self.clock().now();
        // Read before the transaction (see ARCHITECTURE.md): the starts underwriting moves.
        let mut found = Vec::with_capacity(items.len());
        for chunk in items.chunks(500) {
            let rows: Vec<(i64, i64, NaiveDate, NaiveDate)> = policies::Entity::find()
                .select_only()
                .column(policies::Column::Id)
                .column(policies::Column::PackageId)
                .column(policies::Column::StartDate)
                .column(policies::Column::EndDate)
                .filter(policies::Column::Id.is_in(chunk.iter().map(|(id, _)| *id)))
                .filter(policies::Column::Status.eq(PolicyStatus::Submitted.code()))
                .filter(actor.scope_condition(policies::Column::VillageCode))
                .into_tuple()
                .all(&self.db)
                .await?;
            found.extend(rows);
        }
        let moved: HashSet<i64> =
            self.start_on_underwriting(&found, now).await?.into_iter().map(|(id, _)| id).collect();
        // The day after `now`, the same day `start_on_underwriting` checked each start against.
        let tomorrow = guanai_domain::clock::china_date(now).succ_opt().unwrap_or(NaiveDate::MAX);
        let turn = self.write_gate.turn().await;
        let txn = turn.db.begin().await?;
        for chunk in items.chunks(UNDERWRITE_CHUNK) {
            let mut numbers = CaseStatement::new();
            for (id, policy_no) in chunk {
                numbers = numbers.case(policies::Column::Id.eq(*id), Expr::value(policy_no.as_str()));
            }
            let numbers = numbers.finally(Expr::col(policies::Column::PolicyNo));
            let mut update = policies::Entity::update_many();
            let late: Vec<i64> = chunk.iter().map(|(id, _)| *id).filter(|id| moved.contains(id)).collect();
            if !late.is_empty() {
                // 次日零时起保: the day after underwriting, for the policies whose rule says so
                // and whose start has passed (only those are in `moved`).
                let start = CaseStatement::new()
                    .case(policies::Column::Id.is_in(late), Expr::value(tomorrow))
                    .finally(Expr::col(policies::Column::StartDate));
                update = update.col_expr(policies::Column::StartDate, start.into());
            }
            let result = update
                .col_expr(policies::Column::Status, Expr::value(PolicyStatus::Underwritten.code()))
                .col_expr(policies::Column::PolicyNo, numbers.into())
                .col_expr(policies::Column::UnderwrittenAt, Expr::value(now))
                .col_expr(policies::Column::UnderwrittenBy, Expr::value(actor.username()))
                .filter(policies::Column::Id.is_in(chunk.iter().map(|(id, _)| *id)))
                .filter(policies::Column::Status.eq(PolicyStatus::Submitted.code()))
                .filter(actor.scope_condition(policies::Column::VillageCode))
                .exec(&txn)
                .await;
            let result = match result {
                Ok(result) => result,
                Err(err) => {
                    // Rolled back before the culprit is looked up (a failed statement ends a
                    // PostgreSQL transaction).
                    drop(txn);
                    drop(turn);
                    return Err(self.underwrite_failure(err, chunk).await);
                }
            };
            if result.rows_affected != chunk.len() as u64 {
                drop(txn);
                drop(turn);
                // Rolled back: the policies still waiting are those the chunk found, and
                // the first of the chunk that is not among them is named.
                let waiting: HashSet<i64> = policies::Entity::find()
                    .select_only()
                    .column(policies::Column::Id)
                    .filter(policies::Column::Id.is_in(chunk.iter().map(|(id, _)| *id)))
                    .filter(policies::Column::Status.eq(PolicyStatus::Submitted.code()))
                    .filter(actor.scope_condition(policies::Column::VillageCode))
                    .into_tuple()
                    .all(&self.db)
                    .await?
                    .into_iter()
                    .collect();
                let mut seen = HashSet::new();
                let id = chunk
                    .iter()
                    .map(|(id, _)| *id)
                    .find(|id| !waiting.contains(id) || !seen.insert(*id))
                    .unwrap_or(chunk[0].0);
                return Err(StoreError::Conflict(format!("保单 {id} 不是本辖区待承保的保单")));
            }
        }
        txn.commit().await?;
        drop(turn);
        self.audit(actor, AuditEvent::ok("policy.underwrite_batch", "保单", format!("{}份", items.len())))
            .await?;
        Ok(items.len())
    }
}

impl Store {
    /// Of submitted policies `(id, package, start, end)` underwritten at `now`, those whose
    /// cover start moves to the day after (the package's rule is
    /// [`LateStart::AfterUnderwriting`] and the start is not after it yet), with that day.
    /// A policy whose year's cover is over by then cannot be underwritten: it is named.
    async fn start_on_underwriting(
        &self,
        policies: &[(i64, i64, NaiveDate, NaiveDate)],
        now: chrono::DateTime<Utc>,
    ) -> StoreResult<Vec<(i64, NaiveDate)>> {
        let day = guanai_domain::clock::china_date(now);
        let mut moved = Vec::new();
        let mut rules: std::collections::HashMap<i64, LateStart> = std::collections::HashMap::new();
        for (id, package_id, start, end) in policies {
            let rule = match rules.get(package_id) {
                Some(rule) => *rule,
                None => {
                    let rule = self.cached_package(*package_id).await?.late_start();
                    rules.insert(*package_id, rule);
                    rule
                }
            };
            if rule != LateStart::AfterUnderwriting {
                continue;
            }
            let Some(first) = guanai_domain::products::cover_start(*start, *end, day) else {
                return Err(StoreError::invalid(format!(
                    "保单 {id} 的保险期间到{end}为止，承保次日已无保障可言，不能承保；请撤销该保单"
                )));
            };
            if first != *start {
                moved.push((*id, first));
            }
        }
        Ok(moved)
    }

    /// What a failed underwriting statement means: a policy number another policy holds
    /// already (named), or the database's own error.
    async fn underwrite_failure(&self, err: sea_orm::DbErr, chunk: &[(i64, PolicyNo)]) -> StoreError {
        if !matches!(err.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) {
            return StoreError::Database(err);
        }
        let taken: Vec<String> = policies::Entity::find()
            .select_only()
            .column(policies::Column::PolicyNo)
            .filter(policies::Column::PolicyNo.is_in(chunk.iter().map(|(_, n)| n.as_str())))
            .into_tuple::<Option<String>>()
            .all(&self.db)
            .await
            .unwrap_or_default()
            .into_iter()
            .flatten()
            .collect();
        let policy_no = chunk.iter().map(|(_, n)| n.as_str()).find(|n| taken.iter().any(|t| t == n));
        StoreError::Conflict(format!("保单号“{}”已被其他保单使用", policy_no.unwrap_or(chunk[0].1.as_str())))
    }
}

impl crate::handles::Policies<'_> {
    /// The ids of a year's policies waiting for the insurer within the actor's scope, newest
    /// first: the work list of an insurer that underwrites a whole year (the demo). Ids
    /// only, in one query, so a city's year costs no paging through policy summaries.
    pub async fn submitted_policy_ids(self, actor: &Actor, year: i32) -> StoreResult<Vec<i64>> {
        self.require(actor, Permission::Underwrite).await?;
        Ok(policies::Entity::find()
            .select_only()
            .column(policies::Column::Id)
            .filter(actor.scope_condition(policies::Column::VillageCode))
            .filter(policies::Column::Year.eq(year))
            .filter(policies::Column::Status.eq(PolicyStatus::Submitted.code()))
            .order_by_desc(policies::Column::Id)
            .into_tuple()
            .all(&self.db)
            .await?)
    }
}
