use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "import_jobs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: String,
    pub file_name: String,
    #[sea_orm(column_type = "Blob")]
    pub file_bytes: Vec<u8>,
    pub region_code: String,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub overrides: String,
    pub status: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub preview: Option<String>,
    pub done: i64,
    pub total: i64,
    pub message: String,
    pub updated_at: DateTimeUtc,
    /// When the file was deleted (the job ended and its retention passed).
    pub file_deleted_at: Option<DateTimeUtc>,
    /// The shape of `preview` (0: written before plans were typed; planned again).
    pub plan_version: i32,
    /// False for a job of the command line, which never kept its file.
    pub file_kept: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
