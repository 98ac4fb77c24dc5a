//! The database keeps `memberships.balance = Σ ledger deltas` and
//! `lifetime_points = Σ positive deltas` itself: appending an entry moves the
//! balance (trigger), and any other change to a balance that would differ from
//! its ledger is refused, so the invariant holds whatever code writes.
//! Together with `CHECK (balance >= 0)` and the append-only triggers, the
//! SPEC §6 rule "the balance always equals the sum of the ledger and is never
//! negative" is enforced by the database, not only by code.

use sea_orm_migration::prelude::*;

use crate::sql::{run, Ddl};

#[derive(DeriveMigrationName)]
pub struct Migration;

const STATEMENTS: &[Ddl] = &[
    Ddl {
        sqlite: r#"CREATE TRIGGER ledger_entries_move_balance AFTER INSERT ON ledger_entries
BEGIN
  UPDATE memberships
     SET balance = balance + NEW.delta,
         lifetime_points = lifetime_points + (CASE WHEN NEW.delta > 0 THEN NEW.delta ELSE 0 END)
   WHERE id = NEW.membership_id;
END"#,
        postgres: r#"CREATE FUNCTION rapport_ledger_move_balance() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE memberships
     SET balance = balance + NEW.delta,
         lifetime_points = lifetime_points + GREATEST(NEW.delta, 0)
   WHERE id = NEW.membership_id;
  RETURN NULL;
END $$"#,
    },
    Ddl {
        sqlite: r#"CREATE TRIGGER memberships_start_empty BEFORE INSERT ON memberships
WHEN NEW.balance <> 0 OR NEW.lifetime_points <> 0
BEGIN SELECT RAISE(ABORT, 'a membership starts with an empty ledger'); END"#,
        postgres: r#"CREATE TRIGGER ledger_entries_move_balance AFTER INSERT ON ledger_entries
FOR EACH ROW EXECUTE FUNCTION rapport_ledger_move_balance()"#,
    },
    Ddl {
        sqlite: r#"CREATE TRIGGER memberships_balance_is_ledger_sum BEFORE UPDATE OF balance ON memberships
WHEN NEW.balance <> OLD.balance
 AND NEW.balance <> (SELECT COALESCE(SUM(delta), 0) FROM ledger_entries WHERE membership_id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'a membership balance must equal the sum of its ledger'); END"#,
        postgres: r#"CREATE FUNCTION rapport_membership_matches_ledger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.balance <> 0 OR NEW.lifetime_points <> 0 THEN
      RAISE EXCEPTION 'a membership starts with an empty ledger';
    END IF;
  ELSIF NEW.balance IS DISTINCT FROM OLD.balance OR NEW.lifetime_points IS DISTINCT FROM OLD.lifetime_points THEN
    IF NEW.balance <> (SELECT COALESCE(SUM(delta), 0) FROM ledger_entries WHERE membership_id = NEW.id)
       OR NEW.lifetime_points <> (SELECT COALESCE(SUM(delta), 0) FROM ledger_entries WHERE membership_id = NEW.id AND delta > 0) THEN
      RAISE EXCEPTION 'a membership balance must equal the sum of its ledger';
    END IF;
  END IF;
  RETURN NEW;
END $$"#,
    },
    Ddl {
        sqlite: r#"CREATE TRIGGER memberships_lifetime_is_ledger_credits BEFORE UPDATE OF lifetime_points ON memberships
WHEN NEW.lifetime_points <> OLD.lifetime_points
 AND NEW.lifetime_points <> (SELECT COALESCE(SUM(delta), 0) FROM ledger_entries WHERE membership_id = NEW.id AND delta > 0)
BEGIN SELECT RAISE(ABORT, 'a membership balance must equal the sum of its ledger'); END"#,
        postgres: r#"CREATE TRIGGER memberships_match_ledger BEFORE INSERT OR UPDATE ON memberships
FOR EACH ROW EXECUTE FUNCTION rapport_membership_matches_ledger()"#,
    },
    Ddl {
        // The sums above and the ledger pages read a membership's entries by id.
        sqlite: r#"CREATE INDEX idx_ledger_entries_membership_id_id ON ledger_entries (membership_id, id)"#,
        postgres: r#"CREATE INDEX idx_ledger_entries_membership_id_id ON ledger_entries (membership_id, id)"#,
    },
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, STATEMENTS).await
    }
}
