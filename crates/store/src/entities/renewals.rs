use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "renewals")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub previous_policy_id: i64,
    pub policy_id: i64,
    pub family_id: i64,
    pub village_code: String,
    pub year: i32,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    /// The persons the new policy insures.
    pub persons: i32,
    /// The village of the policy renewed (the rate counts by it).
    pub previous_village_code: String,
    /// The China date of the renewal: its day on the season's curve.
    pub renewed_on: Date,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
