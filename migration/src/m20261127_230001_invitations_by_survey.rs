//! Staff list a survey's invitations newest first (`surveyInvitations`):
//! an index on `(survey_id, id)` serves that keyset page without a sort.
//! `revoked_at`, `used_at` and `expires_at`, from which the status is
//! derived, exist since `m20261123_000005_create_surveys`.

use sea_orm_migration::prelude::*;

use crate::sql::{run, Ddl};

#[derive(DeriveMigrationName)]
pub struct Migration;

const STATEMENTS: &[Ddl] = &[Ddl {
    sqlite: r#"CREATE INDEX idx_survey_invitations_survey_id_id ON survey_invitations (survey_id, id)"#,
    postgres: r#"CREATE INDEX idx_survey_invitations_survey_id_id ON survey_invitations (survey_id, id)"#,
}];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, STATEMENTS).await
    }
}
