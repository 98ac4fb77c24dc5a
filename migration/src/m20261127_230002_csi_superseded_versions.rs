//! A factor-set family has at most one `PUBLISHED` version, its current
//! one: publishing a revision makes the version before it `SUPERSEDED`
//! (still reportable, no longer bindable to new surveys). Existing databases
//! are converted: of the published versions of one family, all but the
//! newest become `SUPERSEDED`. A partial unique index then keeps the rule.

use sea_orm_migration::prelude::*;

use crate::sql::{run, Ddl};

#[derive(DeriveMigrationName)]
pub struct Migration;

const STATEMENTS: &[Ddl] = &[
    Ddl {
        sqlite: r#"UPDATE csi_factor_sets SET status = 'SUPERSEDED'
WHERE status = 'PUBLISHED' AND EXISTS (SELECT 1 FROM csi_factor_sets newer
  WHERE newer.family_id = csi_factor_sets.family_id AND newer.status = 'PUBLISHED'
    AND newer.version > csi_factor_sets.version)"#,
        postgres: r#"UPDATE csi_factor_sets SET status = 'SUPERSEDED'
WHERE status = 'PUBLISHED' AND EXISTS (SELECT 1 FROM csi_factor_sets newer
  WHERE newer.family_id = csi_factor_sets.family_id AND newer.status = 'PUBLISHED'
    AND newer.version > csi_factor_sets.version)"#,
    },
    Ddl {
        sqlite: r#"CREATE UNIQUE INDEX uq_csi_factor_sets_one_published ON csi_factor_sets (family_id) WHERE status = 'PUBLISHED'"#,
        postgres: r#"CREATE UNIQUE INDEX uq_csi_factor_sets_one_published ON csi_factor_sets (family_id) WHERE status = 'PUBLISHED'"#,
    },
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, STATEMENTS).await
    }
}
