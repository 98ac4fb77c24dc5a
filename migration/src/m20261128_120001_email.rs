//! E-mail invitations: each survey's reminder plan, and customers' opt-outs
//! from survey e-mail.
//!
//! Both live in tables of their own (keyed by the survey or the customer)
//! so the survey and customer rows stay as they are. Times are epoch
//! milliseconds (`BIGINT`) on both engines, as in `outbox_messages`.

use sea_orm_migration::prelude::*;

use crate::sql::{run, Ddl};

#[derive(DeriveMigrationName)]
pub struct Migration;

const STATEMENTS: &[Ddl] = &[
    // A survey without a row sends no reminders. `reminder_count` reminders
    // follow an invitation e-mail, `interval_days` apart.
    Ddl {
        sqlite: r#"CREATE TABLE survey_reminder_plans (
            survey_id INTEGER PRIMARY KEY NOT NULL REFERENCES surveys (id) ON DELETE CASCADE,
            reminder_count INTEGER NOT NULL CHECK (reminder_count BETWEEN 0 AND 3),
            interval_days INTEGER NOT NULL CHECK (interval_days BETWEEN 1 AND 30),
            updated_at BIGINT NOT NULL
        )"#,
        postgres: r#"CREATE TABLE survey_reminder_plans (
            survey_id BIGINT PRIMARY KEY NOT NULL REFERENCES surveys (id) ON DELETE CASCADE,
            reminder_count INTEGER NOT NULL CHECK (reminder_count BETWEEN 0 AND 3),
            interval_days INTEGER NOT NULL CHECK (interval_days BETWEEN 1 AND 30),
            updated_at BIGINT NOT NULL
        )"#,
    },
    // A customer who followed an unsubscribe link: no survey e-mail from
    // then on.
    Ddl {
        sqlite: r#"CREATE TABLE customer_email_opt_outs (
            customer_id INTEGER PRIMARY KEY NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
            opted_out_at BIGINT NOT NULL
        )"#,
        postgres: r#"CREATE TABLE customer_email_opt_outs (
            customer_id BIGINT PRIMARY KEY NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
            opted_out_at BIGINT NOT NULL
        )"#,
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
