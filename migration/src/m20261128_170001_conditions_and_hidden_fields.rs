//! Conditional questions and hidden fields.
//!
//! - `survey_questions.show_when`: the question's display condition as one
//!   JSON document (`{"position": 2, "anyOf": ["No"]}` or
//!   `{"position": 1, "ratingMin": 1, "ratingMax": 2}`), naming an earlier
//!   question of the same survey by its position.
//! - `surveys.hidden_fields`: the keys the survey declares, a JSON array.
//! - `survey_invitations.hidden_fields`, `survey_responses.hidden_fields`:
//!   the values an invitation carries and its response keeps, a JSON object
//!   of strings. Responses are filtered by one key's value with the engines'
//!   JSON functions (`json_extract` on SQLite, `->>` on PostgreSQL), within
//!   the other criteria (usually one survey).

use sea_orm_migration::prelude::*;

use crate::sql::{run, Ddl};

#[derive(DeriveMigrationName)]
pub struct Migration;

const STATEMENTS: &[Ddl] = &[
    Ddl {
        sqlite: r#"ALTER TABLE survey_questions ADD COLUMN show_when TEXT"#,
        postgres: r#"ALTER TABLE survey_questions ADD COLUMN show_when TEXT"#,
    },
    Ddl {
        sqlite: r#"ALTER TABLE surveys ADD COLUMN hidden_fields TEXT"#,
        postgres: r#"ALTER TABLE surveys ADD COLUMN hidden_fields TEXT"#,
    },
    Ddl {
        sqlite: r#"ALTER TABLE survey_invitations ADD COLUMN hidden_fields TEXT"#,
        postgres: r#"ALTER TABLE survey_invitations ADD COLUMN hidden_fields TEXT"#,
    },
    Ddl {
        sqlite: r#"ALTER TABLE survey_responses ADD COLUMN hidden_fields TEXT"#,
        postgres: r#"ALTER TABLE survey_responses ADD COLUMN hidden_fields TEXT"#,
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
