use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "claim_papers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub claim_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub paper: String,
    pub received_on: Date,
    pub recorded_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
