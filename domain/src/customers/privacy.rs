//! Privacy for EU customers: export everything stored about a customer, and
//! erase the personal data while keeping ids, amounts and dates so every
//! metric and the points ledger's sums stay the same.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Select, Set, Statement, Value,
};
use serde_json::{json, Map, Value as Json};

use entity::{
    churn_events, costs, customer_tags, customers, erasures, follow_ups, interactions,
    ledger_entries, memberships, purchases, survey_answers, survey_invitations, survey_responses,
};

use crate::error::{DomainError, DomainResult};

/// The name an erased customer keeps.
pub const ERASED_NAME: &str = "Erased customer";

/// Everything stored about one customer as a JSON document.
pub(crate) async fn export(db: &impl ConnectionTrait, id: i64) -> DomainResult<Json> {
    let customer = customers::Entity::find_by_id(id)
        .into_json()
        .one(db)
        .await?
        .ok_or(DomainError::NotFound("customer"))?;
    let mut document = Map::new();
    document.insert("customer".into(), customer);
    export_activity(db, id, &mut document).await?;
    export_loyalty(db, id, &mut document).await?;
    export_feedback(db, id, &mut document).await?;
    let erasures = json_rows(
        db,
        erasures::Entity::find().filter(erasures::Column::CustomerId.eq(id)),
        erasures::Column::Id,
    )
    .await?;
    document.insert("erasures".into(), json!(erasures));
    document.insert("exportedAt".into(), json!(Utc::now()));
    Ok(Json::Object(document))
}

/// The rows `query` selects as JSON, by id.
async fn json_rows<E: EntityTrait>(
    db: &impl ConnectionTrait,
    query: Select<E>,
    id: E::Column,
) -> DomainResult<Vec<Json>> {
    Ok(query.order_by_asc(id).into_json().all(db).await?)
}

/// Export step: tags, interactions, purchases, costs and churn events.
async fn export_activity(
    db: &impl ConnectionTrait,
    id: i64,
    document: &mut Map<String, Json>,
) -> DomainResult<()> {
    let tags = super::records::tags_of(db, id).await?;
    document.insert("tags".into(), json!(tags));
    let interactions = json_rows(
        db,
        interactions::Entity::find().filter(interactions::Column::CustomerId.eq(id)),
        interactions::Column::Id,
    )
    .await?;
    document.insert("interactions".into(), json!(interactions));
    let purchases = json_rows(
        db,
        purchases::Entity::find().filter(purchases::Column::CustomerId.eq(id)),
        purchases::Column::Id,
    )
    .await?;
    document.insert("purchases".into(), json!(purchases));
    let costs = json_rows(
        db,
        costs::Entity::find().filter(costs::Column::CustomerId.eq(id)),
        costs::Column::Id,
    )
    .await?;
    document.insert("costs".into(), json!(costs));
    let churn_events = json_rows(
        db,
        churn_events::Entity::find().filter(churn_events::Column::CustomerId.eq(id)),
        churn_events::Column::Id,
    )
    .await?;
    document.insert("churnEvents".into(), json!(churn_events));
    Ok(())
}

/// Export step: memberships and their ledger entries.
async fn export_loyalty(
    db: &impl ConnectionTrait,
    id: i64,
    document: &mut Map<String, Json>,
) -> DomainResult<()> {
    let memberships = json_rows(
        db,
        memberships::Entity::find().filter(memberships::Column::CustomerId.eq(id)),
        memberships::Column::Id,
    )
    .await?;
    document.insert("memberships".into(), json!(memberships));
    let ledger_entries = json_rows(
        db,
        ledger_entries::Entity::find().filter(
            ledger_entries::Column::MembershipId.in_subquery(
                Query::select()
                    .column(memberships::Column::Id)
                    .from(memberships::Entity)
                    .and_where(memberships::Column::CustomerId.eq(id))
                    .to_owned(),
            ),
        ),
        ledger_entries::Column::Id,
    )
    .await?;
    document.insert("ledgerEntries".into(), json!(ledger_entries));
    Ok(())
}

/// Export step: survey invitations (without token hashes), responses,
/// answers and follow-ups.
async fn export_feedback(
    db: &impl ConnectionTrait,
    id: i64,
    document: &mut Map<String, Json>,
) -> DomainResult<()> {
    // Token hashes are credentials, not personal data: never exported.
    let invitations = json_rows(
        db,
        survey_invitations::Entity::find()
            .select_only()
            .columns([
                survey_invitations::Column::Id,
                survey_invitations::Column::SurveyId,
                survey_invitations::Column::CustomerId,
                survey_invitations::Column::ExpiresAt,
                survey_invitations::Column::CreatedAt,
                survey_invitations::Column::UsedAt,
                survey_invitations::Column::RevokedAt,
            ])
            .filter(survey_invitations::Column::CustomerId.eq(id)),
        survey_invitations::Column::Id,
    )
    .await?;
    document.insert("surveyInvitations".into(), json!(invitations));
    let responses = json_rows(
        db,
        survey_responses::Entity::find().filter(survey_responses::Column::CustomerId.eq(id)),
        survey_responses::Column::Id,
    )
    .await?;
    document.insert("surveyResponses".into(), json!(responses));
    let answers = json_rows(
        db,
        survey_answers::Entity::find()
            .filter(survey_answers::Column::ResponseId.in_subquery(responses_of(id))),
        survey_answers::Column::Id,
    )
    .await?;
    document.insert("surveyAnswers".into(), json!(answers));
    let follow_ups = json_rows(
        db,
        follow_ups::Entity::find().filter(follow_ups::Column::CustomerId.eq(id)),
        follow_ups::Column::Id,
    )
    .await?;
    document.insert("followUps".into(), json!(follow_ups));
    Ok(())
}

/// SQLite's `ANALYZE` (this build keeps `sqlite_stat4`) stores sample keys of
/// every index, among them customers' names and e-mails and tags. Once
/// statistics exist, the two tables whose indexes hold personal values are
/// analysed again inside the erasure's transaction, so the samples no longer
/// hold the erased values (the old rows are zeroed by `secure_delete`).
async fn refresh_sqlite_samples(db: &impl ConnectionTrait) -> DomainResult<()> {
    if db.get_database_backend() != DatabaseBackend::Sqlite {
        return Ok(());
    }
    let analysed = db
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Sqlite,
            "SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat1'",
        ))
        .await?
        .is_some();
    if analysed {
        db.execute_unprepared("ANALYZE customers; ANALYZE customer_tags")
            .await?;
    }
    Ok(())
}

fn responses_of(id: i64) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(survey_responses::Column::Id)
        .from(survey_responses::Entity)
        .and_where(survey_responses::Column::CustomerId.eq(id))
        .to_owned()
}

/// Blanks the personal data and free texts of customer `id` inside the
/// caller's transaction and records the erasure. Returns the tables in which
/// it changed or deleted rows holding personal values: their old versions
/// are what [`crate::db::Scrubber`] removes afterwards.
pub(crate) async fn erase(
    db: &impl ConnectionTrait,
    id: i64,
    actor_id: i64,
    now: DateTime<Utc>,
) -> DomainResult<Vec<&'static str>> {
    let null_text = || Expr::value(Value::String(None));
    let mut changed = vec!["customers"];
    let mut note = |table: &'static str, rows: u64| {
        if rows > 0 {
            changed.push(table);
        }
    };
    customers::Entity::update_many()
        .col_expr(customers::Column::Name, Expr::value(ERASED_NAME))
        .col_expr(customers::Column::Email, null_text())
        .col_expr(customers::Column::Phone, null_text())
        .col_expr(
            customers::Column::Birthday,
            Expr::value(Value::ChronoDate(None)),
        )
        .col_expr(customers::Column::Locale, null_text())
        .col_expr(customers::Column::ChurnNote, null_text())
        .col_expr(customers::Column::MarketingConsent, Expr::value(false))
        .col_expr(customers::Column::ErasedAt, Expr::value(now))
        .col_expr(customers::Column::ErasedBy, Expr::value(actor_id))
        .col_expr(customers::Column::UpdatedAt, Expr::value(now))
        .filter(customers::Column::Id.eq(id))
        .exec(db)
        .await?;
    let rows = customer_tags::Entity::delete_many()
        .filter(customer_tags::Column::CustomerId.eq(id))
        .exec(db)
        .await?
        .rows_affected;
    note("customer_tags", rows);
    let rows = interactions::Entity::update_many()
        .col_expr(interactions::Column::Summary, null_text())
        .filter(interactions::Column::CustomerId.eq(id))
        .filter(interactions::Column::Summary.is_not_null())
        .exec(db)
        .await?
        .rows_affected;
    note("interactions", rows);
    let rows = churn_events::Entity::update_many()
        .col_expr(churn_events::Column::Note, null_text())
        .filter(churn_events::Column::CustomerId.eq(id))
        .filter(churn_events::Column::Note.is_not_null())
        .exec(db)
        .await?
        .rows_affected;
    note("churn_events", rows);
    let rows = costs::Entity::update_many()
        .col_expr(costs::Column::Note, null_text())
        .filter(costs::Column::CustomerId.eq(id))
        .filter(costs::Column::Note.is_not_null())
        .exec(db)
        .await?
        .rows_affected;
    note("costs", rows);
    // The other areas remove what they hold about the customer (staff notes
    // on point adjustments, survey free texts and follow-up notes) and
    // revoke the customer's live invitations.
    changed.extend(crate::events::customer_erased(db, id, now).await?);
    refresh_sqlite_samples(db).await?;
    erasures::ActiveModel {
        customer_id: Set(id),
        erased_by: Set(actor_id),
        erased_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(changed)
}
