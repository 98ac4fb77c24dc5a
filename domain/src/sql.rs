//! The domain's one SQL toolkit, for the statements the query builder cannot
//! express cleanly (keyset pages over computed keys, window functions,
//! aggregate reports, JSON unnesting).
//!
//! Two ways to write a statement, both rendering each engine's placeholders
//! (`?` on SQLite, `$n` on PostgreSQL) and binding every value:
//!
//! - [`Sql`] appends literal SQL and bound values in order
//!   (`push("a = ").bind(1)`); [`Sql::id_in`] is the one way to bind a set of
//!   ids.
//! - [`Params`] holds named values for a whole statement text written with
//!   `:name` parameters, which reads better for long aggregate SQL. String
//!   literals, quoted identifiers and PostgreSQL `::type` casts are never
//!   taken for parameters.
//!
//! Only SQL text written in the code (keywords, column names, engine-specific
//! expressions) is ever pasted into a statement; values, limits and ids are
//! always bound.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use sea_orm::{DbBackend, Statement, Value};

use crate::error::{DomainError, DomainResult};

/// SQL text and its bound values, written in order.
pub(crate) struct Sql {
    backend: DbBackend,
    text: String,
    values: Vec<Value>,
}

impl Sql {
    /// An empty statement for `backend`.
    pub(crate) fn new(backend: DbBackend) -> Self {
        Self {
            backend,
            text: String::new(),
            values: Vec::new(),
        }
    }

    /// The engine the statement is written for.
    pub(crate) fn backend(&self) -> DbBackend {
        self.backend
    }

    /// Appends literal SQL.
    pub(crate) fn push(&mut self, sql: &str) -> &mut Self {
        self.text.push_str(sql);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub(crate) fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.values.push(value.into());
        push_placeholder(&mut self.text, self.backend, self.values.len());
        self
    }

    /// Appends a placeholder bound to a row count (a `LIMIT`, a rank bound).
    pub(crate) fn bind_count(&mut self, count: u64) -> &mut Self {
        self.bind(i64::try_from(count).unwrap_or(i64::MAX))
    }

    /// Appends `column IN (ids)` with the ids bound as one parameter (an
    /// array on PostgreSQL, a JSON array read by `json_each` on SQLite). The
    /// statement's text is then the same for every set of ids: it is
    /// prepared once per connection instead of once per call, and pages of
    /// different customers do not fill the statement cache with one-off
    /// entries.
    pub(crate) fn id_in(&mut self, column: &str, ids: &[i64]) -> &mut Self {
        self.push(column);
        match self.backend {
            DbBackend::Postgres => {
                self.push(" = ANY(").id_array(ids).push(")");
            }
            _ => {
                self.push(" IN (SELECT value FROM json_each(")
                    .bind(id_list(ids, '[', ']'))
                    .push("))");
            }
        }
        self
    }

    /// Appends the ids as one bound PostgreSQL array, `CAST($n AS BIGINT[])`
    /// (for `unnest` and `= ANY`). PostgreSQL only: SQLite reads a set of ids
    /// through [`Sql::id_in`].
    pub(crate) fn id_array(&mut self, ids: &[i64]) -> &mut Self {
        self.push("CAST(")
            .bind(id_list(ids, '{', '}'))
            .push(" AS BIGINT[])")
    }

    /// The statement.
    pub(crate) fn build(self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.text, self.values)
    }
}

/// Named values for a statement text written with `:name` parameters.
#[derive(Clone, Debug, Default)]
pub(crate) struct Params {
    values: BTreeMap<&'static str, Value>,
}

impl Params {
    /// An empty parameter set.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Binds `:name` to `value`.
    pub(crate) fn bind(&mut self, name: &'static str, value: impl Into<Value>) -> &mut Self {
        self.values.insert(name, value.into());
        self
    }

    /// Renders `text` for `backend`, binding each `:name` occurrence (a name
    /// is lower-case ASCII letters, digits and `_`, starting with a letter or
    /// `_`). A name may occur several times.
    ///
    /// # Errors
    /// `INTERNAL` when the text names a parameter that was not bound.
    pub(crate) fn statement(&self, backend: DbBackend, text: &str) -> DomainResult<Statement> {
        let (sql, values) = self.render(backend, text)?;
        Ok(Statement::from_sql_and_values(backend, sql, values))
    }

    fn render(&self, backend: DbBackend, text: &str) -> DomainResult<(String, Vec<Value>)> {
        let bytes = text.as_bytes();
        let mut sql = String::with_capacity(text.len());
        let mut values = Vec::new();
        // Start of the text not yet copied to `sql`.
        let mut copied = 0;
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                // A string literal or quoted identifier: skip to its closing
                // quote (a doubled quote is an escaped one and reads as a
                // closing quote followed by an opening one).
                quote @ (b'\'' | b'"') => {
                    i += 1;
                    while i < bytes.len() && bytes[i] != quote {
                        i += 1;
                    }
                    i += 1;
                }
                // A PostgreSQL cast, `x::bigint`.
                b':' if bytes.get(i + 1) == Some(&b':') => i += 2,
                b':' if bytes
                    .get(i + 1)
                    .is_some_and(|c| c.is_ascii_lowercase() || *c == b'_') =>
                {
                    let start = i + 1;
                    let mut end = start;
                    while end < bytes.len()
                        && (bytes[end].is_ascii_lowercase()
                            || bytes[end].is_ascii_digit()
                            || bytes[end] == b'_')
                    {
                        end += 1;
                    }
                    let name = &text[start..end];
                    let value = self.values.get(name).ok_or_else(|| {
                        DomainError::Internal(anyhow::anyhow!("unbound SQL parameter :{name}"))
                    })?;
                    sql.push_str(&text[copied..i]);
                    values.push(value.clone());
                    push_placeholder(&mut sql, backend, values.len());
                    copied = end;
                    i = end;
                }
                _ => i += 1,
            }
        }
        sql.push_str(&text[copied.min(text.len())..]);
        Ok((sql, values))
    }
}

/// The `n`th placeholder (1-based) in `backend`'s syntax.
fn push_placeholder(text: &mut String, backend: DbBackend, n: usize) {
    match backend {
        DbBackend::Postgres => {
            let _ = write!(text, "${n}");
        }
        _ => text.push('?'),
    }
}

/// Ids as one text value: `{1,2,3}` (a PostgreSQL array literal) or
/// `[1,2,3]` (a JSON array), by the brackets given.
fn id_list(ids: &[i64], open: char, close: char) -> String {
    let mut list = String::with_capacity(ids.len() * 8 + 2);
    list.push(open);
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            list.push(',');
        }
        let _ = write!(list, "{id}");
    }
    list.push(close);
    list
}

/// Appends a correlated subquery giving the rows `from` writes (a
/// `FROM … WHERE …` tail, with any bound values) as JSON text: an array
/// holding, per row and in `order`, the array of `items` (`[]` when there are
/// none). One statement can thus carry a page of parents with a short list
/// per parent; [`json_rows`] reads it.
pub(crate) fn push_json_rows(sql: &mut Sql, items: &str, from: impl FnOnce(&mut Sql), order: &str) {
    match sql.backend() {
        DbBackend::Postgres => sql.push(&format!(
            "(SELECT COALESCE(json_agg(json_build_array({items}) ORDER BY {order}), '[]')::text "
        )),
        _ => sql.push(&format!(
            "(SELECT json_group_array(json_array({items}) ORDER BY {order}) "
        )),
    };
    from(sql);
    sql.push(")");
}

/// Reads a [`push_json_rows`] column into one `T` per row (a tuple of its items).
///
/// # Errors
/// `INTERNAL` when the text is not the JSON the column writes.
pub(crate) fn json_rows<T: serde::de::DeserializeOwned>(
    text: Option<&str>,
) -> DomainResult<Vec<T>> {
    match text {
        None => Ok(Vec::new()),
        Some(text) => serde_json::from_str(text).map_err(|e| {
            DomainError::Internal(anyhow::anyhow!("unreadable JSON rows column: {e}"))
        }),
    }
}

/// A stored timestamp as a JSON column renders it: RFC 3339 (PostgreSQL's
/// JSON and the way timestamps are written on SQLite), or SQLite's
/// `YYYY-MM-DD HH:MM:SS[.f]` in UTC.
///
/// # Errors
/// `INTERNAL` for any other text.
pub(crate) fn json_time(text: &str) -> DomainResult<chrono::DateTime<chrono::Utc>> {
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&chrono::Utc));
    }
    if let Ok(at) = chrono::DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%:z") {
        return Ok(at.with_timezone(&chrono::Utc));
    }
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
        .map(|at| at.and_utc())
        .map_err(|_| DomainError::Internal(anyhow::anyhow!("unreadable stored time {text:?}")))
}

/// Seconds since the Unix epoch of a timestamp expression, as an integer.
pub(crate) fn epoch_seconds(backend: DbBackend, expr: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("CAST(FLOOR(EXTRACT(EPOCH FROM {expr})) AS BIGINT)"),
        _ => format!("CAST(strftime('%s', {expr}) AS INTEGER)"),
    }
}

/// The `MM-DD` text of a `DATE` column (SQLite stores dates as `YYYY-MM-DD`
/// text), to compare with the `MM-DD` keys of `customers::birthdays`.
pub(crate) fn month_day(backend: DbBackend, column: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("to_char({column}, 'MM-DD')"),
        _ => format!("substr({column}, 6, 5)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(statement: &Statement) -> &str {
        &statement.sql
    }

    fn values(statement: &Statement) -> Vec<Value> {
        statement
            .values
            .as_ref()
            .map(|v| v.0.clone())
            .unwrap_or_default()
    }

    #[test]
    fn placeholders_follow_the_engine() {
        for (backend, expected) in [
            (DbBackend::Postgres, "a = $1 AND b = $2"),
            (DbBackend::Sqlite, "a = ? AND b = ?"),
        ] {
            let mut sql = Sql::new(backend);
            sql.push("a = ").bind(1_i64).push(" AND b = ").bind("x");
            let statement = sql.build();
            assert_eq!(text(&statement), expected);
            assert_eq!(
                values(&statement),
                vec![Value::from(1_i64), Value::from("x")]
            );
        }
    }

    #[test]
    fn id_sets_bind_one_value_and_keep_the_text_constant() {
        for backend in [DbBackend::Postgres, DbBackend::Sqlite] {
            let statement = |ids: &[i64]| {
                let mut sql = Sql::new(backend);
                sql.push("SELECT 1 WHERE ").id_in("x.id", ids);
                sql.build()
            };
            let few = statement(&[1, 2]);
            let many = statement(&[3, 4, 5, 6, 7]);
            let none = statement(&[]);
            assert_eq!(text(&few), text(&many));
            assert_eq!(text(&few), text(&none));
            assert_eq!(values(&many).len(), 1);
            let list = match backend {
                DbBackend::Postgres => "{3,4,5,6,7}",
                _ => "[3,4,5,6,7]",
            };
            assert_eq!(values(&many), vec![Value::from(list)]);
        }
        let mut pg = Sql::new(DbBackend::Postgres);
        pg.push("WHERE ").id_in("x.id", &[1]);
        assert_eq!(text(&pg.build()), "WHERE x.id = ANY(CAST($1 AS BIGINT[]))");
        let mut lite = Sql::new(DbBackend::Sqlite);
        lite.push("WHERE ").id_in("x.id", &[1]);
        assert_eq!(
            text(&lite.build()),
            "WHERE x.id IN (SELECT value FROM json_each(?))"
        );
    }

    #[test]
    fn counts_are_bound_not_written() {
        let mut sql = Sql::new(DbBackend::Sqlite);
        sql.push("SELECT 1 LIMIT ").bind_count(26);
        let statement = sql.build();
        assert_eq!(text(&statement), "SELECT 1 LIMIT ?");
        assert_eq!(values(&statement), vec![Value::from(26_i64)]);
        let mut huge = Sql::new(DbBackend::Sqlite);
        huge.bind_count(u64::MAX);
        assert_eq!(values(&huge.build()), vec![Value::from(i64::MAX)]);
    }

    #[test]
    fn names_render_per_engine_and_repeat() {
        let mut params = Params::new();
        params.bind("start", 1_i64).bind("end_at", 2_i64);
        let text = "a >= :start AND a < :end_at AND b < :start";
        let (pg, values) = params.render(DbBackend::Postgres, text).expect("render");
        assert_eq!(pg, "a >= $1 AND a < $2 AND b < $3");
        assert_eq!(
            values,
            vec![Value::from(1_i64), Value::from(2_i64), Value::from(1_i64)]
        );
        let (lite, _) = params.render(DbBackend::Sqlite, text).expect("render");
        assert_eq!(lite, "a >= ? AND a < ? AND b < ?");
    }

    #[test]
    fn a_postgres_cast_is_not_a_parameter() {
        let mut params = Params::new();
        params.bind("id", 7_i64);
        let text = "SELECT x::bigint, y::json FROM t WHERE id = :id::bigint";
        let (pg, values) = params
            .render(DbBackend::Postgres, text)
            .expect("casts are not names");
        assert_eq!(pg, "SELECT x::bigint, y::json FROM t WHERE id = $1::bigint");
        assert_eq!(values, vec![Value::from(7_i64)]);
    }

    #[test]
    fn quoted_text_is_kept_and_unbound_names_are_refused() {
        let params = Params::new();
        let text = "SELECT strftime('%s', x) = 'A:b', '' || ':lit''s :no', \"col:name\"";
        let (kept, values) = params.render(DbBackend::Sqlite, text).expect("no names");
        assert_eq!(kept, text);
        assert!(values.is_empty());
        assert!(params.render(DbBackend::Sqlite, "x = :missing").is_err());
        assert!(params.render(DbBackend::Sqlite, "x = ':missing'").is_ok());
    }

    #[test]
    fn stored_times_read_in_each_engine_s_json_form() {
        let expected = chrono::DateTime::parse_from_rfc3339("2026-11-28T17:36:25.5Z")
            .expect("valid")
            .with_timezone(&chrono::Utc);
        for text in [
            "2026-11-28T17:36:25.5+00:00",
            "2026-11-28T18:36:25.5+01:00",
            "2026-11-28 17:36:25.5",
            "2026-11-28 17:36:25.500+00:00",
        ] {
            assert_eq!(json_time(text).expect(text), expected, "{text}");
        }
        assert!(json_time("yesterday").is_err());
        let rows: Vec<(String, i64)> = json_rows(Some(r#"[["EUR",3]]"#)).expect("rows");
        assert_eq!(rows, vec![("EUR".to_owned(), 3)]);
        assert!(json_rows::<(String, i64)>(None).expect("none").is_empty());
    }

    #[test]
    fn engine_expressions() {
        assert_eq!(
            month_day(DbBackend::Postgres, "c.birthday"),
            "to_char(c.birthday, 'MM-DD')"
        );
        assert_eq!(
            month_day(DbBackend::Sqlite, "c.birthday"),
            "substr(c.birthday, 6, 5)"
        );
        assert!(epoch_seconds(DbBackend::Sqlite, "x").contains("strftime('%s', x)"));
    }
}
