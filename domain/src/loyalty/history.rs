//! Reading a membership's ledger: filters (reasons, occurrence range),
//! orders and counts, one membership at a time or counted for many.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, FromQueryResult};

use crate::customers::{SortDirection, SortKey};
use crate::error::DomainResult;
use crate::keyset::{self, check_range, time_key, KeyKind, OrderCursor, Ordering};
use crate::loyalty::ledger::LedgerReason;
use crate::loyalty::model::LedgerEntry;
use crate::pagination::{Page, PageRequest};
use crate::sql::Sql;
use entity::ledger_entries;

/// Which entries of a ledger to list; every set field narrows the list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct LedgerFilter {
    /// Entries with one of these reasons (all when empty).
    pub reasons: Vec<LedgerReason>,
    /// Occurred at or after.
    pub occurred_from: Option<DateTime<Utc>>,
    /// Occurred strictly before.
    pub occurred_to: Option<DateTime<Utc>>,
}

impl LedgerFilter {
    /// Whether the filter lets every entry through.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// The sort field of a ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LedgerOrderField {
    /// The order entries were recorded in (the entry id).
    Recorded,
    /// When the entry took effect.
    OccurredAt,
    /// The signed number of points.
    Points,
}

/// How to order a ledger; ties are broken by id in the same direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LedgerOrder {
    pub field: LedgerOrderField,
    pub direction: SortDirection,
}

impl Default for LedgerOrder {
    /// Newest recorded first.
    fn default() -> Self {
        Self {
            field: LedgerOrderField::Recorded,
            direction: SortDirection::Desc,
        }
    }
}

impl LedgerOrder {
    fn ordering(self) -> Ordering<'static> {
        let (key, kind) = match self.field {
            LedgerOrderField::Recorded => ("e.id", KeyKind::Int),
            LedgerOrderField::OccurredAt => ("e.occurred_at", KeyKind::Time),
            LedgerOrderField::Points => ("e.delta", KeyKind::Int),
        };
        Ordering {
            tag: format!("ledger:{:?}:{:?}", self.field, self.direction),
            key,
            id: "e.id",
            kind,
            direction: self.direction,
        }
    }

    fn key_of(self, e: &ledger_entries::Model) -> SortKey {
        match self.field {
            LedgerOrderField::Recorded => SortKey::Int(e.id),
            LedgerOrderField::OccurredAt => time_key(e.occurred_at),
            LedgerOrderField::Points => SortKey::Int(e.delta),
        }
    }
}

/// The cursor of `entry` in the default order (for first pages read in a batch).
pub(crate) fn default_cursor(entry: &LedgerEntry) -> OrderCursor {
    let ordering = LedgerOrder::default().ordering();
    OrderCursor::new(ordering.tag, SortKey::Int(entry.id), entry.id)
}

/// Validates `filter` and appends its conditions (`e` is `ledger_entries`).
fn push_filter(sql: &mut Sql, filter: &LedgerFilter) -> DomainResult<()> {
    check_range(
        filter.occurred_from.as_ref(),
        filter.occurred_to.as_ref(),
        "filter.occurredTo",
        "occurredFrom",
    )?;
    if !filter.reasons.is_empty() {
        sql.push(" AND e.reason IN (");
        for (i, reason) in filter.reasons.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(reason.as_str());
        }
        sql.push(")");
    }
    if let Some(from) = filter.occurred_from {
        sql.push(" AND e.occurred_at >= ").bind(from);
    }
    if let Some(to) = filter.occurred_to {
        sql.push(" AND e.occurred_at < ").bind(to);
    }
    Ok(())
}

/// A page of one membership's ledger, filtered and ordered.
///
/// # Errors
/// `BAD_USER_INPUT` on the filter or a cursor of another order; database failures.
pub(crate) async fn ledger_page(
    db: &impl ConnectionTrait,
    membership_id: i64,
    filter: &LedgerFilter,
    order: LedgerOrder,
    request: &PageRequest<OrderCursor>,
) -> DomainResult<Page<LedgerEntry>> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT e.* FROM ledger_entries e WHERE e.membership_id = ")
        .bind(membership_id);
    push_filter(&mut sql, filter)?;
    let page = keyset::page(
        db,
        sql,
        &order.ordering(),
        request,
        |_, e: &ledger_entries::Model| Ok(order.key_of(e)),
        |e| e.id,
    )
    .await?;
    let items = page
        .items
        .into_iter()
        .map(|(cursor, e)| LedgerEntry::try_from(e).map(|e| (cursor, e)))
        .collect::<DomainResult<Vec<_>>>()?;
    Ok(Page {
        items,
        has_previous_page: page.has_previous_page,
        has_next_page: page.has_next_page,
    })
}

#[derive(FromQueryResult)]
struct ParentCount {
    parent: i64,
    n: i64,
}

/// How many entries of each membership in `membership_ids` match `filter`,
/// in one statement; memberships without any are absent.
///
/// # Errors
/// `BAD_USER_INPUT` on the filter; database failures.
pub(crate) async fn ledger_counts_for(
    db: &impl ConnectionTrait,
    membership_ids: &[i64],
    filter: &LedgerFilter,
) -> DomainResult<HashMap<i64, i64>> {
    if membership_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT e.membership_id AS parent, COUNT(*) AS n FROM ledger_entries e WHERE ")
        .id_in("e.membership_id", membership_ids);
    push_filter(&mut sql, filter)?;
    sql.push(" GROUP BY e.membership_id");
    let rows = ParentCount::find_by_statement(sql.build()).all(db).await?;
    Ok(rows.into_iter().map(|r| (r.parent, r.n)).collect())
}
