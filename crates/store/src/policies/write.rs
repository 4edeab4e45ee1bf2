//! Writing policies: one path for a single enrolment and for a batch of gifted policies,
//! so both get the same rows, the same cover-slot guarantee and the same batching.

use chrono::{DateTime, NaiveDate, Utc};
use guanai_domain::Fen;
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ConnectionTrait, DbBackend, EntityTrait, Value,
};

use super::{Channel, PolicyStatus};
use crate::entities::{cover_slots, policies, policy_funding, policy_members, policy_products};
use crate::rows::{Dialect, KeyedRows, RowsWriter};
use crate::{StoreError, StoreResult};

/// Everything one policy needs written; funding already allocated by the caller.
#[derive(Debug, Clone)]
pub(crate) struct PolicyDraft {
    pub family_id: i64,
    pub package_id: i64,
    pub village_code: String,
    pub year: i32,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub shares: i32,
    pub status: PolicyStatus,
    pub channel: Channel,
    pub premium: Fen,
    pub family_part: Fen,
    pub created_by: String,
    /// (person, age on the start date)
    pub members: Vec<(i64, i32)>,
    /// (product, its premium)
    pub products: Vec<(i64, Fen)>,
    /// (source, rule, amount); rule 0 is a gift without a rule.
    pub funding: Vec<(i64, i64, Fen)>,
}

/// A random certificate code: 12 characters that are easy to read and type.
pub(crate) fn certificate_code() -> String {
    crate::passwords::readable_code(12)
}

/// Policies held in memory at once before they are written (in statements of 256 rows of
/// 22 columns, under every engine's parameter limit) and their ids returned.
const POLICY_CHUNK: usize = 1024;

const POLICY_COLUMNS: [policies::Column; 22] = [
    policies::Column::FamilyId,
    policies::Column::PackageId,
    policies::Column::VillageCode,
    policies::Column::Year,
    policies::Column::StartDate,
    policies::Column::EndDate,
    policies::Column::Shares,
    policies::Column::Status,
    policies::Column::Channel,
    policies::Column::PremiumFen,
    policies::Column::FamilyFen,
    policies::Column::PaidFen,
    policies::Column::PolicyNo,
    policies::Column::CertCode,
    policies::Column::CreatedBy,
    policies::Column::CreatedAt,
    policies::Column::SubmittedAt,
    policies::Column::UnderwrittenAt,
    policies::Column::UnderwrittenBy,
    policies::Column::CancelledAt,
    policies::Column::CancelReason,
    policies::Column::Persons,
];

/// The rows that come with each policy, written as they fill fixed-size statements.
struct PolicyParts {
    members: RowsWriter<policy_members::Entity>,
    slots: RowsWriter<cover_slots::Entity>,
    products: RowsWriter<policy_products::Entity>,
    funding: RowsWriter<policy_funding::Entity>,
}

/// A person already covered for a product in that year: the cover slot's primary key.
fn slot_taken(err: sea_orm::DbErr) -> StoreError {
    StoreError::from_write(err, "有被保险人在本年度已参保同一险种，同一人同一险种同一年度不能重复参保")
}

impl PolicyParts {
    fn new(backend: DbBackend) -> Self {
        use policy_funding::Column as F;
        PolicyParts {
            members: RowsWriter::new(
                backend,
                &[
                    policy_members::Column::PolicyId,
                    policy_members::Column::PersonId,
                    policy_members::Column::AgeAtStart,
                ],
            ),
            slots: RowsWriter::new(
                backend,
                &[
                    cover_slots::Column::PersonId,
                    cover_slots::Column::ProductId,
                    cover_slots::Column::Year,
                    cover_slots::Column::PolicyId,
                ],
            ),
            products: RowsWriter::new(
                backend,
                &[
                    policy_products::Column::PolicyId,
                    policy_products::Column::ProductId,
                    policy_products::Column::PremiumFen,
                ],
            ),
            funding: RowsWriter::new(backend, &[F::PolicyId, F::SourceId, F::RuleId, F::AmountFen]),
        }
    }

    async fn push(&mut self, db: &impl ConnectionTrait, id: i64, d: &PolicyDraft) -> StoreResult<()> {
        for (person, age) in &d.members {
            self.members.push(db, [id.into(), (*person).into(), (*age).into()]).await?;
            for (product, _) in &d.products {
                self.slots
                    .push(db, [(*person).into(), (*product).into(), d.year.into(), id.into()])
                    .await
                    .map_err(slot_taken)?;
            }
        }
        for (product, premium) in &d.products {
            self.products.push(db, [id.into(), (*product).into(), premium.get().into()]).await?;
        }
        for (source, rule, amount) in &d.funding {
            self.funding.push(db, [id.into(), (*source).into(), (*rule).into(), amount.get().into()]).await?;
        }
        Ok(())
    }

    async fn flush(&mut self, db: &impl ConnectionTrait) -> StoreResult<()> {
        self.members.flush(db).await?;
        self.slots.flush(db).await.map_err(slot_taken)?;
        self.products.flush(db).await?;
        self.funding.flush(db).await?;
        Ok(())
    }
}

/// One policy's values in the order of [`POLICY_COLUMNS`].
fn policy_values(d: &PolicyDraft, code: &str, now: DateTime<Utc>) -> [Value; POLICY_COLUMNS.len()] {
    [
        d.family_id.into(),
        d.package_id.into(),
        d.village_code.clone().into(),
        d.year.into(),
        d.start_date.into(),
        d.end_date.into(),
        d.shares.into(),
        d.status.code().into(),
        d.channel.code().into(),
        d.premium.get().into(),
        d.family_part.get().into(),
        0i64.into(),
        Option::<String>::None.into(),
        code.into(),
        d.created_by.clone().into(),
        now.into(),
        (d.status == PolicyStatus::Submitted).then_some(now).into(),
        Option::<DateTime<Utc>>::None.into(),
        Option::<String>::None.into(),
        Option::<DateTime<Utc>>::None.into(),
        Option::<String>::None.into(),
        persons(d).into(),
    ]
}

/// The persons a draft insures (`policies.persons`).
fn persons(d: &PolicyDraft) -> i32 {
    i32::try_from(d.members.len()).unwrap_or(i32::MAX)
}

/// Inserts the drafts with their members, products, funding parts and cover slots.
/// Returns the new ids in the drafts' order. A person already covered for a product in
/// that year makes the whole call fail with a conflict.
///
/// One draft (an enrolment) is one INSERT that returns its id. Many are written in
/// fixed-size multi-row INSERTs (`rows.rs`), each engine preparing each statement once,
/// keyed by their unique certificate codes so that the ids come from the INSERT
/// ([`KeyedRows`]).
pub(crate) async fn insert_policies(
    db: &impl ConnectionTrait,
    dialect: Dialect,
    drafts: &[PolicyDraft],
) -> StoreResult<Vec<i64>> {
    let now = Utc::now();
    let mut parts = PolicyParts::new(dialect.backend);
    let mut ids = Vec::with_capacity(drafts.len());
    let code_taken = |e| StoreError::from_write(e, "证书编号重复，请重试");
    if let [draft] = drafts {
        let code = certificate_code();
        let row = policies::ActiveModel {
            id: NotSet,
            family_id: Set(draft.family_id),
            package_id: Set(draft.package_id),
            village_code: Set(draft.village_code.clone()),
            year: Set(draft.year),
            start_date: Set(draft.start_date),
            end_date: Set(draft.end_date),
            shares: Set(draft.shares),
            status: Set(draft.status.code().to_owned()),
            channel: Set(draft.channel.code().to_owned()),
            premium_fen: Set(draft.premium.get()),
            family_fen: Set(draft.family_part.get()),
            paid_fen: Set(0),
            policy_no: Set(None),
            cert_code: Set(code),
            created_by: Set(draft.created_by.clone()),
            created_at: Set(now),
            submitted_at: Set((draft.status == PolicyStatus::Submitted).then_some(now)),
            underwritten_at: Set(None),
            underwritten_by: Set(None),
            cancelled_at: Set(None),
            cancel_reason: Set(None),
            persons: Set(persons(draft)),
        };
        let id = policies::Entity::insert(row).exec(db).await.map_err(code_taken)?.last_insert_id;
        ids.push(id);
    } else {
        let mut rows =
            KeyedRows::<policies::Entity>::new(dialect, &POLICY_COLUMNS, policies::Column::CertCode);
        for chunk in drafts.chunks(POLICY_CHUNK) {
            for d in chunk {
                let code = certificate_code();
                rows.push(code.clone(), policy_values(d, &code, now));
            }
            ids.extend(rows.write(db).await.map_err(code_taken)?);
        }
    }
    for (d, id) in drafts.iter().zip(&ids) {
        parts.push(db, *id, d).await?;
    }
    parts.flush(db).await?;
    Ok(ids)
}
