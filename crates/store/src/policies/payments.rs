//! The family's payments of its part of a policy, with their receipt numbers.

use chrono::{NaiveDate, Utc};
use guanai_domain::{Fen, Permission};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use serde::Serialize;

use super::PolicyStatus;
use crate::audit::AuditEvent;
use crate::entities::{payments, policies};
use crate::{Actor, Store, StoreError, StoreResult};

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Payment {
    pub amount: Fen,
    pub method: String,
    pub receipt_no: String,
    pub paid_on: NaiveDate,
    pub recorded_by: String,
}

/// Payment methods of the family's part.
pub const PAYMENT_METHODS: [(&str, &str); 3] =
    [("cash_agent", "现金（交服务专员）"), ("bank_transfer", "银行转账"), ("online", "网上支付")];

impl Store {
    /// The payments of a policy, oldest first, methods by their labels.
    pub(super) async fn policy_payments(&self, id: i64) -> StoreResult<Vec<Payment>> {
        Ok(payments::Entity::find()
            .filter(payments::Column::PolicyId.eq(id))
            .order_by_asc(payments::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|p| Payment {
                amount: Fen::new(p.amount_fen),
                method: PAYMENT_METHODS
                    .iter()
                    .find(|(code, _)| *code == p.method)
                    .map(|(_, label)| (*label).to_owned())
                    .unwrap_or(p.method),
                receipt_no: p.receipt_no,
                paid_on: p.paid_on,
                recorded_by: crate::audit_labels::shown_username(&p.recorded_by).to_owned(),
            })
            .collect())
    }
}

impl crate::handles::Policies<'_> {
    /// Records (part of) the family's payment, with its receipt number.
    pub async fn record_payment(
        self,
        actor: &Actor,
        id: i64,
        amount: Fen,
        method: &str,
        receipt_no: &str,
        paid_on: NaiveDate,
    ) -> StoreResult<()> {
        self.require(actor, Permission::Enrol).await?;
        let row = self.policy_row(actor, id).await?;
        if row.status == PolicyStatus::Cancelled.code() {
            return Err(StoreError::invalid("已撤销的保单不能收款"));
        }
        if !PAYMENT_METHODS.iter().any(|(code, _)| *code == method) {
            return Err(StoreError::invalid("请选择缴费方式"));
        }
        let receipt_no = receipt_no.trim();
        if receipt_no.is_empty() || receipt_no.chars().count() > 40 {
            return Err(StoreError::invalid("请填写收据号（不超过40个字符）"));
        }
        let owed = row.family_fen - row.paid_fen;
        if amount.get() <= 0 || amount.get() > owed {
            return Err(StoreError::invalid(format!("收款金额须大于0且不超过待缴的 {}", Fen::new(owed))));
        }
        let txn = self.db.begin().await?;
        let result = policies::Entity::update_many()
            .col_expr(policies::Column::PaidFen, Expr::col(policies::Column::PaidFen).add(amount.get()))
            .filter(policies::Column::Id.eq(id))
            .filter(
                Expr::expr(Expr::col(policies::Column::PaidFen).add(amount.get()))
                    .lte(Expr::col(policies::Column::FamilyFen)),
            )
            .exec(&txn)
            .await?;
        if result.rows_affected != 1 {
            return Err(StoreError::Conflict("该保单已有其他收款记录，请刷新后重试".to_owned()));
        }
        payments::Entity::insert(payments::ActiveModel {
            id: NotSet,
            policy_id: Set(id),
            amount_fen: Set(amount.get()),
            method: Set(method.to_owned()),
            receipt_no: Set(receipt_no.to_owned()),
            paid_on: Set(paid_on),
            recorded_by: Set(actor.username().to_owned()),
            recorded_at: Set(Utc::now()),
        })
        .exec_without_returning(&txn)
        .await
        .map_err(|e| StoreError::from_write(e, &format!("收据号“{receipt_no}”已经登记过")))?;
        txn.commit().await?;
        self.audit(
            actor,
            AuditEvent::ok("policy.payment", "保单", id.to_string())
                .with_detail(format!("{amount} {receipt_no}")),
        )
        .await
    }
}
