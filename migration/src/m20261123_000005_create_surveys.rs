//! Creates the surveys tables.

use sea_orm_migration::prelude::*;

use crate::sql::{run, Ddl};

#[derive(DeriveMigrationName)]
pub struct Migration;

const STATEMENTS: &[Ddl] = &[
    Ddl {
        sqlite: r#"CREATE TABLE surveys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    description TEXT,
    locale TEXT,
    status TEXT NOT NULL,
    opens_at TEXT,
    closes_at TEXT,
    factor_set_id BIGINT REFERENCES csi_factor_sets(id),
    program_id BIGINT REFERENCES loyalty_programs(id),
    incentive_points BIGINT NOT NULL,
    helpful_bonus_points BIGINT NOT NULL,
    csi_threshold TEXT,
    created_by BIGINT REFERENCES users(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK (incentive_points >= 0),
    CHECK (helpful_bonus_points >= 0)
)"#,
        postgres: r#"CREATE TABLE surveys (
    id BIGSERIAL PRIMARY KEY,
    title TEXT NOT NULL,
    description TEXT,
    locale TEXT,
    status TEXT NOT NULL,
    opens_at TIMESTAMPTZ,
    closes_at TIMESTAMPTZ,
    factor_set_id BIGINT REFERENCES csi_factor_sets(id),
    program_id BIGINT REFERENCES loyalty_programs(id),
    incentive_points BIGINT NOT NULL,
    helpful_bonus_points BIGINT NOT NULL,
    csi_threshold TEXT,
    created_by BIGINT REFERENCES users(id),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    CHECK (incentive_points >= 0),
    CHECK (helpful_bonus_points >= 0)
)"#,
    },
    Ddl {
        sqlite: r#"CREATE TABLE survey_questions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    survey_id BIGINT NOT NULL REFERENCES surveys(id),
    position INTEGER NOT NULL,
    text TEXT NOT NULL,
    required BOOLEAN NOT NULL,
    kind TEXT NOT NULL,
    factor_key TEXT,
    options TEXT,
    max_length INTEGER
)"#,
        postgres: r#"CREATE TABLE survey_questions (
    id BIGSERIAL PRIMARY KEY,
    survey_id BIGINT NOT NULL REFERENCES surveys(id),
    position INTEGER NOT NULL,
    text TEXT NOT NULL,
    required BOOLEAN NOT NULL,
    kind TEXT NOT NULL,
    factor_key TEXT,
    options TEXT,
    max_length INTEGER
)"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_survey_questions_survey_id_position ON survey_questions (survey_id, position)"#,
        postgres: r#"CREATE INDEX idx_survey_questions_survey_id_position ON survey_questions (survey_id, position)"#,
    },
    Ddl {
        sqlite: r#"CREATE TABLE survey_invitations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    survey_id BIGINT NOT NULL REFERENCES surveys(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    used_at TEXT,
    revoked_at TEXT
)"#,
        postgres: r#"CREATE TABLE survey_invitations (
    id BIGSERIAL PRIMARY KEY,
    survey_id BIGINT NOT NULL REFERENCES surveys(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ
)"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_survey_invitations_survey_id_customer_id ON survey_invitations (survey_id, customer_id)"#,
        postgres: r#"CREATE INDEX idx_survey_invitations_survey_id_customer_id ON survey_invitations (survey_id, customer_id)"#,
    },
    Ddl {
        sqlite: r#"CREATE TABLE survey_responses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    survey_id BIGINT NOT NULL REFERENCES surveys(id),
    invitation_id BIGINT NOT NULL REFERENCES survey_invitations(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    submitted_at TEXT NOT NULL,
    csi TEXT,
    weighted_mean TEXT,
    factor_set_id BIGINT REFERENCES csi_factor_sets(id),
    helpful_at TEXT,
    helpful_by BIGINT REFERENCES users(id),
    UNIQUE (invitation_id)
)"#,
        postgres: r#"CREATE TABLE survey_responses (
    id BIGSERIAL PRIMARY KEY,
    survey_id BIGINT NOT NULL REFERENCES surveys(id),
    invitation_id BIGINT NOT NULL REFERENCES survey_invitations(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    submitted_at TIMESTAMPTZ NOT NULL,
    csi TEXT,
    weighted_mean TEXT,
    factor_set_id BIGINT REFERENCES csi_factor_sets(id),
    helpful_at TIMESTAMPTZ,
    helpful_by BIGINT REFERENCES users(id),
    UNIQUE (invitation_id)
)"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_survey_responses_survey_id_submitted_at ON survey_responses (survey_id, submitted_at)"#,
        postgres: r#"CREATE INDEX idx_survey_responses_survey_id_submitted_at ON survey_responses (survey_id, submitted_at)"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_survey_responses_customer_id ON survey_responses (customer_id)"#,
        postgres: r#"CREATE INDEX idx_survey_responses_customer_id ON survey_responses (customer_id)"#,
    },
    Ddl {
        sqlite: r#"CREATE TABLE survey_answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    response_id BIGINT NOT NULL REFERENCES survey_responses(id),
    question_id BIGINT NOT NULL REFERENCES survey_questions(id),
    rating INTEGER,
    choices TEXT,
    text TEXT,
    UNIQUE (response_id, question_id)
)"#,
        postgres: r#"CREATE TABLE survey_answers (
    id BIGSERIAL PRIMARY KEY,
    response_id BIGINT NOT NULL REFERENCES survey_responses(id),
    question_id BIGINT NOT NULL REFERENCES survey_questions(id),
    rating INTEGER,
    choices TEXT,
    text TEXT,
    UNIQUE (response_id, question_id)
)"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_survey_answers_question_id ON survey_answers (question_id)"#,
        postgres: r#"CREATE INDEX idx_survey_answers_question_id ON survey_answers (question_id)"#,
    },
    Ddl {
        sqlite: r#"CREATE TABLE csi_ratings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    factor_set_id BIGINT NOT NULL REFERENCES csi_factor_sets(id),
    factor_id BIGINT NOT NULL REFERENCES csi_factors(id),
    response_id BIGINT REFERENCES survey_responses(id),
    customer_id BIGINT REFERENCES customers(id),
    rating INTEGER NOT NULL,
    rated_at TEXT NOT NULL
)"#,
        postgres: r#"CREATE TABLE csi_ratings (
    id BIGSERIAL PRIMARY KEY,
    factor_set_id BIGINT NOT NULL REFERENCES csi_factor_sets(id),
    factor_id BIGINT NOT NULL REFERENCES csi_factors(id),
    response_id BIGINT REFERENCES survey_responses(id),
    customer_id BIGINT REFERENCES customers(id),
    rating INTEGER NOT NULL,
    rated_at TIMESTAMPTZ NOT NULL
)"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_csi_ratings_factor_set_id_rated_at ON csi_ratings (factor_set_id, rated_at)"#,
        postgres: r#"CREATE INDEX idx_csi_ratings_factor_set_id_rated_at ON csi_ratings (factor_set_id, rated_at)"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_csi_ratings_response_id ON csi_ratings (response_id)"#,
        postgres: r#"CREATE INDEX idx_csi_ratings_response_id ON csi_ratings (response_id)"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_csi_ratings_factor_id ON csi_ratings (factor_id)"#,
        postgres: r#"CREATE INDEX idx_csi_ratings_factor_id ON csi_ratings (factor_id)"#,
    },
    Ddl {
        sqlite: r#"CREATE TABLE follow_ups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    response_id BIGINT NOT NULL REFERENCES survey_responses(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    resolved_at TEXT,
    resolved_by BIGINT REFERENCES users(id),
    note TEXT,
    UNIQUE (response_id)
)"#,
        postgres: r#"CREATE TABLE follow_ups (
    id BIGSERIAL PRIMARY KEY,
    response_id BIGINT NOT NULL REFERENCES survey_responses(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    opened_at TIMESTAMPTZ NOT NULL,
    resolved_at TIMESTAMPTZ,
    resolved_by BIGINT REFERENCES users(id),
    note TEXT,
    UNIQUE (response_id)
)"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_follow_ups_status_opened_at ON follow_ups (status, opened_at)"#,
        postgres: r#"CREATE INDEX idx_follow_ups_status_opened_at ON follow_ups (status, opened_at)"#,
    },
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, STATEMENTS).await
    }
}
