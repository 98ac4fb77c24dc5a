//! A customer's responses newest first (the dashboard's latest CSI, the
//! card's latest responses) are read from an index on (customer_id, id) alone:
//! PostgreSQL's index on customer_id had to visit every response row to find
//! the newest ids. SQLite's old index already held the rowid; it is replaced
//! too so both engines keep the same schema.

use sea_orm_migration::prelude::*;

use crate::sql::{run, Ddl};

#[derive(DeriveMigrationName)]
pub struct Migration;

const STATEMENTS: &[Ddl] = &[
    Ddl {
        sqlite: r#"CREATE INDEX idx_survey_responses_customer_id_id ON survey_responses (customer_id, id)"#,
        postgres: r#"CREATE INDEX idx_survey_responses_customer_id_id ON survey_responses (customer_id, id)"#,
    },
    Ddl {
        sqlite: r#"DROP INDEX idx_survey_responses_customer_id"#,
        postgres: r#"DROP INDEX idx_survey_responses_customer_id"#,
    },
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, STATEMENTS).await
    }
}
