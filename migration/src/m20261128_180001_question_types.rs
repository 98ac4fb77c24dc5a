//! Matrix and date questions, choice limits, and pages.
//!
//! - `survey_questions.settings`: the kind-specific definition as one JSON
//!   document (`{"minChoices": 1, "maxChoices": 2}`, `{"rows": ["Staff",
//!   "Prices"]}`, `{"earliest": "2026-01-01", "latest": "2026-12-31"}`);
//!   NULL when the kind has none.
//! - `survey_questions.page`: the 1-based page the form shows it on.
//! - `survey_answers.row_ratings`: a MATRIX answer, a JSON array with one
//!   rating or `null` per row, in the question's row order.
//! - `survey_answers.date_value`: a DATE answer, `YYYY-MM-DD` (text, so that
//!   both engines order and compare it the same way).

use sea_orm_migration::prelude::*;

use crate::sql::{run, Ddl};

#[derive(DeriveMigrationName)]
pub struct Migration;

const STATEMENTS: &[Ddl] = &[
    Ddl {
        sqlite: r#"ALTER TABLE survey_questions ADD COLUMN settings TEXT"#,
        postgres: r#"ALTER TABLE survey_questions ADD COLUMN settings TEXT"#,
    },
    Ddl {
        sqlite: r#"ALTER TABLE survey_questions ADD COLUMN page INTEGER NOT NULL DEFAULT 1"#,
        postgres: r#"ALTER TABLE survey_questions ADD COLUMN page INTEGER NOT NULL DEFAULT 1"#,
    },
    Ddl {
        sqlite: r#"ALTER TABLE survey_answers ADD COLUMN row_ratings TEXT"#,
        postgres: r#"ALTER TABLE survey_answers ADD COLUMN row_ratings TEXT"#,
    },
    Ddl {
        sqlite: r#"ALTER TABLE survey_answers ADD COLUMN date_value TEXT"#,
        postgres: r#"ALTER TABLE survey_answers ADD COLUMN date_value TEXT"#,
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
