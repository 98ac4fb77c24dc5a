//! Creates the loyalty tables.

use sea_orm_migration::prelude::*;

use crate::sql::{run, Ddl};

#[derive(DeriveMigrationName)]
pub struct Migration;

const STATEMENTS: &[Ddl] = &[
    Ddl {
        sqlite: r#"CREATE TABLE loyalty_programs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    currency TEXT NOT NULL,
    points_per_currency_unit TEXT NOT NULL,
    points_expire_after_days INTEGER,
    referral_bonus_points BIGINT NOT NULL,
    referral_window_days INTEGER NOT NULL,
    birthday_bonus_points BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
)"#,
        postgres: r#"CREATE TABLE loyalty_programs (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    currency TEXT NOT NULL,
    points_per_currency_unit TEXT NOT NULL,
    points_expire_after_days INTEGER,
    referral_bonus_points BIGINT NOT NULL,
    referral_window_days INTEGER NOT NULL,
    birthday_bonus_points BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
)"#,
    },
    Ddl {
        sqlite: r#"CREATE TABLE loyalty_tiers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    program_id BIGINT NOT NULL REFERENCES loyalty_programs(id),
    name TEXT NOT NULL,
    min_lifetime_points BIGINT NOT NULL,
    earn_multiplier TEXT NOT NULL,
    UNIQUE (program_id, name)
)"#,
        postgres: r#"CREATE TABLE loyalty_tiers (
    id BIGSERIAL PRIMARY KEY,
    program_id BIGINT NOT NULL REFERENCES loyalty_programs(id),
    name TEXT NOT NULL,
    min_lifetime_points BIGINT NOT NULL,
    earn_multiplier TEXT NOT NULL,
    UNIQUE (program_id, name)
)"#,
    },
    Ddl {
        sqlite: r#"CREATE TABLE memberships (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    program_id BIGINT NOT NULL REFERENCES loyalty_programs(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    balance BIGINT NOT NULL,
    lifetime_points BIGINT NOT NULL,
    enrolled_at TEXT NOT NULL,
    UNIQUE (program_id, customer_id),
    CHECK (balance >= 0),
    CHECK (lifetime_points >= 0)
)"#,
        postgres: r#"CREATE TABLE memberships (
    id BIGSERIAL PRIMARY KEY,
    program_id BIGINT NOT NULL REFERENCES loyalty_programs(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    balance BIGINT NOT NULL,
    lifetime_points BIGINT NOT NULL,
    enrolled_at TIMESTAMPTZ NOT NULL,
    UNIQUE (program_id, customer_id),
    CHECK (balance >= 0),
    CHECK (lifetime_points >= 0)
)"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_memberships_customer_id ON memberships (customer_id)"#,
        postgres: r#"CREATE INDEX idx_memberships_customer_id ON memberships (customer_id)"#,
    },
    Ddl {
        sqlite: r#"CREATE TABLE ledger_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    membership_id BIGINT NOT NULL REFERENCES memberships(id),
    delta BIGINT NOT NULL,
    reason TEXT NOT NULL,
    source_key TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    expires_at TEXT,
    actor_id BIGINT REFERENCES users(id),
    note TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (membership_id, reason, source_key),
    CHECK (delta <> 0)
)"#,
        postgres: r#"CREATE TABLE ledger_entries (
    id BIGSERIAL PRIMARY KEY,
    membership_id BIGINT NOT NULL REFERENCES memberships(id),
    delta BIGINT NOT NULL,
    reason TEXT NOT NULL,
    source_key TEXT NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ,
    actor_id BIGINT REFERENCES users(id),
    note TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (membership_id, reason, source_key),
    CHECK (delta <> 0)
)"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_ledger_entries_membership_id_occurred_at ON ledger_entries (membership_id, occurred_at)"#,
        postgres: r#"CREATE INDEX idx_ledger_entries_membership_id_occurred_at ON ledger_entries (membership_id, occurred_at)"#,
    },
    Ddl {
        sqlite: r#"CREATE TABLE rewards (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    program_id BIGINT NOT NULL REFERENCES loyalty_programs(id),
    name TEXT NOT NULL,
    cost_points BIGINT NOT NULL,
    stock BIGINT,
    active BOOLEAN NOT NULL,
    created_at TEXT NOT NULL,
    CHECK (cost_points > 0),
    CHECK (stock IS NULL OR stock >= 0)
)"#,
        postgres: r#"CREATE TABLE rewards (
    id BIGSERIAL PRIMARY KEY,
    program_id BIGINT NOT NULL REFERENCES loyalty_programs(id),
    name TEXT NOT NULL,
    cost_points BIGINT NOT NULL,
    stock BIGINT,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    CHECK (cost_points > 0),
    CHECK (stock IS NULL OR stock >= 0)
)"#,
    },
    Ddl {
        sqlite: r#"CREATE TABLE redemptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    membership_id BIGINT NOT NULL REFERENCES memberships(id),
    reward_id BIGINT NOT NULL REFERENCES rewards(id),
    ledger_entry_id BIGINT NOT NULL REFERENCES ledger_entries(id),
    created_at TEXT NOT NULL
)"#,
        postgres: r#"CREATE TABLE redemptions (
    id BIGSERIAL PRIMARY KEY,
    membership_id BIGINT NOT NULL REFERENCES memberships(id),
    reward_id BIGINT NOT NULL REFERENCES rewards(id),
    ledger_entry_id BIGINT NOT NULL REFERENCES ledger_entries(id),
    created_at TIMESTAMPTZ NOT NULL
)"#,
    },
    Ddl {
        sqlite: r#"CREATE TABLE promotions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    program_id BIGINT NOT NULL REFERENCES loyalty_programs(id),
    name TEXT NOT NULL,
    multiplier TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    tag TEXT,
    created_at TEXT NOT NULL
)"#,
        postgres: r#"CREATE TABLE promotions (
    id BIGSERIAL PRIMARY KEY,
    program_id BIGINT NOT NULL REFERENCES loyalty_programs(id),
    name TEXT NOT NULL,
    multiplier TEXT NOT NULL,
    starts_at TIMESTAMPTZ NOT NULL,
    ends_at TIMESTAMPTZ NOT NULL,
    tag TEXT,
    created_at TIMESTAMPTZ NOT NULL
)"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_promotions_program_id_starts_at ON promotions (program_id, starts_at)"#,
        postgres: r#"CREATE INDEX idx_promotions_program_id_starts_at ON promotions (program_id, starts_at)"#,
    },
    Ddl {
        sqlite: r#"CREATE TABLE idempotency_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (scope, key)
)"#,
        postgres: r#"CREATE TABLE idempotency_keys (
    id BIGSERIAL PRIMARY KEY,
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (scope, key)
)"#,
    },
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, STATEMENTS).await
    }
}
