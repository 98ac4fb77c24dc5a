//! A programme setting: enrol a customer who is not a member yet when they
//! make a purchase in the programme's currency (default on, also for existing
//! programmes).

use sea_orm_migration::prelude::*;

use crate::sql::{run, Ddl};

#[derive(DeriveMigrationName)]
pub struct Migration;

const STATEMENTS: &[Ddl] = &[Ddl {
    sqlite: r#"ALTER TABLE loyalty_programs ADD COLUMN enroll_on_first_purchase BOOLEAN NOT NULL DEFAULT 1"#,
    postgres: r#"ALTER TABLE loyalty_programs ADD COLUMN enroll_on_first_purchase BOOLEAN NOT NULL DEFAULT TRUE"#,
}];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, STATEMENTS).await
    }
}
