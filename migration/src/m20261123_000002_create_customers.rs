//! Creates the customers tables.

use sea_orm_migration::prelude::*;

use crate::sql::{run, Ddl};

#[derive(DeriveMigrationName)]
pub struct Migration;

const STATEMENTS: &[Ddl] = &[
    Ddl {
        sqlite: r#"CREATE TABLE customers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    birthday TEXT,
    locale TEXT,
    relationship_stage TEXT NOT NULL,
    relationship_type TEXT,
    acquired_at TEXT NOT NULL,
    referred_by_id BIGINT REFERENCES customers(id),
    churned_at TEXT,
    churn_reason TEXT,
    churn_note TEXT,
    marketing_consent BOOLEAN NOT NULL,
    erased_at TEXT,
    erased_by BIGINT REFERENCES users(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (email)
)"#,
        postgres: r#"CREATE TABLE customers (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    birthday DATE,
    locale TEXT,
    relationship_stage TEXT NOT NULL,
    relationship_type TEXT,
    acquired_at TIMESTAMPTZ NOT NULL,
    referred_by_id BIGINT REFERENCES customers(id),
    churned_at TIMESTAMPTZ,
    churn_reason TEXT,
    churn_note TEXT,
    marketing_consent BOOLEAN NOT NULL,
    erased_at TIMESTAMPTZ,
    erased_by BIGINT REFERENCES users(id),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (email)
)"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_customers_acquired_at ON customers (acquired_at)"#,
        postgres: r#"CREATE INDEX idx_customers_acquired_at ON customers (acquired_at)"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_customers_referred_by_id ON customers (referred_by_id)"#,
        postgres: r#"CREATE INDEX idx_customers_referred_by_id ON customers (referred_by_id)"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_customers_name ON customers (name)"#,
        postgres: r#"CREATE INDEX idx_customers_name ON customers (name)"#,
    },
    Ddl {
        sqlite: r#"CREATE TABLE customer_tags (
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    tag TEXT NOT NULL,
    PRIMARY KEY (customer_id, tag)
)"#,
        postgres: r#"CREATE TABLE customer_tags (
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    tag TEXT NOT NULL,
    PRIMARY KEY (customer_id, tag)
)"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_customer_tags_tag ON customer_tags (tag)"#,
        postgres: r#"CREATE INDEX idx_customer_tags_tag ON customer_tags (tag)"#,
    },
    Ddl {
        sqlite: r#"CREATE TABLE churn_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    churned_at TEXT NOT NULL,
    reason TEXT NOT NULL,
    note TEXT,
    reactivated_at TEXT,
    created_at TEXT NOT NULL
)"#,
        postgres: r#"CREATE TABLE churn_events (
    id BIGSERIAL PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    churned_at TIMESTAMPTZ NOT NULL,
    reason TEXT NOT NULL,
    note TEXT,
    reactivated_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL
)"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_churn_events_customer_id ON churn_events (customer_id)"#,
        postgres: r#"CREATE INDEX idx_churn_events_customer_id ON churn_events (customer_id)"#,
    },
    Ddl {
        sqlite: r#"CREATE TABLE interactions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    channel TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    summary TEXT,
    helped BOOLEAN NOT NULL,
    recorded_by BIGINT REFERENCES users(id),
    created_at TEXT NOT NULL
)"#,
        postgres: r#"CREATE TABLE interactions (
    id BIGSERIAL PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    channel TEXT NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    summary TEXT,
    helped BOOLEAN NOT NULL,
    recorded_by BIGINT REFERENCES users(id),
    created_at TIMESTAMPTZ NOT NULL
)"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_interactions_customer_id_occurred_at ON interactions (customer_id, occurred_at)"#,
        postgres: r#"CREATE INDEX idx_interactions_customer_id_occurred_at ON interactions (customer_id, occurred_at)"#,
    },
    Ddl {
        sqlite: r#"CREATE TABLE purchases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    external_ref TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (customer_id, external_ref)
)"#,
        postgres: r#"CREATE TABLE purchases (
    id BIGSERIAL PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    external_ref TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (customer_id, external_ref)
)"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_purchases_customer_id_occurred_at ON purchases (customer_id, occurred_at)"#,
        postgres: r#"CREATE INDEX idx_purchases_customer_id_occurred_at ON purchases (customer_id, occurred_at)"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_purchases_occurred_at ON purchases (occurred_at)"#,
        postgres: r#"CREATE INDEX idx_purchases_occurred_at ON purchases (occurred_at)"#,
    },
    Ddl {
        sqlite: r#"CREATE TABLE costs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id BIGINT REFERENCES customers(id),
    kind TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    incurred_on TEXT NOT NULL,
    note TEXT,
    created_at TEXT NOT NULL
)"#,
        postgres: r#"CREATE TABLE costs (
    id BIGSERIAL PRIMARY KEY,
    customer_id BIGINT REFERENCES customers(id),
    kind TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    incurred_on DATE NOT NULL,
    note TEXT,
    created_at TIMESTAMPTZ NOT NULL
)"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_costs_incurred_on ON costs (incurred_on)"#,
        postgres: r#"CREATE INDEX idx_costs_incurred_on ON costs (incurred_on)"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_costs_customer_id ON costs (customer_id)"#,
        postgres: r#"CREATE INDEX idx_costs_customer_id ON costs (customer_id)"#,
    },
    Ddl {
        sqlite: r#"CREATE TABLE erasures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    erased_by BIGINT NOT NULL REFERENCES users(id),
    erased_at TEXT NOT NULL
)"#,
        postgres: r#"CREATE TABLE erasures (
    id BIGSERIAL PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    erased_by BIGINT NOT NULL REFERENCES users(id),
    erased_at TIMESTAMPTZ NOT NULL
)"#,
    },
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, STATEMENTS).await
    }
}
