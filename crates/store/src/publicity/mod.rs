//! Publicity activities (进机关, 进学校, 进企业, 进村入户 …): what was done, where, by whom,
//! how many people it reached; each with a code that an enrolment may carry
//! (`policies.activity_id`, written by the enrolment writer), so that an activity's
//! enrolments and premium are counted (`report.rs`). The kinds are the city's own list
//! (`kinds.rs`); an activity's photos are kept in the file store (`photos.rs`).

mod kinds;
mod photos;
mod report;

pub use kinds::ActivityKindEntry;
pub use report::{ActivityReport, ActivityReportRow};

use chrono::{NaiveDate, Utc};
use guanai_domain::publicity::{check_reached, ActivityCode};
use guanai_domain::{Fen, Permission, RegionCode};
use sea_orm::sea_query::{Alias, Expr, Query};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;

use crate::access::Target;
use crate::audit::AuditEvent;
use crate::entities::{activities, families, policies};
use crate::training::required_text;
use crate::{Actor, Store, StoreError, StoreResult};

pub(crate) const ACTIVITY: Target = Target { action: "activity.view", kind: "宣传活动" };

/// The column of `policies` naming the activity an enrolment came from (added by the
/// association's migration; not in the policies entity, which the enrolment code owns).
pub(crate) fn activity_column() -> Alias {
    Alias::new("activity_id")
}

#[derive(Debug, Clone)]
pub struct NewActivity {
    /// The code of a kind in use (`Publicity::kinds`).
    pub kind: String,
    pub region: RegionCode,
    pub title: String,
    pub held_on: NaiveDate,
    pub organiser: String,
    pub people_reached: i64,
    pub materials: String,
}

/// An activity with what it brought: enrolments carrying its code (not cancelled) and
/// their premium.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Activity {
    pub id: i64,
    pub code: String,
    /// The kind's code and its name as the city keeps it.
    pub kind: String,
    pub kind_label: String,
    pub region_code: String,
    pub title: String,
    pub held_on: NaiveDate,
    pub organiser: String,
    pub people_reached: i64,
    pub materials: String,
    pub enrolments: u64,
    pub premium: Fen,
}

impl Store {
    /// Enrolments and premium per activity, for `ids` (cancelled policies not counted):
    /// one grouped query per 500 activities.
    pub(crate) async fn attributed(
        &self,
        ids: &[i64],
    ) -> StoreResult<std::collections::HashMap<i64, (u64, Fen)>> {
        let mut out = std::collections::HashMap::new();
        for chunk in ids.chunks(500) {
            let rows: Vec<(i64, i64, Option<i64>)> = policies::Entity::find()
                .select_only()
                .column_as(Expr::col(activity_column()), "activity")
                .column_as(Expr::col(policies::Column::Id).count(), "enrolments")
                .column_as(self.sum_i64(policies::Column::PremiumFen), "premium")
                .filter(Expr::col(activity_column()).is_in(chunk.iter().copied()))
                .filter(policies::Column::Status.ne(guanai_domain::policies::PolicyStatus::Cancelled.code()))
                .group_by(Expr::col(activity_column()))
                .into_tuple()
                .all(&self.db)
                .await?;
            for (activity, count, premium) in rows {
                out.insert(activity, (count as u64, Fen::new(premium.unwrap_or(0))));
            }
        }
        Ok(out)
    }

    async fn with_counts(&self, rows: Vec<activities::Model>) -> StoreResult<Vec<Activity>> {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let counts = self.attributed(&ids).await?;
        let labels = self.kind_labels().await?;
        rows.into_iter()
            .map(|r| {
                let (enrolments, premium) = counts.get(&r.id).copied().unwrap_or((0, Fen::ZERO));
                let kind_label = labels.get(&r.kind).cloned().ok_or_else(|| {
                    StoreError::Corrupt(format!("unknown code '{}' in activities.kind", r.kind))
                })?;
                Ok(Activity {
                    kind: r.kind,
                    kind_label,
                    id: r.id,
                    code: r.code,
                    region_code: r.region_code,
                    title: r.title,
                    held_on: r.held_on,
                    organiser: r.organiser,
                    people_reached: r.people_reached,
                    materials: r.materials,
                    enrolments,
                    premium,
                })
            })
            .collect()
    }

    /// Writes which activity each new policy came from, inside the enrolment writer's
    /// transaction.
    pub(crate) async fn attribute_policies(
        &self,
        db: &impl ConnectionTrait,
        pairs: Vec<(i64, Option<i64>)>,
    ) -> StoreResult<()> {
        for (policy_id, activity_id) in pairs {
            let Some(activity_id) = activity_id else { continue };
            let update = Query::update()
                .table(policies::Entity)
                .value(activity_column(), activity_id)
                .and_where(Expr::col(policies::Column::Id).eq(policy_id))
                .to_owned();
            db.execute(db.get_database_backend().build(&update)).await?;
        }
        Ok(())
    }
}

impl crate::handles::Publicity<'_> {
    /// Records an activity in the actor's scope with a fresh code; returns its id and code.
    pub async fn create_activity(self, actor: &Actor, new: NewActivity) -> StoreResult<(i64, String)> {
        self.require(actor, Permission::ManagePublicity).await?;
        if !actor.sees(&new.region) {
            return Err(StoreError::Forbidden(format!("区划“{}”不在您的管理范围内", new.region)));
        }
        if !self.regions().region_exists(&new.region).await? {
            return Err(StoreError::invalid(format!("区划代码“{}”不存在", new.region)));
        }
        if new.held_on > self.today() {
            return Err(StoreError::invalid("活动日期不能晚于今天：活动办过之后再登记"));
        }
        let kind = self.active_kind(&new.kind).await?;
        let people = check_reached(new.people_reached).map_err(StoreError::Invalid)?;
        let title = required_text("活动名称", &new.title, 100)?;
        let organiser = required_text("组织单位", &new.organiser, 100)?;
        let materials: String = new.materials.trim().chars().take(500).collect();
        // A drawn code that is taken already (1 in 10^9) is drawn again.
        for _ in 0..5 {
            let code = ActivityCode::from_indexes(rand::random());
            let inserted = activities::Entity::insert(activities::ActiveModel {
                id: NotSet,
                code: Set(code.to_string()),
                kind: Set(kind.code.clone()),
                region_code: Set(new.region.to_string()),
                title: Set(title.clone()),
                held_on: Set(new.held_on),
                organiser: Set(organiser.clone()),
                people_reached: Set(people),
                materials: Set(materials.clone()),
                created_by: Set(actor.username().to_owned()),
                created_at: Set(Utc::now()),
            })
            .exec(&self.db)
            .await;
            match inserted {
                Ok(done) => {
                    let id = done.last_insert_id;
                    self.audit(
                        actor,
                        AuditEvent::ok("activity.create", "宣传活动", id.to_string())
                            .with_detail(code.to_string()),
                    )
                    .await?;
                    return Ok((id, code.to_string()));
                }
                Err(err) => match StoreError::from_write(err, "") {
                    StoreError::Conflict(_) => continue,
                    other => return Err(other),
                },
            }
        }
        Err(StoreError::Conflict("未能生成活动码，请重试".to_owned()))
    }

    /// The activities of the actor's scope, newest first; of one year and kind when given.
    pub async fn activities(
        self,
        actor: &Actor,
        year: Option<i32>,
        kind: Option<&str>,
    ) -> StoreResult<Vec<Activity>> {
        self.require(actor, Permission::ViewAssociationWork).await?;
        let mut select =
            activities::Entity::find().filter(actor.scope_condition(activities::Column::RegionCode));
        if let Some(year) = year {
            let (first, next) = year_bounds(year)?;
            select = select
                .filter(activities::Column::HeldOn.gte(first))
                .filter(activities::Column::HeldOn.lt(next));
        }
        if let Some(kind) = kind {
            select = select.filter(activities::Column::Kind.eq(kind));
        }
        let rows = select
            .order_by_desc(activities::Column::HeldOn)
            .order_by_desc(activities::Column::Id)
            .limit(1000)
            .all(&self.db)
            .await?;
        self.with_counts(rows).await
    }

    /// One activity of the actor's scope with what it brought.
    pub async fn activity(self, actor: &Actor, id: i64) -> StoreResult<Activity> {
        self.require(actor, Permission::ViewAssociationWork).await?;
        let row = self.scoped_find::<activities::Entity>(actor, ACTIVITY, id, |a| &a.region_code).await?;
        Ok(self.with_counts(vec![row]).await?.remove(0))
    }

    /// The activity a scanned code names, for a user about to enrol families with it: the
    /// activity's region and the actor's scope must overlap (a township's agent scans the
    /// county's activity; the county's staff a township's). Returns its id and title.
    pub async fn activity_for_scan(self, actor: &Actor, code: &ActivityCode) -> StoreResult<(i64, String)> {
        self.require(actor, Permission::Enrol).await?;
        let activity = activities::Entity::find()
            .filter(activities::Column::Code.eq(code.as_str()))
            .one(&self.db)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("没有活动码为“{code}”的宣传活动，请核对活动码")))?;
        let scope = actor.scope().as_str();
        if !(scope.starts_with(&activity.region_code) || activity.region_code.starts_with(scope)) {
            return Err(StoreError::invalid(format!(
                "活动码“{code}”的活动不在您的服务区域，不能用于您代办的参保"
            )));
        }
        Ok((activity.id, activity.title))
    }

    /// The activity an enrolment of `family_id` names by its code: it must exist and have
    /// been held where the family lives (the family's village within the activity's region).
    pub async fn activity_for_enrolment(
        self,
        actor: &Actor,
        code: &ActivityCode,
        family_id: i64,
    ) -> StoreResult<i64> {
        self.require(actor, Permission::Enrol).await?;
        let activity = activities::Entity::find()
            .filter(activities::Column::Code.eq(code.as_str()))
            .one(&self.db)
            .await?
            .ok_or_else(|| StoreError::invalid(format!("没有活动码为“{code}”的宣传活动，请核对活动码")))?;
        let village: Option<String> = families::Entity::find_by_id(family_id)
            .select_only()
            .column(families::Column::VillageCode)
            .into_tuple()
            .one(&self.db)
            .await?;
        let village = village.ok_or_else(|| StoreError::not_found(format!("找不到家庭“{family_id}”")))?;
        if !village.starts_with(&activity.region_code) {
            return Err(StoreError::invalid(format!(
                "活动码“{code}”是“{}”的活动，该活动的区域不含这户家庭所在的村，请核对活动码",
                activity.title
            )));
        }
        Ok(activity.id)
    }
}

pub(crate) fn year_bounds(year: i32) -> StoreResult<(NaiveDate, NaiveDate)> {
    let bad = || StoreError::invalid("年度须在2000到2100之间");
    if !(2000..=2100).contains(&year) {
        return Err(bad());
    }
    Ok((
        NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(bad)?,
        NaiveDate::from_ymd_opt(year + 1, 1, 1).ok_or_else(bad)?,
    ))
}
