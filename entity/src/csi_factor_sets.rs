//! The `csi_factor_sets` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "csi_factor_sets")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub family_id: Option<i64>,
    pub name: String,
    pub version: i32,
    pub status: String,
    pub scale_min: i32,
    pub scale_max: i32,
    pub lock_version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub published_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
