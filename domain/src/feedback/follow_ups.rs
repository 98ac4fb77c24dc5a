//! The closed loop: follow-ups raised by dissatisfied responses, and resolving them.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
};

use super::model::{FollowUp, FollowUpStatus};
use crate::error::{DomainError, DomainResult};
use crate::pagination::{id_keyset_page, IdOrder, Page, PageRequest};
use crate::validation::required_text;
use entity::{follow_ups, survey_responses};

/// Filters of `followUps`.
#[derive(Clone, Debug, Default)]
pub struct FollowUpFilter {
    pub status: Option<FollowUpStatus>,
    pub survey_id: Option<i64>,
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

/// A page of follow-ups, newest first, filtered.
pub(crate) async fn follow_ups(
    db: &DatabaseConnection,
    filter: FollowUpFilter,
    page: PageRequest<i64>,
) -> DomainResult<Page<FollowUp>> {
    let mut query = follow_ups::Entity::find();
    if let Some(status) = filter.status {
        query = query.filter(follow_ups::Column::Status.eq(status.as_str()));
    }
    if let Some(survey_id) = filter.survey_id {
        query = query.filter(
            follow_ups::Column::ResponseId.in_subquery(
                Query::select()
                    .column(survey_responses::Column::Id)
                    .from(survey_responses::Entity)
                    .and_where(Expr::col(survey_responses::Column::SurveyId).eq(survey_id))
                    .to_owned(),
            ),
        );
    }
    id_keyset_page(
        db,
        query,
        follow_ups::Column::Id,
        IdOrder::Descending,
        &page,
        |rows| hydrate(db, rows),
        |f| f.id,
    )
    .await
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
