//! Webhook endpoints: where signed event deliveries go (`domain::webhooks`).
//!
//! Times are epoch milliseconds (`BIGINT`) on both engines, as in
//! `outbox_messages`, whose `target` holds an endpoint's id.

use sea_orm_migration::prelude::*;

use crate::sql::{run, Ddl};

#[derive(DeriveMigrationName)]
pub struct Migration;

const STATEMENTS: &[Ddl] = &[
    // `events` holds the subscribed event types separated and surrounded by
    // spaces (` customer.erased survey.response.submitted `), so one
    // `LIKE '% type %'` finds an event's subscribers. `secret` is the
    // signing secret (`whsec_…`); after a rotation `previous_secret` also
    // signs until `previous_secret_until`. `failing_since` is the first
    // failed attempt since the last success: the endpoint is disabled when
    // it is older than the configured period.
    Ddl {
        sqlite: r#"CREATE TABLE webhook_endpoints (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            url TEXT NOT NULL,
            description TEXT,
            events TEXT NOT NULL,
            enabled BOOLEAN NOT NULL,
            secret TEXT NOT NULL,
            previous_secret TEXT,
            previous_secret_until BIGINT,
            failing_since BIGINT,
            disabled_at BIGINT,
            disabled_reason TEXT,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        )"#,
        postgres: r#"CREATE TABLE webhook_endpoints (
            id BIGSERIAL PRIMARY KEY,
            url TEXT NOT NULL,
            description TEXT,
            events TEXT NOT NULL,
            enabled BOOLEAN NOT NULL,
            secret TEXT NOT NULL,
            previous_secret TEXT,
            previous_secret_until BIGINT,
            failing_since BIGINT,
            disabled_at BIGINT,
            disabled_reason TEXT,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
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
