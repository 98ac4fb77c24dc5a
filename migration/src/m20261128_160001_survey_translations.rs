//! Multilingual surveys: a survey's thank-you text, its translations (one
//! row per survey and locale), and the locale an invitation carries and a
//! response was answered in.
//!
//! A translation's question texts and option labels are one JSON document
//! keyed by question id (`{"<id>": {"text": …, "options": […]}}`); answers
//! keep storing option values of the default language, so results stay
//! language-independent.

use sea_orm_migration::prelude::*;

use crate::sql::{run, Ddl};

#[derive(DeriveMigrationName)]
pub struct Migration;

const STATEMENTS: &[Ddl] = &[
    Ddl {
        sqlite: r#"ALTER TABLE surveys ADD COLUMN thank_you TEXT"#,
        postgres: r#"ALTER TABLE surveys ADD COLUMN thank_you TEXT"#,
    },
    Ddl {
        sqlite: r#"CREATE TABLE survey_translations (
    survey_id BIGINT NOT NULL REFERENCES surveys(id),
    locale TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT,
    thank_you TEXT,
    questions TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (survey_id, locale)
)"#,
        postgres: r#"CREATE TABLE survey_translations (
    survey_id BIGINT NOT NULL REFERENCES surveys(id),
    locale TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT,
    thank_you TEXT,
    questions TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (survey_id, locale)
)"#,
    },
    Ddl {
        sqlite: r#"ALTER TABLE survey_invitations ADD COLUMN locale TEXT"#,
        postgres: r#"ALTER TABLE survey_invitations ADD COLUMN locale TEXT"#,
    },
    Ddl {
        sqlite: r#"ALTER TABLE survey_responses ADD COLUMN locale TEXT"#,
        postgres: r#"ALTER TABLE survey_responses ADD COLUMN locale TEXT"#,
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
