//! Indexes for the filters and orders of the survey response, follow-up,
//! survey and ledger lists. Each order's key is indexed with the id that
//! breaks its ties, so a keyset page reads an index range instead of sorting
//! the table. Expressions (the CSI as a number, the lower-cased title) are
//! indexed exactly as the domain writes them (`feedback::results::CSI_KEY`,
//! `feedback::surveys`).

use sea_orm_migration::prelude::*;

use crate::sql::{run, Ddl};

#[derive(DeriveMigrationName)]
pub struct Migration;

const STATEMENTS: &[Ddl] = &[
    Ddl {
        sqlite: r#"CREATE INDEX idx_survey_responses_submitted_at_id ON survey_responses (submitted_at, id)"#,
        postgres: r#"CREATE INDEX idx_survey_responses_submitted_at_id ON survey_responses (submitted_at, id)"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_survey_responses_survey_id_csi_id ON survey_responses (survey_id, COALESCE(CAST(csi AS NUMERIC), -1), id)"#,
        postgres: r#"CREATE INDEX idx_survey_responses_survey_id_csi_id ON survey_responses (survey_id, (COALESCE(CAST(csi AS NUMERIC), -1)), id)"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_follow_ups_opened_at_id ON follow_ups (opened_at, id)"#,
        postgres: r#"CREATE INDEX idx_follow_ups_opened_at_id ON follow_ups (opened_at, id)"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_follow_ups_customer_id_opened_at ON follow_ups (customer_id, opened_at)"#,
        postgres: r#"CREATE INDEX idx_follow_ups_customer_id_opened_at ON follow_ups (customer_id, opened_at)"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_surveys_status_created_at ON surveys (status, created_at)"#,
        postgres: r#"CREATE INDEX idx_surveys_status_created_at ON surveys (status, created_at)"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_surveys_created_at_id ON surveys (created_at, id)"#,
        postgres: r#"CREATE INDEX idx_surveys_created_at_id ON surveys (created_at, id)"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_surveys_lower_title_id ON surveys (LOWER(title), id)"#,
        postgres: r#"CREATE INDEX idx_surveys_lower_title_id ON surveys ((LOWER(title)), id)"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_ledger_entries_membership_id_delta_id ON ledger_entries (membership_id, delta, id)"#,
        postgres: r#"CREATE INDEX idx_ledger_entries_membership_id_delta_id ON ledger_entries (membership_id, delta, id)"#,
    },
    Ddl {
        sqlite: r#"CREATE INDEX idx_ledger_entries_membership_id_reason_id ON ledger_entries (membership_id, reason, id)"#,
        postgres: r#"CREATE INDEX idx_ledger_entries_membership_id_reason_id ON ledger_entries (membership_id, reason, id)"#,
    },
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, STATEMENTS).await
    }
}
