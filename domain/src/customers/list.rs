//! The `customers` connection: filters, orders and keyset pagination over a
//! possibly computed sort key (total revenue), stable under inserts.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QueryResult,
};
use serde::{Deserialize, Serialize};

use entity::{customer_tags, customers};

use super::types::{Customer, RelationshipStage, RelationshipType, Tag};
use crate::error::{DomainError, DomainResult};
use crate::money::Currency;
use crate::pagination::{Direction, Page, PageRequest};
use crate::sql::{json_rows, push_json_rows, Sql};

/// Longest search text accepted.
const MAX_SEARCH_LEN: usize = 100;

/// Which customers to list; every set field narrows the list.
#[derive(Clone, Debug, Default)]
pub struct CustomerFilter {
    /// Case-insensitive substring of the name or e-mail.
    pub text: Option<String>,
    /// Customers carrying this tag.
    pub tag: Option<String>,
    pub relationship_stage: Option<RelationshipStage>,
    pub relationship_type: Option<RelationshipType>,
    /// `true`: only churned customers; `false`: only active ones.
    pub churned: Option<bool>,
    /// Acquired at or after this instant.
    pub acquired_from: Option<DateTime<Utc>>,
    /// Acquired strictly before this instant.
    pub acquired_to: Option<DateTime<Utc>>,
}

/// The sort field of the customer list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CustomerOrderField {
    /// Name, case-insensitively.
    Name,
    /// Acquisition time.
    AcquiredAt,
    /// Total revenue in one currency.
    TotalRevenue,
}

/// Ascending or descending.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SortDirection {
    Asc,
    Desc,
}

/// How to order the customer list; ties are broken by id in the same direction.
#[derive(Clone, Debug)]
pub struct CustomerOrder {
    pub field: CustomerOrderField,
    pub direction: SortDirection,
    /// The currency whose revenue `TotalRevenue` sorts by (default EUR).
    pub currency: Option<String>,
}

impl Default for CustomerOrder {
    fn default() -> Self {
        Self {
            field: CustomerOrderField::AcquiredAt,
            direction: SortDirection::Desc,
            currency: None,
        }
    }
}

/// The sort key a cursor holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SortKey {
    Int(i64),
    Text(String),
}

/// A position in the customer list: the order it belongs to, the sort key
/// and the id.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CustomerCursor {
    /// Order field and direction the cursor was issued for, plus currency.
    o: String,
    k: SortKey,
    id: i64,
}

fn order_tag(order: &CustomerOrder, currency: Option<Currency>) -> String {
    format!(
        "{:?}:{:?}:{}",
        order.field,
        order.direction,
        currency.map(Currency::code).unwrap_or("")
    )
}

/// Columns read with every customer of a page: correlated subqueries on
/// `page.id` (the page's row), so the page and its columns are one statement.
pub(crate) trait PageColumns {
    type Row;
    /// Appends `, <expression> AS <name>` for each column.
    fn push(&self, sql: &mut Sql);
    /// Reads one customer's columns.
    fn read(&self, row: &QueryResult) -> DomainResult<Self::Row>;
}

/// One filtered, ordered page, each customer with its `columns`.
pub(crate) async fn list<C: PageColumns>(
    db: &impl ConnectionTrait,
    page: PageRequest<CustomerCursor>,
    filter: &CustomerFilter,
    order: &CustomerOrder,
    columns: &C,
) -> DomainResult<Page<(Customer, C::Row)>> {
    let backend = db.get_database_backend();
    let currency = match order.field {
        CustomerOrderField::TotalRevenue => Some(Currency::parse(
            "orderBy.currency",
            order.currency.as_deref().unwrap_or("EUR"),
        )?),
        _ => None,
    };
    let tag = order_tag(order, currency);
    if let Some(cursor) = &page.cursor {
        if cursor.o != tag {
            let field = match page.direction {
                Direction::Forward => "after",
                Direction::Backward => "before",
            };
            return Err(DomainError::validation(
                field,
                "belongs to another ordering of the list",
            ));
        }
    }
    let key_sql = |sql: &mut Sql| match order.field {
        CustomerOrderField::Name => {
            sql.push("LOWER(c.name)");
        }
        CustomerOrderField::AcquiredAt => {
            sql.push("c.acquired_at");
        }
        CustomerOrderField::TotalRevenue => {
            sql.push(
                "CAST(COALESCE((SELECT SUM(p.amount_minor) FROM purchases p \
                 WHERE p.customer_id = c.id AND p.currency = ",
            );
            sql.bind(currency.map(Currency::code).unwrap_or("EUR"));
            sql.push("), 0) AS BIGINT)");
        }
    };

    // The page is cut first (materialised), then each of its rows gets its
    // tags and columns: the subqueries run for the page's rows only.
    let mut sql = Sql::new(backend);
    sql.push("WITH page AS MATERIALIZED (SELECT c.*, ");
    key_sql(&mut sql);
    sql.push(" AS sort_key FROM customers c WHERE 1 = 1");
    push_filter(&mut sql, filter)?;

    // Reading backward walks the order in reverse, then the page is turned back.
    let ascending =
        (order.direction == SortDirection::Asc) == (page.direction == Direction::Forward);
    if let Some(cursor) = &page.cursor {
        sql.push(" AND (");
        key_sql(&mut sql);
        sql.push(if ascending { " > " } else { " < " });
        bind_key(&mut sql, order.field, &cursor.k)?;
        sql.push(" OR (");
        key_sql(&mut sql);
        sql.push(" = ");
        bind_key(&mut sql, order.field, &cursor.k)?;
        sql.push(if ascending {
            " AND c.id > "
        } else {
            " AND c.id < "
        });
        sql.bind(cursor.id);
        sql.push("))");
    }
    let dir = if ascending { "ASC" } else { "DESC" };
    sql.push(&format!(" ORDER BY sort_key {dir}, c.id {dir} LIMIT "))
        .bind_count(page.limit.saturating_add(1));
    sql.push(")");
    push_select_from_page(&mut sql, columns);
    sql.push(&format!(" ORDER BY sort_key {dir}, id {dir}"));

    let rows = db.query_all_raw(sql.build()).await?;
    let mut fetched = Vec::with_capacity(rows.len());
    for row in rows {
        let key = match order.field {
            CustomerOrderField::Name => SortKey::Text(row.try_get::<String>("", "sort_key")?),
            CustomerOrderField::AcquiredAt => SortKey::Text(
                row.try_get::<DateTime<Utc>>("", "acquired_at")?
                    .to_rfc3339(),
            ),
            CustomerOrderField::TotalRevenue => SortKey::Int(row.try_get::<i64>("", "sort_key")?),
        };
        fetched.push((key, read_from_page(&row, columns)?));
    }
    let had_cursor = page.cursor.is_some();
    let page = Page::from_rows(
        page.direction,
        page.limit,
        had_cursor,
        fetched,
        |(k, (c, _))| CustomerCursor {
            o: tag.clone(),
            k: k.clone(),
            id: c.id,
        },
    );
    Ok(page.map(|(_, row)| row))
}

/// One customer with its `columns`, in one statement; `None` when there is
/// no such customer.
pub(crate) async fn one<C: PageColumns>(
    db: &impl ConnectionTrait,
    id: i64,
    columns: &C,
) -> DomainResult<Option<(Customer, C::Row)>> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("WITH page AS MATERIALIZED (SELECT c.* FROM customers c WHERE c.id = ")
        .bind(id)
        .push(")");
    push_select_from_page(&mut sql, columns);
    match db.query_one_raw(sql.build()).await? {
        Some(row) => Ok(Some(read_from_page(&row, columns)?)),
        None => Ok(None),
    }
}

/// The select over the `page` of customers: each row with its tags and
/// `columns`.
fn push_select_from_page<C: PageColumns>(sql: &mut Sql, columns: &C) {
    sql.push(" SELECT page.*, ");
    push_json_rows(
        sql,
        "t.tag",
        |sql| {
            sql.push("FROM customer_tags t WHERE t.customer_id = page.id");
        },
        "t.tag",
    );
    sql.push(" AS customer_tags");
    columns.push(sql);
    sql.push(" FROM page");
}

/// A row of [`push_select_from_page`].
fn read_from_page<C: PageColumns>(
    row: &QueryResult,
    columns: &C,
) -> DomainResult<(Customer, C::Row)> {
    let model = customers::Model::from_query_result(row, "")?;
    let tags: Vec<(String,)> = json_rows(
        row.try_get::<Option<String>>("", "customer_tags")?
            .as_deref(),
    )?;
    let customer = Customer::from_model(model, tags.into_iter().map(|(t,)| t).collect())?;
    Ok((customer, columns.read(row)?))
}

/// How many customers match a filter.
pub(crate) async fn count(db: &impl ConnectionTrait, filter: &CustomerFilter) -> DomainResult<i64> {
    let backend = db.get_database_backend();
    let mut sql = Sql::new(backend);
    sql.push("SELECT COUNT(*) AS n FROM customers c WHERE 1 = 1");
    push_filter(&mut sql, filter)?;
    let row = db.query_one_raw(sql.build()).await?;
    Ok(match row {
        Some(row) => row.try_get::<i64>("", "n")?,
        None => 0,
    })
}

fn bind_key(sql: &mut Sql, field: CustomerOrderField, key: &SortKey) -> DomainResult<()> {
    let bad = || DomainError::validation("after", "is not a valid cursor");
    match (field, key) {
        (CustomerOrderField::Name, SortKey::Text(s)) => {
            sql.bind(s.clone());
        }
        (CustomerOrderField::AcquiredAt, SortKey::Text(s)) => {
            let at = DateTime::parse_from_rfc3339(s).map_err(|_| bad())?;
            sql.bind(at.with_timezone(&Utc));
        }
        (CustomerOrderField::TotalRevenue, SortKey::Int(n)) => {
            sql.bind(*n);
        }
        _ => return Err(bad()),
    }
    Ok(())
}

fn push_filter(sql: &mut Sql, filter: &CustomerFilter) -> DomainResult<()> {
    if let Some(text) = filter
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        if text.chars().count() > MAX_SEARCH_LEN {
            return Err(DomainError::validation(
                "filter.text",
                "must be at most 100 characters",
            ));
        }
        let escaped = text
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let pattern = format!("%{escaped}%");
        sql.push(" AND (LOWER(c.name) LIKE ");
        sql.bind(pattern.clone());
        sql.push(" ESCAPE '\\' OR c.email LIKE ");
        sql.bind(pattern);
        sql.push(" ESCAPE '\\')");
    }
    if let Some(tag) = &filter.tag {
        let tag = Tag::parse("filter.tag", tag)?;
        sql.push(
            " AND EXISTS (SELECT 1 FROM customer_tags t WHERE t.customer_id = c.id AND t.tag = ",
        );
        sql.bind(tag.as_ref().to_owned());
        sql.push(")");
    }
    if let Some(stage) = filter.relationship_stage {
        sql.push(" AND c.relationship_stage = ");
        sql.bind(stage.as_str());
    }
    if let Some(kind) = filter.relationship_type {
        sql.push(" AND c.relationship_type = ");
        sql.bind(kind.as_str());
    }
    match filter.churned {
        Some(true) => {
            sql.push(" AND c.churned_at IS NOT NULL");
        }
        Some(false) => {
            sql.push(" AND c.churned_at IS NULL");
        }
        None => {}
    }
    if let (Some(from), Some(to)) = (filter.acquired_from, filter.acquired_to) {
        if from >= to {
            return Err(DomainError::validation(
                "filter.acquiredTo",
                "must be after acquiredFrom",
            ));
        }
    }
    if let Some(from) = filter.acquired_from {
        sql.push(" AND c.acquired_at >= ");
        sql.bind(from);
    }
    if let Some(to) = filter.acquired_to {
        sql.push(" AND c.acquired_at < ");
        sql.bind(to);
    }
    Ok(())
}

/// Tags of several customers, each list sorted.
pub(crate) async fn tags_for(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> DomainResult<HashMap<i64, Vec<String>>> {
    let mut map: HashMap<i64, Vec<String>> = HashMap::new();
    if ids.is_empty() {
        return Ok(map);
    }
    let rows = customer_tags::Entity::find()
        .filter(customer_tags::Column::CustomerId.is_in(ids.iter().copied()))
        .order_by_asc(customer_tags::Column::CustomerId)
        .order_by_asc(customer_tags::Column::Tag)
        .all(db)
        .await?;
    for row in rows {
        map.entry(row.customer_id).or_default().push(row.tag);
    }
    Ok(map)
}
