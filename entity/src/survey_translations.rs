//! The `survey_translations` table: one survey's texts in one further locale.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "survey_translations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub survey_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub locale: String,
    pub title: String,
    pub description: Option<String>,
    pub thank_you: Option<String>,
    /// JSON: `{"<question id>": {"text": "…", "options": ["…"]}}`.
    pub questions: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
