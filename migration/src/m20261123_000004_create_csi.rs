//! Creates the csi tables.

use sea_orm_migration::prelude::*;

use crate::sql::{run, Ddl};

#[derive(DeriveMigrationName)]
pub struct Migration;

const STATEMENTS: &[Ddl] = &[
    Ddl {
        sqlite: r#"CREATE TABLE csi_factor_sets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    family_id BIGINT,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    scale_min INTEGER NOT NULL,
    scale_max INTEGER NOT NULL,
    lock_version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    published_at TEXT,
    CHECK (scale_min < scale_max)
)"#,
        postgres: r#"CREATE TABLE csi_factor_sets (
    id BIGSERIAL PRIMARY KEY,
    family_id BIGINT,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    scale_min INTEGER NOT NULL,
    scale_max INTEGER NOT NULL,
    lock_version INTEGER NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    published_at TIMESTAMPTZ,
    CHECK (scale_min < scale_max)
)"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_csi_factor_sets_family_id ON csi_factor_sets (family_id)"#,
        postgres: r#"CREATE INDEX idx_csi_factor_sets_family_id ON csi_factor_sets (family_id)"#,
    },
    Ddl {
        sqlite: r#"CREATE TABLE csi_factors (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    factor_set_id BIGINT NOT NULL REFERENCES csi_factor_sets(id),
    key TEXT NOT NULL,
    label TEXT NOT NULL,
    weight TEXT NOT NULL,
    position INTEGER NOT NULL,
    UNIQUE (factor_set_id, key)
)"#,
        postgres: r#"CREATE TABLE csi_factors (
    id BIGSERIAL PRIMARY KEY,
    factor_set_id BIGINT NOT NULL REFERENCES csi_factor_sets(id),
    key TEXT NOT NULL,
    label TEXT NOT NULL,
    weight TEXT NOT NULL,
    position INTEGER NOT NULL,
    UNIQUE (factor_set_id, key)
)"#,
    },
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, STATEMENTS).await
    }
}
