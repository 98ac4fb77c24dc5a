//! The `customers` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub birthday: Option<Date>,
    pub locale: Option<String>,
    pub relationship_stage: String,
    pub relationship_type: Option<String>,
    pub acquired_at: DateTimeUtc,
    pub referred_by_id: Option<i64>,
    pub churned_at: Option<DateTimeUtc>,
    pub churn_reason: Option<String>,
    pub churn_note: Option<String>,
    pub marketing_consent: bool,
    pub erased_at: Option<DateTimeUtc>,
    pub erased_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
