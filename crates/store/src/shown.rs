//! What an actor sees of the people in the registry, decided once, here: every read type
//! that carries a person's name or birth date is built through a [`Visibility`], so no
//! page, API handler or template masks anything (docs/ARCHITECTURE.md, "Personal data").
//!
//! A family is *open* to an actor whose role may reveal personal data
//! (`Permission::RevealPersonalData`), except that an insurer's user sees a family open
//! only while the family's consent to sharing with the insurer is in force. An open family
//! shows full names and birth dates, and its ID and phone numbers may be revealed (audited)
//! and exported; otherwise names are masked (`张*`), birth dates give way to the age, and
//! numbers stay masked.

use std::collections::HashSet;
use std::fmt;

use chrono::NaiveDate;
use guanai_domain::identity::mask_name;
use guanai_domain::Permission;
use serde::Serialize;

use crate::{Actor, Store, StoreResult};

/// A person's name as the actor may see it: in full, or masked (`张*`). Made only by the
/// store, from the actor's [`Visibility`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct ShownName(String);

impl ShownName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ShownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for ShownName {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for ShownName {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// What one actor sees of the families of one read.
#[derive(Debug, Clone)]
pub(crate) struct Visibility {
    reveal: bool,
    /// For insurer users: the families of the read that share their data with the insurer.
    sharing: Option<HashSet<i64>>,
}

impl Visibility {
    /// Nobody's data in full (the public certificate check).
    pub(crate) fn public() -> Self {
        Visibility { reveal: false, sharing: None }
    }

    /// Whether the family's personal data is open to the actor (see the module doc).
    pub(crate) fn open(&self, family_id: i64) -> bool {
        self.reveal && self.sharing.as_ref().is_none_or(|s| s.contains(&family_id))
    }

    pub(crate) fn name(&self, family_id: i64, raw: &str) -> ShownName {
        if self.open(family_id) {
            ShownName(raw.to_owned())
        } else {
            ShownName(mask_name(raw))
        }
    }

    /// The birth date, or `None` where only the age may be shown.
    pub(crate) fn birth_date(&self, family_id: i64, date: NaiveDate) -> Option<NaiveDate> {
        self.open(family_id).then_some(date)
    }
}

/// Whether the actor may search by the start of a name: only a role that sees names in
/// full (for the insurer, the search is narrowed to families sharing with it).
pub(crate) fn may_search_names(actor: &Actor) -> bool {
    actor.can(Permission::RevealPersonalData)
}

/// Whether the actor's view of a family depends on its consent to share with the insurer.
pub(crate) fn needs_insurer_consent(actor: &Actor) -> bool {
    actor.role().is_insurer() && actor.can(Permission::RevealPersonalData)
}

impl Store {
    /// What `actor` sees of the families `family_ids` (one query for insurer users, none
    /// for the others).
    pub(crate) async fn visibility(
        &self,
        actor: &Actor,
        family_ids: impl IntoIterator<Item = i64>,
    ) -> StoreResult<Visibility> {
        let reveal = actor.can(Permission::RevealPersonalData);
        let sharing = if reveal && needs_insurer_consent(actor) {
            let ids: Vec<i64> = family_ids.into_iter().collect::<HashSet<_>>().into_iter().collect();
            Some(self.sharing_with_insurer(&ids).await?)
        } else {
            None
        };
        Ok(Visibility { reveal, sharing })
    }

    /// [`Store::visibility`] for a read that has already fetched which of its families
    /// share their data with the insurer (`sharing`).
    pub(crate) fn visibility_with_sharing(&self, actor: &Actor, sharing: &HashSet<i64>) -> Visibility {
        let reveal = actor.can(Permission::RevealPersonalData);
        Visibility { reveal, sharing: (reveal && needs_insurer_consent(actor)).then(|| sharing.clone()) }
    }

    /// Whether one family's data is open to the actor.
    pub(crate) async fn family_open(&self, actor: &Actor, family_id: i64) -> StoreResult<bool> {
        Ok(self.visibility(actor, [family_id]).await?.open(family_id))
    }
}

#[cfg(test)]
mod tests {
    use guanai_domain::{Permission, Role};

    /// Enrolment, gifting and the uninsured list read names and birth dates in full: only
    /// roles that see them in full may use them.
    #[test]
    fn who_enrols_gifts_or_manages_families_sees_names_in_full() {
        for role in Role::ALL {
            if [Permission::Enrol, Permission::Gift, Permission::ManageFamilies].iter().any(|p| role.can(*p))
            {
                assert!(role.can(Permission::RevealPersonalData), "{role:?}");
                assert!(!role.is_insurer(), "{role:?}: the insurer's view depends on consents");
            }
        }
    }
}
