//! Exact look-ups by ID or phone number. A masked number must not be recoverable by
//! guessing: each look-up is audited (who searched, and whose record matched, never the
//! number itself) and each user has a limited number of them in a window of time, counted
//! in the database so that every instance shares the count.
//!
//! A look-up reads first, then takes its turn: the turn and the look-up's audit entry are
//! written together, in one group commit with the turns of other look-ups meanwhile (or,
//! written alone, one after the other under the same write turn), and nothing found is
//! answered before both are committed. A look-up that finds nobody costs a turn too, or
//! guessing would be free.
//!
//! A user past the limit must not read at all: a refused look-up that had read could still
//! be timed (a match reads more than a miss) and would load the database for free. So each
//! instance remembers whom it refused in the current window ([`RefusedLookups`]) and
//! refuses them again before reading; the count itself stays in the database.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::Utc;
use guanai_domain::identity::{IdNumber, Mobile};
use guanai_domain::Permission;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, UpdateStatement};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, TransactionTrait,
};

use crate::audit::AuditEvent;
use crate::entities::{families, persons};
use crate::families::FamilyPage;
use crate::group_commit::GroupWrite;
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
        self.refuse_known_over_limit(actor).await?;
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
        self.take_lookup_turn(actor, Some(event)).await?;
        Ok(found)
    }
}

/// One exact look-up's turn, asked of the look-up turns' writer (`group_commit`): the turns
/// queued meanwhile are counted in one transaction, one statement per user, and their audit
/// entries written in the same transaction.
#[derive(Debug)]
pub(crate) struct LookupTurn {
    actor: Actor,
    /// The asking store's limit (the writer's copy of the store may carry another).
    limit: i64,
    /// The look-up's audit entry, committed with its turn; none when it found nobody.
    event: Option<AuditEvent>,
}

impl GroupWrite for LookupTurn {
    type Written = ();
    const WHAT: &'static str = "look-up turns";

    fn exclusive_keys(&self) -> Vec<(&'static str, i64)> {
        Vec::new()
    }

    /// All the group's turns or none: a user whose turns would pass the limit (or who has
    /// no row yet) fails the group, and each turn is then taken alone, exactly.
    async fn commit_group(store: &Store, group: &mut [Self]) -> StoreResult<Vec<StoreResult<()>>> {
        let mut per_user: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
        for turn in group.iter() {
            per_user.entry(turn.actor.username()).or_insert((0, turn.limit)).0 += 1;
        }
        let window = current_window();
        let backend = store.db.get_database_backend();
        let turn = store.write_gate.turn().await;
        let txn = turn.db.begin().await?;
        for (user, (count, limit)) in per_user {
            let update = quota_update(user, window, count, limit);
            if txn.execute(backend.build(&update)).await?.rows_affected() != 1 {
                return Err(StoreError::Conflict(format!("{user}: look-up turns to count one by one")));
            }
        }
        // Cloned: should the group fail, each turn is written again alone with its entry.
        let events = group.iter().filter_map(|turn| Some((&turn.actor, turn.event.clone()?))).collect();
        store.audit_many_in(&txn, events).await?;
        txn.commit().await?;
        drop(turn);
        Ok(group.iter().map(|_| Ok(())).collect())
    }

    async fn write_alone(store: &Store, turn: Self) -> StoreResult<()> {
        store.take_lookup_turn_alone(&turn.actor, turn.limit, turn.event).await
    }
}

/// The window of look-ups now: its number since the epoch.
fn current_window() -> i64 {
    Utc::now().timestamp().div_euclid(LOOKUP_WINDOW_SECS)
}

/// Counts `count` look-ups of `user` in `window`, if they stay within `limit` (a new window
/// starts the count again): one conditional UPDATE, which changes no row when they would
/// not, or when the user has no row yet.
fn quota_update(user: &str, window: i64, count: i64, limit: i64) -> UpdateStatement {
    let used_in_window = || {
        Expr::case(Expr::col(Alias::new("window_start")).eq(window), Expr::col(Alias::new("used"))).finally(0)
    };
    // `used` is set before `window_start`: MySQL reads the columns already set in the same
    // statement, the others the old values; this order is right for both.
    Query::update()
        .table(Alias::new("lookup_quotas"))
        .value(Alias::new("used"), used_in_window().add(count))
        .value(Alias::new("window_start"), window)
        .and_where(Expr::col(Alias::new("username")).eq(user))
        .and_where(used_in_window().add(count).lte(limit))
        .to_owned()
}

impl Store {
    /// Takes one of the user's exact look-ups of the current window and writes the look-up's
    /// audit entry (`event`) with it, or refuses with `Limited` (and audits the refusal):
    /// through the look-up turns' writer, which counts many in one transaction. Called after
    /// the look-up's read and before its answer.
    pub(crate) async fn take_lookup_turn(&self, actor: &Actor, event: Option<AuditEvent>) -> StoreResult<()> {
        let turn = LookupTurn { actor: actor.clone(), limit: self.lookup_limit, event };
        self.write_grouped(|w| &w.lookup_turns, turn).await
    }

    /// One look-up's turn in a statement of its own, then its audit entry, both under one
    /// turn with the store's other writers; the user's first look-up ever inserts the row.
    /// Not one transaction: should the entry fail, the turn stays spent and nothing found
    /// is answered.
    async fn take_lookup_turn_alone(
        &self,
        actor: &Actor,
        limit: i64,
        event: Option<AuditEvent>,
    ) -> StoreResult<()> {
        let user = actor.username();
        let backend = self.db.get_database_backend();
        // One window for the count, the first row and the refusal remembered.
        let window = current_window();
        let update = quota_update(user, window, 1, limit);
        let turn = self.write_gate.turn().await;
        for _ in 0..2 {
            if turn.db.execute(backend.build(&update)).await?.rows_affected() == 1 {
                return self.lookup_audited(turn.db, actor, event).await;
            }
            // No row yet, or the limit is reached: a first look-up inserts the row (a
            // concurrent first one makes the insert fail as a duplicate: the update decides).
            let insert = Query::insert()
                .into_table(Alias::new("lookup_quotas"))
                .columns([Alias::new("username"), Alias::new("window_start"), Alias::new("used")])
                .values_panic([user.into(), window.into(), 1i64.into()])
                .to_owned();
            match turn.db.execute(backend.build(&insert)).await {
                Ok(_) => return self.lookup_audited(turn.db, actor, event).await,
                Err(err) if matches!(err.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => {}
                Err(err) => return Err(err.into()),
            }
        }
        // The audit writer is another writer: its turn comes after this one.
        drop(turn);
        self.refused_lookups.remember(user, window, limit);
        Err(self.lookup_refused(actor, limit, event).await)
    }

    /// Refuses, before it reads, a look-up by a user this instance already refused in the
    /// current window at the same limit or a higher one.
    pub(crate) async fn refuse_known_over_limit(&self, actor: &Actor) -> StoreResult<()> {
        if self.refused_lookups.refused(actor.username(), current_window(), self.lookup_limit) {
            return Err(self.lookup_refused(actor, self.lookup_limit, None).await);
        }
        Ok(())
    }

    /// Audits a refused look-up (and what it tried, when that was itself a denial: a
    /// person outside the user's scope) and returns the refusal.
    async fn lookup_refused(&self, actor: &Actor, limit: i64, tried: Option<AuditEvent>) -> StoreError {
        let tried = tried.filter(|event| event.outcome == crate::audit::Outcome::Denied);
        let refusal = AuditEvent::denied("family.lookup", "家庭", "限额").with_detail("精确查找次数超过限额");
        for event in tried.into_iter().chain([refusal]) {
            if let Err(err) = self.audit(actor, event).await {
                return err;
            }
        }
        StoreError::Limited(format!(
            "查找过于频繁：每位用户每{}分钟最多按身份证号或手机号精确查找{}次，请稍后再试",
            LOOKUP_WINDOW_SECS / 60,
            limit
        ))
    }

    /// The audit entry of a look-up whose turn was just taken, while its writer still holds
    /// the write turn.
    async fn lookup_audited(
        &self,
        db: &DatabaseConnection,
        actor: &Actor,
        event: Option<AuditEvent>,
    ) -> StoreResult<()> {
        match event {
            Some(event) => self.audit_in(db, actor, event).await,
            None => Ok(()),
        }
    }
}

/// The users an instance refused a look-up in the current window: user → (window, the limit
/// they were refused at). Shared by every copy of the store (the writers' own included);
/// only the current window's entries are kept.
#[derive(Debug, Clone, Default)]
pub(crate) struct RefusedLookups(Arc<Mutex<HashMap<String, (i64, i64)>>>);

impl RefusedLookups {
    fn refused(&self, user: &str, window: i64, limit: i64) -> bool {
        let refused = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        refused.get(user).is_some_and(|&(at, refused_at)| at == window && limit <= refused_at)
    }

    fn remember(&self, user: &str, window: i64, limit: i64) {
        let mut refused = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        refused.retain(|_, (at, _)| *at == window);
        refused.insert(user.to_owned(), (window, limit));
    }
}

#[cfg(test)]
mod tests {
    use super::RefusedLookups;

    #[test]
    fn a_refusal_holds_for_its_window_and_limit_only() {
        let refused = RefusedLookups::default();
        refused.remember("a", 7, 30);
        assert!(refused.refused("a", 7, 30));
        assert!(refused.refused("a", 7, 12), "past a higher limit, past a lower one too");
        assert!(!refused.refused("a", 7, 31), "a higher limit may have turns left");
        assert!(!refused.refused("a", 8, 30), "a new window starts the count again");
        assert!(!refused.refused("b", 7, 30), "another user's count is their own");
        refused.remember("b", 8, 30);
        assert!(!refused.refused("a", 7, 30), "an older window's refusals are forgotten");
    }
}
