//! Users: creating them within one's scope, listing, passwords, and logging in with
//! lockout after repeated failures.

use chrono::{DateTime, Duration, Utc};
use guanai_domain::{Password, Permission, RegionCode, Role, Username};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};
use serde::Serialize;

use crate::access::Target;
use crate::audit::AuditEvent;
use crate::entities::{orgs, users};
use crate::{passwords, Actor, Store, StoreError, StoreResult};

/// A user as pages and the API show it; never the password hash.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub region_code: String,
    pub org_id: Option<i64>,
    pub active: bool,
    pub must_change_password: bool,
    pub locked_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl User {
    fn from_row(row: users::Model) -> StoreResult<Self> {
        Ok(User {
            role: crate::error::stored("users.role", &row.role)?,
            id: row.id,
            username: row.username,
            display_name: row.display_name,
            region_code: row.region_code,
            org_id: row.org_id,
            active: row.active,
            must_change_password: row.must_change_password,
            locked_until: row.locked_until,
            created_at: row.created_at,
        })
    }
}

/// What it takes to create a user; every field already parsed.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: Username,
    pub display_name: String,
    pub role: Role,
    pub region: RegionCode,
    pub org_id: Option<i64>,
    pub password: Password,
    /// A password someone else chose must be changed at first login.
    pub must_change_password: bool,
}

/// The rules of logging in; settings with defaults.
#[derive(Debug, Clone)]
pub struct LoginPolicy {
    /// Failures in a row before the account locks.
    pub max_failures: i32,
    pub lockout: Duration,
    /// A session ends after this long without a request.
    pub session_idle: Duration,
}

impl Default for LoginPolicy {
    fn default() -> Self {
        LoginPolicy { max_failures: 5, lockout: Duration::minutes(15), session_idle: Duration::hours(8) }
    }
}

/// How a login attempt ended.
#[derive(Debug)]
pub enum LoginOutcome {
    LoggedIn {
        session_token: String,
        must_change_password: bool,
    },
    /// Wrong name or password; `failures` in a row so far (0 for an unknown name).
    BadCredentials {
        failures: i32,
    },
    Locked {
        until: DateTime<Utc>,
    },
}

impl crate::handles::Users<'_> {
    /// Creates a user on behalf of `actor`: only a role the actor may grant, only within
    /// the actor's scope, and only at a region level that fits the role.
    pub async fn create_user(self, actor: &Actor, new: NewUser) -> StoreResult<User> {
        self.require(actor, Permission::ManageUsers).await?;
        self.require_manages(actor, new.role, "创建")?;
        if !actor.sees(&new.region) {
            return Err(StoreError::Forbidden(format!("区划“{}”不在您的管理范围内", new.region)));
        }
        if !new.role.scope_levels().contains(&new.region.level()) {
            let levels: Vec<_> = new.role.scope_levels().iter().map(|l| l.label()).collect();
            return Err(StoreError::invalid(format!(
                "“{}”的管辖区域须是{}级区划",
                new.role.label(),
                levels.join("或")
            )));
        }
        if !self.regions().region_exists(&new.region).await? {
            return Err(StoreError::invalid(format!("区划代码“{}”不存在，请检查后重试", new.region)));
        }
        let display_name = new.display_name.trim();
        if display_name.is_empty() || display_name.chars().count() > 50 {
            return Err(StoreError::invalid("姓名不能为空，且不超过50个字"));
        }
        if let Some(org_id) = new.org_id {
            let org = orgs::Entity::find_by_id(org_id).one(&self.db).await?;
            match org {
                Some(org) if actor.holds(&org.region_code) => {
                    let insurer_org = org.kind == crate::orgs::OrgKind::Insurer.code();
                    if insurer_org != new.role.is_insurer() {
                        return Err(StoreError::invalid(format!(
                            "“{}”须属于{}",
                            new.role.label(),
                            if new.role.is_insurer() { "保险公司" } else { "计生协会" }
                        )));
                    }
                }
                _ => {
                    return Err(StoreError::invalid(format!("所属机构“{org_id}”不存在或不在您的管理范围内")))
                }
            }
        }
        let hash = passwords::hash(new.password.expose().to_owned()).await?;
        let row = users::ActiveModel {
            id: NotSet,
            username: Set(new.username.to_string()),
            display_name: Set(display_name.to_owned()),
            role: Set(new.role.code().to_owned()),
            region_code: Set(new.region.to_string()),
            org_id: Set(new.org_id),
            password_hash: Set(hash),
            must_change_password: Set(new.must_change_password),
            failed_logins: Set(0),
            locked_until: Set(None),
            active: Set(true),
            created_at: Set(Utc::now()),
            created_by: Set(actor.user_id()),
        };
        let conflict = format!("用户名“{}”已被使用，请换一个", new.username);
        let inserted = users::Entity::insert(row)
            .exec(&self.db)
            .await
            .map_err(|e| StoreError::from_write(e, &conflict))?;
        let user = self.user_row(inserted.last_insert_id).await?;
        self.audit(
            actor,
            AuditEvent::ok("user.create", "用户", user.username.clone()).with_detail(format!(
                "角色 {}，区域 {}",
                new.role.code(),
                new.region
            )),
        )
        .await?;
        User::from_row(user)
    }
}

impl Store {
    /// Refuses unless `actor` may manage users of `role` (its own side; see
    /// `Role::grantable_roles`). The operator of the command line may create any.
    pub(crate) fn require_manages(&self, actor: &Actor, role: Role, verb: &str) -> StoreResult<()> {
        if actor.is_system() || actor.role().manages(role) {
            return Ok(());
        }
        Err(StoreError::Forbidden(format!("{}不能{verb}“{}”角色的用户", actor.role().label(), role.label())))
    }
}

impl crate::handles::Users<'_> {
    /// Creates the first city administrator when there are no users at all, with a random
    /// password to be changed at first login. Returns its name and password, once.
    pub async fn bootstrap_admin(self, city: &RegionCode) -> StoreResult<Option<(String, String)>> {
        if self.count_users().await? > 0 {
            return Ok(None);
        }
        let password = passwords::generate();
        let system = Actor::system(city.clone());
        let user = self
            .create_user(
                &system,
                NewUser {
                    username: Username::parse("admin").expect("valid"),
                    display_name: "系统管理员".to_owned(),
                    role: Role::CityAdmin,
                    region: city.clone(),
                    org_id: None,
                    password: Password::parse(&password).expect("generated passwords meet the policy"),
                    must_change_password: true,
                },
            )
            .await?;
        Ok(Some((user.username, password)))
    }

    pub async fn count_users(self) -> StoreResult<u64> {
        Ok(users::Entity::find().count(&self.db).await?)
    }

    /// The users within the actor's scope.
    pub async fn list_users(self, actor: &Actor) -> StoreResult<Vec<User>> {
        self.require(actor, Permission::ViewUsers).await?;
        let rows = users::Entity::find()
            .filter(actor.scope_condition(users::Column::RegionCode))
            .order_by_asc(users::Column::RegionCode)
            .order_by_asc(users::Column::Username)
            .all(&self.db)
            .await?;
        let users: Vec<User> = rows.into_iter().map(User::from_row).collect::<StoreResult<_>>()?;
        Ok(users.into_iter().filter(|u| actor.role().sees_accounts_of(u.role)).collect())
    }

    /// One user, if within the actor's scope; otherwise "not found", audit-logged.
    pub async fn user(self, actor: &Actor, id: i64) -> StoreResult<User> {
        self.require(actor, Permission::ViewUsers).await?;
        const USER: Target = Target { action: "user.view", kind: "用户" };
        let user =
            User::from_row(self.scoped_find::<users::Entity>(actor, USER, id, |u| &u.region_code).await?)?;
        if !actor.role().sees_accounts_of(user.role) {
            return Err(self.deny(actor, USER.action, USER.kind, id.to_string()).await);
        }
        Ok(user)
    }

    /// The actor's own account.
    pub async fn me(self, actor: &Actor) -> StoreResult<User> {
        let id = actor.user_id().ok_or_else(|| StoreError::invalid("系统账号没有个人资料"))?;
        User::from_row(self.user_row(id).await?)
    }
}

impl Store {
    async fn user_row(&self, id: i64) -> StoreResult<users::Model> {
        users::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("找不到用户“{id}”")))
    }
}

impl crate::handles::Users<'_> {
    /// Changes the actor's own password after checking the current one. Ends every other
    /// session of the user.
    pub async fn change_password(
        self,
        actor: &Actor,
        current: &str,
        new: &Password,
        keep_session: &str,
    ) -> StoreResult<()> {
        let row =
            self.user_row(actor.user_id().ok_or_else(|| StoreError::invalid("系统账号没有密码"))?).await?;
        if !passwords::verify(current.to_owned(), Some(row.password_hash.clone())).await {
            self.audit(
                actor,
                AuditEvent::denied("user.password", "用户", row.username.clone()).with_detail("当前密码错误"),
            )
            .await?;
            return Err(StoreError::invalid("当前密码不正确"));
        }
        if current == new.expose() {
            return Err(StoreError::invalid("新密码不能与当前密码相同"));
        }
        let hash = passwords::hash(new.expose().to_owned()).await?;
        users::Entity::update(users::ActiveModel {
            id: Set(row.id),
            password_hash: Set(hash),
            must_change_password: Set(false),
            ..Default::default()
        })
        .exec(&self.db)
        .await?;
        self.end_other_sessions(row.id, keep_session).await?;
        self.audit(actor, AuditEvent::ok("user.password", "用户", row.username)).await
    }

    /// Sets a user's password from the command line (an operator's reset); it must be
    /// changed at next login. Unlocks the account.
    pub async fn reset_password(
        self,
        username: &Username,
        password: &Password,
        city: &RegionCode,
    ) -> StoreResult<()> {
        let row = users::Entity::find()
            .filter(users::Column::Username.eq(username.as_str()))
            .one(&self.db)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("找不到用户“{username}”")))?;
        let hash = passwords::hash(password.expose().to_owned()).await?;
        users::Entity::update(users::ActiveModel {
            id: Set(row.id),
            password_hash: Set(hash),
            must_change_password: Set(true),
            ..Default::default()
        })
        .exec(&self.db)
        .await?;
        self.clear_login_failures(&row.username, row.id).await?;
        self.end_other_sessions(row.id, "").await?;
        self.audit(
            &Actor::system(city.clone()),
            AuditEvent::ok("user.password_reset", "用户", username.to_string()),
        )
        .await
    }
}
