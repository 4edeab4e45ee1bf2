//! Logging in. Failures are counted per (name as typed, client address), for real and
//! unknown names alike, each in one atomic statement: the answer and its timing never tell
//! whether a name exists, and a stranger who guesses from one address locks only that
//! address out, never the owner at another one. An administrator (or the command line's
//! password reset) clears the count.

use chrono::Utc;
use guanai_domain::Permission;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
};
use serde::Serialize;

use crate::audit::AuditEvent;
use crate::entities::{login_failures, users};
use crate::users::{LoginOutcome, LoginPolicy};
use crate::{passwords, Actor, Store, StoreResult};

/// The longest name kept in the failure count (the column's width); longer input is cut.
const NAME_WIDTH: usize = 64;

/// Failed logins of one account from one address, as the user's page shows them.
#[derive(Debug, Clone, Serialize)]
pub struct LoginFailures {
    pub ip: String,
    pub failures: i32,
    pub locked_until: Option<chrono::DateTime<Utc>>,
    pub last_failure_at: chrono::DateTime<Utc>,
}

fn key(username: &str, ip: &str) -> (String, String) {
    let name: String = username.trim().to_ascii_lowercase().chars().take(NAME_WIDTH).collect();
    let ip: String = ip.chars().take(64).collect();
    (name, ip)
}

impl crate::handles::Users<'_> {
    /// Checks a name and password from `ip`. `max_failures` wrong answers in a row from
    /// one address lock that name at that address for the lockout; after it, each further
    /// wrong answer locks it again. Every attempt is audit-logged.
    pub async fn login(
        self,
        username: &str,
        password: &str,
        ip: &str,
        policy: &LoginPolicy,
    ) -> StoreResult<LoginOutcome> {
        let (name, ip) = key(username, ip);
        let now = Utc::now();
        let count = login_failures::Entity::find()
            .filter(login_failures::Column::Username.eq(name.as_str()))
            .filter(login_failures::Column::Ip.eq(ip.as_str()))
            .one(&self.db)
            .await?;
        if let Some(until) = count.as_ref().and_then(|c| c.locked_until).filter(|until| *until > now) {
            self.audit_anonymous(
                &name,
                &ip,
                AuditEvent::denied("login", "用户", name.clone()).with_detail("此地址已被锁定"),
            )
            .await?;
            return Ok(LoginOutcome::Locked { until });
        }
        let row = users::Entity::find()
            .filter(users::Column::Username.eq(name.as_str()))
            .filter(users::Column::Active.eq(true))
            .one(&self.db)
            .await?;
        // An unknown name is checked against a dummy hash: the same work, the same time.
        let verified =
            passwords::verify(password.to_owned(), row.as_ref().map(|r| r.password_hash.clone())).await;
        let row = match row {
            Some(row) if verified => row,
            row => return self.count_failure(&name, &ip, row.map(|r| r.id), policy).await,
        };
        // A streak from this address ends; a lock from before per-address counting is lifted.
        let stale_account_lock = row.failed_logins != 0 || row.locked_until.is_some();
        if count.is_some() || stale_account_lock {
            let turn = self.write_gate.turn().await;
            if count.is_some() {
                login_failures::Entity::delete_many()
                    .filter(login_failures::Column::Username.eq(name.as_str()))
                    .filter(login_failures::Column::Ip.eq(ip.as_str()))
                    .exec(turn.db)
                    .await?;
            }
            if stale_account_lock {
                users::Entity::update_many()
                    .col_expr(users::Column::FailedLogins, Expr::value(0))
                    .col_expr(users::Column::LockedUntil, Expr::value(Option::<chrono::DateTime<Utc>>::None))
                    .filter(users::Column::Id.eq(row.id))
                    .exec(turn.db)
                    .await?;
            }
        }
        let session_token = self.create_session(row.id, &ip, policy).await?;
        let actor = Actor::from_user(&row, &ip)?;
        self.audit(&actor, AuditEvent::ok("login", "用户", row.username.clone())).await?;
        Ok(LoginOutcome::LoggedIn { session_token, must_change_password: row.must_change_password })
    }
}

impl Store {
    /// Counts one wrong answer for (`name`, `ip`), in one statement each: the count goes up
    /// by one, and once it reaches the limit the pair is locked unless it already is. The
    /// count read back afterwards is at least this attempt's.
    async fn count_failure(
        &self,
        name: &str,
        ip: &str,
        user_id: Option<i64>,
        policy: &LoginPolicy,
    ) -> StoreResult<LoginOutcome> {
        let now = Utc::now();
        let count = {
            let turn = self.write_gate.turn().await;
            let first = login_failures::ActiveModel {
                id: NotSet,
                username: Set(name.to_owned()),
                ip: Set(ip.to_owned()),
                failures: Set(1),
                locked_until: Set(None),
                last_failure_at: Set(now),
            };
            login_failures::Entity::insert(first)
                .on_conflict(
                    OnConflict::columns([login_failures::Column::Username, login_failures::Column::Ip])
                        .value(
                            login_failures::Column::Failures,
                            Expr::col((login_failures::Entity, login_failures::Column::Failures)).add(1),
                        )
                        .value(login_failures::Column::LastFailureAt, Expr::value(now))
                        .to_owned(),
                )
                .exec_without_returning(turn.db)
                .await?;
            login_failures::Entity::update_many()
                .col_expr(login_failures::Column::LockedUntil, Expr::value(Some(now + policy.lockout)))
                .filter(login_failures::Column::Username.eq(name))
                .filter(login_failures::Column::Ip.eq(ip))
                .filter(login_failures::Column::Failures.gte(policy.max_failures))
                .filter(not_locked_at(now))
                .exec(turn.db)
                .await?;
            login_failures::Entity::find()
                .filter(login_failures::Column::Username.eq(name))
                .filter(login_failures::Column::Ip.eq(ip))
                .one(turn.db)
                .await?
        };
        let failures = count.as_ref().map_or(1, |c| c.failures);
        let locked_until = count.and_then(|c| c.locked_until).filter(|until| *until > now);
        let what = if user_id.is_some() { "密码错误" } else { "用户名不存在" };
        let detail = match locked_until {
            Some(_) => format!("{what}，此地址连续{failures}次，已锁定"),
            None => format!("{what}，此地址连续{failures}次"),
        };
        self.audit_anonymous(
            name,
            ip,
            AuditEvent::denied("login", "用户", name.to_owned()).with_detail(detail),
        )
        .await?;
        Ok(match locked_until {
            Some(until) => LoginOutcome::Locked { until },
            None => LoginOutcome::BadCredentials { failures },
        })
    }
}

impl crate::handles::Users<'_> {
    /// The addresses with failed logins of a user the actor may see, newest first.
    pub async fn login_failures(self, actor: &Actor, user_id: i64) -> StoreResult<Vec<LoginFailures>> {
        let user = self.user(actor, user_id).await?;
        let rows = login_failures::Entity::find()
            .filter(login_failures::Column::Username.eq(user.username.as_str()))
            .order_by_desc(login_failures::Column::LastFailureAt)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| LoginFailures {
                ip: r.ip,
                failures: r.failures,
                locked_until: r.locked_until,
                last_failure_at: r.last_failure_at,
            })
            .collect())
    }

    /// Clears a user's failed logins at every address: an administrator who may manage
    /// the user unlocks the account. Audit-logged.
    pub async fn unlock_user(self, actor: &Actor, user_id: i64) -> StoreResult<()> {
        self.require(actor, Permission::ManageUsers).await?;
        let user = self.user(actor, user_id).await?;
        self.require_manages(actor, user.role, "解锁")?;
        let cleared = self.clear_login_failures(&user.username, user.id).await?;
        self.audit(
            actor,
            AuditEvent::ok("user.unlock", "用户", user.username.clone())
                .with_detail(format!("清除{cleared}个地址的登录失败记录")),
        )
        .await
    }

    /// Forgets failure streaks with no failure for `idle` and no lock in force (the
    /// maintenance job, hourly), so guesses at made-up names do not pile up for ever.
    pub async fn purge_stale_login_failures(self, idle: chrono::Duration) -> StoreResult<u64> {
        let now = Utc::now();
        let turn = self.write_gate.turn().await;
        let deleted = login_failures::Entity::delete_many()
            .filter(login_failures::Column::LastFailureAt.lte(now - idle))
            .filter(not_locked_at(now))
            .exec(turn.db)
            .await?;
        Ok(deleted.rows_affected)
    }
}

impl Store {
    /// Forgets every failed login of `username`; returns how many addresses had some.
    pub(crate) async fn clear_login_failures(&self, username: &str, user_id: i64) -> StoreResult<u64> {
        let turn = self.write_gate.turn().await;
        let deleted = login_failures::Entity::delete_many()
            .filter(login_failures::Column::Username.eq(username))
            .exec(turn.db)
            .await?;
        users::Entity::update_many()
            .col_expr(users::Column::FailedLogins, Expr::value(0))
            .col_expr(users::Column::LockedUntil, Expr::value(Option::<chrono::DateTime<Utc>>::None))
            .filter(users::Column::Id.eq(user_id))
            .exec(turn.db)
            .await?;
        Ok(deleted.rows_affected)
    }
}

/// A failure row whose lockout (if any) is over at `now`.
fn not_locked_at(now: chrono::DateTime<Utc>) -> sea_orm::Condition {
    sea_orm::Condition::any()
        .add(login_failures::Column::LockedUntil.is_null())
        .add(login_failures::Column::LockedUntil.lte(now))
}
