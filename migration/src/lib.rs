//! Forward-only schema migrations for SQLite and PostgreSQL.
//!
//! Migrations never use `entity::…`, so old ones keep compiling when entities
//! change. A migration is never edited once released: add a new one.

pub use sea_orm_migration::prelude::*;

mod sql;

mod m20261123_000001_create_users;
mod m20261123_000002_create_customers;
mod m20261123_000003_create_loyalty;
mod m20261123_000004_create_csi;
mod m20261123_000005_create_surveys;
mod m20261123_000006_create_guards;
mod m20261123_200001_ledger_maintains_balance;
mod m20261123_200002_ledger_guard_multirow;
mod m20261123_300001_csi_versions_and_report_index;
mod m20261123_500001_metrics_indexes;
mod m20261123_600001_responses_by_customer_index;
mod m20261124_140001_login_failures_by_client;
mod m20261124_140002_idempotency_keys_by_actor;
mod m20261124_230001_erasure_clears_adjustment_notes;
mod m20261127_130001_programs_enroll_on_first_purchase;
mod m20261127_230001_cross_process_state;
mod m20261127_230001_invitations_by_survey;
mod m20261127_230002_csi_superseded_versions;
mod m20261128_000001_list_filter_indexes;
mod m20261128_100001_outbox;
mod m20261128_110001_webhook_endpoints;
mod m20261128_120001_email;
mod m20261128_130001_export_indexes;
mod m20261128_140001_overall_satisfaction_question;
mod m20261128_160001_survey_translations;
mod m20261128_170001_conditions_and_hidden_fields;
mod m20261128_180001_question_types;
mod m20261129_090001_csi_report_index_by_response;
mod m20261130_090001_answers_by_response_with_rating;
mod m20261130_100001_lookup_attempts_unlogged;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_users::Migration),
            Box::new(m20261123_000002_create_customers::Migration),
            Box::new(m20261123_000003_create_loyalty::Migration),
            Box::new(m20261123_000004_create_csi::Migration),
            Box::new(m20261123_000005_create_surveys::Migration),
            Box::new(m20261123_000006_create_guards::Migration),
            Box::new(m20261123_300001_csi_versions_and_report_index::Migration),
            Box::new(m20261123_500001_metrics_indexes::Migration),
            Box::new(m20261123_600001_responses_by_customer_index::Migration),
            Box::new(m20261123_200001_ledger_maintains_balance::Migration),
            Box::new(m20261123_200002_ledger_guard_multirow::Migration),
            Box::new(m20261124_140001_login_failures_by_client::Migration),
            Box::new(m20261124_140002_idempotency_keys_by_actor::Migration),
            Box::new(m20261127_130001_programs_enroll_on_first_purchase::Migration),
            Box::new(m20261124_230001_erasure_clears_adjustment_notes::Migration),
            Box::new(m20261127_230001_invitations_by_survey::Migration),
            Box::new(m20261127_230002_csi_superseded_versions::Migration),
            Box::new(m20261127_230001_cross_process_state::Migration),
            Box::new(m20261128_000001_list_filter_indexes::Migration),
            Box::new(m20261128_100001_outbox::Migration),
            Box::new(m20261128_140001_overall_satisfaction_question::Migration),
            Box::new(m20261128_120001_email::Migration),
            Box::new(m20261128_110001_webhook_endpoints::Migration),
            Box::new(m20261128_130001_export_indexes::Migration),
            Box::new(m20261128_160001_survey_translations::Migration),
            Box::new(m20261128_170001_conditions_and_hidden_fields::Migration),
            Box::new(m20261128_180001_question_types::Migration),
            Box::new(m20261129_090001_csi_report_index_by_response::Migration),
            Box::new(m20261130_090001_answers_by_response_with_rating::Migration),
            Box::new(m20261130_100001_lookup_attempts_unlogged::Migration),
        ]
    }
}
