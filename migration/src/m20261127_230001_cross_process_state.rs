//! State that must hold across API processes sharing one database (issue 18):
//! the leases of scheduled jobs (one run per due time) and the public
//! look-up throttle's attempts (one limit for every process together).
//!
//! Times are epoch milliseconds (`BIGINT`) on both engines: these rows are
//! compared with "now" in SQL only, and an integer compares the same way on
//! SQLite and PostgreSQL.

use sea_orm_migration::prelude::*;

use crate::sql::{run, Ddl};

#[derive(DeriveMigrationName)]
pub struct Migration;

const STATEMENTS: &[Ddl] = &[
    // One row per job and due time. A process claims it by writing itself
    // as holder with a lease; another may take it over once the lease has
    // run out without `finished_at`.
    Ddl {
        sqlite: r#"CREATE TABLE job_runs (
            job TEXT NOT NULL,
            due_at BIGINT NOT NULL,
            holder TEXT NOT NULL,
            lease_until BIGINT NOT NULL,
            started_at BIGINT NOT NULL,
            finished_at BIGINT,
            PRIMARY KEY (job, due_at)
        )"#,
        postgres: r#"CREATE TABLE job_runs (
            job TEXT NOT NULL,
            due_at BIGINT NOT NULL,
            holder TEXT NOT NULL,
            lease_until BIGINT NOT NULL,
            started_at BIGINT NOT NULL,
            finished_at BIGINT,
            PRIMARY KEY (job, due_at)
        )"#,
    },
    // One row per public look-up in flight (`failed_at` null) or failed
    // (`failed_at` set), keyed by a hash of the client address.
    Ddl {
        sqlite: r#"CREATE TABLE public_lookup_attempts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            client_key TEXT NOT NULL,
            started_at BIGINT NOT NULL,
            failed_at BIGINT
        )"#,
        postgres: r#"CREATE TABLE public_lookup_attempts (
            id BIGSERIAL PRIMARY KEY,
            client_key TEXT NOT NULL,
            started_at BIGINT NOT NULL,
            failed_at BIGINT
        )"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_public_lookup_attempts_client_key_started_at ON public_lookup_attempts (client_key, started_at)"#,
        postgres: r#"CREATE INDEX idx_public_lookup_attempts_client_key_started_at ON public_lookup_attempts (client_key, started_at)"#,
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
