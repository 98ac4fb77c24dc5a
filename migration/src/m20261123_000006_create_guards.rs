//! Database-level guards: the points ledger is append-only, a published CSI
//! factor-set version never changes, and one customer holds at most one live
//! invitation per survey.

use sea_orm_migration::prelude::*;

use crate::sql::{run, Ddl};

#[derive(DeriveMigrationName)]
pub struct Migration;

const STATEMENTS: &[Ddl] = &[
    Ddl {
        sqlite: r#"CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END"#,
        postgres: r#"CREATE FUNCTION rapport_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION '% is append-only or frozen', TG_TABLE_NAME; END $$"#,
    },
    Ddl {
        sqlite: r#"CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END"#,
        postgres: r#"CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
FOR EACH ROW EXECUTE FUNCTION rapport_reject_change()"#,
    },
    Ddl {
        sqlite: r#"CREATE TRIGGER csi_factors_frozen_update BEFORE UPDATE ON csi_factors
WHEN (SELECT status FROM csi_factor_sets WHERE id = OLD.factor_set_id) <> 'DRAFT'
BEGIN SELECT RAISE(ABORT, 'published factor sets are frozen'); END"#,
        postgres: r#"CREATE FUNCTION rapport_csi_factor_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE set_status TEXT;
BEGIN
  SELECT status INTO set_status FROM csi_factor_sets
   WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.factor_set_id ELSE NEW.factor_set_id END;
  IF set_status IS DISTINCT FROM 'DRAFT' THEN
    RAISE EXCEPTION 'published factor sets are frozen';
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$"#,
    },
    Ddl {
        sqlite: r#"CREATE TRIGGER csi_factors_frozen_delete BEFORE DELETE ON csi_factors
WHEN (SELECT status FROM csi_factor_sets WHERE id = OLD.factor_set_id) <> 'DRAFT'
BEGIN SELECT RAISE(ABORT, 'published factor sets are frozen'); END"#,
        postgres: r#"CREATE TRIGGER csi_factors_frozen BEFORE INSERT OR UPDATE OR DELETE ON csi_factors
FOR EACH ROW EXECUTE FUNCTION rapport_csi_factor_frozen()"#,
    },
    Ddl {
        sqlite: r#"CREATE TRIGGER csi_factors_frozen_insert BEFORE INSERT ON csi_factors
WHEN (SELECT status FROM csi_factor_sets WHERE id = NEW.factor_set_id) <> 'DRAFT'
BEGIN SELECT RAISE(ABORT, 'published factor sets are frozen'); END"#,
        postgres: r#"CREATE FUNCTION rapport_csi_set_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status <> 'DRAFT' AND (NEW.scale_min <> OLD.scale_min OR NEW.scale_max <> OLD.scale_max
     OR NEW.name <> OLD.name OR NEW.version <> OLD.version
     OR (OLD.status = 'ARCHIVED' AND NEW.status <> 'ARCHIVED')) THEN
    RAISE EXCEPTION 'published factor sets are frozen';
  END IF;
  RETURN NEW;
END $$"#,
    },
    Ddl {
        sqlite: r#"CREATE TRIGGER csi_factor_sets_frozen BEFORE UPDATE ON csi_factor_sets
WHEN OLD.status <> 'DRAFT' AND (NEW.scale_min <> OLD.scale_min OR NEW.scale_max <> OLD.scale_max
  OR NEW.name <> OLD.name OR NEW.version <> OLD.version
  OR (OLD.status = 'ARCHIVED' AND NEW.status <> 'ARCHIVED'))
BEGIN SELECT RAISE(ABORT, 'published factor sets are frozen'); END"#,
        postgres: r#"CREATE TRIGGER csi_factor_sets_frozen BEFORE UPDATE ON csi_factor_sets
FOR EACH ROW EXECUTE FUNCTION rapport_csi_set_frozen()"#,
    },
    Ddl {
        sqlite: r#"CREATE UNIQUE INDEX uq_survey_invitations_live ON survey_invitations (survey_id, customer_id)
WHERE used_at IS NULL AND revoked_at IS NULL"#,
        postgres: r#"CREATE UNIQUE INDEX uq_survey_invitations_live ON survey_invitations (survey_id, customer_id)
WHERE used_at IS NULL AND revoked_at IS NULL"#,
    },
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, STATEMENTS).await
    }
}
