//! A tiny SQL text builder that writes each engine's placeholders (`?` on
//! SQLite, `$n` on PostgreSQL), for the few queries the query builder cannot
//! express cleanly (keyset pages over computed keys, window functions).

use std::fmt::Write as _;

use sea_orm::{DbBackend, Statement, Value};

/// SQL text and its bound values.
pub(crate) struct Sql {
    backend: DbBackend,
    text: String,
    values: Vec<Value>,
}

impl Sql {
    pub(crate) fn new(backend: DbBackend) -> Self {
        Self {
            backend,
            text: String::new(),
            values: Vec::new(),
        }
    }

    /// Appends literal SQL.
    pub(crate) fn push(&mut self, sql: &str) -> &mut Self {
        self.text.push_str(sql);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub(crate) fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.values.push(value.into());
        match self.backend {
            DbBackend::Postgres => {
                let _ = write!(self.text, "${}", self.values.len());
            }
            _ => self.text.push('?'),
        }
        self
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
                self.push(" = ANY(CAST(")
                    .bind(id_list(ids, '{', '}'))
                    .push(" AS BIGINT[]))");
            }
            _ => {
                self.push(" IN (SELECT value FROM json_each(")
                    .bind(id_list(ids, '[', ']'))
                    .push("))");
            }
        }
        self
    }

    pub(crate) fn build(self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.text, self.values)
    }
}

/// Ids as one text value: `{1,2,3}` (a PostgreSQL array literal) or
/// `[1,2,3]` (a JSON array), by the brackets given.
pub(crate) fn id_list(ids: &[i64], open: char, close: char) -> String {
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
