use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "claims")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub policy_id: i64,
    pub family_id: i64,
    pub person_id: i64,
    pub village_code: String,
    pub kind: String,
    pub incident_date: Date,
    pub place: String,
    pub description: String,
    pub reported_on: Date,
    pub channel: String,
    pub reported_by: String,
    pub status: String,
    pub claimed_fen: i64,
    pub fast_lane: bool,
    pub expenses_fen: Option<i64>,
    pub other_paid_fen: Option<i64>,
    pub days: Option<i32>,
    pub grade: Option<i32>,
    pub missing_papers: Option<String>,
    pub missing_told_on: Option<Date>,
    pub papers_complete_on: Option<Date>,
    pub decided_on: Option<Date>,
    pub proposed_fen: Option<i64>,
    pub approved_fen: Option<i64>,
    pub override_reason: Option<String>,
    pub refusal_reasons: Option<String>,
    pub refusal_text: Option<String>,
    pub refusal_notified_on: Option<Date>,
    pub advance_fen: i64,
    pub advance_paid_on: Option<Date>,
    pub paid_on: Option<Date>,
    pub paid_fen: Option<i64>,
    pub payment_ref: Option<String>,
    pub beneficiary: Option<String>,
    pub bank_enc: Option<Vec<u8>>,
    pub bank_masked: Option<String>,
    pub satisfaction: Option<i32>,
    pub satisfaction_comment: Option<String>,
    pub due_on: Option<Date>,
    pub sent_on: Option<Date>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
