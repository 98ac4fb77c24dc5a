//! Makes the PostgreSQL balance guard of `m20261123_200001` correct for
//! multi-row inserts into `ledger_entries`.
//!
//! PostgreSQL fires the AFTER ROW triggers of one INSERT statement at the end
//! of the statement, so comparing a balance with the ledger's sum while the
//! first row's trigger runs sees every row of the statement and fails. Instead,
//! a balance may change only from inside the ledger trigger
//! (`pg_trigger_depth() > 1`); since that trigger adds exactly each new entry's
//! delta to a membership that starts at zero, and entries never change, the
//! balance is the ledger's sum by construction. SQLite fires row triggers as
//! each row is written, so its sum-based guard is exact and stays.

use sea_orm_migration::prelude::*;

use crate::sql::{run, Ddl};

#[derive(DeriveMigrationName)]
pub struct Migration;

const STATEMENTS: &[Ddl] = &[Ddl {
    // Nothing to change on SQLite (see above); a statement is still required.
    sqlite: r#"SELECT 1"#,
    postgres: r#"CREATE OR REPLACE FUNCTION rapport_membership_matches_ledger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.balance <> 0 OR NEW.lifetime_points <> 0 THEN
      RAISE EXCEPTION 'a membership starts with an empty ledger';
    END IF;
  ELSIF (NEW.balance IS DISTINCT FROM OLD.balance OR NEW.lifetime_points IS DISTINCT FROM OLD.lifetime_points)
        AND pg_trigger_depth() < 2 THEN
    RAISE EXCEPTION 'a membership balance must equal the sum of its ledger';
  END IF;
  RETURN NEW;
END $$"#,
}];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, STATEMENTS).await
    }
}
