//! Login failures are counted per account *and client*: a stranger's failures
//! no longer lock an account for everyone. Rows recorded before this have no
//! client (`''`); they still count towards the account-wide slow-down.

use sea_orm_migration::prelude::*;

use crate::sql::{run, Ddl};

#[derive(DeriveMigrationName)]
pub struct Migration;

const STATEMENTS: &[Ddl] = &[
    Ddl {
        sqlite: r#"ALTER TABLE login_failures ADD COLUMN client_key TEXT NOT NULL DEFAULT ''"#,
        postgres: r#"ALTER TABLE login_failures ADD COLUMN client_key TEXT NOT NULL DEFAULT ''"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_login_failures_email_key_client_key_occurred_at ON login_failures (email_key, client_key, occurred_at)"#,
        postgres: r#"CREATE INDEX idx_login_failures_email_key_client_key_occurred_at ON login_failures (email_key, client_key, occurred_at)"#,
    },
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// One transaction on one connection on both engines: on SQLite the
    /// steps must not be spread over the pool's connections, and a failure
    /// leaves the old schema whole.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, STATEMENTS).await
    }
}
