//! Relay-style page requests: `first/after` or `last/before`, bounded.
//!
//! Cursors are opaque to clients: base64url of a small JSON value holding the
//! sort key and the id, so a page boundary stays put when rows are inserted.

use std::future::Future;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Select,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, DomainResult};

/// Largest page a client may ask for.
pub const MAX_PAGE_SIZE: u64 = 100;
/// Page size when the client names none.
pub const DEFAULT_PAGE_SIZE: u64 = 20;

/// Which way a page is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// `first`/`after`: rows after the cursor in sort order.
    Forward,
    /// `last`/`before`: rows before the cursor in sort order.
    Backward,
}

/// A validated page request, generic over the decoded cursor type.
#[derive(Clone, Debug)]
pub struct PageRequest<C> {
    pub direction: Direction,
    pub limit: u64,
    pub cursor: Option<C>,
}

impl<C: DeserializeOwned> PageRequest<C> {
    /// Validates Relay arguments.
    ///
    /// # Errors
    /// `BAD_USER_INPUT` on `first`/`last` outside `0..=100`, on both `first` and
    /// `last`, and on an undecodable cursor.
    pub fn parse(
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> DomainResult<Self> {
        let bound = |field: &str, n: i32| -> DomainResult<u64> {
            if n < 0 || n as u64 > MAX_PAGE_SIZE {
                Err(DomainError::validation(
                    field,
                    format!("must be between 0 and {MAX_PAGE_SIZE}"),
                ))
            } else {
                Ok(n as u64)
            }
        };
        match (first, last) {
            (Some(_), Some(_)) => Err(DomainError::validation(
                "last",
                "cannot be combined with first",
            )),
            (_, Some(n)) => Ok(Self {
                direction: Direction::Backward,
                limit: bound("last", n)?,
                cursor: before.map(|c| decode_cursor("before", &c)).transpose()?,
            }),
            (n, None) => {
                if before.is_some() && after.is_none() && n.is_none() {
                    return Ok(Self {
                        direction: Direction::Backward,
                        limit: DEFAULT_PAGE_SIZE,
                        cursor: before.map(|c| decode_cursor("before", &c)).transpose()?,
                    });
                }
                Ok(Self {
                    direction: Direction::Forward,
                    limit: n
                        .map(|n| bound("first", n))
                        .transpose()?
                        .unwrap_or(DEFAULT_PAGE_SIZE),
                    cursor: after.map(|c| decode_cursor("after", &c)).transpose()?,
                })
            }
        }
    }
}

/// The sort order of a list paged by id alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdOrder {
    /// Oldest first: `after` a cursor means larger ids.
    Ascending,
    /// Newest first: `after` a cursor means smaller ids.
    Descending,
}

/// Reads one page of `query` keyed by its `id` column: applies the cursor
/// and the order for the request's direction, fetches `limit + 1` rows in one
/// statement, turns them into items with `hydrate` (which may read more) and
/// builds the page with ids as cursors.
///
/// # Errors
/// Database failures and those of `hydrate`.
pub async fn id_keyset_page<E, T, Fut>(
    db: &impl ConnectionTrait,
    query: Select<E>,
    id: E::Column,
    order: IdOrder,
    request: &PageRequest<i64>,
    hydrate: impl FnOnce(Vec<E::Model>) -> Fut,
    id_of: impl Fn(&T) -> i64,
) -> DomainResult<Page<T>>
where
    E: EntityTrait,
    Fut: Future<Output = DomainResult<Vec<T>>>,
{
    // Reading backward walks the sort order in reverse; `Page::from_rows`
    // turns the rows back.
    let ascending = (order == IdOrder::Ascending) == (request.direction == Direction::Forward);
    let query = match request.cursor {
        Some(c) if ascending => query.filter(id.gt(c)),
        Some(c) => query.filter(id.lt(c)),
        None => query,
    };
    let query = if ascending {
        query.order_by_asc(id)
    } else {
        query.order_by_desc(id)
    };
    let rows = query.limit(request.limit + 1).all(db).await?;
    let rows = hydrate(rows).await?;
    Ok(Page::from_rows(
        request.direction,
        request.limit,
        request.cursor.is_some(),
        rows,
        id_of,
    ))
}

/// A position in a list sorted by one column, then by id.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeyCursor<K> {
    pub k: K,
    pub id: i64,
}

/// Like [`id_keyset_page`] for a list sorted by `key` and then by `id`, both
/// in `order`: one statement for the rows, then `hydrate`.
///
/// # Errors
/// Database failures and those of `hydrate`.
#[allow(clippy::too_many_arguments)]
pub async fn key_keyset_page<E, K, T, Fut>(
    db: &impl ConnectionTrait,
    query: Select<E>,
    key: E::Column,
    id: E::Column,
    order: IdOrder,
    request: &PageRequest<KeyCursor<K>>,
    hydrate: impl FnOnce(Vec<E::Model>) -> Fut,
    cursor_of: impl Fn(&T) -> KeyCursor<K>,
) -> DomainResult<Page<T>>
where
    E: EntityTrait,
    K: Into<sea_orm::Value> + Clone + Serialize,
    Fut: Future<Output = DomainResult<Vec<T>>>,
{
    let ascending = (order == IdOrder::Ascending) == (request.direction == Direction::Forward);
    let query = match &request.cursor {
        Some(cursor) => {
            let (k, last) = (cursor.k.clone(), cursor.id);
            let condition = if ascending {
                Condition::any()
                    .add(key.gt(k.clone()))
                    .add(Condition::all().add(key.eq(k)).add(id.gt(last)))
            } else {
                Condition::any()
                    .add(key.lt(k.clone()))
                    .add(Condition::all().add(key.eq(k)).add(id.lt(last)))
            };
            query.filter(condition)
        }
        None => query,
    };
    let query = if ascending {
        query.order_by_asc(key).order_by_asc(id)
    } else {
        query.order_by_desc(key).order_by_desc(id)
    };
    let rows = query.limit(request.limit + 1).all(db).await?;
    let rows = hydrate(rows).await?;
    Ok(Page::from_rows(
        request.direction,
        request.limit,
        request.cursor.is_some(),
        rows,
        cursor_of,
    ))
}

/// One page of results in sort order, each with its cursor.
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub items: Vec<(String, T)>,
    pub has_previous_page: bool,
    pub has_next_page: bool,
}

impl<T> Page<T> {
    /// Builds a page from rows fetched with `limit + 1`, in the direction read.
    ///
    /// For a backward read the rows come in reverse sort order and are turned
    /// back here; the extra row only tells whether more exist.
    pub fn from_rows<C: Serialize>(
        request_direction: Direction,
        limit: u64,
        had_cursor: bool,
        mut rows: Vec<T>,
        cursor_of: impl Fn(&T) -> C,
    ) -> Self {
        let more = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        if request_direction == Direction::Backward {
            rows.reverse();
        }
        let items = rows
            .into_iter()
            .map(|row| (encode_cursor(&cursor_of(&row)), row))
            .collect();
        let (has_previous_page, has_next_page) = match request_direction {
            Direction::Forward => (had_cursor, more),
            Direction::Backward => (more, had_cursor),
        };
        Self {
            items,
            has_previous_page,
            has_next_page,
        }
    }

    /// Maps every item, keeping cursors and page flags.
    pub fn map<U>(self, mut f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(|(c, t)| (c, f(t))).collect(),
            has_previous_page: self.has_previous_page,
            has_next_page: self.has_next_page,
        }
    }
}

/// Encodes a cursor value.
pub fn encode_cursor<C: Serialize>(value: &C) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap_or_default())
}

/// Decodes a cursor for the argument `field`.
///
/// # Errors
/// `BAD_USER_INPUT` when the cursor is not one this server issued.
pub fn decode_cursor<C: DeserializeOwned>(field: &str, raw: &str) -> DomainResult<C> {
    URL_SAFE_NO_PAD
        .decode(raw.as_bytes())
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| DomainError::validation(field, "is not a valid cursor"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes_are_bounded() {
        assert!(PageRequest::<i64>::parse(Some(101), None, None, None).is_err());
        assert!(PageRequest::<i64>::parse(Some(-1), None, None, None).is_err());
        assert!(PageRequest::<i64>::parse(Some(1), None, Some(1), None).is_err());
        assert!(PageRequest::<i64>::parse(None, Some("%%".into()), None, None).is_err());
        let ok =
            PageRequest::<i64>::parse(None, Some(encode_cursor(&7i64)), None, None).expect("valid");
        assert_eq!((ok.limit, ok.cursor), (DEFAULT_PAGE_SIZE, Some(7)));
    }

    #[test]
    fn backward_pages_come_back_in_sort_order() {
        let page = Page::from_rows(Direction::Backward, 2, true, vec![5, 4, 3], |n| *n);
        let values: Vec<i32> = page.items.iter().map(|(_, v)| *v).collect();
        assert_eq!(values, vec![4, 5]);
        assert!(page.has_previous_page && page.has_next_page);
    }
}
