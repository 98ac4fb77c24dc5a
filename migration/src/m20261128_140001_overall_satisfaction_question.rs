//! Marks a survey's overall-satisfaction question: the RATING question whose
//! answers CSI driver analysis explains by the factor ratings. At most one
//! per survey (a partial unique index).

use sea_orm_migration::prelude::*;

use crate::sql::{run, Ddl};

#[derive(DeriveMigrationName)]
pub struct Migration;

const STATEMENTS: &[Ddl] = &[
    Ddl {
        sqlite: r#"ALTER TABLE survey_questions ADD COLUMN overall_satisfaction BOOLEAN NOT NULL DEFAULT FALSE"#,
        postgres: r#"ALTER TABLE survey_questions ADD COLUMN overall_satisfaction BOOLEAN NOT NULL DEFAULT FALSE"#,
    },
    Ddl {
        sqlite: r#"CREATE UNIQUE INDEX uq_survey_questions_overall ON survey_questions (survey_id) WHERE overall_satisfaction"#,
        postgres: r#"CREATE UNIQUE INDEX uq_survey_questions_overall ON survey_questions (survey_id) WHERE overall_satisfaction"#,
    },
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// One transaction on one connection on both engines.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, STATEMENTS).await
    }
}
