//! The claims exchange with the insurer's core system, on the store's side: the new
//! reports sent in an export (each marked with the day it went, so the next export holds
//! only new ones, and a day's export can be made again), and the claims an insurer's file
//! names, as far as the actor may know them. Decisions and payments from the file go
//! through `decide` and `pay`, so every rule of those applies.

use chrono::NaiveDate;
use guanai_domain::claims::{ClaimKind, ClaimStatus, Paper, PaperChecklist};
use guanai_domain::Permission;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::ClaimSummary;
use crate::audit::AuditEvent;
use crate::entities::claims;
use crate::error::stored;
use crate::policies::{rows_by_ids, CHUNK};
use crate::{Actor, StoreResult};

/// The most claims one export holds.
pub const EXPORT_LIMIT: u64 = 5_000;

/// A claim in the export, with its papers list.
#[derive(Debug, Clone)]
pub struct ExportedClaim {
    pub summary: ClaimSummary,
    pub received: Vec<Paper>,
    pub missing: Vec<Paper>,
}

/// A claim an insurer's file names. Outside the actor's scope nothing else is told.
#[derive(Debug, Clone)]
pub struct ExchangeClaim {
    pub id: i64,
    pub in_scope: bool,
    pub status: ClaimStatus,
    pub approved_fen: Option<i64>,
    pub advance_fen: i64,
    pub payment_ref: Option<String>,
}

impl crate::handles::Claims<'_> {
    /// The reports not yet sent to the insurer within the actor's scope (or, with
    /// `again_on`, those sent that day), each with its papers list; new ones are marked
    /// as sent today. The export is audited.
    pub async fn export_to_insurer(
        self,
        actor: &Actor,
        again_on: Option<NaiveDate>,
    ) -> StoreResult<Vec<ExportedClaim>> {
        self.require(actor, Permission::DecideClaims).await?;
        let sent = match again_on {
            Some(day) => claims::Column::SentOn.eq(day),
            None => claims::Column::SentOn.is_null(),
        };
        let rows = claims::Entity::find()
            .filter(actor.scope_condition(claims::Column::VillageCode))
            .filter(sent)
            .order_by_asc(claims::Column::Id)
            .limit(EXPORT_LIMIT)
            .all(&self.db)
            .await?;
        let today = self.today();
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        if again_on.is_none() {
            for chunk in ids.chunks(CHUNK) {
                claims::Entity::update_many()
                    .col_expr(claims::Column::SentOn, Expr::value(Some(today)))
                    .filter(claims::Column::Id.is_in(chunk.iter().copied()))
                    .filter(claims::Column::SentOn.is_null())
                    .exec(&self.db)
                    .await?;
            }
        }
        let mut received = self.received_papers(&ids).await?;
        let kinds = rows
            .iter()
            .map(|r| stored::<ClaimKind>("claims.kind", &r.kind))
            .collect::<StoreResult<Vec<_>>>()?;
        let summaries = self.claim_summaries(actor, rows).await?;
        let mut out = Vec::with_capacity(summaries.len());
        for ((summary, id), kind) in summaries.into_iter().zip(ids).zip(kinds) {
            let received = received.remove(&id).unwrap_or_default();
            let missing = PaperChecklist::default().missing(kind, &received);
            out.push(ExportedClaim { summary, received, missing });
        }
        let detail = match again_on {
            Some(day) => format!("重新导出{day}已报送的{}件", out.len()),
            None => format!("导出新报案{}件", out.len()),
        };
        self.audit(actor, AuditEvent::ok("claim.export", "理赔案件", "交换").with_detail(detail)).await?;
        Ok(out)
    }

    /// The claims an insurer's file names; those outside the actor's scope come back with
    /// `in_scope: false` and nothing else.
    pub async fn exchange_claims(self, actor: &Actor, ids: &[i64]) -> StoreResult<Vec<ExchangeClaim>> {
        self.require(actor, Permission::DecideClaims).await?;
        rows_by_ids::<claims::Entity>(&self.db, claims::Column::Id, ids)
            .await?
            .into_iter()
            .map(|row| {
                let in_scope = actor.holds(&row.village_code);
                Ok(ExchangeClaim {
                    id: row.id,
                    in_scope,
                    status: if in_scope {
                        stored("claims.status", &row.status)?
                    } else {
                        ClaimStatus::Reported
                    },
                    approved_fen: row.approved_fen.filter(|_| in_scope),
                    advance_fen: if in_scope { row.advance_fen } else { 0 },
                    payment_ref: row.payment_ref.filter(|_| in_scope),
                })
            })
            .collect()
    }
}
