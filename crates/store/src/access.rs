//! The scoped handle every data access takes. A request gets its [`Actor`] from its
//! session (see `sessions`); the CLI and background jobs use [`Actor::system`]. There is no
//! other way to make one, and no query of scoped data without one.

use guanai_domain::{Permission, RegionCode, Role};
use sea_orm::{ColumnTrait, Condition};

use crate::entities::users;
use crate::{StoreError, StoreResult};

#[derive(Debug, Clone)]
pub struct Actor {
    user_id: Option<i64>,
    username: String,
    display_name: String,
    role: Role,
    scope: RegionCode,
    ip: String,
}

impl Actor {
    pub(crate) fn from_user(user: &users::Model, ip: &str) -> StoreResult<Self> {
        let role = Role::parse(&user.role)
            .map_err(|e| StoreError::invalid(format!("用户“{}”的角色无效：{e}", user.username)))?;
        let scope = RegionCode::parse(&user.region_code)
            .map_err(|e| StoreError::invalid(format!("用户“{}”的区域无效：{e}", user.username)))?;
        Ok(Actor {
            user_id: Some(user.id),
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            role,
            scope,
            ip: ip.to_owned(),
        })
    }

    /// The operator of the command line and of background jobs: a city administrator of
    /// `city`, named `system` in the audit log.
    pub fn system(city: RegionCode) -> Self {
        Actor {
            user_id: None,
            username: "system".to_owned(),
            display_name: "系统".to_owned(),
            role: Role::CityAdmin,
            scope: city,
            ip: "cli".to_owned(),
        }
    }

    /// The system operator in another role, e.g. the insurer's when the command line loads
    /// an insurer's file. Only for the system actor: a user's role never changes this way.
    pub fn acting_as(mut self, role: Role) -> Self {
        if self.user_id.is_none() {
            self.role = role;
        }
        self
    }

    pub fn user_id(&self) -> Option<i64> {
        self.user_id
    }

    pub fn username(&self) -> &str {
        &self.username
    }

    pub fn display_name(&self) -> &str {
        &self.display_name
    }

    pub fn role(&self) -> Role {
        self.role
    }

    pub fn scope(&self) -> &RegionCode {
        &self.scope
    }

    pub fn ip(&self) -> &str {
        &self.ip
    }

    pub fn can(&self, permission: Permission) -> bool {
        self.role.can(permission)
    }

    /// Whether `region` lies within this actor's scope.
    pub fn sees(&self, region: &RegionCode) -> bool {
        self.scope.contains(region)
    }

    pub(crate) fn require(&self, permission: Permission) -> StoreResult<()> {
        if self.can(permission) {
            Ok(())
        } else {
            Err(StoreError::Forbidden(format!("{}不能进行此操作", self.role.label())))
        }
    }

    /// A condition keeping rows whose region column lies within the scope.
    pub(crate) fn scope_condition(&self, region_column: impl ColumnTrait) -> Condition {
        Condition::all().add(region_column.starts_with(self.scope.as_str()))
    }
}
