//! Raw aggregate SQL with named parameters, rendered for either engine.
//!
//! The metrics are a handful of aggregate statements (COUNT / SUM with
//! GROUP BY, correlated EXISTS) that read far better as SQL than as a query
//! builder. Parameters are written `:name` and rendered as `?` (SQLite) or
//! `$n` (PostgreSQL), so values are always bound, never spliced.
//!
//! Timestamps are compared with bound `DateTime<Utc>` values: on PostgreSQL
//! both are `TIMESTAMPTZ`; on SQLite both are the RFC 3339 UTC text SeaORM
//! writes (`2026-01-01T00:00:00+00:00`, optional fraction), which orders
//! lexicographically in time order.

use std::collections::BTreeMap;

use sea_orm::{DatabaseBackend, Statement, Value};

use crate::error::{DomainError, DomainResult};

/// SQL text with `:name` parameters and their values.
#[derive(Clone, Debug, Default)]
pub(crate) struct Sql {
    params: BTreeMap<&'static str, Value>,
}

impl Sql {
    /// An empty parameter set.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Binds `:name` to `value`.
    pub(crate) fn bind(&mut self, name: &'static str, value: impl Into<Value>) -> &mut Self {
        self.params.insert(name, value.into());
        self
    }

    /// Renders `text` for `backend`, binding each `:name` occurrence.
    ///
    /// # Errors
    /// `INTERNAL` when the text names a parameter that was not bound.
    pub(crate) fn statement(
        &self,
        backend: DatabaseBackend,
        text: &str,
    ) -> DomainResult<Statement> {
        let (sql, values) = render(backend, text, &self.params)?;
        Ok(Statement::from_sql_and_values(backend, sql, values))
    }
}

fn render(
    backend: DatabaseBackend,
    text: &str,
    params: &BTreeMap<&'static str, Value>,
) -> DomainResult<(String, Vec<Value>)> {
    let mut sql = String::with_capacity(text.len());
    let mut values = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, ch)) = chars.next() {
        let starts_name = ch == ':'
            && chars
                .peek()
                .is_some_and(|(_, c)| c.is_ascii_lowercase() || *c == '_');
        if !starts_name {
            sql.push(ch);
            continue;
        }
        let mut end = i + 1;
        while let Some((j, c)) = chars.peek() {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' {
                end = j + c.len_utf8();
                chars.next();
            } else {
                break;
            }
        }
        let name = &text[i + 1..end];
        let value = params.get(name).ok_or_else(|| {
            DomainError::Internal(anyhow::anyhow!("unbound SQL parameter :{name}"))
        })?;
        values.push(value.clone());
        match backend {
            DatabaseBackend::Postgres => sql.push_str(&format!("${}", values.len())),
            _ => sql.push('?'),
        }
    }
    Ok((sql, values))
}

/// Seconds since the Unix epoch of a timestamp expression, as an integer.
pub(crate) fn epoch_seconds(backend: DatabaseBackend, expr: &str) -> String {
    match backend {
        DatabaseBackend::Postgres => format!("CAST(FLOOR(EXTRACT(EPOCH FROM {expr})) AS BIGINT)"),
        _ => format!("CAST(strftime('%s', {expr}) AS INTEGER)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_render_per_engine_and_repeat() {
        let mut sql = Sql::new();
        sql.bind("start", 1_i64).bind("end_at", 2_i64);
        let text = "a >= :start AND a < :end_at AND b < :start";
        let (pg, values) = render(DatabaseBackend::Postgres, text, &sql.params).expect("render");
        assert_eq!(pg, "a >= $1 AND a < $2 AND b < $3");
        assert_eq!(values.len(), 3);
        let (lite, _) = render(DatabaseBackend::Sqlite, text, &sql.params).expect("render");
        assert_eq!(lite, "a >= ? AND a < ? AND b < ?");
    }

    #[test]
    fn unbound_names_are_refused_and_literals_kept() {
        let sql = Sql::new();
        assert!(render(DatabaseBackend::Sqlite, "x = :missing", &sql.params).is_err());
        let (text, _) = render(
            DatabaseBackend::Sqlite,
            "strftime('%s', x) = 'A:B'",
            &sql.params,
        )
        .expect("no names");
        assert_eq!(text, "strftime('%s', x) = 'A:B'");
    }
}
