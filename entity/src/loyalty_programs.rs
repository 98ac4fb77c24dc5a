//! The `loyalty_programs` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "loyalty_programs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub currency: String,
    pub points_per_currency_unit: String,
    pub points_expire_after_days: Option<i32>,
    pub referral_bonus_points: i64,
    pub referral_window_days: i32,
    pub birthday_bonus_points: i64,
    /// Enrol a non-member on a purchase in the programme's currency.
    pub enroll_on_first_purchase: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
