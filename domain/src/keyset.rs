//! Keyset pages over a chosen sort key with the id as tie-breaker, for the
//! lists that take an `orderBy` (survey responses, follow-ups, surveys,
//! ledger entries). The customer list (`customers::list`) is the model; this
//! is its shape made reusable.
//!
//! A cursor holds the order it was issued for, the row's sort key and its
//! id, so a page boundary stays put when rows are inserted, and a cursor
//! sent with another order is refused rather than silently misread.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, FromQueryResult, QueryResult};
use serde::{Deserialize, Serialize};

use crate::customers::{SortDirection, SortKey};
use crate::error::{DomainError, DomainResult};
use crate::pagination::{Direction, Page, PageRequest};
use crate::sql::Sql;

/// A position in an ordered list: the order's tag, the sort key and the id.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OrderCursor {
    o: String,
    k: SortKey,
    id: i64,
}

impl OrderCursor {
    /// The cursor of a row with sort key `k` and id `id` in the order `tag`.
    pub(crate) fn new(tag: String, k: SortKey, id: i64) -> Self {
        Self { o: tag, k, id }
    }
}

/// How a sort key is compared, and so how a cursor's key is bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyKind {
    /// An integer column (ids, points).
    Int,
    /// Text, compared as the database compares it.
    Text,
    /// An instant; the cursor holds it as RFC 3339.
    Time,
    /// A decimal stored as text, compared as a number: the key expression
    /// casts the column, and the cursor's text is cast the same way.
    Decimal,
}

/// One order of one list.
pub(crate) struct Ordering<'a> {
    /// Names the list, field and direction; cursors carry it.
    pub tag: String,
    /// The SQL expression of the sort key (never NULL).
    pub key: &'a str,
    /// The SQL id column that breaks ties.
    pub id: &'a str,
    pub kind: KeyKind,
    pub direction: SortDirection,
}

impl Ordering<'_> {
    /// Refuses a cursor issued for another order.
    fn check(&self, request: &PageRequest<OrderCursor>) -> DomainResult<()> {
        match &request.cursor {
            Some(cursor) if cursor.o != self.tag => Err(DomainError::validation(
                cursor_field(request.direction),
                "belongs to another ordering of the list",
            )),
            _ => Ok(()),
        }
    }

    fn bind_key(&self, sql: &mut Sql, key: &SortKey, field: &str) -> DomainResult<()> {
        let bad = || DomainError::validation(field, "is not a valid cursor");
        match (self.kind, key) {
            (KeyKind::Int, SortKey::Int(n)) => {
                sql.bind(*n);
            }
            (KeyKind::Text, SortKey::Text(s)) => {
                sql.bind(s.clone());
            }
            (KeyKind::Time, SortKey::Text(s)) => {
                let at = DateTime::parse_from_rfc3339(s).map_err(|_| bad())?;
                sql.bind(at.with_timezone(&Utc));
            }
            (KeyKind::Decimal, SortKey::Text(s)) => {
                s.parse::<rust_decimal::Decimal>().map_err(|_| bad())?;
                sql.push("CAST(CAST(")
                    .bind(s.clone())
                    .push(" AS TEXT) AS NUMERIC)");
            }
            _ => return Err(bad()),
        }
        Ok(())
    }
}

fn cursor_field(direction: Direction) -> &'static str {
    match direction {
        Direction::Forward => "after",
        Direction::Backward => "before",
    }
}

/// The sort key of an instant, as a cursor holds it.
pub(crate) fn time_key(at: DateTime<Utc>) -> SortKey {
    SortKey::Text(at.to_rfc3339())
}

/// Reads one page. `sql` is the statement so far: `SELECT … FROM … WHERE …`
/// with the list's filters, its select list naming the key `AS sort_key`
/// when `key_of` reads it from the row. This appends the cursor condition,
/// the order (reversed for a backward read) and `LIMIT limit + 1`, and reads
/// each row as `M`, its sort key with `key_of` and its id with `id_of`.
///
/// # Errors
/// `BAD_USER_INPUT` on a cursor of another order or with a key of the wrong
/// kind; database failures.
pub(crate) async fn page<M: FromQueryResult>(
    db: &impl ConnectionTrait,
    mut sql: Sql,
    ordering: &Ordering<'_>,
    request: &PageRequest<OrderCursor>,
    key_of: impl Fn(&QueryResult, &M) -> DomainResult<SortKey>,
    id_of: impl Fn(&M) -> i64,
) -> DomainResult<Page<M>> {
    ordering.check(request)?;
    let ascending =
        (ordering.direction == SortDirection::Asc) == (request.direction == Direction::Forward);
    if let Some(cursor) = &request.cursor {
        let field = cursor_field(request.direction);
        let after = if ascending { " > " } else { " < " };
        sql.push(" AND (").push(ordering.key).push(after);
        ordering.bind_key(&mut sql, &cursor.k, field)?;
        sql.push(" OR (").push(ordering.key).push(" = ");
        ordering.bind_key(&mut sql, &cursor.k, field)?;
        sql.push(" AND ").push(ordering.id).push(after);
        sql.bind(cursor.id).push("))");
    }
    let dir = if ascending { " ASC" } else { " DESC" };
    sql.push(" ORDER BY ")
        .push(ordering.key)
        .push(dir)
        .push(", ")
        .push(ordering.id)
        .push(dir)
        .push(" LIMIT ")
        .bind_count(request.limit.saturating_add(1));
    let rows = db.query_all_raw(sql.build()).await?;
    let mut fetched = Vec::with_capacity(rows.len());
    for row in rows {
        let model = M::from_query_result(&row, "")?;
        let key = key_of(&row, &model)?;
        fetched.push((key, model));
    }
    let page = Page::from_rows(
        request.direction,
        request.limit,
        request.cursor.is_some(),
        fetched,
        |(key, model)| OrderCursor {
            o: ordering.tag.clone(),
            k: key.clone(),
            id: id_of(model),
        },
    );
    Ok(page.map(|(_, model)| model))
}

/// Reads `SELECT COUNT(*) AS n …` built by the caller.
///
/// # Errors
/// Database failures.
pub(crate) async fn count(db: &impl ConnectionTrait, sql: Sql) -> DomainResult<i64> {
    let row = db.query_one_raw(sql.build()).await?;
    Ok(match row {
        Some(row) => row.try_get::<i64>("", "n")?,
        None => 0,
    })
}

/// A case-insensitive substring pattern for `LIKE … ESCAPE '\'`, with the
/// user's `%`, `_` and `\\` taken literally. `None` for blank text.
///
/// # Errors
/// `BAD_USER_INPUT` on `field` past `max` characters.
pub(crate) fn contains_pattern(
    field: &str,
    text: Option<&str>,
    max: usize,
) -> DomainResult<Option<String>> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > max {
        return Err(DomainError::validation(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    let escaped = text
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    Ok(Some(format!("%{escaped}%")))
}

/// Refuses a range whose start is not before its end.
///
/// # Errors
/// `BAD_USER_INPUT` on `to_field`.
pub(crate) fn check_range<T: PartialOrd>(
    from: Option<&T>,
    to: Option<&T>,
    to_field: &str,
    from_name: &str,
) -> DomainResult<()> {
    match (from, to) {
        (Some(from), Some(to)) if from >= to => Err(DomainError::validation(
            to_field,
            format!("must be after {from_name}"),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_escape_wildcards_and_ignore_blank_text() {
        assert_eq!(
            contains_pattern("f", Some(" 50%_OFF\\ "), 100).expect("short"),
            Some("%50\\%\\_off\\\\%".to_owned())
        );
        assert_eq!(contains_pattern("f", Some("  "), 100).expect("blank"), None);
        assert!(contains_pattern("f", Some("abc"), 2).is_err());
    }

    #[test]
    fn ranges_must_be_increasing() {
        assert!(check_range(Some(&2), Some(&1), "to", "from").is_err());
        assert!(check_range(Some(&1), Some(&1), "to", "from").is_err());
        assert!(check_range(Some(&1), Some(&2), "to", "from").is_ok());
        assert!(check_range(None, Some(&2), "to", "from").is_ok());
    }
}
