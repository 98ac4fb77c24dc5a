//! The index an export of one survey's responses reads: the survey's
//! responses in id order, so each keyset page of the export
//! (`domain::exports`) is an index range instead of a sort of the survey.

use sea_orm_migration::prelude::*;

use crate::sql::{run, Ddl};

#[derive(DeriveMigrationName)]
pub struct Migration;

const STATEMENTS: &[Ddl] = &[Ddl {
    sqlite: r#"CREATE INDEX idx_survey_responses_survey_id_id ON survey_responses (survey_id, id)"#,
    postgres: r#"CREATE INDEX idx_survey_responses_survey_id_id ON survey_responses (survey_id, id)"#,
}];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, STATEMENTS).await
    }
}
