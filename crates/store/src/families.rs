//! Families and their members. ID and phone numbers are stored sealed, with a keyed hash
//! for exact look-ups and a masked copy for lists; the full value is opened only by
//! [`Store::reveal_id_number`] / [`Store::reveal_phone`], which audit-log the view.

use chrono::{NaiveDate, Utc};
use guanai_domain::families::{FamilyCategory, PersonName, PovertyStatus, Relationship};
use guanai_domain::identity::{mask_name, IdNumber, Mobile, Sex};
use guanai_domain::{Permission, RegionCode, RegionLevel};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};
use serde::Serialize;

use crate::access::Target;
use crate::audit::AuditEvent;
use crate::entities::{families, persons};
use crate::shown::{ShownName, Visibility};
use crate::{Actor, Store, StoreError, StoreResult};

pub use crate::consents::{Consent, ConsentKind};
pub use crate::members::MemberEventRecord;

/// A family, as scoped look-ups name it.
pub(crate) const FAMILY: Target = Target { action: "family.view", kind: "家庭" };

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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FamilySummary {
    pub id: i64,
    /// The family number (户编号), printable and unique.
    pub code: String,
    pub village_code: String,
    pub category: String,
    pub category_name: String,
    pub poverty: PovertyStatus,
    pub address: String,
    pub head_name: ShownName,
    pub phone_masked: Option<String>,
    pub members: u64,
}

/// A member as the actor may see them (see `shown`).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Person {
    pub id: i64,
    pub family_id: i64,
    pub name: ShownName,
    pub id_masked: String,
    /// `None` for an actor who may see the age only.
    pub birth_date: Option<NaiveDate>,
    /// In full years, today (China time).
    pub age: u32,
    /// A child whose consents a guardian gives (PIPL: under 14).
    pub needs_guardian_consent: bool,
    /// The birth date, for the store's own rules (eligibility); never shown.
    #[serde(skip)]
    pub(crate) born: NaiveDate,
    pub sex: Sex,
    pub relationship: Relationship,
    pub active: bool,
    pub left_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FamilyDetail {
    pub summary: FamilySummary,
    pub members: Vec<Person>,
    pub consents: Vec<Consent>,
    pub events: Vec<MemberEventRecord>,
    /// Whether the actor may reveal this family's ID and phone numbers (see `shown`).
    pub revealable: bool,
}

/// Filters of the family list; all optional, always within the actor's scope. An exact
/// ID or phone number is not a filter: it is a look-up (`Store::lookup_families`),
/// audited and limited.
#[derive(Debug, Clone, Default)]
pub struct FamilyQuery {
    pub region: Option<RegionCode>,
    /// The start of any member's name; only for roles that see names in full.
    pub name: Option<String>,
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

impl Person {
    /// The birth date, or the age where only the age may be shown: `1980-03-05` or `46岁`.
    pub fn born_shown(&self) -> String {
        match self.birth_date {
            Some(date) => date.format("%Y-%m-%d").to_string(),
            None => format!("{}岁", self.age),
        }
    }
}

/// `today` is the store's clock: ages are counted in China.
pub(crate) fn person_from_row(
    seen: &Visibility,
    row: persons::Model,
    today: NaiveDate,
) -> StoreResult<Person> {
    Ok(Person {
        id: row.id,
        family_id: row.family_id,
        name: seen.name(row.family_id, &row.name),
        id_masked: row.id_masked,
        birth_date: seen.birth_date(row.family_id, row.birth_date),
        age: guanai_domain::products::full_years(row.birth_date, today),
        needs_guardian_consent: guanai_domain::families::needs_guardian_consent(row.birth_date, today),
        born: row.birth_date,
        sex: if row.sex == "female" { Sex::Female } else { Sex::Male },
        relationship: crate::error::stored("persons.relationship", &row.relationship)?,
        active: row.active,
        left_on: row.left_on,
    })
}

impl crate::handles::Families<'_> {
    /// Registers a family with its head. The head's ID number must not be registered yet
    /// (one person, one record).
    pub async fn create_family(self, actor: &Actor, new: NewFamily) -> StoreResult<i64> {
        self.require(actor, Permission::ManageFamilies).await?;
        if new.village.level() != RegionLevel::Village {
            return Err(StoreError::invalid("家庭须登记到村（社区），请选择12位的村级区划代码"));
        }
        if !actor.sees(&new.village) {
            return Err(StoreError::Forbidden(format!("村（社区）“{}”不在您的管理范围内", new.village)));
        }
        if !self.regions().region_exists(&new.village).await? {
            return Err(StoreError::invalid(format!("村（社区）代码“{}”不存在", new.village)));
        }
        if !FamilyCategory::DEFAULTS.iter().any(|(code, _)| *code == new.category) {
            return Err(StoreError::invalid(format!("未知的家庭类型“{}”", new.category)));
        }
        let head_name = PersonName::parse(&new.head.name)?.into_string();
        let address = new.address.trim().chars().take(200).collect::<String>();
        let now = Utc::now();
        let txn = self.db.begin().await?;
        let family = families::Entity::insert(families::ActiveModel {
            id: NotSet,
            code: Set(family_code()),
            village_code: Set(new.village.to_string()),
            category: Set(new.category.clone()),
            poverty: Set(new.poverty.code().to_owned()),
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
}

impl Store {
    async fn insert_person(
        &self,
        db: &impl ConnectionTrait,
        family_id: i64,
        person: &NewPerson,
    ) -> StoreResult<i64> {
        let name = PersonName::parse(&person.name)?.into_string();
        let id = &person.id_number;
        if id.birth_date() > self.today() {
            return Err(StoreError::invalid(format!(
                "身份证号 {} 中的出生日期 {} 晚于今天，请核对",
                id.masked(),
                id.birth_date()
            )));
        }
        let id_hash = self.keys.lookup_hash(id.as_str());
        if let Some(existing) =
            persons::Entity::find().filter(persons::Column::IdHash.eq(id_hash.clone())).one(db).await?
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
            relationship: Set(person.relationship.code().to_owned()),
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
        self.require(actor, Permission::ViewFamilies).await?;
        self.scoped_find::<families::Entity>(actor, FAMILY, id, |f| &f.village_code).await
    }
}

impl crate::handles::Families<'_> {
    /// Adds a member to a family.
    pub async fn add_member(self, actor: &Actor, family_id: i64, person: NewPerson) -> StoreResult<i64> {
        self.require(actor, Permission::ManageFamilies).await?;
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
}

impl Store {
    fn summaries_condition(&self, actor: &Actor) -> sea_orm::Condition {
        actor.scope_condition(families::Column::VillageCode)
    }
}

impl crate::handles::Families<'_> {
    /// Families within the actor's scope matching the filters, newest first. A name is
    /// searched only by a role that sees names in full (letter by letter, a search would
    /// tell a masked name), and for the insurer only among families sharing their data
    /// with it.
    pub async fn search_families(self, actor: &Actor, query: &FamilyQuery) -> StoreResult<FamilyPage> {
        self.require(actor, Permission::ViewFamilies).await?;
        let name = query.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
        if name.is_some() && !crate::shown::may_search_names(actor) {
            return Err(StoreError::invalid(
                "您的角色只能看到脱敏后的姓名，不能按姓名查找；请按区域、家庭类型或脱贫状态查找",
            ));
        }
        // One range on the village code, the narrower of scope and region: a region within
        // the scope implies the scope, and the index answers a single range directly (with
        // two, it takes the wider one and filters the rest row by row).
        let mut select = match &query.region {
            Some(region) if actor.sees(region) => families::Entity::find()
                .filter(crate::access::within_region(families::Column::VillageCode, region.as_str())),
            Some(region) => families::Entity::find()
                .filter(self.summaries_condition(actor))
                .filter(crate::access::within_region(families::Column::VillageCode, region.as_str())),
            None => families::Entity::find().filter(self.summaries_condition(actor)),
        };
        if let Some(category) = query.category.as_deref().filter(|c| !c.is_empty()) {
            select = select.filter(families::Column::Category.eq(category));
        }
        if let Some(poverty) = query.poverty {
            select = select.filter(families::Column::Poverty.eq(poverty.code()));
        }
        if let Some(name) = name {
            // Persons of families in scope only, and no cap: the outer filter keeps the
            // scope, the sub-query finds every matching family.
            use sea_orm::sea_query::Query;
            let matching = Query::select()
                .column(persons::Column::FamilyId)
                .from(persons::Entity)
                .cond_where(self.name_starts_with(name))
                .to_owned();
            select = select.filter(families::Column::Id.in_subquery(matching));
            if crate::shown::needs_insurer_consent(actor) {
                select = select.filter(families::Column::Id.in_subquery(crate::consents::sharing_families()));
            }
        }
        self.family_page(actor, select, query.page, query.per_page).await
    }
}

impl Store {
    /// One page of the families `select` finds, newest first, as the actor may see them.
    pub(crate) async fn family_page(
        &self,
        actor: &Actor,
        select: sea_orm::Select<families::Entity>,
        page: u64,
        per_page: u64,
    ) -> StoreResult<FamilyPage> {
        let total = select.clone().count(&self.db).await?;
        let per_page = per_page.clamp(1, 1000);
        let rows = select
            .order_by_desc(families::Column::Id)
            .offset(crate::page_offset(page, per_page)?)
            .limit(per_page)
            .all(&self.db)
            .await?;
        let seen = self.visibility(actor, rows.iter().map(|r| r.id)).await?;
        let families = self.summaries(&seen, rows).await?;
        Ok(FamilyPage { families, total })
    }

    /// A person's name begins with `prefix`, written so that the engine's index on names
    /// answers it. SQLite's LIKE ignores case, so it cannot use an index of the names as
    /// stored and reads every person of the city; its GLOB is exact and can. (GLOB has no
    /// escape character: its wildcards in a name are matched as one-character classes.)
    /// PostgreSQL's LIKE prefix uses the index made with `varchar_pattern_ops` (migration
    /// 000032) under any collation; MySQL's uses its index as a range.
    fn name_starts_with(&self, prefix: &str) -> sea_orm::sea_query::SimpleExpr {
        use sea_orm::sea_query::{BinOper, Expr};
        match self.engine {
            crate::Engine::Sqlite => {
                let mut pattern = String::with_capacity(prefix.len() + 1);
                for c in prefix.chars() {
                    match c {
                        '*' | '?' | '[' => {
                            pattern.push('[');
                            pattern.push(c);
                            pattern.push(']');
                        }
                        c => pattern.push(c),
                    }
                }
                pattern.push('*');
                Expr::col(persons::Column::Name).binary(BinOper::Custom("GLOB"), pattern)
            }
            crate::Engine::Postgres | crate::Engine::MySql => persons::Column::Name.starts_with(prefix),
        }
    }

    async fn summaries(
        &self,
        seen: &Visibility,
        rows: Vec<families::Model>,
    ) -> StoreResult<Vec<FamilySummary>> {
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
        rows.into_iter()
            .map(|row| {
                Ok(FamilySummary {
                    members: counts.iter().find(|(id, _)| *id == row.id).map(|(_, n)| *n as u64).unwrap_or(0),
                    id: row.id,
                    code: row.code,
                    category_name: category_name(&row.category),
                    poverty: crate::error::stored("families.poverty", &row.poverty)?,
                    village_code: row.village_code,
                    category: row.category,
                    address: row.address,
                    head_name: seen.name(row.id, &row.head_name),
                    phone_masked: row.phone_masked,
                })
            })
            .collect::<StoreResult<_>>()
    }
}

impl crate::handles::Families<'_> {
    /// One family with its members, consents and member events.
    pub async fn family(self, actor: &Actor, id: i64) -> StoreResult<FamilyDetail> {
        let row = self.family_row(actor, id).await?;
        let seen = self.visibility(actor, [id]).await?;
        let summary = self.summaries(&seen, vec![row]).await?.remove(0);
        let members = self.members(&seen, id).await?;
        let consents = self.family_consents(&seen, id).await?;
        let events = self.member_events(id).await?;
        let revealable = seen.open(id);
        Ok(FamilyDetail { summary, members, consents, events, revealable })
    }
}

impl Store {
    pub(crate) async fn members(&self, seen: &Visibility, family_id: i64) -> StoreResult<Vec<Person>> {
        persons::Entity::find()
            .filter(persons::Column::FamilyId.eq(family_id))
            .order_by_asc(persons::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|row| person_from_row(seen, row, self.today()))
            .collect::<StoreResult<_>>()
    }
}
