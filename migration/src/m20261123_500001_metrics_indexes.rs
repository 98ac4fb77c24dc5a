//! Indexes for the relationship metrics' period scans (SPEC §7): churn events,
//! ledger entries and survey invitations are selected by date range.

use sea_orm_migration::prelude::*;

use crate::sql::{run, Ddl};

#[derive(DeriveMigrationName)]
pub struct Migration;

const STATEMENTS: &[Ddl] = &[
    Ddl {
        sqlite: r#"CREATE INDEX idx_churn_events_churned_at ON churn_events (churned_at)"#,
        postgres: r#"CREATE INDEX idx_churn_events_churned_at ON churn_events (churned_at)"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_ledger_entries_occurred_at ON ledger_entries (occurred_at)"#,
        postgres: r#"CREATE INDEX idx_ledger_entries_occurred_at ON ledger_entries (occurred_at)"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_survey_invitations_created_at ON survey_invitations (created_at)"#,
        postgres: r#"CREATE INDEX idx_survey_invitations_created_at ON survey_invitations (created_at)"#,
    },
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, STATEMENTS).await
    }
}
