use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "recommendations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: String,
    pub target_kind: String,
    pub target_id: String,
    pub revision: i32,
    pub active: bool,
    pub score: i32,
    pub data: String,
    /// A call recommendation's deadline, `YYYY-MM-DD` (the reminder scan's range).
    pub deadline: Option<String>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
