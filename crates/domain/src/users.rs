//! Users, roles and what each role may do. A user holds one role and one region scope (a
//! subtree of the region tree); what a role may reach is decided here, once.

use std::fmt;

use serde::Serialize;

use crate::regions::RegionLevel;

crate::stored_code! {
    /// The roles of PRODUCT.md. The code is what the database and the API store.
    pub enum Role {
        CityAdmin => ("city_admin", "市计生协管理员"),
        CountyStaff => ("county_staff", "县计生协工作人员"),
        TownshipStaff => ("township_staff", "乡镇计生协工作人员"),
        VillageAgent => ("village_agent", "村级服务专员"),
        InsurerCity => ("insurer_city", "保险公司分公司"),
        InsurerCounty => ("insurer_county", "保险公司支公司"),
        Supervisor => ("supervisor", "督导人员"),
        Auditor => ("auditor", "审计人员"),
    }
}

/// What a user may do; each page and API route names the one it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Browse the region tree within one's scope.
    ViewRegions,
    /// See association units and insurer branches within one's scope.
    ViewOrgs,
    /// See the users within one's scope.
    ViewUsers,
    /// Create users within one's scope, with a role one may grant.
    ManageUsers,
    /// Search and export the audit log within one's scope.
    ViewAudit,
    /// See families, members and policies within one's scope (names and numbers masked).
    ViewFamilies,
    /// Register families and members, record member events and consents.
    ManageFamilies,
    /// See a full ID or phone number, on an explicit, audit-logged action.
    RevealPersonalData,
    /// Enrol families: draft, submit and cancel policies, record family payments.
    Enrol,
    /// Confirm policies for the insurer (承保) with the insurer's policy number.
    Underwrite,
    /// Define products and "1+N" packages.
    ManageProducts,
    /// See funding sources and their ledgers.
    ViewFunding,
    /// Define funding sources and subsidy rules; record money received.
    ManageFunding,
    /// Gift policies in bulk (送保).
    Gift,
    /// See the claims within one's scope, with their clocks.
    ViewClaims,
    /// Report a claim (报案) for a family and add its papers: the association's side and
    /// the insurer (a call to its hotline).
    ReportClaims,
    /// Ask for missing papers, decide and pay claims: the insurer.
    DecideClaims,
    /// Edit the working-day calendar the claims' clocks count on.
    EditWorkCalendar,
    /// See the association's own work: agents, training, activities, visits, student aid.
    ViewAssociationWork,
    /// Keep the registry of village agents and hand an agent's work to a successor.
    ManageAgents,
    /// Record training sessions and their scores (the association and the insurer's trainers).
    ManageTraining,
    /// Sign in to a training session on one's phone (village agents).
    SignInTraining,
    /// Record publicity activities.
    ManagePublicity,
    /// Record joint supervision visits and their actions.
    ManageSupervision,
    /// Enter student-aid applications (金秋助学).
    ApplyStudentAid,
    /// Review student aid: county review, city approval and payment, by the user's level.
    ReviewStudentAid,
    /// See the reports, the dashboard's figures and the bulletin of one's scope (counts and
    /// sums only, no person).
    ViewReports,
    /// Set the targets of the regions one level below one's own, and the coverage base of
    /// the villages within it.
    ManageTargets,
    /// Renew the fully funded families of a region at once, make lapse follow-ups and hand
    /// them over (续保).
    BatchRenew,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("未知的角色“{0}”")]
pub struct RoleError(pub String);

impl Role {
    /// Reads a role a person named (its code, spaces around it ignored).
    pub fn parse(input: &str) -> Result<Self, RoleError> {
        Role::from_code(input.trim()).map_err(|_| RoleError(input.trim().to_owned()))
    }

    /// The region levels a user of this role may be scoped to.
    pub const fn scope_levels(self) -> &'static [RegionLevel] {
        match self {
            Role::CityAdmin | Role::InsurerCity => &[RegionLevel::City],
            Role::CountyStaff | Role::InsurerCounty => &[RegionLevel::County],
            Role::TownshipStaff => &[RegionLevel::Township],
            Role::VillageAgent => &[RegionLevel::Township, RegionLevel::Village],
            Role::Supervisor | Role::Auditor => {
                &[RegionLevel::City, RegionLevel::County, RegionLevel::Township]
            }
        }
    }

    /// Whether the role's users belong to the insurer rather than the association.
    pub const fn is_insurer(self) -> bool {
        matches!(self, Role::InsurerCity | Role::InsurerCounty)
    }

    pub fn can(self, permission: Permission) -> bool {
        use Permission::*;
        match permission {
            ViewRegions => true,
            ViewOrgs => !matches!(self, Role::VillageAgent),
            ViewUsers => matches!(
                self,
                Role::CityAdmin | Role::CountyStaff | Role::InsurerCity | Role::Supervisor | Role::Auditor
            ),
            ManageUsers => !self.grantable_roles().is_empty(),
            ViewAudit => matches!(self, Role::CityAdmin | Role::Auditor),
            ViewFamilies => !matches!(self, Role::Auditor),
            ManageFamilies | Enrol => {
                matches!(self, Role::CityAdmin | Role::CountyStaff | Role::TownshipStaff | Role::VillageAgent)
            }
            RevealPersonalData => !matches!(self, Role::Supervisor | Role::Auditor),
            Underwrite => self.is_insurer(),
            ManageProducts => matches!(self, Role::CityAdmin),
            ViewFunding => {
                matches!(self, Role::CityAdmin | Role::CountyStaff | Role::TownshipStaff | Role::Supervisor)
            }
            ManageFunding => matches!(self, Role::CityAdmin | Role::CountyStaff),
            Gift => matches!(self, Role::CityAdmin | Role::CountyStaff | Role::TownshipStaff),
            ViewClaims => !matches!(self, Role::Auditor),
            ReportClaims => !matches!(self, Role::Supervisor | Role::Auditor),
            DecideClaims => self.is_insurer(),
            EditWorkCalendar => matches!(self, Role::CityAdmin),
            ViewAssociationWork => !matches!(self, Role::Auditor),
            ManageAgents => matches!(self, Role::CityAdmin | Role::CountyStaff | Role::TownshipStaff),
            ManageTraining => matches!(
                self,
                Role::CityAdmin
                    | Role::CountyStaff
                    | Role::TownshipStaff
                    | Role::InsurerCity
                    | Role::InsurerCounty
            ),
            SignInTraining => matches!(self, Role::VillageAgent),
            ManagePublicity | ApplyStudentAid => {
                matches!(self, Role::CityAdmin | Role::CountyStaff | Role::TownshipStaff | Role::VillageAgent)
            }
            ManageSupervision => matches!(
                self,
                Role::CityAdmin
                    | Role::CountyStaff
                    | Role::InsurerCity
                    | Role::InsurerCounty
                    | Role::Supervisor
            ),
            ReviewStudentAid => matches!(self, Role::CityAdmin | Role::CountyStaff),
            ViewReports => true,
            ManageTargets => matches!(self, Role::CityAdmin | Role::CountyStaff),
            BatchRenew => matches!(self, Role::CityAdmin | Role::CountyStaff | Role::TownshipStaff),
        }
    }

    /// The roles this role may give to users it creates (always within its own scope).
    /// Each side manages its own people: the association's administrators create
    /// association staff, supervisors and auditors; the insurer's city branch creates the
    /// insurer's users (who underwrite and cancel policies). The insurer's first user is
    /// created by the operator (`guanai user add`).
    pub fn grantable_roles(self) -> &'static [Role] {
        match self {
            Role::CityAdmin => &[
                Role::CityAdmin,
                Role::CountyStaff,
                Role::TownshipStaff,
                Role::VillageAgent,
                Role::Supervisor,
                Role::Auditor,
            ],
            Role::CountyStaff => &[Role::CountyStaff, Role::TownshipStaff, Role::VillageAgent],
            Role::InsurerCity => &[Role::InsurerCity, Role::InsurerCounty],
            _ => &[],
        }
    }

    /// Whether this role may create, and unlock, users of `other`.
    pub fn manages(self, other: Role) -> bool {
        self.grantable_roles().contains(&other)
    }

    /// Whether a user of this role may see the account of a user of `other`: the insurer's
    /// users see only the insurer's accounts; everyone else, every account in scope.
    pub const fn sees_accounts_of(self, other: Role) -> bool {
        !self.is_insurer() || other.is_insurer()
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The name the command line and background jobs act under in the audit log and on the
/// records they write; no account may take it, so it always means them.
pub const SYSTEM_USERNAME: &str = "system";

/// A login name: 3 to 32 characters of lower-case letters, digits, `.`, `_` and `-`;
/// never [`SYSTEM_USERNAME`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Username(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    #[error("用户名须为3到32个字符")]
    BadLength,
    #[error("用户名只能包含英文字母、数字、点、下划线和短横线")]
    BadCharacter,
    #[error("用户名“system”为系统保留，请换一个")]
    Reserved,
}

impl Username {
    /// Parses a login name; upper-case letters are folded to lower case.
    pub fn parse(input: &str) -> Result<Self, UsernameError> {
        let name = input.trim().to_ascii_lowercase();
        if !(3..=32).contains(&name.chars().count()) {
            return Err(UsernameError::BadLength);
        }
        if !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)) {
            return Err(UsernameError::BadCharacter);
        }
        if name == SYSTEM_USERNAME {
            return Err(UsernameError::Reserved);
        }
        Ok(Username(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new password that meets the policy: at least 10 characters, with letters and digits.
/// Its `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("密码至少需要10个字符")]
    TooShort,
    #[error("密码须同时包含字母和数字")]
    TooSimple,
    #[error("密码不能超过128个字符")]
    TooLong,
}

impl Password {
    pub fn parse(input: &str) -> Result<Self, PasswordError> {
        let count = input.chars().count();
        if count < 10 {
            return Err(PasswordError::TooShort);
        }
        if count > 128 {
            return Err(PasswordError::TooLong);
        }
        let letters = input.chars().any(char::is_alphabetic);
        let digits = input.chars().any(|c| c.is_ascii_digit());
        if !(letters && digits) {
            return Err(PasswordError::TooSimple);
        }
        Ok(Password(input.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.code()), Ok(role));
        }
        assert_eq!(Role::parse("root"), Err(RoleError("root".into())));
    }

    #[test]
    fn only_admins_and_auditors_read_the_audit_log() {
        let readers: Vec<_> = Role::ALL.into_iter().filter(|r| r.can(Permission::ViewAudit)).collect();
        assert_eq!(readers, [Role::CityAdmin, Role::Auditor]);
    }

    #[test]
    fn county_staff_cannot_grant_city_roles() {
        let grantable = Role::CountyStaff.grantable_roles();
        assert!(!grantable.contains(&Role::CityAdmin));
        assert!(!grantable.contains(&Role::InsurerCity));
        assert!(Role::VillageAgent.grantable_roles().is_empty());
    }

    #[test]
    fn each_side_creates_only_its_own_users() {
        for role in Role::ALL {
            for granted in role.grantable_roles() {
                assert_eq!(role.is_insurer(), granted.is_insurer(), "{role:?} grants {granted:?}");
            }
        }
        assert!(
            Role::CityAdmin.can(Permission::ManageUsers) && Role::InsurerCity.can(Permission::ManageUsers)
        );
        assert!(
            !Role::Supervisor.can(Permission::ManageUsers) && !Role::Auditor.can(Permission::ManageUsers)
        );
        assert!(Role::InsurerCity.grantable_roles().contains(&Role::InsurerCounty));
        assert!(!Role::InsurerCounty.can(Permission::ManageUsers));
    }

    #[test]
    fn usernames_are_folded_and_checked() {
        assert_eq!(Username::parse(" Jizhou.Admin ").unwrap().as_str(), "jizhou.admin");
        assert_eq!(Username::parse("ab"), Err(UsernameError::BadLength));
        assert_eq!(Username::parse("张三丰abc"), Err(UsernameError::BadCharacter));
        assert_eq!(Username::parse(" System "), Err(UsernameError::Reserved));
    }

    #[test]
    fn passwords_need_length_letters_and_digits() {
        assert_eq!(Password::parse("short1"), Err(PasswordError::TooShort));
        assert_eq!(Password::parse("onlyletters"), Err(PasswordError::TooSimple));
        assert_eq!(Password::parse("1234567890"), Err(PasswordError::TooSimple));
        let ok = Password::parse("guanai2026ok").unwrap();
        assert_eq!(format!("{ok:?}"), "Password(***)");
    }
}
