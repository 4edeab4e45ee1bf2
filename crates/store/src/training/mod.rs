//! Training sessions: recorded by the association or the insurer's trainers, signed in to
//! by agents on their phones with the session's code, scored against the pass mark, with a
//! printable certificate for those who passed (`certificate.rs`), and the lists of agents
//! not trained yet.
//!
//! A session belongs to a region (the county or township that holds it). A user sees the
//! sessions of its scope and of the regions above it (a village agent those of its county
//! and township); only users whose scope holds the session manage it.

mod certificate;

pub use certificate::{Certificate, UntrainedAgent};

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use guanai_domain::training::{attendance, AttendanceStatus, Score, SignInCode};
use guanai_domain::{Permission, RegionCode};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;

use crate::audit::AuditEvent;
use crate::entities::{agents, training_attendees, trainings};
use crate::{Actor, Store, StoreError, StoreResult};

#[derive(Debug, Clone)]
pub struct NewTraining {
    pub region: RegionCode,
    pub topic: String,
    pub place: String,
    pub trainer: String,
    pub held_on: NaiveDate,
    pub pass_mark: Score,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrainingSummary {
    pub id: i64,
    pub region_code: String,
    pub topic: String,
    pub place: String,
    pub trainer: String,
    pub held_on: NaiveDate,
    pub pass_mark: u8,
    pub attendees: u64,
    pub passed: u64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attendee {
    pub agent_id: i64,
    pub name: String,
    pub township_code: String,
    pub signed_in_at: DateTime<Utc>,
    pub score: Option<u8>,
    pub status: AttendanceStatus,
    pub certificate_no: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrainingDetail {
    #[serde(flatten)]
    pub summary: TrainingSummary,
    /// The code attendees type to sign in; shown only to those who manage the session.
    pub sign_in_code: Option<String>,
    /// Whether the actor may record scores.
    pub manageable: bool,
    pub attendance: Vec<Attendee>,
}

/// What a sign-in did.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignedIn {
    pub training_id: i64,
    pub topic: String,
    /// Signed in before: nothing changed.
    pub already: bool,
}

fn score_of(raw: Option<i32>) -> StoreResult<Option<Score>> {
    raw.map(|s| {
        u8::try_from(s)
            .ok()
            .and_then(Score::new)
            .ok_or_else(|| StoreError::Corrupt(format!("bad score {s} in training_attendees.score")))
    })
    .transpose()
}

fn pass_mark_of(row: &trainings::Model) -> StoreResult<Score> {
    score_of(Some(row.pass_mark)).map(|s| s.expect("some"))
}

impl Store {
    /// Sessions of the actor's scope and of the regions above it.
    fn training_visibility(&self, actor: &Actor) -> Condition {
        let mut visible = Condition::any().add(actor.scope_condition(trainings::Column::RegionCode));
        for ancestor in actor.scope().ancestry() {
            visible = visible.add(trainings::Column::RegionCode.eq(ancestor.as_str()));
        }
        visible
    }

    fn sees_training(actor: &Actor, region: &str) -> bool {
        actor.holds(region) || actor.scope().as_str().starts_with(region)
    }

    pub(crate) async fn training_row(&self, actor: &Actor, id: i64) -> StoreResult<trainings::Model> {
        let row = trainings::Entity::find_by_id(id).one(&self.db).await?;
        let region = row.as_ref().map(|r| {
            if Self::sees_training(actor, &r.region_code) {
                actor.scope().as_str()
            } else {
                r.region_code.as_str()
            }
        });
        const TRAINING: crate::access::Target =
            crate::access::Target { action: "training.view", kind: "培训" };
        self.check_scope(actor, TRAINING, id, region).await?;
        Ok(row.expect("in scope, so found"))
    }

    async fn training_summaries(&self, rows: Vec<trainings::Model>) -> StoreResult<Vec<TrainingSummary>> {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let mut counts: HashMap<i64, (u64, u64)> = HashMap::new();
        for chunk in ids.chunks(500) {
            let scored: Vec<(i64, Option<i32>)> = training_attendees::Entity::find()
                .select_only()
                .column(training_attendees::Column::TrainingId)
                .column(training_attendees::Column::Score)
                .filter(training_attendees::Column::TrainingId.is_in(chunk.iter().copied()))
                .into_tuple()
                .all(&self.db)
                .await?;
            let marks: HashMap<i64, i32> = rows.iter().map(|r| (r.id, r.pass_mark)).collect();
            for (training, score) in scored {
                let entry = counts.entry(training).or_default();
                entry.0 += 1;
                if score.is_some_and(|s| s >= marks[&training]) {
                    entry.1 += 1;
                }
            }
        }
        rows.into_iter()
            .map(|r| {
                let (attendees, passed) = counts.get(&r.id).copied().unwrap_or_default();
                Ok(TrainingSummary {
                    pass_mark: pass_mark_of(&r)?.get(),
                    id: r.id,
                    region_code: r.region_code,
                    topic: r.topic,
                    place: r.place,
                    trainer: r.trainer,
                    held_on: r.held_on,
                    attendees,
                    passed,
                })
            })
            .collect()
    }
}

pub(crate) fn required_text(label: &str, raw: &str, max: usize) -> StoreResult<String> {
    let value = raw.trim();
    if value.is_empty() || value.chars().count() > max {
        return Err(StoreError::invalid(format!("{label}不能为空，且不超过{max}个字")));
    }
    Ok(value.to_owned())
}

impl crate::handles::Training<'_> {
    /// Records a session in the actor's scope, with a fresh sign-in code.
    pub async fn create_training(self, actor: &Actor, new: NewTraining) -> StoreResult<i64> {
        self.require(actor, Permission::ManageTraining).await?;
        if !actor.sees(&new.region) {
            return Err(StoreError::Forbidden(format!("区划“{}”不在您的管理范围内", new.region)));
        }
        if !self.regions().region_exists(&new.region).await? {
            return Err(StoreError::invalid(format!("区划代码“{}”不存在", new.region)));
        }
        let code = SignInCode::from_number(rand::random::<u32>());
        let id = trainings::Entity::insert(trainings::ActiveModel {
            id: NotSet,
            region_code: Set(new.region.to_string()),
            topic: Set(required_text("培训主题", &new.topic, 100)?),
            place: Set(required_text("培训地点", &new.place, 100)?),
            trainer: Set(required_text("授课人（单位）", &new.trainer, 100)?),
            held_on: Set(new.held_on),
            pass_mark: Set(i32::from(new.pass_mark.get())),
            sign_in_code: Set(code.as_str().to_owned()),
            created_by: Set(actor.username().to_owned()),
            created_at: Set(Utc::now()),
        })
        .exec(&self.db)
        .await?
        .last_insert_id;
        self.audit(
            actor,
            AuditEvent::ok("training.create", "培训", id.to_string()).with_detail(new.topic.trim()),
        )
        .await?;
        Ok(id)
    }

    /// Sessions the actor may see, newest first; of one year when given.
    pub async fn trainings(self, actor: &Actor, year: Option<i32>) -> StoreResult<Vec<TrainingSummary>> {
        self.require(actor, Permission::ViewAssociationWork).await?;
        let mut select = trainings::Entity::find().filter(self.training_visibility(actor));
        if let Some(year) = year {
            let first = NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(|| StoreError::invalid("年度无效"))?;
            let next =
                NaiveDate::from_ymd_opt(year + 1, 1, 1).ok_or_else(|| StoreError::invalid("年度无效"))?;
            select = select
                .filter(trainings::Column::HeldOn.gte(first))
                .filter(trainings::Column::HeldOn.lt(next));
        }
        let rows = select
            .order_by_desc(trainings::Column::HeldOn)
            .order_by_desc(trainings::Column::Id)
            .limit(1000)
            .all(&self.db)
            .await?;
        self.training_summaries(rows).await
    }

    /// One session with its attendees; the sign-in code only for those who manage it.
    pub async fn training(self, actor: &Actor, id: i64) -> StoreResult<TrainingDetail> {
        self.require(actor, Permission::ViewAssociationWork).await?;
        let row = self.training_row(actor, id).await?;
        let manageable = actor.can(Permission::ManageTraining) && actor.holds(&row.region_code);
        let pass_mark = pass_mark_of(&row)?;
        let attendees = training_attendees::Entity::find()
            .find_also_related_agent()
            .filter(training_attendees::Column::TrainingId.eq(id))
            .order_by_asc(training_attendees::Column::SignedInAt)
            .all(&self.db)
            .await?;
        let attendance = attendees
            .into_iter()
            .map(|(a, agent)| {
                let score = score_of(a.score)?;
                Ok(Attendee {
                    agent_id: a.agent_id,
                    name: agent.as_ref().map(|g| g.name.clone()).unwrap_or_default(),
                    township_code: agent.map(|g| g.township_code).unwrap_or_default(),
                    signed_in_at: a.signed_in_at,
                    score: score.map(Score::get),
                    status: attendance(score, pass_mark),
                    certificate_no: a.certificate_no,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let sign_in_code = manageable.then(|| row.sign_in_code.clone());
        let summary = self.training_summaries(vec![row]).await?.remove(0);
        Ok(TrainingDetail { summary, sign_in_code, manageable, attendance })
    }

    /// A village agent signs in to today's session whose code it typed. Signing in twice
    /// changes nothing.
    pub async fn sign_in(self, actor: &Actor, code: &SignInCode) -> StoreResult<SignedIn> {
        self.require(actor, Permission::SignInTraining).await?;
        let Some(agent) = self.agents().my_agent(actor).await? else {
            return Err(StoreError::invalid("您的账号还没有登记为服务专员，请联系乡镇计生协登记后再签到"));
        };
        let today = self.today();
        let sessions = trainings::Entity::find()
            .filter(trainings::Column::SignInCode.eq(code.as_str()))
            .filter(trainings::Column::HeldOn.eq(today))
            .all(&self.db)
            .await?;
        // The session must be held for the agent's township: by it, above it or below it.
        let session = sessions.into_iter().find(|s| {
            agent.township_code.starts_with(&s.region_code) || s.region_code.starts_with(&agent.township_code)
        });
        let Some(session) = session else {
            return Err(StoreError::invalid(format!(
                "没有今天（{today}）举行、签到码为“{}”的培训，请核对现场公布的签到码",
                code.as_str()
            )));
        };
        let inserted = training_attendees::Entity::insert(training_attendees::ActiveModel {
            id: NotSet,
            training_id: Set(session.id),
            agent_id: Set(agent.id),
            signed_in_at: Set(Utc::now()),
            score: Set(None),
            certificate_no: Set(None),
        })
        .exec_without_returning(&self.db)
        .await;
        let already = match inserted {
            Ok(_) => false,
            Err(err) => match StoreError::from_write(err, "") {
                StoreError::Conflict(_) => true,
                other => return Err(other),
            },
        };
        if !already {
            self.audit(
                actor,
                AuditEvent::ok("training.sign_in", "培训", session.id.to_string())
                    .with_subject(format!("agent:{}", agent.id)),
            )
            .await?;
        }
        Ok(SignedIn { training_id: session.id, topic: session.topic, already })
    }

    /// Signs an agent in on its behalf, from the session's paper list (an agent without a
    /// phone): by those who manage the session, for an agent they may see. Twice changes
    /// nothing.
    pub async fn sign_in_for(self, actor: &Actor, training_id: i64, agent_id: i64) -> StoreResult<bool> {
        self.require(actor, Permission::ManageTraining).await?;
        let session = self.training_row(actor, training_id).await?;
        if !actor.holds(&session.region_code) {
            return Err(StoreError::Forbidden("只能为本辖区举办的培训代签到".to_owned()));
        }
        let agent = self.agents().agent(actor, agent_id).await?;
        let inserted = training_attendees::Entity::insert(training_attendees::ActiveModel {
            id: NotSet,
            training_id: Set(training_id),
            agent_id: Set(agent.id),
            signed_in_at: Set(Utc::now()),
            score: Set(None),
            certificate_no: Set(None),
        })
        .exec_without_returning(&self.db)
        .await;
        match inserted {
            Ok(_) => {
                self.audit(
                    actor,
                    AuditEvent::ok("training.sign_in", "培训", training_id.to_string())
                        .with_subject(format!("agent:{agent_id}"))
                        .with_detail("代签到"),
                )
                .await?;
                Ok(true)
            }
            Err(err) => match StoreError::from_write(err, "") {
                StoreError::Conflict(_) => Ok(false),
                other => Err(other),
            },
        }
    }

    /// Records assessment scores of attendees who signed in; a pass gets its certificate
    /// number, a score below the mark loses it. All or nothing.
    pub async fn record_scores(
        self,
        actor: &Actor,
        training_id: i64,
        scores: &[(i64, Score)],
    ) -> StoreResult<u64> {
        use sea_orm::sea_query::Expr;
        use sea_orm::TransactionTrait;
        self.require(actor, Permission::ManageTraining).await?;
        let row = self.training_row(actor, training_id).await?;
        if !actor.holds(&row.region_code) {
            return Err(StoreError::Forbidden("只能为本辖区举办的培训登记成绩".to_owned()));
        }
        let pass_mark = pass_mark_of(&row)?;
        // Who signed in, read before the transaction: a score for anyone else refuses all
        // (an UPDATE's count of rows cannot say it: MySQL counts only rows it changed).
        let signed_in: std::collections::HashSet<i64> = training_attendees::Entity::find()
            .select_only()
            .column(training_attendees::Column::AgentId)
            .filter(training_attendees::Column::TrainingId.eq(training_id))
            .into_tuple::<i64>()
            .all(&self.db)
            .await?
            .into_iter()
            .collect();
        if let Some((stranger, _)) = scores.iter().find(|(agent, _)| !signed_in.contains(agent)) {
            let name = agents::Entity::find_by_id(*stranger).one(&self.db).await?.map(|a| a.name);
            return Err(StoreError::invalid(format!(
                "“{}”没有签到这次培训，不能登记成绩；成绩均未保存",
                name.unwrap_or_else(|| stranger.to_string())
            )));
        }
        let txn = self.db.begin().await?;
        for (agent_id, score) in scores {
            let passed = attendance(Some(*score), pass_mark) == AttendanceStatus::Passed;
            let certificate =
                passed.then(|| guanai_domain::training::certificate_no(row.held_on, row.id, *agent_id));
            training_attendees::Entity::update_many()
                .col_expr(training_attendees::Column::Score, Expr::value(i32::from(score.get())))
                .col_expr(training_attendees::Column::CertificateNo, Expr::value(certificate))
                .filter(training_attendees::Column::TrainingId.eq(training_id))
                .filter(training_attendees::Column::AgentId.eq(*agent_id))
                .exec(&txn)
                .await?;
        }
        self.audit_in(
            &txn,
            actor,
            AuditEvent::ok("training.scores", "培训", training_id.to_string())
                .with_detail(format!("登记{}人的成绩", scores.len())),
        )
        .await?;
        txn.commit().await?;
        Ok(scores.len() as u64)
    }
}

/// `find_also_related` without a declared relation: attendees with their agents.
trait WithAgent {
    fn find_also_related_agent(self) -> sea_orm::SelectTwo<training_attendees::Entity, agents::Entity>;
}

impl WithAgent for sea_orm::Select<training_attendees::Entity> {
    fn find_also_related_agent(self) -> sea_orm::SelectTwo<training_attendees::Entity, agents::Entity> {
        self.select_also(agents::Entity).join(
            sea_orm::JoinType::LeftJoin,
            training_attendees::Entity::belongs_to(agents::Entity)
                .from(training_attendees::Column::AgentId)
                .to(agents::Column::Id)
                .into(),
        )
    }
}
