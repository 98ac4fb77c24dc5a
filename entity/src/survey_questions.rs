//! The `survey_questions` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "survey_questions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub survey_id: i64,
    pub position: i32,
    pub text: String,
    pub required: bool,
    pub kind: String,
    pub factor_key: Option<String>,
    pub options: Option<String>,
    pub max_length: Option<i32>,
    /// The survey's overall-satisfaction question (at most one per survey).
    pub overall_satisfaction: bool,
    /// The display condition, JSON (see `domain::feedback::conditions`).
    pub show_when: Option<String>,
    /// The kind-specific definition, JSON (see `domain::feedback::model::QuestionSettings`).
    pub settings: Option<String>,
    /// The 1-based page of the form that shows it.
    pub page: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
