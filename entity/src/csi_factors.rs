//! The `csi_factors` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "csi_factors")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub factor_set_id: i64,
    pub key: String,
    pub label: String,
    pub weight: String,
    pub position: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
