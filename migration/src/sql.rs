//! Plain-SQL migration steps with one text per engine.
//!
//! The schema is written as SQL rather than with the table builder so that the
//! stored types are exactly what we want on each engine: money as integer minor
//! units, decimals that must stay exact (weights, multipliers) as text, and
//! timestamps as `TIMESTAMPTZ` on PostgreSQL and RFC 3339 text on SQLite.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

/// One DDL statement, spelled for each supported engine.
pub struct Ddl {
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

/// Runs every statement for the manager's engine, in order.
///
/// # Errors
/// Fails on the first statement the database rejects, or on an engine other
/// than SQLite and PostgreSQL.
pub async fn run(manager: &SchemaManager<'_>, statements: &[Ddl]) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let backend = manager.get_database_backend();
    for ddl in statements {
        let sql = match backend {
            DatabaseBackend::Sqlite => ddl.sqlite,
            DatabaseBackend::Postgres => ddl.postgres,
            other => {
                return Err(DbErr::Migration(format!(
                    "unsupported database engine {other:?}"
                )))
            }
        };
        db.execute_unprepared(sql).await?;
    }
    Ok(())
}
