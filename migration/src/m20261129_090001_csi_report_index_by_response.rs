//! The covering index of `csiReport` (now `idx_csi_ratings_by_response`) orders each version's ratings by
//! `rated_at`, then by response: every rating of one response (or loose set,
//! `customer_id` with `rated_at`) is adjacent, so the per-response passes of
//! the report (index spread, driver moments, segment counts) group in index
//! order instead of sorting every rating.

use sea_orm_migration::prelude::*;

use crate::sql::{run, Ddl};

#[derive(DeriveMigrationName)]
pub struct Migration;

const STATEMENTS: &[Ddl] = &[
    Ddl {
        sqlite: r#"CREATE INDEX idx_csi_ratings_by_response ON csi_ratings (factor_set_id, rated_at, response_id, customer_id, factor_id, rating)"#,
        postgres: r#"CREATE INDEX idx_csi_ratings_by_response ON csi_ratings (factor_set_id, rated_at, response_id, customer_id) INCLUDE (factor_id, rating)"#,
    },
    Ddl {
        sqlite: r#"DROP INDEX IF EXISTS idx_csi_ratings_report"#,
        postgres: r#"DROP INDEX IF EXISTS idx_csi_ratings_report"#,
    },
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, STATEMENTS).await
    }
}
