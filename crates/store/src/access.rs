//! The scoped handle every data access takes. A request gets its [`Actor`] from its
//! session (see `sessions`); the CLI and background jobs use [`Actor::system`]. There is no
//! other way to make one, and no query of scoped data without one.

use guanai_domain::{Permission, RegionCode, Role};
use sea_orm::sea_query::{Alias, Expr};
use sea_orm::{ColumnTrait, Condition, EntityTrait, PrimaryKeyTrait};

use crate::audit::AuditEvent;
use crate::entities::users;
use crate::{Store, StoreError, StoreResult};

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
        Self::of_user(
            user.id,
            user.username.clone(),
            user.display_name.clone(),
            &user.role,
            &user.region_code,
            ip,
        )
    }

    /// The actor of a user known by these columns of its row.
    pub(crate) fn of_user(
        user_id: i64,
        username: String,
        display_name: String,
        role: &str,
        region_code: &str,
        ip: &str,
    ) -> StoreResult<Self> {
        let role: Role = crate::error::stored("users.role", role)?;
        let scope = RegionCode::parse(region_code)
            .map_err(|e| StoreError::invalid(format!("用户“{username}”的区域无效：{e}")))?;
        Ok(Actor { user_id: Some(user_id), username, display_name, role, scope, ip: ip.to_owned() })
    }

    /// The operator of the command line and of background jobs: a city administrator of
    /// `city`, named `system` in the audit log.
    pub fn system(city: RegionCode) -> Self {
        Actor {
            user_id: None,
            username: guanai_domain::users::SYSTEM_USERNAME.to_owned(),
            display_name: "系统".to_owned(),
            role: Role::CityAdmin,
            scope: city,
            ip: crate::audit_labels::CLI_ADDRESS.to_owned(),
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

    /// The command line's or a background job's operator, not a person's session.
    pub fn is_system(&self) -> bool {
        self.user_id.is_none()
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

    /// Whether a stored region code (a row's region column) lies within this actor's scope:
    /// the one scope test on rows already read.
    pub(crate) fn holds(&self, region: &str) -> bool {
        region.starts_with(self.scope.as_str())
    }

    /// A condition keeping rows whose region column lies within the scope.
    pub(crate) fn scope_condition(&self, region_column: impl ColumnTrait) -> Condition {
        within_region(region_column, self.scope.as_str())
    }
}

/// What a scoped look-up looks for: the audit action of a denied attempt and the record's
/// kind in Chinese, which both "not found" answers name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target {
    pub action: &'static str,
    pub kind: &'static str,
}

impl Store {
    /// Lets the call through if the actor's role has `permission`; otherwise writes the
    /// refusal to the audit log (naming the permission) and answers `Forbidden`. The store's
    /// one permission check: every method that checks a permission audits its refusals,
    /// and a call let through costs nothing.
    pub(crate) async fn require(&self, actor: &Actor, permission: Permission) -> StoreResult<()> {
        if actor.can(permission) {
            return Ok(());
        }
        let refusal = format!("{}不能进行此操作", actor.role().label());
        let event =
            AuditEvent::denied(crate::audit_labels::PERMISSION_ACTION, "权限", format!("{permission:?}"))
                .with_detail(&refusal);
        self.audit(actor, event).await?;
        Err(StoreError::Forbidden(refusal))
    }

    /// The row `id` of entity `E` if its region (`region_of`) lies within the actor's scope;
    /// otherwise "not found", and an attempt on a row outside the scope is audited
    /// ([`Store::deny`]), so that guessing ids reveals nothing and leaves a trace.
    pub(crate) async fn scoped_find<E>(
        &self,
        actor: &Actor,
        what: Target,
        id: i64,
        region_of: impl Fn(&E::Model) -> &str,
    ) -> StoreResult<E::Model>
    where
        E: EntityTrait,
        <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<i64>,
    {
        let row = E::find_by_id(id).one(&self.db).await?;
        self.check_scope(actor, what, id, row.as_ref().map(&region_of)).await?;
        Ok(row.expect("in scope, so found"))
    }

    /// The scope check of [`Store::scoped_find`] for a record `id` found in `region`
    /// (`None`: no such record), for look-ups that read their row another way.
    pub(crate) async fn check_scope(
        &self,
        actor: &Actor,
        what: Target,
        id: impl ToString,
        region: Option<&str>,
    ) -> StoreResult<()> {
        match region {
            Some(region) if actor.holds(region) => Ok(()),
            Some(_) => Err(self.deny(actor, what.action, what.kind, id.to_string()).await),
            None => Err(StoreError::not_found(format!("找不到{}“{}”", what.kind, id.to_string()))),
        }
    }
}

/// `column` holds a region code within `region` (the code itself or one below it). Written
/// as a range, `>= '360802'` and `< '360803'`, which every engine answers from an index;
/// SQLite's case-insensitive LIKE would answer a `LIKE '360802%'` prefix without an index.
pub(crate) fn within_region(column: impl ColumnTrait, region: &str) -> Condition {
    within(Expr::col((column.entity_name(), column)), region)
}

/// [`within_region`] for a column of a table without an entity, by its name.
pub(crate) fn within_region_named(column: &str, region: &str) -> Condition {
    within(Expr::col(Alias::new(column)), region)
}

fn within(column: Expr, region: &str) -> Condition {
    let mut condition = Condition::all().add(column.clone().gte(region));
    if let Some(upper) = next_code(region) {
        condition = condition.add(column.lt(upper));
    }
    condition
}

/// The digit string just after every code that starts with `code`: the same length, one
/// more (`360802` → `360803`, `3609` → `3610`); `None` for all nines.
fn next_code(code: &str) -> Option<String> {
    let mut digits: Vec<u8> = code.bytes().collect();
    for i in (0..digits.len()).rev() {
        if digits[i] < b'9' {
            digits[i] += 1;
            return String::from_utf8(digits).ok();
        }
        digits[i] = b'0';
    }
    None
}

#[cfg(test)]
mod tests {
    use super::next_code;

    #[test]
    fn the_code_after_a_prefix() {
        assert_eq!(next_code("360802").as_deref(), Some("360803"));
        assert_eq!(next_code("3609").as_deref(), Some("3610"));
        assert_eq!(next_code("360899").as_deref(), Some("360900"));
        assert_eq!(next_code("99"), None);
        // Every code under the prefix sorts between the bounds, however long it is.
        for code in ["360802", "360802001", "360802999999"] {
            assert!(("360802".."360803").contains(&code));
        }
        assert!("360803001" >= "360803");
    }
}
