//! The public look-up throttle's rows (`public_lookup_attempts`) are kept
//! out of PostgreSQL's write-ahead log (`UNLOGGED`).
//!
//! Every public look-up writes its row in a transaction of its own and
//! deletes it when it ends (`domain::cluster::throttle`): two commits per
//! survey submission that, logged, each wait for the log to reach the disk.
//! The rows matter only within the throttle's one-minute window, so losing
//! them in a crash (PostgreSQL empties an unlogged table when it recovers)
//! only restarts every client's count, as restarting a single process does
//! on SQLite, whose throttle is in memory. Unlogged tables are not copied to
//! streaming replicas, which serve no look-ups. SQLite is unchanged.

use sea_orm_migration::prelude::*;

use crate::sql::{run, Ddl};

#[derive(DeriveMigrationName)]
pub struct Migration;

const STATEMENTS: &[Ddl] = &[Ddl {
    // Nothing to change on SQLite; a statement is still required.
    sqlite: r#"SELECT 1"#,
    postgres: r#"ALTER TABLE public_lookup_attempts SET UNLOGGED"#,
}];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, STATEMENTS).await
    }
}
