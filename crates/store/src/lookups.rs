//! Exact look-ups by ID or phone number. A masked number must not be recoverable by
//! guessing: each look-up is audited (who searched, and whose record matched, never the
//! number itself) and each user has a limited number of them in a window of time, counted
//! in the database so that every instance shares the count.

use chrono::Utc;
use guanai_domain::identity::{IdNumber, Mobile};
use guanai_domain::Permission;
use sea_orm::sea_query::{Alias, Expr, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::audit::AuditEvent;
use crate::entities::{families, persons};
use crate::families::FamilyPage;
use crate::{Actor, Store, StoreError, StoreResult};

/// Exact look-ups one user may make per window, unless configured otherwise.
pub const LOOKUP_LIMIT: i64 = 30;
/// The window, in seconds (ten minutes).
pub const LOOKUP_WINDOW_SECS: i64 = 600;

/// What to look up: an ID number, a phone number, or both (both must match).
#[derive(Debug, Clone, Default)]
pub struct FamilyLookup {
    pub id_number: Option<IdNumber>,
    pub phone: Option<Mobile>,
}

impl crate::handles::Families<'_> {
    /// The families within the actor's scope with a member of this ID number or with this
    /// phone number. Counted against the user's limit ([`LOOKUP_LIMIT`] per
    /// [`LOOKUP_WINDOW_SECS`], or as configured) and audit-logged as `family.lookup` with the ids of the
    /// families (and the person) found. The insurer finds only families sharing their data
    /// with it.
    pub async fn lookup_families(self, actor: &Actor, lookup: &FamilyLookup) -> StoreResult<FamilyPage> {
        self.require(actor, Permission::ViewFamilies).await?;
        if lookup.id_number.is_none() && lookup.phone.is_none() {
            return Err(StoreError::invalid("请填写要查找的身份证号或手机号"));
        }
        self.take_lookup_turn(actor).await?;
        let mut select =
            families::Entity::find().filter(actor.scope_condition(families::Column::VillageCode));
        let mut person = None;
        if let Some(id) = &lookup.id_number {
            let found: Option<(i64, i64)> = persons::Entity::find()
                .select_only()
                .column(persons::Column::Id)
                .column(persons::Column::FamilyId)
                .filter(persons::Column::IdHash.eq(self.keys.lookup_hash(id.as_str())))
                .into_tuple()
                .one(&self.db)
                .await?;
            person = found.map(|(person_id, _)| person_id);
            select = select.filter(families::Column::Id.eq(found.map(|(_, family)| family).unwrap_or(-1)));
        }
        if let Some(phone) = &lookup.phone {
            select = select.filter(families::Column::PhoneHash.eq(self.keys.lookup_hash(phone.as_str())));
        }
        if crate::shown::needs_insurer_consent(actor) {
            select = select.filter(families::Column::Id.in_subquery(crate::consents::sharing_families()));
        }
        let found = self.family_page(actor, select, 0, 50).await?;
        let ids: Vec<String> = found.families.iter().map(|f| f.id.to_string()).collect();
        let what = match (&lookup.id_number, &lookup.phone) {
            (Some(_), Some(_)) => "按身份证号和手机号",
            (Some(_), None) => "按身份证号",
            _ => "按手机号",
        };
        let mut event = AuditEvent::ok(
            "family.lookup",
            "家庭",
            if ids.is_empty() { "无".to_owned() } else { ids.join(",") },
        )
        .with_detail(format!("{what}精确查找，匹配{}户", found.total));
        match (person, found.families.first()) {
            (Some(person), Some(_)) => event = event.with_subject(format!("person:{person}")),
            (None, Some(family)) => event = event.with_subject(format!("family:{}", family.id)),
            _ => {}
        }
        self.audit(actor, event).await?;
        Ok(found)
    }
}

impl Store {
    /// Takes one of the user's exact look-ups of the current window, or refuses with
    /// `Limited`. One conditional UPDATE counts it (a new window starts the count again);
    /// the user's first look-up ever inserts the row.
    pub(crate) async fn take_lookup_turn(&self, actor: &Actor) -> StoreResult<()> {
        let window = Utc::now().timestamp().div_euclid(LOOKUP_WINDOW_SECS);
        let user = actor.username().to_owned();
        let backend = self.db.get_database_backend();
        // `used` is set before `window_start`: MySQL reads the columns already set in
        // the same statement, the others the old values; this order is right for both.
        let update = Query::update()
            .table(Alias::new("lookup_quotas"))
            .value(
                Alias::new("used"),
                Expr::case(
                    Expr::col(Alias::new("window_start")).eq(window),
                    Expr::col(Alias::new("used")).add(1),
                )
                .finally(Expr::val(1)),
            )
            .value(Alias::new("window_start"), window)
            .and_where(Expr::col(Alias::new("username")).eq(user.as_str()))
            .and_where(
                Expr::col(Alias::new("window_start"))
                    .ne(window)
                    .or(Expr::col(Alias::new("used")).lt(self.lookup_limit)),
            )
            .to_owned();
        for _ in 0..2 {
            if self.db.execute(backend.build(&update)).await?.rows_affected() == 1 {
                return Ok(());
            }
            // No row yet, or the limit is reached: a first look-up inserts the row (a
            // concurrent first one makes the insert fail as a duplicate: the update decides).
            let insert = Query::insert()
                .into_table(Alias::new("lookup_quotas"))
                .columns([Alias::new("username"), Alias::new("window_start"), Alias::new("used")])
                .values_panic([user.as_str().into(), window.into(), 1i64.into()])
                .to_owned();
            match self.db.execute(backend.build(&insert)).await {
                Ok(_) => return Ok(()),
                Err(err) if matches!(err.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => {}
                Err(err) => return Err(err.into()),
            }
        }
        self.audit(
            actor,
            AuditEvent::denied("family.lookup", "家庭", "限额").with_detail("精确查找次数超过限额"),
        )
        .await?;
        Err(StoreError::Limited(format!(
            "查找过于频繁：每位用户每{}分钟最多按身份证号或手机号精确查找{}次，请稍后再试",
            LOOKUP_WINDOW_SECS / 60,
            self.lookup_limit
        )))
    }
}
