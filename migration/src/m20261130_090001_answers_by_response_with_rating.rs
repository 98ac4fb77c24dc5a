//! A covering index of survey answers by response and question with the
//! rating (`idx_survey_answers_rating`): the CSI report's derived
//! importance looks up each response's overall-satisfaction answer
//! (`domain/src/csi/pass.rs`), and with the rating in the index it reads
//! no answer row. Over 1 000 000 responses with five answers each that
//! lookup took ≈ 1.9 s of CPU reading the rows in the responses' order,
//! ≈ 0.5 s with this index (BENCHMARKS.md, round 8).
//!
//! Idempotent, like every index build here: a process stopped during a
//! long build leaves the index built but the migration unrecorded.

use sea_orm_migration::prelude::*;

use crate::sql::{run, Ddl};

#[derive(DeriveMigrationName)]
pub struct Migration;

const STATEMENTS: &[Ddl] = &[Ddl {
    sqlite: r#"CREATE INDEX IF NOT EXISTS idx_survey_answers_rating ON survey_answers (response_id, question_id, rating)"#,
    postgres: r#"CREATE INDEX IF NOT EXISTS idx_survey_answers_rating ON survey_answers (response_id, question_id) INCLUDE (rating)"#,
}];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, STATEMENTS).await
    }
}
