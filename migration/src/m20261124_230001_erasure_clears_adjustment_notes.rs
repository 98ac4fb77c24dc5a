//! Lets an erasure clear the free-text note of a ledger entry.
//!
//! Ledger entries stay append-only: the one change allowed is setting `note`
//! to NULL with every other column unchanged, which `eraseCustomer` does for
//! the staff notes of manual adjustments. Amounts, reasons, dates and so every
//! sum stay as they were.

use sea_orm_migration::prelude::*;

use crate::sql::{run, Ddl};

#[derive(DeriveMigrationName)]
pub struct Migration;

// SQLite: the new trigger gets a new name. A pooled connection whose schema
// cache predates a DROP could refuse to re-create the old name.
const STATEMENTS: &[Ddl] = &[
    Ddl {
        sqlite: r#"CREATE TRIGGER ledger_entries_only_note_erased BEFORE UPDATE ON ledger_entries
WHEN NOT (NEW.note IS NULL
  AND NEW.id IS OLD.id AND NEW.membership_id IS OLD.membership_id AND NEW.delta IS OLD.delta
  AND NEW.reason IS OLD.reason AND NEW.source_key IS OLD.source_key
  AND NEW.occurred_at IS OLD.occurred_at AND NEW.expires_at IS OLD.expires_at
  AND NEW.actor_id IS OLD.actor_id AND NEW.created_at IS OLD.created_at)
BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END"#,
        postgres: r#"CREATE FUNCTION rapport_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.note IS NULL
     AND (to_jsonb(NEW) - 'note') = (to_jsonb(OLD) - 'note') THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'ledger_entries is append-only';
END $$"#,
    },
    Ddl {
        sqlite: r#"DROP TRIGGER ledger_entries_no_update"#,
        postgres: r#"CREATE TRIGGER ledger_entries_only_note_erased BEFORE UPDATE OR DELETE ON ledger_entries
FOR EACH ROW EXECUTE FUNCTION rapport_ledger_append_only()"#,
    },
    Ddl {
        sqlite: r#"SELECT 1"#,
        postgres: r#"DROP TRIGGER ledger_entries_append_only ON ledger_entries"#,
    },
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, STATEMENTS).await
    }
}
