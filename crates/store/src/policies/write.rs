//! Writing policies: one path for a single enrolment and for a batch of gifted policies,
//! so both get the same rows, the same cover-slot guarantee and the same batching.

use chrono::{NaiveDate, Utc};
use guanai_domain::Fen;
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
};

use super::{Channel, PolicyStatus};
use crate::entities::{cover_slots, policies, policy_funding, policy_members, policy_products};
use crate::{StoreError, StoreResult};

/// Rows are inserted this many at a time (well under every engine's parameter limit).
const BATCH: usize = 200;

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

/// Inserts the drafts with their members, products, funding parts and cover slots.
/// Returns the new ids in the drafts' order. A person already covered for a product in
/// that year makes the whole call fail with a conflict.
pub(crate) async fn insert_policies(
    db: &impl ConnectionTrait,
    drafts: &[PolicyDraft],
) -> StoreResult<Vec<i64>> {
    let now = Utc::now();
    let mut ids = Vec::with_capacity(drafts.len());
    for chunk in drafts.chunks(BATCH) {
        let codes: Vec<String> = chunk.iter().map(|_| certificate_code()).collect();
        let rows = chunk.iter().zip(&codes).map(|(d, code)| policies::ActiveModel {
            id: NotSet,
            family_id: Set(d.family_id),
            package_id: Set(d.package_id),
            village_code: Set(d.village_code.clone()),
            year: Set(d.year),
            start_date: Set(d.start_date),
            end_date: Set(d.end_date),
            shares: Set(d.shares),
            status: Set(d.status.as_str().to_owned()),
            channel: Set(d.channel.as_str().to_owned()),
            premium_fen: Set(d.premium.get()),
            family_fen: Set(d.family_part.get()),
            paid_fen: Set(0),
            policy_no: Set(None),
            cert_code: Set(code.clone()),
            created_by: Set(d.created_by.clone()),
            created_at: Set(now),
            submitted_at: Set((d.status == PolicyStatus::Submitted).then_some(now)),
            underwritten_at: Set(None),
            underwritten_by: Set(None),
            cancelled_at: Set(None),
            cancel_reason: Set(None),
        });
        let chunk_ids: Vec<i64> = if chunk.len() == 1 {
            // One row (an enrolment): every engine returns its id.
            let row = rows.into_iter().next().expect("one draft");
            let inserted = policies::Entity::insert(row)
                .exec(db)
                .await
                .map_err(|e| StoreError::from_write(e, "证书编号重复，请重试"))?;
            vec![inserted.last_insert_id]
        } else {
            policies::Entity::insert_many(rows)
                .exec_without_returning(db)
                .await
                .map_err(|e| StoreError::from_write(e, "证书编号重复，请重试"))?;
            // Ids come back through the unique certificate codes (engines differ in what an
            // insert of many rows returns).
            let found: Vec<(i64, String)> = policies::Entity::find()
                .select_only()
                .column(policies::Column::Id)
                .column(policies::Column::CertCode)
                .filter(policies::Column::CertCode.is_in(codes.clone()))
                .into_tuple()
                .all(db)
                .await?;
            codes
                .iter()
                .map(|code| found.iter().find(|(_, c)| c == code).map(|(id, _)| *id).expect("just inserted"))
                .collect()
        };

        let members: Vec<_> = chunk
            .iter()
            .zip(&chunk_ids)
            .flat_map(|(d, id)| {
                d.members.iter().map(move |(person, age)| policy_members::ActiveModel {
                    policy_id: Set(*id),
                    person_id: Set(*person),
                    age_at_start: Set(*age),
                })
            })
            .collect();
        for part in members.chunks(BATCH * 2) {
            policy_members::Entity::insert_many(part.to_vec()).exec_without_returning(db).await?;
        }
        let slots: Vec<_> = chunk
            .iter()
            .zip(&chunk_ids)
            .flat_map(|(d, id)| {
                d.members.iter().flat_map(move |(person, _)| {
                    d.products.iter().map(move |(product, _)| cover_slots::ActiveModel {
                        person_id: Set(*person),
                        product_id: Set(*product),
                        year: Set(d.year),
                        policy_id: Set(*id),
                    })
                })
            })
            .collect();
        for part in slots.chunks(BATCH * 2) {
            cover_slots::Entity::insert_many(part.to_vec()).exec_without_returning(db).await.map_err(
                |e| {
                    StoreError::from_write(
                        e,
                        "有被保险人在本年度已参保同一险种，同一人同一险种同一年度不能重复参保",
                    )
                },
            )?;
        }
        let products: Vec<_> = chunk
            .iter()
            .zip(&chunk_ids)
            .flat_map(|(d, id)| {
                d.products.iter().map(move |(product, premium)| policy_products::ActiveModel {
                    policy_id: Set(*id),
                    product_id: Set(*product),
                    premium_fen: Set(premium.get()),
                })
            })
            .collect();
        for part in products.chunks(BATCH * 2) {
            policy_products::Entity::insert_many(part.to_vec()).exec_without_returning(db).await?;
        }
        let funding: Vec<_> = chunk
            .iter()
            .zip(&chunk_ids)
            .flat_map(|(d, id)| {
                d.funding.iter().map(move |(source, rule, amount)| policy_funding::ActiveModel {
                    id: NotSet,
                    policy_id: Set(*id),
                    source_id: Set(*source),
                    rule_id: Set(*rule),
                    amount_fen: Set(amount.get()),
                })
            })
            .collect();
        for part in funding.chunks(BATCH * 2) {
            policy_funding::Entity::insert_many(part.to_vec()).exec_without_returning(db).await?;
        }
        ids.extend(chunk_ids);
    }
    Ok(ids)
}
