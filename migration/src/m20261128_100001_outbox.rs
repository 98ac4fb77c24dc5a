//! The transactional outbox: every outbound message (an e-mail, a webhook
//! delivery) is a row written in the transaction of the change that causes
//! it, and delivered afterwards by a worker, at least once.
//!
//! Times are epoch milliseconds (`BIGINT`) on both engines, compared with
//! "now" in SQL only (as in `job_runs`).

use sea_orm_migration::prelude::*;

use crate::sql::{run, Ddl};

#[derive(DeriveMigrationName)]
pub struct Migration;

const STATEMENTS: &[Ddl] = &[
    // `id` is the message's identity for its receiver (a webhook's
    // `webhook-id`): every attempt of one message carries the same one.
    // `channel` picks the deliverer; `target` names what the message is
    // for within its channel (an endpoint, an invitation), for the status
    // and log views. A message is pending while `delivered_at` and
    // `failed_at` are both null; a claim holds it until `claimed_until`.
    Ddl {
        sqlite: r#"CREATE TABLE outbox_messages (
            id TEXT PRIMARY KEY NOT NULL,
            channel TEXT NOT NULL,
            topic TEXT NOT NULL,
            target TEXT,
            payload TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            available_at BIGINT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            claimed_by TEXT,
            claimed_until BIGINT,
            delivered_at BIGINT,
            failed_at BIGINT,
            last_attempt_at BIGINT,
            last_error TEXT,
            last_status INTEGER
        )"#,
        postgres: r#"CREATE TABLE outbox_messages (
            id TEXT PRIMARY KEY NOT NULL,
            channel TEXT NOT NULL,
            topic TEXT NOT NULL,
            target TEXT,
            payload TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            available_at BIGINT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            claimed_by TEXT,
            claimed_until BIGINT,
            delivered_at BIGINT,
            failed_at BIGINT,
            last_attempt_at BIGINT,
            last_error TEXT,
            last_status INTEGER
        )"#,
    },
    // What the worker scans: pending messages by the time they are due.
    Ddl {
        sqlite: r#"CREATE INDEX idx_outbox_messages_pending ON outbox_messages (channel, available_at) WHERE delivered_at IS NULL AND failed_at IS NULL"#,
        postgres: r#"CREATE INDEX idx_outbox_messages_pending ON outbox_messages (channel, available_at) WHERE delivered_at IS NULL AND failed_at IS NULL"#,
    },
    // Status and log views: a target's messages, newest first.
    Ddl {
        sqlite: r#"CREATE INDEX idx_outbox_messages_target ON outbox_messages (channel, target, created_at)"#,
        postgres: r#"CREATE INDEX idx_outbox_messages_target ON outbox_messages (channel, target, created_at)"#,
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
