//! The `survey_answers` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "survey_answers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub response_id: i64,
    pub question_id: i64,
    pub rating: Option<i32>,
    pub choices: Option<String>,
    pub text: Option<String>,
    /// A MATRIX answer: a JSON array, one rating or null per row.
    pub row_ratings: Option<String>,
    /// A DATE answer, `YYYY-MM-DD`.
    pub date_value: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
