//! Idempotency keys are scoped by actor and operation: the unique index
//! becomes `(scope, actor_id, key)`. Existing keys are attributed to the user
//! of the ledger entry they produced (`redemption:<key>` / `adjustment:<key>`),
//! so a retry that straddles the upgrade still replays; a key without such an
//! entry gets actor 0 (no user has that id). SQLite cannot drop a table's
//! UNIQUE constraint, so there the table is rebuilt.

use sea_orm_migration::prelude::*;

use crate::sql::{run, Ddl};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The user of the ledger entry an old key produced, or 0.
macro_rules! old_actor {
    ($alias:literal) => {
        concat!(
            "COALESCE((SELECT le.actor_id FROM ledger_entries le WHERE le.source_key = ",
            "(CASE ",
            $alias,
            ".scope WHEN 'redeemReward' THEN 'redemption:' ELSE 'adjustment:' END) || ",
            $alias,
            ".key AND le.actor_id IS NOT NULL LIMIT 1), 0)"
        )
    };
}

const STATEMENTS: &[Ddl] = &[
    // A temporary index keeps the attribution one lookup per key.
    Ddl {
        sqlite: r#"CREATE INDEX tmp_ledger_entries_source_key ON ledger_entries (source_key)"#,
        postgres: r#"CREATE INDEX tmp_ledger_entries_source_key ON ledger_entries (source_key)"#,
    },
    Ddl {
        sqlite: r#"CREATE TABLE idempotency_keys_scoped (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scope TEXT NOT NULL,
    actor_id BIGINT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at TEXT NOT NULL
)"#,
        postgres: r#"ALTER TABLE idempotency_keys ADD COLUMN actor_id BIGINT NOT NULL DEFAULT 0"#,
    },
    Ddl {
        sqlite: concat!(
            "INSERT INTO idempotency_keys_scoped (id, scope, actor_id, key, request_hash, response, created_at) ",
            "SELECT i.id, i.scope, ",
            old_actor!("i"),
            ", i.key, i.request_hash, i.response, i.created_at FROM idempotency_keys i"
        ),
        postgres: concat!("UPDATE idempotency_keys i SET actor_id = ", old_actor!("i")),
    },
    Ddl {
        sqlite: r#"DROP TABLE idempotency_keys"#,
        postgres: r#"ALTER TABLE idempotency_keys ALTER COLUMN actor_id DROP DEFAULT"#,
    },
    Ddl {
        sqlite: r#"ALTER TABLE idempotency_keys_scoped RENAME TO idempotency_keys"#,
        postgres: r#"ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_scope_key_key"#,
    },
    Ddl {
        sqlite: r#"CREATE UNIQUE INDEX idx_idempotency_keys_scope_actor_id_key ON idempotency_keys (scope, actor_id, key)"#,
        postgres: r#"CREATE UNIQUE INDEX idx_idempotency_keys_scope_actor_id_key ON idempotency_keys (scope, actor_id, key)"#,
    },
    Ddl {
        sqlite: r#"DROP INDEX tmp_ledger_entries_source_key"#,
        postgres: r#"DROP INDEX tmp_ledger_entries_source_key"#,
    },
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// One transaction on one connection on both engines: on SQLite the
    /// steps must not be spread over the pool's connections, and a failure
    /// leaves the old schema whole.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, STATEMENTS).await
    }
}
