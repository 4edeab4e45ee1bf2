//! Families and their members. ID and phone numbers are stored sealed, with a keyed hash
//! for exact look-ups and a masked copy for lists; the full value is opened only by
//! [`Store::reveal_id_number`] / [`Store::reveal_phone`], which audit-log the view.

use chrono::{NaiveDate, Utc};
use guanai_domain::families::{FamilyCategory, MemberEvent, PovertyStatus, Relationship};
use guanai_domain::identity::{mask_name, IdNumber, Mobile, Sex};
use guanai_domain::{Permission, RegionCode, RegionLevel};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};
use serde::Serialize;

use crate::audit::AuditEvent;
use crate::entities::{consents, families, person_events, persons};
use crate::{Actor, Store, StoreError, StoreResult};

/// A person to register, already parsed.
#[derive(Debug, Clone)]
pub struct NewPerson {
    pub name: String,
    pub id_number: IdNumber,
    pub relationship: Relationship,
}

#[derive(Debug, Clone)]
pub struct NewFamily {
    pub village: RegionCode,
    pub category: String,
    pub poverty: PovertyStatus,
    pub address: String,
    pub phone: Option<Mobile>,
    pub head: NewPerson,
}

/// A family as lists show it: never a full ID or phone number.
#[derive(Debug, Clone, Serialize)]
pub struct FamilySummary {
    pub id: i64,
    /// The family number (户编号), printable and unique.
    pub code: String,
    pub village_code: String,
    pub category: String,
    pub category_name: String,
    pub poverty: PovertyStatus,
    pub address: String,
    pub head_name: String,
    pub phone_masked: Option<String>,
    pub members: u64,
}

/// A member as pages show them.
#[derive(Debug, Clone, Serialize)]
pub struct Person {
    pub id: i64,
    pub family_id: i64,
    pub name: String,
    pub id_masked: String,
    pub birth_date: NaiveDate,
    pub sex: Sex,
    pub relationship: Relationship,
    pub active: bool,
    pub left_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MemberEventRecord {
    pub person_id: i64,
    pub kind: MemberEvent,
    pub event_date: NaiveDate,
    pub note: String,
    pub recorded_by: String,
}

/// Consents under PIPL, recorded per family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentKind {
    /// 同意处理个人信息
    Processing,
    /// 同意向保险公司提供个人信息 (separate consent, PIPL art. 23)
    InsurerSharing,
    /// 监护人同意 for a child under 14 (PIPL art. 31); names the child.
    Guardian,
}

impl ConsentKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            ConsentKind::Processing => "processing",
            ConsentKind::InsurerSharing => "insurer_sharing",
            ConsentKind::Guardian => "guardian",
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            ConsentKind::Processing => "同意处理个人信息",
            ConsentKind::InsurerSharing => "同意向保险公司提供个人信息",
            ConsentKind::Guardian => "监护人同意（未满14周岁）",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [ConsentKind::Processing, ConsentKind::InsurerSharing, ConsentKind::Guardian]
            .into_iter()
            .find(|k| k.as_str() == raw)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Consent {
    pub id: i64,
    pub kind: ConsentKind,
    pub person_id: Option<i64>,
    pub given_by: String,
    pub recorded_by: String,
    pub recorded_at: chrono::DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FamilyDetail {
    pub summary: FamilySummary,
    pub members: Vec<Person>,
    pub consents: Vec<Consent>,
    pub events: Vec<MemberEventRecord>,
}

/// Filters of the family list; all optional, always within the actor's scope.
#[derive(Debug, Clone, Default)]
pub struct FamilyQuery {
    pub region: Option<RegionCode>,
    pub name: Option<String>,
    pub id_number: Option<IdNumber>,
    pub phone: Option<Mobile>,
    pub category: Option<String>,
    pub poverty: Option<PovertyStatus>,
    pub page: u64,
    pub per_page: u64,
}

pub struct FamilyPage {
    pub families: Vec<FamilySummary>,
    pub total: u64,
}

pub(crate) fn category_name(code: &str) -> String {
    FamilyCategory::DEFAULTS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, name)| (*name).to_owned())
        .unwrap_or_else(|| code.to_owned())
}

/// A new family number: `H` and 11 readable characters.
pub(crate) fn family_code() -> String {
    format!("H{}", crate::passwords::readable_code(11))
}

fn check_name(name: &str) -> StoreResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 50 {
        return Err(StoreError::invalid("姓名不能为空，且不超过50个字"));
    }
    Ok(name.to_owned())
}

fn person_from_row(row: persons::Model) -> Person {
    Person {
        id: row.id,
        family_id: row.family_id,
        name: row.name,
        id_masked: row.id_masked,
        birth_date: row.birth_date,
        sex: if row.sex == "female" { Sex::Female } else { Sex::Male },
        relationship: Relationship::parse(&row.relationship).unwrap_or(Relationship::Other),
        active: row.active,
        left_on: row.left_on,
    }
}

impl Store {
    /// Registers a family with its head. The head's ID number must not be registered yet
    /// (one person, one record).
    pub async fn create_family(&self, actor: &Actor, new: NewFamily) -> StoreResult<i64> {
        actor.require(Permission::ManageFamilies)?;
        if new.village.level() != RegionLevel::Village {
            return Err(StoreError::invalid("家庭须登记到村（社区），请选择12位的村级区划代码"));
        }
        if !actor.sees(&new.village) {
            return Err(StoreError::Forbidden(format!("村（社区）“{}”不在您的管理范围内", new.village)));
        }
        if !self.region_exists(&new.village).await? {
            return Err(StoreError::invalid(format!("村（社区）代码“{}”不存在", new.village)));
        }
        if !FamilyCategory::DEFAULTS.iter().any(|(code, _)| *code == new.category) {
            return Err(StoreError::invalid(format!("未知的家庭类型“{}”", new.category)));
        }
        let head_name = check_name(&new.head.name)?;
        let address = new.address.trim().chars().take(200).collect::<String>();
        let now = Utc::now();
        let txn = self.db.begin().await?;
        let family = families::Entity::insert(families::ActiveModel {
            id: NotSet,
            code: Set(family_code()),
            village_code: Set(new.village.to_string()),
            category: Set(new.category.clone()),
            poverty: Set(new.poverty.as_str().to_owned()),
            address: Set(address),
            phone_enc: Set(new.phone.as_ref().map(|p| self.keys.seal(p.as_str()))),
            phone_hash: Set(new.phone.as_ref().map(|p| self.keys.lookup_hash(p.as_str()))),
            phone_masked: Set(new.phone.as_ref().map(Mobile::masked)),
            head_name: Set(head_name),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .exec(&txn)
        .await?
        .last_insert_id;
        let head = NewPerson { relationship: Relationship::Head, ..new.head };
        let person_id = self.insert_person(&txn, family, &head).await?;
        txn.commit().await?;
        self.audit(
            actor,
            AuditEvent::ok("family.create", "家庭", family.to_string())
                .with_subject(format!("person:{person_id}")),
        )
        .await?;
        Ok(family)
    }

    async fn insert_person(
        &self,
        db: &impl ConnectionTrait,
        family_id: i64,
        person: &NewPerson,
    ) -> StoreResult<i64> {
        let name = check_name(&person.name)?;
        let id = &person.id_number;
        if id.birth_date() > Utc::now().date_naive() {
            return Err(StoreError::invalid(format!(
                "身份证号 {} 中的出生日期 {} 晚于今天，请核对",
                id.masked(),
                id.birth_date()
            )));
        }
        let id_hash = self.keys.lookup_hash(id.as_str());
        if let Some(existing) =
            persons::Entity::find().filter(persons::Column::IdHash.eq(id_hash.as_str())).one(db).await?
        {
            return Err(StoreError::Conflict(format!(
                "身份证号为 {} 的人员（{}）已在另一家庭登记，同一人只能属于一个家庭；如确需变更，请使用“迁移成员”",
                id.masked(),
                mask_name(&existing.name)
            )));
        }
        let row = persons::ActiveModel {
            id: NotSet,
            family_id: Set(family_id),
            name: Set(name),
            id_hash: Set(id_hash),
            id_enc: Set(self.keys.seal(id.as_str())),
            id_masked: Set(id.masked()),
            birth_date: Set(id.birth_date()),
            sex: Set(match id.sex() {
                Sex::Male => "male",
                Sex::Female => "female",
            }
            .to_owned()),
            relationship: Set(person.relationship.as_str().to_owned()),
            active: Set(true),
            left_on: Set(None),
            created_at: Set(Utc::now()),
        };
        let inserted = persons::Entity::insert(row).exec(db).await.map_err(|e| {
            StoreError::from_write(e, &format!("身份证号为 {} 的人员已在另一家庭登记", id.masked()))
        })?;
        Ok(inserted.last_insert_id)
    }

    /// The family row, if it lies within the actor's scope; otherwise "not found", logged.
    pub(crate) async fn family_row(&self, actor: &Actor, id: i64) -> StoreResult<families::Model> {
        actor.require(Permission::ViewFamilies)?;
        match families::Entity::find_by_id(id).one(&self.db).await? {
            Some(row) if row.village_code.starts_with(actor.scope().as_str()) => Ok(row),
            Some(_) => Err(self.deny(actor, "family.view", "家庭", id.to_string()).await),
            None => Err(StoreError::not_found(format!("找不到家庭“{id}”"))),
        }
    }

    /// Adds a member to a family.
    pub async fn add_member(&self, actor: &Actor, family_id: i64, person: NewPerson) -> StoreResult<i64> {
        actor.require(Permission::ManageFamilies)?;
        self.family_row(actor, family_id).await?;
        if person.relationship == Relationship::Head {
            return Err(StoreError::invalid("每户只能有一位户主；新成员请选择与户主的关系"));
        }
        let id = self.insert_person(&self.db, family_id, &person).await?;
        self.audit(
            actor,
            AuditEvent::ok("person.create", "人员", id.to_string()).with_subject(format!("person:{id}")),
        )
        .await?;
        Ok(id)
    }

    fn summaries_condition(&self, actor: &Actor) -> sea_orm::Condition {
        actor.scope_condition(families::Column::VillageCode)
    }

    /// Families within the actor's scope matching the filters, newest first.
    pub async fn search_families(&self, actor: &Actor, query: &FamilyQuery) -> StoreResult<FamilyPage> {
        actor.require(Permission::ViewFamilies)?;
        let mut select = families::Entity::find().filter(self.summaries_condition(actor));
        if let Some(region) = &query.region {
            select =
                select.filter(crate::access::within_region(families::Column::VillageCode, region.as_str()));
        }
        if let Some(category) = query.category.as_deref().filter(|c| !c.is_empty()) {
            select = select.filter(families::Column::Category.eq(category));
        }
        if let Some(poverty) = query.poverty {
            select = select.filter(families::Column::Poverty.eq(poverty.as_str()));
        }
        if let Some(phone) = &query.phone {
            select = select.filter(families::Column::PhoneHash.eq(self.keys.lookup_hash(phone.as_str())));
        }
        let mut person_filter = sea_orm::Condition::all();
        let mut by_person = false;
        if let Some(id) = &query.id_number {
            person_filter = person_filter.add(persons::Column::IdHash.eq(self.keys.lookup_hash(id.as_str())));
            by_person = true;
        }
        if let Some(name) = query.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            person_filter = person_filter.add(persons::Column::Name.starts_with(name));
            by_person = true;
        }
        if by_person {
            // Persons of families in scope only, and no cap: the outer filter keeps the
            // scope, the sub-query finds every matching family.
            use sea_orm::sea_query::Query;
            let matching = Query::select()
                .column(persons::Column::FamilyId)
                .from(persons::Entity)
                .cond_where(person_filter)
                .to_owned();
            select = select.filter(families::Column::Id.in_subquery(matching));
        }
        let total = select.clone().count(&self.db).await?;
        let per_page = query.per_page.clamp(1, 1000);
        let rows = select
            .order_by_desc(families::Column::Id)
            .offset(query.page * per_page)
            .limit(per_page)
            .all(&self.db)
            .await?;
        let families = self.summaries(rows).await?;
        Ok(FamilyPage { families, total })
    }

    async fn summaries(&self, rows: Vec<families::Model>) -> StoreResult<Vec<FamilySummary>> {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let counts: Vec<(i64, i64)> = if ids.is_empty() {
            Vec::new()
        } else {
            persons::Entity::find()
                .select_only()
                .column(persons::Column::FamilyId)
                .column_as(persons::Column::Id.count(), "n")
                .filter(persons::Column::FamilyId.is_in(ids))
                .filter(persons::Column::Active.eq(true))
                .group_by(persons::Column::FamilyId)
                .into_tuple()
                .all(&self.db)
                .await?
        };
        Ok(rows
            .into_iter()
            .map(|row| FamilySummary {
                members: counts.iter().find(|(id, _)| *id == row.id).map(|(_, n)| *n as u64).unwrap_or(0),
                id: row.id,
                code: row.code,
                category_name: category_name(&row.category),
                poverty: PovertyStatus::parse(&row.poverty).unwrap_or(PovertyStatus::None),
                village_code: row.village_code,
                category: row.category,
                address: row.address,
                head_name: row.head_name,
                phone_masked: row.phone_masked,
            })
            .collect())
    }

    /// One family with its members, consents and member events.
    pub async fn family(&self, actor: &Actor, id: i64) -> StoreResult<FamilyDetail> {
        let row = self.family_row(actor, id).await?;
        let summary = self.summaries(vec![row]).await?.remove(0);
        let members = self.members(id).await?;
        let consents = consents::Entity::find()
            .filter(consents::Column::FamilyId.eq(id))
            .filter(consents::Column::WithdrawnAt.is_null())
            .order_by_asc(consents::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .filter_map(|c| {
                Some(Consent {
                    id: c.id,
                    kind: ConsentKind::parse(&c.kind)?,
                    person_id: c.person_id,
                    given_by: c.given_by,
                    recorded_by: c.recorded_by,
                    recorded_at: c.recorded_at,
                })
            })
            .collect();
        let events = person_events::Entity::find()
            .filter(person_events::Column::FamilyId.eq(id))
            .order_by_asc(person_events::Column::EventDate)
            .all(&self.db)
            .await?
            .into_iter()
            .filter_map(|e| {
                Some(MemberEventRecord {
                    person_id: e.person_id,
                    kind: MemberEvent::parse(&e.kind)?,
                    event_date: e.event_date,
                    note: e.note,
                    recorded_by: e.recorded_by,
                })
            })
            .collect();
        Ok(FamilyDetail { summary, members, consents, events })
    }

    pub(crate) async fn members(&self, family_id: i64) -> StoreResult<Vec<Person>> {
        Ok(persons::Entity::find()
            .filter(persons::Column::FamilyId.eq(family_id))
            .order_by_asc(persons::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(person_from_row)
            .collect())
    }

    async fn person_in_scope(
        &self,
        actor: &Actor,
        person_id: i64,
    ) -> StoreResult<(persons::Model, families::Model)> {
        let Some(person) = persons::Entity::find_by_id(person_id).one(&self.db).await? else {
            return Err(StoreError::not_found(format!("找不到人员“{person_id}”")));
        };
        let family = families::Entity::find_by_id(person.family_id).one(&self.db).await?;
        match family {
            Some(family) if family.village_code.starts_with(actor.scope().as_str()) => Ok((person, family)),
            _ => Err(self.deny(actor, "person.view", "人员", person_id.to_string()).await),
        }
    }

    /// The full ID number of a member, for a role that needs it. The view is audit-logged
    /// with whose number it was.
    pub async fn reveal_id_number(&self, actor: &Actor, person_id: i64) -> StoreResult<String> {
        actor.require(Permission::RevealPersonalData)?;
        let (person, _) = self.person_in_scope(actor, person_id).await?;
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
    pub async fn reveal_phone(&self, actor: &Actor, family_id: i64) -> StoreResult<Option<String>> {
        actor.require(Permission::RevealPersonalData)?;
        let family = self.family_row(actor, family_id).await?;
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

    /// Records a birth, death, marriage or moving away; death and moving away end the
    /// membership from that date.
    pub async fn record_member_event(
        &self,
        actor: &Actor,
        person_id: i64,
        kind: MemberEvent,
        date: NaiveDate,
        note: &str,
    ) -> StoreResult<()> {
        actor.require(Permission::ManageFamilies)?;
        if kind == MemberEvent::Transfer {
            return Err(StoreError::invalid("迁入其他家庭请使用“迁移成员”"));
        }
        let (person, family) = self.person_in_scope(actor, person_id).await?;
        if !person.active {
            return Err(StoreError::invalid(format!("{}已死亡或迁出，不能再登记变动", person.name)));
        }
        if date > Utc::now().date_naive() {
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
            kind: Set(kind.as_str().to_owned()),
            event_date: Set(date),
            note: Set(note.trim().chars().take(200).collect()),
            recorded_by: Set(actor.username().to_owned()),
            recorded_at: Set(Utc::now()),
        })
        .exec_without_returning(db)
        .await?;
        Ok(())
    }

    /// Moves a person to another family (both within scope): an explicit, audited action.
    pub async fn move_person(
        &self,
        actor: &Actor,
        person_id: i64,
        to_family: i64,
        relationship: Relationship,
        date: NaiveDate,
    ) -> StoreResult<()> {
        actor.require(Permission::ManageFamilies)?;
        let (person, from) = self.person_in_scope(actor, person_id).await?;
        let to = self.family_row(actor, to_family).await?;
        if from.id == to.id {
            return Err(StoreError::invalid("该成员已在这个家庭中"));
        }
        if relationship == Relationship::Head {
            return Err(StoreError::invalid("迁入的成员不能作为户主；请选择与新户主的关系"));
        }
        if person.relationship == Relationship::Head.as_str() {
            return Err(StoreError::invalid("户主不能迁出；请先为原家庭指定新的户主"));
        }
        if !person.active {
            return Err(StoreError::invalid(format!("{}已死亡或迁出，不能迁入其他家庭", person.name)));
        }
        if date > Utc::now().date_naive() || date < person.birth_date {
            return Err(StoreError::invalid("迁移日期不能晚于今天，也不能早于出生日期"));
        }
        let txn = self.db.begin().await?;
        let note = format!("由家庭 {} 迁入家庭 {}", from.id, to.id);
        self.insert_event(&txn, actor, &person, from.id, MemberEvent::Transfer, date, &note).await?;
        persons::Entity::update(persons::ActiveModel {
            id: Set(person.id),
            family_id: Set(to.id),
            relationship: Set(relationship.as_str().to_owned()),
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

    /// Records a consent given by `given_by` (a guardian's names the child).
    pub async fn record_consent(
        &self,
        actor: &Actor,
        family_id: i64,
        kind: ConsentKind,
        person_id: Option<i64>,
        given_by: &str,
    ) -> StoreResult<()> {
        actor.require(Permission::ManageFamilies)?;
        self.family_row(actor, family_id).await?;
        let given_by = check_name(given_by)?;
        if kind == ConsentKind::Guardian {
            let Some(child) = person_id else {
                return Err(StoreError::invalid("监护人同意须指明是哪位未成年人"));
            };
            let member = persons::Entity::find_by_id(child).one(&self.db).await?;
            let Some(member) = member.filter(|m| m.family_id == family_id && m.active) else {
                return Err(StoreError::invalid("该未成年人不是本家庭的在册成员"));
            };
            if guanai_domain::products::full_years(member.birth_date, Utc::now().date_naive()) >= 18 {
                return Err(StoreError::invalid(format!("{}已成年，无需监护人同意", member.name)));
            }
        }
        consents::Entity::insert(consents::ActiveModel {
            id: NotSet,
            family_id: Set(family_id),
            kind: Set(kind.as_str().to_owned()),
            person_id: Set(if kind == ConsentKind::Guardian { person_id } else { None }),
            given_by: Set(given_by),
            recorded_by: Set(actor.username().to_owned()),
            recorded_at: Set(Utc::now()),
            withdrawn_at: Set(None),
        })
        .exec_without_returning(&self.db)
        .await?;
        self.audit(
            actor,
            AuditEvent::ok("consent.record", "家庭", family_id.to_string())
                .with_subject(format!("family:{family_id}"))
                .with_detail(kind.label()),
        )
        .await
    }

    /// Withdraws every consent of `kind` of a family (PIPL art. 15).
    /// `person_id` names the child of a guardian's consent; `None` withdraws that kind for
    /// the whole family.
    pub async fn withdraw_consent(
        &self,
        actor: &Actor,
        family_id: i64,
        kind: ConsentKind,
        person_id: Option<i64>,
    ) -> StoreResult<()> {
        actor.require(Permission::ManageFamilies)?;
        self.family_row(actor, family_id).await?;
        let mut update = consents::Entity::update_many()
            .col_expr(consents::Column::WithdrawnAt, sea_orm::sea_query::Expr::value(Utc::now()))
            .filter(consents::Column::FamilyId.eq(family_id))
            .filter(consents::Column::Kind.eq(kind.as_str()))
            .filter(consents::Column::WithdrawnAt.is_null());
        if let Some(person) = person_id {
            update = update.filter(consents::Column::PersonId.eq(person));
        }
        update.exec(&self.db).await?;
        self.audit(
            actor,
            AuditEvent::ok("consent.withdraw", "家庭", family_id.to_string())
                .with_subject(format!("family:{family_id}"))
                .with_detail(kind.label()),
        )
        .await
    }
}
