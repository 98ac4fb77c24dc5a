//! What other areas need from feedback about customers: a batch of each
//! customer's latest responses (for the customer card, without N+1), and the
//! erasure hook that removes a customer's free texts.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder};

use super::model::SurveyResponse;
use crate::error::DomainResult;
use crate::sql::Sql;
use entity::{follow_ups, survey_answers, survey_invitations, survey_responses};

/// How much of each response a batch reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResponseDetail {
    /// The response row only (CSI, dates); `answers` stays empty.
    Summary,
    /// The response and its answers.
    WithAnswers,
}

/// Each customer's latest `per_customer` responses (newest first), in two
/// statements whatever the number of customers (the ids — on PostgreSQL by a
/// `LATERAL` walk of each customer's index entries, on SQLite by a grouped
/// `MAX` for one each or `ROW_NUMBER()` for more — then the rows), plus one
/// for the answers when asked.
///
/// # Errors
/// Database failures.
pub async fn responses_for_customers(
    db: &impl ConnectionTrait,
    customer_ids: &[i64],
    per_customer: u64,
    detail: ResponseDetail,
) -> DomainResult<HashMap<i64, Vec<SurveyResponse>>> {
    let mut out: HashMap<i64, Vec<SurveyResponse>> = HashMap::new();
    if customer_ids.is_empty() || per_customer == 0 {
        return Ok(out);
    }
    // Finding the ids first and reading rows by id keeps both statements on
    // the (customer_id, id) index; PostgreSQL plans the one-statement forms
    // (an `id IN` over the ranked subquery, or ranking whole rows) several
    // times slower. PostgreSQL walks each customer's newest entries in the
    // index (LATERAL … LIMIT); SQLite, without LATERAL, takes a grouped MAX
    // for the newest response alone (a dashboard's latest CSI) and ranks
    // with ROW_NUMBER() for more.
    let backend = db.get_database_backend();
    let mut sql = Sql::new(backend);
    if backend == DbBackend::Postgres {
        sql.push("SELECT r.id FROM unnest(")
            .id_array(customer_ids)
            .push(
                ") AS c(id) CROSS JOIN LATERAL (SELECT id FROM survey_responses \
                 WHERE customer_id = c.id ORDER BY id DESC LIMIT ",
            )
            .bind_count(per_customer)
            .push(") r");
    } else if per_customer == 1 {
        sql.push("SELECT MAX(id) AS id FROM survey_responses WHERE ")
            .id_in("customer_id", customer_ids)
            .push(" GROUP BY customer_id");
    } else {
        sql.push(
            "SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY id DESC) AS rn \
             FROM survey_responses WHERE ",
        )
        .id_in("customer_id", customer_ids)
        .push(") ranked WHERE rn <= ")
        .bind_count(per_customer);
    }
    let mut ids = Vec::new();
    for row in db.query_all_raw(sql.build()).await? {
        ids.push(row.try_get::<i64>("", "id")?);
    }
    if ids.is_empty() {
        return Ok(out);
    }
    let rows = survey_responses::Entity::find()
        .filter(survey_responses::Column::Id.is_in(ids))
        .order_by_desc(survey_responses::Column::Id)
        .all(db)
        .await?;
    if rows.is_empty() {
        return Ok(out);
    }
    let mut answers = answers_of(db, detail, rows.iter().map(|r| r.id)).await?;
    for row in rows {
        let a = answers.remove(&row.id).unwrap_or_default();
        let customer = row.customer_id;
        out.entry(customer)
            .or_default()
            .push(SurveyResponse::from_rows(row, a)?);
    }
    Ok(out)
}

/// The answers of the responses `ids`, by response, in one statement when
/// `detail` asks for them (none otherwise).
async fn answers_of(
    db: &impl ConnectionTrait,
    detail: ResponseDetail,
    ids: impl Iterator<Item = i64>,
) -> DomainResult<HashMap<i64, Vec<survey_answers::Model>>> {
    let mut answers: HashMap<i64, Vec<survey_answers::Model>> = HashMap::new();
    let ids: Vec<i64> = ids.collect();
    if detail == ResponseDetail::WithAnswers && !ids.is_empty() {
        for a in survey_answers::Entity::find()
            .filter(survey_answers::Column::ResponseId.is_in(ids))
            .order_by_asc(survey_answers::Column::Id)
            .all(db)
            .await?
        {
            answers.entry(a.response_id).or_default().push(a);
        }
    }
    Ok(answers)
}

/// Appends a customer's newest `limit` responses (without answers) as a
/// [`crate::sql::push_json_rows`] column on the customer id expression
/// `customer_id`, newest first, over the `(customer_id, id)` index.
pub(crate) fn push_latest_responses_column(sql: &mut Sql, customer_id: &str, limit: u64) {
    crate::sql::push_json_rows(
        sql,
        "r.id, r.survey_id, r.invitation_id, r.customer_id, r.submitted_at, r.csi, \
         r.weighted_mean, r.factor_set_id, r.helpful_at, r.helpful_by, r.locale, r.hidden_fields",
        |sql| {
            sql.push(&format!(
                "FROM (SELECT * FROM survey_responses WHERE customer_id = {customer_id} \
                 ORDER BY id DESC LIMIT "
            ))
            .bind_count(limit)
            .push(") r");
        },
        "r.id DESC",
    );
}

/// The rows of a [`push_latest_responses_column`] column.
pub(crate) type LatestResponseRow = (
    i64,
    i64,
    i64,
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
);

/// Responses from [`push_latest_responses_column`] rows, in their order,
/// with their answers when `detail` asks for them (one statement for all).
///
/// # Errors
/// Database failures; `INTERNAL` on unreadable stored values.
pub(crate) async fn responses_from_rows(
    db: &impl ConnectionTrait,
    rows: Vec<LatestResponseRow>,
    detail: ResponseDetail,
) -> DomainResult<Vec<SurveyResponse>> {
    let mut answers = answers_of(db, detail, rows.iter().map(|r| r.0)).await?;
    rows.into_iter()
        .map(|row| {
            let (
                id,
                survey_id,
                invitation_id,
                customer_id,
                submitted_at,
                csi,
                weighted_mean,
                factor_set_id,
                helpful_at,
                helpful_by,
                locale,
                hidden_fields,
            ) = row;
            let model = survey_responses::Model {
                id,
                survey_id,
                invitation_id,
                customer_id,
                submitted_at: crate::sql::json_time(&submitted_at)?,
                csi,
                weighted_mean,
                factor_set_id,
                helpful_at: helpful_at
                    .as_deref()
                    .map(crate::sql::json_time)
                    .transpose()?,
                helpful_by,
                locale,
                hidden_fields,
            };
            SurveyResponse::from_rows(model, answers.remove(&id).unwrap_or_default())
        })
        .collect()
}

/// Called inside `eraseCustomer`'s transaction: removes the customer's free
/// texts (TEXT answers, follow-up notes) and the hidden field values of
/// their invitations and responses (an order number can identify a person),
/// and revokes their live invitations.
/// Ratings, choices, CSI values and ledger credits stay, as anonymous
/// aggregates. Returns the tables in which it removed free text.
///
/// # Errors
/// Database failures; the caller's transaction then rolls back.
pub async fn on_customer_erased(
    db: &impl ConnectionTrait,
    customer_id: i64,
    at: DateTime<Utc>,
) -> DomainResult<Vec<&'static str>> {
    let mut changed = Vec::new();
    let hidden = survey_responses::Entity::update_many()
        .col_expr(
            survey_responses::Column::HiddenFields,
            Expr::value(Option::<String>::None),
        )
        .filter(survey_responses::Column::CustomerId.eq(customer_id))
        .filter(survey_responses::Column::HiddenFields.is_not_null())
        .exec(db)
        .await?;
    if hidden.rows_affected > 0 {
        changed.push("survey_responses");
    }
    let invited = survey_invitations::Entity::update_many()
        .col_expr(
            survey_invitations::Column::HiddenFields,
            Expr::value(Option::<String>::None),
        )
        .filter(survey_invitations::Column::CustomerId.eq(customer_id))
        .filter(survey_invitations::Column::HiddenFields.is_not_null())
        .exec(db)
        .await?;
    if invited.rows_affected > 0 {
        changed.push("survey_invitations");
    }
    let responses = sea_orm::sea_query::Query::select()
        .column(survey_responses::Column::Id)
        .from(survey_responses::Entity)
        .and_where(Expr::col(survey_responses::Column::CustomerId).eq(customer_id))
        .to_owned();
    let answers = survey_answers::Entity::update_many()
        .col_expr(
            survey_answers::Column::Text,
            Expr::value(Option::<String>::None),
        )
        .filter(survey_answers::Column::ResponseId.in_subquery(responses))
        .filter(survey_answers::Column::Text.is_not_null())
        .exec(db)
        .await?;
    if answers.rows_affected > 0 {
        changed.push("survey_answers");
    }
    let notes = follow_ups::Entity::update_many()
        .col_expr(
            follow_ups::Column::Note,
            Expr::value(Option::<String>::None),
        )
        .filter(follow_ups::Column::CustomerId.eq(customer_id))
        .filter(follow_ups::Column::Note.is_not_null())
        .exec(db)
        .await?;
    if notes.rows_affected > 0 {
        changed.push("follow_ups");
    }
    let invitations: Vec<i64> = survey_invitations::Entity::find()
        .filter(survey_invitations::Column::CustomerId.eq(customer_id))
        .all(db)
        .await?
        .into_iter()
        .map(|i| i.id)
        .collect();
    super::mail::forget_links(db, &invitations).await?;
    survey_invitations::Entity::update_many()
        .col_expr(survey_invitations::Column::RevokedAt, Expr::value(at))
        .filter(survey_invitations::Column::CustomerId.eq(customer_id))
        .filter(survey_invitations::Column::UsedAt.is_null())
        .filter(survey_invitations::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(changed)
}
