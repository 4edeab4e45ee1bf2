//! Consents under PIPL, recorded per family: to processing, to sharing with the insurer,
//! and a guardian's for a child. Withdrawn, never deleted.

use chrono::Utc;
pub use guanai_domain::consents::ConsentKind;
use guanai_domain::families::PersonName;
use guanai_domain::Permission;
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;

use crate::audit::AuditEvent;
use crate::entities::{consents, persons};
use crate::error::stored;
use crate::shown::{ShownName, Visibility};
use crate::{Actor, Store, StoreError, StoreResult};

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Consent {
    pub id: i64,
    pub kind: ConsentKind,
    pub person_id: Option<i64>,
    pub given_by: ShownName,
    pub recorded_by: String,
    pub recorded_at: chrono::DateTime<Utc>,
}

/// `SELECT family_id FROM consents` of the consents to sharing with the insurer in force.
pub(crate) fn sharing_families() -> sea_orm::sea_query::SelectStatement {
    sea_orm::sea_query::Query::select()
        .column(consents::Column::FamilyId)
        .from(consents::Entity)
        .and_where(consents::Column::Kind.eq(ConsentKind::InsurerSharing.code()))
        .and_where(consents::Column::WithdrawnAt.is_null())
        .to_owned()
}

impl Store {
    /// The families among `family_ids` whose consent to sharing with the insurer is in force.
    pub(crate) async fn sharing_with_insurer(
        &self,
        family_ids: &[i64],
    ) -> StoreResult<std::collections::HashSet<i64>> {
        let mut sharing = std::collections::HashSet::new();
        for chunk in family_ids.chunks(500) {
            let found: Vec<i64> = consents::Entity::find()
                .select_only()
                .column(consents::Column::FamilyId)
                .filter(consents::Column::FamilyId.is_in(chunk.iter().copied()))
                .filter(consents::Column::Kind.eq(ConsentKind::InsurerSharing.code()))
                .filter(consents::Column::WithdrawnAt.is_null())
                .into_tuple()
                .all(&self.db)
                .await?;
            sharing.extend(found);
        }
        Ok(sharing)
    }

    /// The consents of a family not withdrawn, oldest first.
    pub(crate) async fn family_consents(
        &self,
        seen: &Visibility,
        family_id: i64,
    ) -> StoreResult<Vec<Consent>> {
        consents::Entity::find()
            .filter(consents::Column::FamilyId.eq(family_id))
            .filter(consents::Column::WithdrawnAt.is_null())
            .order_by_asc(consents::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|c| {
                Ok(Consent {
                    id: c.id,
                    kind: stored("consents.kind", &c.kind)?,
                    person_id: c.person_id,
                    given_by: seen.name(family_id, &c.given_by),
                    recorded_by: crate::audit_labels::shown_username(&c.recorded_by).to_owned(),
                    recorded_at: c.recorded_at,
                })
            })
            .collect::<StoreResult<_>>()
    }
}

impl crate::handles::Families<'_> {
    /// Records a consent given by `given_by` (a guardian's names the child).
    pub async fn record_consent(
        self,
        actor: &Actor,
        family_id: i64,
        kind: ConsentKind,
        person_id: Option<i64>,
        given_by: &str,
    ) -> StoreResult<()> {
        self.require(actor, Permission::ManageFamilies).await?;
        self.family_row(actor, family_id).await?;
        let given_by = PersonName::parse(given_by)?.into_string();
        if kind == ConsentKind::Guardian {
            let Some(child) = person_id else {
                return Err(StoreError::invalid("监护人同意须指明是哪位未成年人"));
            };
            let member = persons::Entity::find_by_id(child).one(&self.db).await?;
            let Some(member) = member.filter(|m| m.family_id == family_id && m.active) else {
                return Err(StoreError::invalid("该未成年人不是本家庭的在册成员"));
            };
            if !guanai_domain::families::needs_guardian_consent(member.birth_date, self.today()) {
                return Err(StoreError::invalid(format!(
                    "{}已满{}周岁，无需监护人同意（监护人同意只适用于未满{}周岁的成员）",
                    member.name,
                    guanai_domain::families::GUARDIAN_CONSENT_AGE,
                    guanai_domain::families::GUARDIAN_CONSENT_AGE
                )));
            }
        }
        consents::Entity::insert(consents::ActiveModel {
            id: NotSet,
            family_id: Set(family_id),
            kind: Set(kind.code().to_owned()),
            person_id: Set(if kind == ConsentKind::Guardian { person_id } else { None }),
            given_by: Set(given_by),
            recorded_by: Set(actor.username().to_owned()),
            recorded_at: Set(Utc::now()),
            withdrawn_at: Set(None),
        })
        .exec_without_returning(&self.db)
        .await?;
        self.audit(
            actor,
            AuditEvent::ok("consent.record", "家庭", family_id.to_string())
                .with_subject(format!("family:{family_id}"))
                .with_detail(kind.label()),
        )
        .await
    }

    /// Withdraws every consent of `kind` of a family (PIPL art. 15).
    /// `person_id` names the child of a guardian's consent; `None` withdraws that kind for
    /// the whole family.
    pub async fn withdraw_consent(
        self,
        actor: &Actor,
        family_id: i64,
        kind: ConsentKind,
        person_id: Option<i64>,
    ) -> StoreResult<()> {
        self.require(actor, Permission::ManageFamilies).await?;
        self.family_row(actor, family_id).await?;
        let mut update = consents::Entity::update_many()
            .col_expr(consents::Column::WithdrawnAt, sea_orm::sea_query::Expr::value(Utc::now()))
            .filter(consents::Column::FamilyId.eq(family_id))
            .filter(consents::Column::Kind.eq(kind.code()))
            .filter(consents::Column::WithdrawnAt.is_null());
        if let Some(person) = person_id {
            update = update.filter(consents::Column::PersonId.eq(person));
        }
        update.exec(&self.db).await?;
        self.audit(
            actor,
            AuditEvent::ok("consent.withdraw", "家庭", family_id.to_string())
                .with_subject(format!("family:{family_id}"))
                .with_detail(kind.label()),
        )
        .await
    }
}
