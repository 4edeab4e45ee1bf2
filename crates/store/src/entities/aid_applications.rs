use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "aid_applications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub family_id: i64,
    pub village_code: String,
    pub year: i32,
    pub student_name: String,
    pub school: String,
    pub admission_year: i32,
    pub amount_fen: i64,
    pub source_id: Option<i64>,
    pub status: String,
    pub note: String,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub county_by: Option<String>,
    pub county_at: Option<DateTimeUtc>,
    pub city_by: Option<String>,
    pub city_at: Option<DateTimeUtc>,
    pub paid_on: Option<Date>,
    pub paid_by: Option<String>,
    pub refused_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
