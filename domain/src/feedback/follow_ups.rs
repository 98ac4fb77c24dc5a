//! The closed loop: follow-ups raised by dissatisfied responses, and resolving them.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
};

use super::model::{FollowUp, FollowUpStatus};
use crate::customers::SortDirection;
use crate::error::{DomainError, DomainResult};
use crate::keyset::{self, check_range, time_key, KeyKind, OrderCursor, Ordering};
use crate::pagination::{Page, PageRequest};
use crate::sql::Sql;
use crate::validation::required_text;
use entity::{follow_ups, survey_responses};

/// Which follow-ups `followUps` lists; every set field narrows the list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FollowUpFilter {
    pub status: Option<FollowUpStatus>,
    /// Follow-ups of this survey's responses.
    pub survey_id: Option<i64>,
    /// Follow-ups about this customer.
    pub customer_id: Option<i64>,
    /// Opened at or after.
    pub opened_from: Option<DateTime<Utc>>,
    /// Opened strictly before.
    pub opened_to: Option<DateTime<Utc>>,
    /// Opened more than this many days ago (0..=36500).
    pub older_than_days: Option<i32>,
}

/// Largest `olderThanDays` accepted (a century).
const MAX_AGE_DAYS: i32 = 36_500;

/// The sort field of the follow-up list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FollowUpOrderField {
    /// When the follow-up was opened.
    OpenedAt,
}

/// How to order follow-ups; ties are broken by id in the same direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FollowUpOrder {
    pub field: FollowUpOrderField,
    pub direction: SortDirection,
}

impl Default for FollowUpOrder {
    fn default() -> Self {
        Self {
            field: FollowUpOrderField::OpenedAt,
            direction: SortDirection::Desc,
        }
    }
}

/// Validates `filter` and appends its conditions (`f` is `follow_ups`);
/// `now` anchors `olderThanDays`.
fn push_filter(sql: &mut Sql, filter: &FollowUpFilter, now: DateTime<Utc>) -> DomainResult<()> {
    check_range(
        filter.opened_from.as_ref(),
        filter.opened_to.as_ref(),
        "filter.openedTo",
        "openedFrom",
    )?;
    if let Some(days) = filter.older_than_days {
        if !(0..=MAX_AGE_DAYS).contains(&days) {
            return Err(DomainError::validation(
                "filter.olderThanDays",
                format!("must be between 0 and {MAX_AGE_DAYS}"),
            ));
        }
    }
    if let Some(status) = filter.status {
        sql.push(" AND f.status = ").bind(status.as_str());
    }
    if let Some(id) = filter.survey_id {
        sql.push(
            " AND f.response_id IN (SELECT sr.id FROM survey_responses sr WHERE sr.survey_id = ",
        )
        .bind(id)
        .push(")");
    }
    if let Some(id) = filter.customer_id {
        sql.push(" AND f.customer_id = ").bind(id);
    }
    if let Some(from) = filter.opened_from {
        sql.push(" AND f.opened_at >= ").bind(from);
    }
    if let Some(to) = filter.opened_to {
        sql.push(" AND f.opened_at < ").bind(to);
    }
    if let Some(days) = filter.older_than_days {
        sql.push(" AND f.opened_at < ")
            .bind(now - Duration::days(i64::from(days)));
    }
    Ok(())
}

async fn hydrate(
    db: &impl ConnectionTrait,
    rows: Vec<follow_ups::Model>,
) -> DomainResult<Vec<FollowUp>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.response_id).collect();
    let surveys: HashMap<i64, i64> = survey_responses::Entity::find()
        .select_only()
        .column(survey_responses::Column::Id)
        .column(survey_responses::Column::SurveyId)
        .filter(survey_responses::Column::Id.is_in(ids))
        .into_tuple::<(i64, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    rows.into_iter()
        .map(|r| {
            let survey_id = surveys.get(&r.response_id).copied().unwrap_or_default();
            FollowUp::from_row(r, survey_id)
        })
        .collect()
}

/// One follow-up, or `None`.
///
/// # Errors
/// Database failures.
pub(crate) async fn load_optional(
    db: &impl ConnectionTrait,
    id: i64,
) -> DomainResult<Option<FollowUp>> {
    let Some(row) = follow_ups::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    Ok(hydrate(db, vec![row]).await?.pop())
}

/// A page of follow-ups, filtered and ordered.
pub(crate) async fn follow_ups(
    db: &DatabaseConnection,
    filter: &FollowUpFilter,
    order: FollowUpOrder,
    page: &PageRequest<OrderCursor>,
    now: DateTime<Utc>,
) -> DomainResult<Page<FollowUp>> {
    let ordering = Ordering {
        tag: format!("followUps:{:?}:{:?}", order.field, order.direction),
        key: "f.opened_at",
        id: "f.id",
        kind: KeyKind::Time,
        direction: order.direction,
    };
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT f.* FROM follow_ups f WHERE 1 = 1");
    push_filter(&mut sql, filter, now)?;
    let rows = keyset::page(
        db,
        sql,
        &ordering,
        page,
        |_, m: &follow_ups::Model| Ok(time_key(m.opened_at)),
        |m| m.id,
    )
    .await?;
    let cursors: Vec<String> = rows.items.iter().map(|(c, _)| c.clone()).collect();
    let models = rows.items.into_iter().map(|(_, m)| m).collect();
    let items = hydrate(db, models).await?;
    Ok(Page {
        items: cursors.into_iter().zip(items).collect(),
        has_previous_page: rows.has_previous_page,
        has_next_page: rows.has_next_page,
    })
}

/// How many follow-ups match `filter`.
pub(crate) async fn count(
    db: &DatabaseConnection,
    filter: &FollowUpFilter,
    now: DateTime<Utc>,
) -> DomainResult<i64> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT COUNT(*) AS n FROM follow_ups f WHERE 1 = 1");
    push_filter(&mut sql, filter, now)?;
    keyset::count(db, sql).await
}

/// Checks a resolution note before the transaction opens.
pub(crate) fn check_note(note: &str) -> DomainResult<String> {
    required_text("note", note, 4_000)
}

/// Resolves an OPEN follow-up with a checked note and loads it back.
pub(crate) async fn resolve_follow_up(
    txn: &impl ConnectionTrait,
    actor_id: i64,
    id: i64,
    note: String,
) -> DomainResult<FollowUp> {
    let done = follow_ups::Entity::update_many()
        .col_expr(
            follow_ups::Column::Status,
            Expr::value(FollowUpStatus::Resolved.as_str()),
        )
        .col_expr(follow_ups::Column::ResolvedAt, Expr::value(Utc::now()))
        .col_expr(follow_ups::Column::ResolvedBy, Expr::value(actor_id))
        .col_expr(follow_ups::Column::Note, Expr::value(note))
        .filter(follow_ups::Column::Id.eq(id))
        .filter(follow_ups::Column::Status.eq(FollowUpStatus::Open.as_str()))
        .exec(txn)
        .await?;
    let row = follow_ups::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or(DomainError::NotFound("follow-up"))?;
    if done.rows_affected != 1 {
        return Err(DomainError::conflict("the follow-up is already resolved"));
    }
    let follow_up = hydrate(txn, vec![row])
        .await?
        .pop()
        .ok_or(DomainError::NotFound("follow-up"))?;
    Ok(follow_up)
}
