//! The `survey_responses` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "survey_responses")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub survey_id: i64,
    pub invitation_id: i64,
    pub customer_id: i64,
    pub submitted_at: DateTimeUtc,
    pub csi: Option<String>,
    pub weighted_mean: Option<String>,
    pub factor_set_id: Option<i64>,
    pub helpful_at: Option<DateTimeUtc>,
    pub helpful_by: Option<i64>,
    pub locale: Option<String>,
    /// Hidden field values copied from the invitation, a JSON object.
    pub hidden_fields: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
