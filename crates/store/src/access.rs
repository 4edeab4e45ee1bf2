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
        let role: Role = crate::error::stored("users.role", &user.role)?;
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

    pub(crate) fn require(&self, permission: Permission) -> StoreResult<()> {
        if self.can(permission) {
            Ok(())
        } else {
            Err(StoreError::Forbidden(format!("{}不能进行此操作", self.role.label())))
        }
    }

    /// A condition keeping rows whose region column lies within the scope.
    pub(crate) fn scope_condition(&self, region_column: impl ColumnTrait) -> Condition {
        within_region(region_column, self.scope.as_str())
    }
}

/// `column` holds a region code within `region` (the code itself or one below it). Written
/// as a range, `>= '360802'` and `< '360803'`, which every engine answers from an index;
/// SQLite's case-insensitive LIKE would not use one for a `LIKE '360802%'` prefix.
pub(crate) fn within_region(column: impl ColumnTrait, region: &str) -> Condition {
    let mut condition = Condition::all().add(column.gte(region));
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
