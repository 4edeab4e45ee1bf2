use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "training_attendees")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub training_id: i64,
    pub agent_id: i64,
    pub signed_in_at: DateTimeUtc,
    pub score: Option<i32>,
    pub certificate_no: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
