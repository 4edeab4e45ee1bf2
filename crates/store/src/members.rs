//! Changes to a family's members: births, deaths, marriages and moves (recorded as
//! events), moving a person to another family, and the audited views of a member's full
//! ID number or a family's full phone number.

use chrono::{NaiveDate, Utc};
use guanai_domain::families::{MemberEvent, Relationship};
use guanai_domain::Permission;
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use serde::Serialize;

use crate::access::Target;
use crate::audit::AuditEvent;
use crate::entities::{families, person_events, persons};
use crate::error::stored;
use crate::{Actor, Store, StoreError, StoreResult};

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberEventRecord {
    pub person_id: i64,
    pub kind: MemberEvent,
    pub event_date: NaiveDate,
    pub note: String,
    pub recorded_by: String,
}

impl Store {
    /// The member events of a family, by date.
    pub(crate) async fn member_events(&self, family_id: i64) -> StoreResult<Vec<MemberEventRecord>> {
        person_events::Entity::find()
            .filter(person_events::Column::FamilyId.eq(family_id))
            .order_by_asc(person_events::Column::EventDate)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|e| {
                Ok(MemberEventRecord {
                    person_id: e.person_id,
                    kind: stored("person_events.kind", &e.kind)?,
                    event_date: e.event_date,
                    note: e.note,
                    recorded_by: crate::audit_labels::shown_username(&e.recorded_by).to_owned(),
                })
            })
            .collect::<StoreResult<_>>()
    }

    async fn person_in_scope(
        &self,
        actor: &Actor,
        person_id: i64,
    ) -> StoreResult<(persons::Model, families::Model)> {
        let Some(person) = persons::Entity::find_by_id(person_id).one(&self.db).await? else {
            return Err(StoreError::not_found(format!("找不到人员“{person_id}”")));
        };
        const PERSON: Target = Target { action: "person.view", kind: "人员" };
        let family = families::Entity::find_by_id(person.family_id).one(&self.db).await?;
        // A person is where the family is; a person without one is denied like one outside.
        let region = Some(family.as_ref().map_or("", |f| f.village_code.as_str()));
        self.check_scope(actor, PERSON, person_id, region).await?;
        Ok((person, family.expect("in scope, so found")))
    }
}

impl crate::handles::Families<'_> {
    /// The full ID number of a member, for a role that needs it. The view is audit-logged
    /// with whose number it was.
    pub async fn reveal_id_number(self, actor: &Actor, person_id: i64) -> StoreResult<String> {
        self.require(actor, Permission::RevealPersonalData).await?;
        let (person, family) = self.person_in_scope(actor, person_id).await?;
        if !self.family_open(actor, family.id).await? {
            return Err(self.refuse_reveal(actor, "person.reveal_id", "人员", person_id).await);
        }
        let value = self.keys.open(&person.id_enc)?;
        self.audit(
            actor,
            AuditEvent::ok("person.reveal_id", "人员", person_id.to_string())
                .with_subject(format!("person:{person_id}"))
                .with_detail("查看完整身份证号"),
        )
        .await?;
        Ok(value)
    }

    /// The full phone number of a family, for a role that needs it; audit-logged.
    pub async fn reveal_phone(self, actor: &Actor, family_id: i64) -> StoreResult<Option<String>> {
        self.require(actor, Permission::RevealPersonalData).await?;
        let family = self.family_row(actor, family_id).await?;
        if !self.family_open(actor, family_id).await? {
            return Err(self.refuse_reveal(actor, "family.reveal_phone", "家庭", family_id).await);
        }
        let Some(sealed) = family.phone_enc else { return Ok(None) };
        let value = self.keys.open(&sealed)?;
        self.audit(
            actor,
            AuditEvent::ok("family.reveal_phone", "家庭", family_id.to_string())
                .with_subject(format!("family:{family_id}"))
                .with_detail("查看完整手机号"),
        )
        .await?;
        Ok(Some(value))
    }
}

impl Store {
    /// A reveal refused because the family does not share its data with the insurer:
    /// written to the audit log, and answered with the reason.
    async fn refuse_reveal(
        &self,
        actor: &Actor,
        action: &'static str,
        kind: &'static str,
        id: i64,
    ) -> StoreError {
        let event = AuditEvent::denied(action, kind, id.to_string())
            .with_detail("该家庭未同意（或已撤回）向保险公司提供个人信息");
        if let Err(err) = self.audit(actor, event).await {
            return err;
        }
        StoreError::Forbidden("该家庭未同意（或已撤回）向保险公司提供个人信息，不能查看完整号码".to_owned())
    }
}

impl crate::handles::Families<'_> {
    /// Records a birth, death, marriage or moving away; death and moving away end the
    /// membership from that date.
    pub async fn record_member_event(
        self,
        actor: &Actor,
        person_id: i64,
        kind: MemberEvent,
        date: NaiveDate,
        note: &str,
    ) -> StoreResult<()> {
        self.require(actor, Permission::ManageFamilies).await?;
        if kind == MemberEvent::Transfer {
            return Err(StoreError::invalid("迁入其他家庭请使用“迁移成员”"));
        }
        let (person, family) = self.person_in_scope(actor, person_id).await?;
        if !person.active {
            return Err(StoreError::invalid(format!("{}已死亡或迁出，不能再登记变动", person.name)));
        }
        if date > self.today() {
            return Err(StoreError::invalid("事件日期不能晚于今天"));
        }
        if date < person.birth_date {
            return Err(StoreError::invalid("事件日期不能早于出生日期"));
        }
        let txn = self.db.begin().await?;
        self.insert_event(&txn, actor, &person, family.id, kind, date, note).await?;
        if kind.ends_membership() {
            persons::Entity::update(persons::ActiveModel {
                id: Set(person.id),
                active: Set(false),
                left_on: Set(Some(date)),
                ..Default::default()
            })
            .exec(&txn)
            .await?;
        }
        txn.commit().await?;
        self.audit(
            actor,
            AuditEvent::ok("person.event", "人员", person_id.to_string())
                .with_subject(format!("person:{person_id}"))
                .with_detail(kind.label()),
        )
        .await
    }
}

impl Store {
    #[allow(clippy::too_many_arguments)]
    async fn insert_event(
        &self,
        db: &impl ConnectionTrait,
        actor: &Actor,
        person: &persons::Model,
        family_id: i64,
        kind: MemberEvent,
        date: NaiveDate,
        note: &str,
    ) -> StoreResult<()> {
        person_events::Entity::insert(person_events::ActiveModel {
            id: NotSet,
            person_id: Set(person.id),
            family_id: Set(family_id),
            kind: Set(kind.code().to_owned()),
            event_date: Set(date),
            note: Set(note.trim().chars().take(200).collect()),
            recorded_by: Set(actor.username().to_owned()),
            recorded_at: Set(Utc::now()),
        })
        .exec_without_returning(db)
        .await?;
        Ok(())
    }
}

impl crate::handles::Families<'_> {
    /// Moves a person to another family (both within scope): an explicit, audited action.
    pub async fn move_person(
        self,
        actor: &Actor,
        person_id: i64,
        to_family: i64,
        relationship: Relationship,
        date: NaiveDate,
    ) -> StoreResult<()> {
        self.require(actor, Permission::ManageFamilies).await?;
        let (person, from) = self.person_in_scope(actor, person_id).await?;
        let to = self.family_row(actor, to_family).await?;
        if from.id == to.id {
            return Err(StoreError::invalid("该成员已在这个家庭中"));
        }
        if relationship == Relationship::Head {
            return Err(StoreError::invalid("迁入的成员不能作为户主；请选择与新户主的关系"));
        }
        if person.relationship == Relationship::Head.code() {
            return Err(StoreError::invalid("户主不能迁出；请先为原家庭指定新的户主"));
        }
        if !person.active {
            return Err(StoreError::invalid(format!("{}已死亡或迁出，不能迁入其他家庭", person.name)));
        }
        if date > self.today() || date < person.birth_date {
            return Err(StoreError::invalid("迁移日期不能晚于今天，也不能早于出生日期"));
        }
        let txn = self.db.begin().await?;
        let note = format!("由家庭 {} 迁入家庭 {}", from.id, to.id);
        self.insert_event(&txn, actor, &person, from.id, MemberEvent::Transfer, date, &note).await?;
        persons::Entity::update(persons::ActiveModel {
            id: Set(person.id),
            family_id: Set(to.id),
            relationship: Set(relationship.code().to_owned()),
            active: Set(true),
            left_on: Set(None),
            ..Default::default()
        })
        .exec(&txn)
        .await?;
        txn.commit().await?;
        self.audit(
            actor,
            AuditEvent::ok("person.move", "人员", person_id.to_string())
                .with_subject(format!("person:{person_id}"))
                .with_detail(note),
        )
        .await
    }
}
