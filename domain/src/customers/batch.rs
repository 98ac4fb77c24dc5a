//! Batch functions behind the API's DataLoaders: each answers for many
//! customers with one statement (plus one for tags where customers are
//! returned), so a page of customer cards costs the same whatever its size.
//!
//! First pages of per-customer lists use `ROW_NUMBER() OVER (PARTITION BY
//! customer_id …)`, which SQLite and PostgreSQL both support; later pages
//! (with a cursor) are read per customer with a keyset query.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, Select,
};
use serde::{Deserialize, Serialize};

use entity::{churn_events, customers, interactions, purchases};

use super::list::tags_for;
use super::types::{ChurnEvent, CurrencyAmount, Customer, Interaction, Purchase, PurchaseStats};
use crate::error::DomainResult;
use crate::money::stored_to_decimal;
use crate::pagination::{Direction, Page, PageRequest};
use crate::sql::{json_time, Sql};

/// A position in a newest-first list: the time and the id.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TimeCursor {
    pub t: DateTime<Utc>,
    pub id: i64,
}

/// Customers by id, with tags; missing ids are absent from the map.
///
/// # Errors
/// Database failures.
pub async fn customers_by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> DomainResult<HashMap<i64, Customer>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let models = customers::Entity::find()
        .filter(customers::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    with_tags(db, models)
        .await
        .map(|list| list.into_iter().map(|c| (c.id, c)).collect())
}

async fn with_tags(
    db: &impl ConnectionTrait,
    models: Vec<customers::Model>,
) -> DomainResult<Vec<Customer>> {
    let ids: Vec<i64> = models.iter().map(|m| m.id).collect();
    let mut tags = tags_for(db, &ids).await?;
    models
        .into_iter()
        .map(|m| {
            let t = tags.remove(&m.id).unwrap_or_default();
            Customer::from_model(m, t)
        })
        .collect()
}

/// Purchases by id, in one statement: the batch function behind links to
/// a purchase (a ledger entry's source). Missing ids are absent from the map.
///
/// # Errors
/// Database failures.
pub async fn purchases_by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> DomainResult<HashMap<i64, Purchase>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    purchases::Entity::find()
        .filter(purchases::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|m| Purchase::try_from(m).map(|p| (p.id, p)))
        .collect()
}

/// Each customer's churn history, oldest first (customers who never churned
/// get an empty list).
///
/// # Errors
/// Database failures.
pub async fn churn_events_for(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> DomainResult<HashMap<i64, Vec<ChurnEvent>>> {
    let mut map: HashMap<i64, Vec<ChurnEvent>> = ids.iter().map(|id| (*id, Vec::new())).collect();
    if ids.is_empty() {
        return Ok(map);
    }
    let rows = churn_events::Entity::find()
        .filter(churn_events::Column::CustomerId.is_in(ids.iter().copied()))
        .order_by_asc(churn_events::Column::ChurnedAt)
        .order_by_asc(churn_events::Column::Id)
        .all(db)
        .await?;
    for row in rows {
        let event = ChurnEvent::try_from(row)?;
        map.entry(event.customer_id).or_default().push(event);
    }
    Ok(map)
}

/// Purchase count and revenue per currency for each customer (customers
/// without purchases get the default: zero and no revenue).
///
/// # Errors
/// Database failures; `INTERNAL` for an unknown stored currency.
pub async fn purchase_stats_for(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> DomainResult<HashMap<i64, PurchaseStats>> {
    let mut map: HashMap<i64, PurchaseStats> = ids
        .iter()
        .map(|id| (*id, PurchaseStats::default()))
        .collect();
    if ids.is_empty() {
        return Ok(map);
    }
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(
        "SELECT customer_id, currency, COUNT(*) AS n, CAST(SUM(amount_minor) AS BIGINT) AS total \
         FROM purchases WHERE ",
    )
    .id_in("customer_id", ids)
    .push(" GROUP BY customer_id, currency ORDER BY customer_id, currency");
    for row in db.query_all_raw(sql.build()).await? {
        let customer_id: i64 = row.try_get("", "customer_id")?;
        let currency: String = row.try_get("", "currency")?;
        let n: i64 = row.try_get("", "n")?;
        let total: i64 = row.try_get("", "total")?;
        let stats = map.entry(customer_id).or_default();
        stats.count += n;
        stats.revenue.push(CurrencyAmount {
            amount: stored_to_decimal(total, &currency)?,
            currency,
        });
    }
    Ok(map)
}

/// The first `limit` rows per customer of `table`, newest first by `time_col`,
/// fetched with one window-function statement (`limit + 1` rows each, to
/// know whether more exist).
async fn first_rows<M: FromQueryResult>(
    db: &impl ConnectionTrait,
    table: &str,
    partition_col: &str,
    time_col: &str,
    ids: &[i64],
    limit: u64,
) -> DomainResult<Vec<M>> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(&format!(
        "SELECT * FROM (SELECT x.*, ROW_NUMBER() OVER (PARTITION BY x.{partition_col} \
         ORDER BY x.{time_col} DESC, x.id DESC) AS rn FROM {table} x WHERE "
    ))
    .id_in(&format!("x.{partition_col}"), ids)
    .push(") ranked WHERE rn <= ")
    .bind_count(limit.saturating_add(1))
    .push(&format!(" ORDER BY {partition_col}, rn"));
    let rows = db.query_all_raw(sql.build()).await?;
    rows.iter()
        .map(|row| M::from_query_result(row, "").map_err(Into::into))
        .collect()
}

fn group_pages<T>(
    ids: &[i64],
    limit: u64,
    rows: Vec<T>,
    owner: impl Fn(&T) -> i64,
    cursor: impl Fn(&T) -> TimeCursor + Copy,
) -> HashMap<i64, Page<T>> {
    let mut grouped: HashMap<i64, Vec<T>> = ids.iter().map(|id| (*id, Vec::new())).collect();
    for row in rows {
        grouped.entry(owner(&row)).or_default().push(row);
    }
    grouped
        .into_iter()
        .map(|(id, rows)| {
            (
                id,
                Page::from_rows(Direction::Forward, limit, false, rows, cursor),
            )
        })
        .collect()
}

/// Appends the newest `limit + 1` rows of a customer's `table`
/// (`interactions` or `purchases`) as a [`crate::sql::push_json_rows`]
/// column on the customer id expression `customer_id`, newest first by
/// `occurred_at` and id, over the `(customer_id, occurred_at)` index.
pub(crate) fn push_first_rows_column(
    sql: &mut Sql,
    table: FirstRowsTable,
    customer_id: &str,
    limit: u64,
) {
    let (items, name) = match table {
        // `helped` as 0/1: PostgreSQL's JSON has booleans, SQLite's integers.
        FirstRowsTable::Interactions => (
            "x.id, x.customer_id, x.channel, x.occurred_at, x.summary, \
             CASE WHEN x.helped THEN 1 ELSE 0 END, x.recorded_by, x.created_at",
            "interactions",
        ),
        FirstRowsTable::Purchases => (
            "x.id, x.customer_id, x.amount_minor, x.currency, x.occurred_at, x.external_ref, \
             x.created_at",
            "purchases",
        ),
    };
    crate::sql::push_json_rows(
        sql,
        items,
        |sql| {
            sql.push(&format!(
                "FROM (SELECT * FROM {name} WHERE customer_id = {customer_id} \
                 ORDER BY occurred_at DESC, id DESC LIMIT "
            ))
            .bind_count(limit.saturating_add(1))
            .push(") x");
        },
        "x.occurred_at DESC, x.id DESC",
    );
}

/// The tables [`push_first_rows_column`] reads.
#[derive(Clone, Copy, Debug)]
pub(crate) enum FirstRowsTable {
    Interactions,
    Purchases,
}

/// The rows of a [`push_first_rows_column`] column of interactions.
pub(crate) type InteractionRow = (
    i64,
    i64,
    String,
    String,
    Option<String>,
    i64,
    Option<i64>,
    String,
);
/// The rows of a [`push_first_rows_column`] column of purchases.
pub(crate) type PurchaseRow = (i64, i64, i64, String, String, String, String);

/// A first page of interactions from [`push_first_rows_column`] rows.
///
/// # Errors
/// `INTERNAL` on unreadable stored values.
pub(crate) fn interactions_from_rows(
    rows: Vec<InteractionRow>,
    limit: u64,
) -> DomainResult<Page<Interaction>> {
    let rows = rows
        .into_iter()
        .map(
            |(id, customer_id, channel, occurred_at, summary, helped, recorded_by, created_at)| {
                Interaction::try_from(interactions::Model {
                    id,
                    customer_id,
                    channel,
                    occurred_at: json_time(&occurred_at)?,
                    summary,
                    helped: helped != 0,
                    recorded_by,
                    created_at: json_time(&created_at)?,
                })
            },
        )
        .collect::<DomainResult<Vec<_>>>()?;
    Ok(Page::from_rows(
        Direction::Forward,
        limit,
        false,
        rows,
        interaction_cursor,
    ))
}

/// A first page of purchases from [`push_first_rows_column`] rows.
///
/// # Errors
/// `INTERNAL` on unreadable stored values.
pub(crate) fn purchases_from_rows(
    rows: Vec<PurchaseRow>,
    limit: u64,
) -> DomainResult<Page<Purchase>> {
    let rows = rows
        .into_iter()
        .map(
            |(id, customer_id, amount_minor, currency, occurred_at, external_ref, created_at)| {
                Purchase::try_from(purchases::Model {
                    id,
                    customer_id,
                    amount_minor,
                    currency,
                    occurred_at: json_time(&occurred_at)?,
                    external_ref,
                    created_at: json_time(&created_at)?,
                })
            },
        )
        .collect::<DomainResult<Vec<_>>>()?;
    Ok(Page::from_rows(
        Direction::Forward,
        limit,
        false,
        rows,
        purchase_cursor,
    ))
}

/// An interaction's position in its customer's list (newest first).
fn interaction_cursor(i: &Interaction) -> TimeCursor {
    TimeCursor {
        t: i.occurred_at,
        id: i.id,
    }
}

/// A purchase's position in its customer's list (newest first).
fn purchase_cursor(p: &Purchase) -> TimeCursor {
    TimeCursor {
        t: p.occurred_at,
        id: p.id,
    }
}

/// The first page (newest first) of each customer's interactions.
///
/// # Errors
/// Database failures.
pub async fn interactions_page_for(
    db: &impl ConnectionTrait,
    ids: &[i64],
    limit: u64,
) -> DomainResult<HashMap<i64, Page<Interaction>>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<interactions::Model> =
        first_rows(db, "interactions", "customer_id", "occurred_at", ids, limit).await?;
    let rows = rows
        .into_iter()
        .map(Interaction::try_from)
        .collect::<DomainResult<Vec<_>>>()?;
    Ok(group_pages(
        ids,
        limit,
        rows,
        |i| i.customer_id,
        interaction_cursor,
    ))
}

/// The first page (newest first) of each customer's purchases.
///
/// # Errors
/// Database failures.
pub async fn purchases_page_for(
    db: &impl ConnectionTrait,
    ids: &[i64],
    limit: u64,
) -> DomainResult<HashMap<i64, Page<Purchase>>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<purchases::Model> =
        first_rows(db, "purchases", "customer_id", "occurred_at", ids, limit).await?;
    let rows = rows
        .into_iter()
        .map(Purchase::try_from)
        .collect::<DomainResult<Vec<_>>>()?;
    Ok(group_pages(
        ids,
        limit,
        rows,
        |p| p.customer_id,
        purchase_cursor,
    ))
}

/// The first page (most recently acquired first) of the customers each
/// customer referred.
///
/// # Errors
/// Database failures.
pub async fn referrals_page_for(
    db: &impl ConnectionTrait,
    ids: &[i64],
    limit: u64,
) -> DomainResult<HashMap<i64, Page<Customer>>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<customers::Model> =
        first_rows(db, "customers", "referred_by_id", "acquired_at", ids, limit).await?;
    let rows = with_tags(db, rows).await?;
    Ok(group_pages(
        ids,
        limit,
        rows,
        |c| c.referred_by_id.unwrap_or_default(),
        |c| TimeCursor {
            t: c.acquired_at,
            id: c.id,
        },
    ))
}

#[derive(FromQueryResult)]
struct ParentCount {
    parent: i64,
    n: i64,
}

/// Rows of `table` per `parent` column value in `ids`, in one statement;
/// parents without rows are absent. `table` and `parent` are SQL written in
/// this module, never input.
async fn counts_for(
    db: &impl ConnectionTrait,
    table: &str,
    parent: &str,
    ids: &[i64],
) -> DomainResult<HashMap<i64, i64>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(&format!(
        "SELECT t.{parent} AS parent, COUNT(*) AS n FROM {table} t WHERE "
    ))
    .id_in(&format!("t.{parent}"), ids)
    .push(&format!(" GROUP BY t.{parent}"));
    let rows = ParentCount::find_by_statement(sql.build()).all(db).await?;
    Ok(rows.into_iter().map(|r| (r.parent, r.n)).collect())
}

/// How many interactions each customer has (absent: none).
///
/// # Errors
/// Database failures.
pub async fn interaction_counts_for(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> DomainResult<HashMap<i64, i64>> {
    counts_for(db, "interactions", "customer_id", ids).await
}

/// How many purchases each customer has (absent: none).
///
/// # Errors
/// Database failures.
pub async fn purchase_counts_for(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> DomainResult<HashMap<i64, i64>> {
    counts_for(db, "purchases", "customer_id", ids).await
}

/// How many customers each customer referred (absent: none).
///
/// # Errors
/// Database failures.
pub async fn referral_counts_for(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> DomainResult<HashMap<i64, i64>> {
    counts_for(db, "customers", "referred_by_id", ids).await
}

/// Keyset condition for a newest-first list read in `direction` from `cursor`.
fn keyset<C: ColumnTrait>(time: C, id: C, direction: Direction, cursor: &TimeCursor) -> Condition {
    match direction {
        Direction::Forward => Condition::any().add(time.lt(cursor.t)).add(
            Condition::all()
                .add(time.eq(cursor.t))
                .add(id.lt(cursor.id)),
        ),
        Direction::Backward => Condition::any().add(time.gt(cursor.t)).add(
            Condition::all()
                .add(time.eq(cursor.t))
                .add(id.gt(cursor.id)),
        ),
    }
}

/// Applies a newest-first keyset page to `query`: the cursor condition, the
/// order (reversed for backward pages) and one extra row to tell whether more exist.
fn newest_first_page<E: EntityTrait>(
    query: Select<E>,
    time: E::Column,
    id: E::Column,
    page: &PageRequest<TimeCursor>,
) -> Select<E> {
    let query = match &page.cursor {
        Some(cursor) => query.filter(keyset(time, id, page.direction, cursor)),
        None => query,
    };
    let query = match page.direction {
        Direction::Forward => query.order_by_desc(time).order_by_desc(id),
        Direction::Backward => query.order_by_asc(time).order_by_asc(id),
    };
    query.limit(page.limit + 1)
}

/// Any page of one customer's interactions (newest first).
///
/// # Errors
/// Database failures.
pub async fn interactions_page(
    db: &impl ConnectionTrait,
    customer_id: i64,
    page: &PageRequest<TimeCursor>,
) -> DomainResult<Page<Interaction>> {
    use interactions::Column as C;
    let query = newest_first_page(
        interactions::Entity::find().filter(C::CustomerId.eq(customer_id)),
        C::OccurredAt,
        C::Id,
        page,
    );
    let rows = query
        .all(db)
        .await?
        .into_iter()
        .map(Interaction::try_from)
        .collect::<DomainResult<Vec<_>>>()?;
    Ok(Page::from_rows(
        page.direction,
        page.limit,
        page.cursor.is_some(),
        rows,
        interaction_cursor,
    ))
}

/// Any page of one customer's purchases (newest first).
///
/// # Errors
/// Database failures.
pub async fn purchases_page(
    db: &impl ConnectionTrait,
    customer_id: i64,
    page: &PageRequest<TimeCursor>,
) -> DomainResult<Page<Purchase>> {
    use purchases::Column as C;
    let query = newest_first_page(
        purchases::Entity::find().filter(C::CustomerId.eq(customer_id)),
        C::OccurredAt,
        C::Id,
        page,
    );
    let rows = query
        .all(db)
        .await?
        .into_iter()
        .map(Purchase::try_from)
        .collect::<DomainResult<Vec<_>>>()?;
    Ok(Page::from_rows(
        page.direction,
        page.limit,
        page.cursor.is_some(),
        rows,
        purchase_cursor,
    ))
}

/// Any page of the customers one customer referred (most recent first).
///
/// # Errors
/// Database failures.
pub async fn referrals_page(
    db: &impl ConnectionTrait,
    customer_id: i64,
    page: &PageRequest<TimeCursor>,
) -> DomainResult<Page<Customer>> {
    use customers::Column as C;
    let query = newest_first_page(
        customers::Entity::find().filter(C::ReferredById.eq(customer_id)),
        C::AcquiredAt,
        C::Id,
        page,
    );
    let models = query.all(db).await?;
    let rows = with_tags(db, models).await?;
    Ok(Page::from_rows(
        page.direction,
        page.limit,
        page.cursor.is_some(),
        rows,
        |c| TimeCursor {
            t: c.acquired_at,
            id: c.id,
        },
    ))
}
