//! The `csi_ratings` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "csi_ratings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub factor_set_id: i64,
    pub factor_id: i64,
    pub response_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub rating: i32,
    pub rated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
