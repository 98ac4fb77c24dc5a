//! Creates the users tables.

use sea_orm_migration::prelude::*;

use crate::sql::{run, Ddl};

#[derive(DeriveMigrationName)]
pub struct Migration;

const STATEMENTS: &[Ddl] = &[
    Ddl {
        sqlite: r#"CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
)"#,
        postgres: r#"CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
)"#,
    },
    Ddl {
        sqlite: r#"CREATE TABLE refresh_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users(id),
    family_id TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    revoked_at TEXT
)"#,
        postgres: r#"CREATE TABLE refresh_tokens (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    family_id TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ
)"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_refresh_tokens_family_id ON refresh_tokens (family_id)"#,
        postgres: r#"CREATE INDEX idx_refresh_tokens_family_id ON refresh_tokens (family_id)"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_refresh_tokens_user_id ON refresh_tokens (user_id)"#,
        postgres: r#"CREATE INDEX idx_refresh_tokens_user_id ON refresh_tokens (user_id)"#,
    },
    Ddl {
        sqlite: r#"CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email_key TEXT NOT NULL,
    occurred_at TEXT NOT NULL
)"#,
        postgres: r#"CREATE TABLE login_failures (
    id BIGSERIAL PRIMARY KEY,
    email_key TEXT NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL
)"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_login_failures_email_key_occurred_at ON login_failures (email_key, occurred_at)"#,
        postgres: r#"CREATE INDEX idx_login_failures_email_key_occurred_at ON login_failures (email_key, occurred_at)"#,
    },
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, STATEMENTS).await
    }
}
