//! CSI: one version number per family, at most one draft per family, and a
//! covering index for `csiReport` (range on `rated_at` within one version,
//! reading factor, rating and response straight from the index).

use sea_orm_migration::prelude::*;

use crate::sql::{run, Ddl};

#[derive(DeriveMigrationName)]
pub struct Migration;

const STATEMENTS: &[Ddl] = &[
    Ddl {
        sqlite: r#"CREATE UNIQUE INDEX uq_csi_factor_sets_family_id_version ON csi_factor_sets (family_id, version)"#,
        postgres: r#"CREATE UNIQUE INDEX uq_csi_factor_sets_family_id_version ON csi_factor_sets (family_id, version)"#,
    },
    Ddl {
        sqlite: r#"CREATE UNIQUE INDEX uq_csi_factor_sets_one_draft ON csi_factor_sets (family_id) WHERE status = 'DRAFT'"#,
        postgres: r#"CREATE UNIQUE INDEX uq_csi_factor_sets_one_draft ON csi_factor_sets (family_id) WHERE status = 'DRAFT'"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_csi_ratings_report ON csi_ratings (factor_set_id, rated_at, factor_id, rating, response_id, customer_id)"#,
        postgres: r#"CREATE INDEX idx_csi_ratings_report ON csi_ratings (factor_set_id, rated_at) INCLUDE (factor_id, rating, response_id, customer_id)"#,
    },
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, STATEMENTS).await
    }
}
