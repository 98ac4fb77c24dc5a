//! Invitations as staff see them (issue 16 §7): listed per survey with a
//! status derived in one place ([`InvitationStatus::at`]), revoked, and
//! re-issued with a new token. Never the token or its hash.
//!
//! A revoked token answers exactly like an unknown one
//! ([`super::invitations::resolve`]), so revoking kills the link at once,
//! for the public look-up, the submission and the form page alike.
//! Re-issuing revokes the customer's live invitation to the survey and
//! stores a new one in the same transaction, as `inviteToSurvey` does.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    Select,
};

use super::invitations::{check_invitable, issue_one, revoke_live};
use super::surveys::load;
use crate::error::{DomainError, DomainResult};
use crate::pagination::{id_keyset_page, IdOrder, Page, PageRequest};
use entity::{customers, survey_invitations};

const NOT_FOUND: &str = "survey invitation";

/// Where an invitation stands. Exactly one applies, checked in this order:
/// a used invitation is `Submitted` (revoking one is refused), then
/// `Revoked`, then `Expired` once `expires_at` has passed, else `Pending`.
/// The public look-up answers the same way: `ALREADY_SUBMITTED`,
/// `INVALID_TOKEN`, `TOKEN_EXPIRED`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum InvitationStatus {
    /// Live: the link works until it expires.
    Pending,
    /// Answered; the link is spent.
    Submitted,
    /// Not answered before it expired.
    Expired,
    /// Revoked by staff, by a re-issue or by the customer's erasure.
    Revoked,
}

impl InvitationStatus {
    /// The status of a stored invitation at `now`.
    pub fn at(row: &survey_invitations::Model, now: DateTime<Utc>) -> Self {
        if row.used_at.is_some() {
            Self::Submitted
        } else if row.revoked_at.is_some() {
            Self::Revoked
        } else if row.expires_at <= now {
            Self::Expired
        } else {
            Self::Pending
        }
    }

    /// The rows in this status at `now`, as a SQL condition (the same rule
    /// as [`Self::at`]).
    fn condition(self, now: DateTime<Utc>) -> Condition {
        use survey_invitations::Column as C;
        let live = Condition::all()
            .add(C::UsedAt.is_null())
            .add(C::RevokedAt.is_null());
        match self {
            Self::Submitted => Condition::all().add(C::UsedAt.is_not_null()),
            Self::Revoked => Condition::all()
                .add(C::UsedAt.is_null())
                .add(C::RevokedAt.is_not_null()),
            Self::Expired => live.add(C::ExpiresAt.lte(now)),
            Self::Pending => live.add(C::ExpiresAt.gt(now)),
        }
    }
}

/// One invitation as staff see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitation {
    pub id: i64,
    pub survey_id: i64,
    pub customer_id: i64,
    pub status: InvitationStatus,
    /// When the invitation (this token) was issued.
    pub sent_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// When the response was submitted.
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Invitation {
    fn from_row(row: survey_invitations::Model, now: DateTime<Utc>) -> Self {
        Self {
            status: InvitationStatus::at(&row, now),
            id: row.id,
            survey_id: row.survey_id,
            customer_id: row.customer_id,
            sent_at: row.created_at,
            expires_at: row.expires_at,
            used_at: row.used_at,
            revoked_at: row.revoked_at,
        }
    }
}

/// Which invitations of a survey to list; every given criterion applies.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InvitationFilter {
    pub status: Option<InvitationStatus>,
    pub customer_id: Option<i64>,
}

/// A re-issued invitation: the new record, its token (shown only here) and
/// the record it replaced, now revoked.
#[derive(Clone)]
pub struct Reissued {
    pub invitation: Invitation,
    pub token: String,
    pub previous: Invitation,
}

impl std::fmt::Debug for Reissued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reissued")
            .field("invitation", &self.invitation)
            .field("token", &"***")
            .finish()
    }
}

fn scoped(
    survey_id: i64,
    filter: &InvitationFilter,
    now: DateTime<Utc>,
) -> Select<survey_invitations::Entity> {
    let mut query = survey_invitations::Entity::find()
        .filter(survey_invitations::Column::SurveyId.eq(survey_id));
    if let Some(status) = filter.status {
        query = query.filter(status.condition(now));
    }
    if let Some(customer_id) = filter.customer_id {
        query = query.filter(survey_invitations::Column::CustomerId.eq(customer_id));
    }
    query
}

/// A page of a survey's invitations, newest first.
///
/// # Errors
/// `NOT_FOUND` for an unknown survey; database failures.
pub(crate) async fn list(
    db: &DatabaseConnection,
    survey_id: i64,
    filter: &InvitationFilter,
    page: PageRequest<i64>,
    now: DateTime<Utc>,
) -> DomainResult<Page<Invitation>> {
    load(db, survey_id).await?;
    id_keyset_page(
        db,
        scoped(survey_id, filter, now),
        survey_invitations::Column::Id,
        IdOrder::Descending,
        &page,
        |rows| async move {
            Ok(rows
                .into_iter()
                .map(|r| Invitation::from_row(r, now))
                .collect::<Vec<Invitation>>())
        },
        |i: &Invitation| i.id,
    )
    .await
}

/// How many invitations of a survey match `filter`.
///
/// # Errors
/// Database failures.
pub(crate) async fn count(
    db: &DatabaseConnection,
    survey_id: i64,
    filter: &InvitationFilter,
    now: DateTime<Utc>,
) -> DomainResult<i64> {
    let n = scoped(survey_id, filter, now).count(db).await?;
    i64::try_from(n).map_err(|e| DomainError::Internal(e.into()))
}

async fn find(db: &impl ConnectionTrait, id: i64) -> DomainResult<survey_invitations::Model> {
    survey_invitations::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(DomainError::NotFound(NOT_FOUND))
}

/// One invitation.
///
/// # Errors
/// `NOT_FOUND`; database failures.
pub(crate) async fn get(
    db: &impl ConnectionTrait,
    id: i64,
    now: DateTime<Utc>,
) -> DomainResult<Invitation> {
    Ok(Invitation::from_row(find(db, id).await?, now))
}

/// Revokes an unused invitation: its token answers as unknown from now on.
///
/// # Errors
/// `NOT_FOUND`; `CONFLICT` when it was submitted or is already revoked.
pub(crate) async fn revoke(
    txn: &impl ConnectionTrait,
    id: i64,
    now: DateTime<Utc>,
) -> DomainResult<Invitation> {
    // Compare-and-set: of a revocation and a submission racing, one wins.
    let done = survey_invitations::Entity::update_many()
        .col_expr(survey_invitations::Column::RevokedAt, Expr::value(now))
        .filter(survey_invitations::Column::Id.eq(id))
        .filter(survey_invitations::Column::UsedAt.is_null())
        .filter(survey_invitations::Column::RevokedAt.is_null())
        .exec(txn)
        .await?;
    let row = find(txn, id).await?;
    if done.rows_affected != 1 {
        return Err(refusal(&row, "revoked"));
    }
    super::mail::forget_links(txn, &[id]).await?;
    Ok(Invitation::from_row(row, now))
}

fn refusal(row: &survey_invitations::Model, verb: &str) -> DomainError {
    if row.used_at.is_some() {
        DomainError::conflict(format!(
            "the invitation was already submitted and cannot be {verb}"
        ))
    } else {
        DomainError::conflict("the invitation is already revoked")
    }
}

/// Checks a re-issue's expiry before the transaction opens.
///
/// # Errors
/// `BAD_USER_INPUT` on `expiresAt` not in the future.
pub(crate) fn check_reissue(
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    match expires_at {
        Some(t) if t <= now => Err(DomainError::validation(
            "expiresAt",
            "must be in the future",
        )),
        _ => Ok(()),
    }
}

/// Issues a new token for the customer and survey of invitation `id`,
/// revoking the customer's live invitation to the survey (this one, if it is
/// still live) in the same transaction. Without `expires_at`, the new
/// invitation runs as long from now as the old one ran from its sending.
///
/// # Errors
/// `NOT_FOUND`; `CONFLICT` when the invitation was submitted, the customer
/// answered the survey otherwise, is erased or churned, or the survey takes
/// no invitations (not ACTIVE, or past its `closesAt`).
pub(crate) async fn reissue(
    txn: &impl ConnectionTrait,
    id: i64,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> DomainResult<Reissued> {
    let old = find(txn, id).await?;
    if old.used_at.is_some() {
        return Err(refusal(&old, "re-issued"));
    }
    check_invitable(&load(txn, old.survey_id).await?, now)?;
    let customer = customers::Entity::find_by_id(old.customer_id)
        .one(txn)
        .await?
        .ok_or(DomainError::NotFound("customer"))?;
    if customer.erased_at.is_some() {
        return Err(DomainError::conflict(
            "the customer's personal data was erased",
        ));
    }
    if customer.churned_at.is_some() {
        return Err(DomainError::conflict(
            "the customer has churned; reactivate them first",
        ));
    }
    let answered = survey_invitations::Entity::find()
        .filter(survey_invitations::Column::SurveyId.eq(old.survey_id))
        .filter(survey_invitations::Column::CustomerId.eq(old.customer_id))
        .filter(survey_invitations::Column::UsedAt.is_not_null())
        .count(txn)
        .await?;
    if answered > 0 {
        return Err(DomainError::conflict(
            "the customer already answered this survey",
        ));
    }
    let expires_at = expires_at.unwrap_or_else(|| now + (old.expires_at - old.created_at));
    revoke_live(txn, old.survey_id, vec![old.customer_id], now).await?;
    let (new_id, token) = issue_one(
        txn,
        old.survey_id,
        old.customer_id,
        old.locale.clone(),
        old.hidden_fields.clone(),
        expires_at,
        now,
    )
    .await?;
    Ok(Reissued {
        invitation: get(txn, new_id, now).await?,
        token,
        previous: get(txn, old.id, now).await?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn row(
        used: Option<i64>,
        revoked: Option<i64>,
        expires_in: i64,
        now: DateTime<Utc>,
    ) -> survey_invitations::Model {
        survey_invitations::Model {
            id: 1,
            survey_id: 1,
            customer_id: 1,
            token_hash: String::new(),
            expires_at: now + Duration::seconds(expires_in),
            created_at: now - Duration::days(1),
            used_at: used.map(|s| now - Duration::seconds(s)),
            revoked_at: revoked.map(|s| now - Duration::seconds(s)),
            locale: None,
            hidden_fields: None,
        }
    }

    #[test]
    fn status_is_derived_in_one_order() {
        let now = Utc::now();
        use InvitationStatus::*;
        let cases = [
            (row(None, None, 60, now), Pending, "live"),
            (row(None, None, 0, now), Expired, "expires exactly now"),
            (row(None, None, -60, now), Expired, "past expiry"),
            (row(None, Some(5), 60, now), Revoked, "revoked while live"),
            (
                row(None, Some(5), -60, now),
                Revoked,
                "revoked beats expired",
            ),
            (
                row(Some(5), None, -60, now),
                Submitted,
                "used beats expired",
            ),
            (
                row(Some(5), Some(1), 60, now),
                Submitted,
                "used beats revoked",
            ),
        ];
        for (row, expected, why) in cases {
            assert_eq!(InvitationStatus::at(&row, now), expected, "{why}");
        }
    }
}
