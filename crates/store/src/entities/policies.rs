use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "policies")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub family_id: i64,
    pub package_id: i64,
    pub village_code: String,
    pub year: i32,
    pub start_date: Date,
    pub end_date: Date,
    pub shares: i32,
    pub status: String,
    pub channel: String,
    pub premium_fen: i64,
    pub family_fen: i64,
    pub paid_fen: i64,
    pub policy_no: Option<String>,
    pub cert_code: String,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub submitted_at: Option<DateTimeUtc>,
    pub underwritten_at: Option<DateTimeUtc>,
    pub underwritten_by: Option<String>,
    pub cancelled_at: Option<DateTimeUtc>,
    pub cancel_reason: Option<String>,
    /// How many persons the policy insures (its members, which never change).
    pub persons: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
