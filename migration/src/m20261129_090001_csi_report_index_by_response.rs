//! The covering index of `csiReport` (now `idx_csi_ratings_by_response`)
//! orders each version's ratings by `rated_at`, then by response: every
//! rating of one response (or loose set, `customer_id` with `rated_at`) is
//! adjacent, so the per-response passes of the report (response counts,
//! index spread, driver moments, segment counts) group in index order
//! instead of sorting every rating. The older indexes it replaces
//! (`idx_csi_ratings_report`, and `(factor_set_id, rated_at)`, its prefix)
//! are dropped.
//!
//! Every step is idempotent: on a large table the index build takes a
//! while, and a process stopped during it leaves the index built but the
//! migration unrecorded.

use sea_orm_migration::prelude::*;

use crate::sql::{run, Ddl};

#[derive(DeriveMigrationName)]
pub struct Migration;

const STATEMENTS: &[Ddl] = &[
    Ddl {
        sqlite: r#"CREATE INDEX IF NOT EXISTS idx_csi_ratings_by_response ON csi_ratings (factor_set_id, rated_at, response_id, customer_id, factor_id, rating)"#,
        postgres: r#"CREATE INDEX IF NOT EXISTS idx_csi_ratings_by_response ON csi_ratings (factor_set_id, rated_at, response_id, customer_id) INCLUDE (factor_id, rating)"#,
    },
    Ddl {
        sqlite: r#"DROP INDEX IF EXISTS idx_csi_ratings_report"#,
        postgres: r#"DROP INDEX IF EXISTS idx_csi_ratings_report"#,
    },
    // A prefix of the new index: left alone, SQLite's planner may pick it
    // for a report pass and then read every rating's row to group it.
    Ddl {
        sqlite: r#"DROP INDEX IF EXISTS idx_csi_ratings_factor_set_id_rated_at"#,
        postgres: r#"DROP INDEX IF EXISTS idx_csi_ratings_factor_set_id_rated_at"#,
    },
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, STATEMENTS).await
    }
}
