use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agent_handovers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub from_agent_id: i64,
    pub to_agent_id: i64,
    pub township_code: String,
    pub handed_on: Date,
    pub villages: i32,
    pub tasks: i32,
    pub note: String,
    pub recorded_by: String,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
