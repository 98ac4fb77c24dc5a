//! Invitations: one personal token per customer and survey, shown once and
//! stored only as its SHA-256 hash.
//!
//! Re-inviting a customer who holds a live (unused, unrevoked) invitation
//! **re-issues** it: the old token is revoked and a new one issued in the same
//! transaction, so a lost e-mail can be resent and there are never two live
//! invitations (the partial unique index `uq_survey_invitations_live` is the
//! last line of defence). A customer who already answered is skipped.

use std::collections::{HashMap, HashSet};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    FromQueryResult, IdenStatic, Iterable, QueryFilter, QueryResult, Set,
};
use sha2::{Digest, Sha256};

use super::hidden_fields::RecipientFields;
use super::model::{Survey, SurveyStatus};
use super::surveys::{from_columns, load, parts_columns};
use super::translations::{available_locales, localize};
use crate::error::{DbResultExt, DomainError, DomainResult};
use crate::sql::Params;
use entity::{customers, survey_invitations, surveys};

/// Most customers one `inviteToSurvey` call may name.
pub const MAX_INVITES_PER_CALL: usize = 1_000;

/// A freshly issued invitation; the token is shown only here.
#[derive(Clone)]
pub struct IssuedInvitation {
    pub invitation_id: i64,
    pub customer_id: i64,
    /// 32 random bytes, base64url without padding (43 characters).
    pub token: String,
    pub expires_at: DateTime<Utc>,
    /// Whether a live invitation was revoked to issue this one.
    pub reissued: bool,
}

impl std::fmt::Debug for IssuedInvitation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedInvitation")
            .field("invitation_id", &self.invitation_id)
            .field("customer_id", &self.customer_id)
            .field("token", &"***")
            .finish()
    }
}

/// Why a customer was not invited.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum SkipReason {
    /// No customer has this id.
    UnknownCustomer,
    /// The customer's personal data was erased.
    Erased,
    /// The customer has churned.
    Churned,
    /// The customer already answered this survey.
    AlreadyResponded,
    /// Delivery by e-mail, and the customer has no e-mail address.
    NoEmail,
    /// Delivery by e-mail, and the customer gave no marketing consent.
    NoConsent,
    /// Delivery by e-mail, and the customer opted out of survey e-mail.
    OptedOut,
}

/// The outcome of one `inviteToSurvey` call.
#[derive(Clone, Debug, Default)]
pub struct InvitationBatch {
    pub issued: Vec<IssuedInvitation>,
    pub skipped: Vec<(i64, SkipReason)>,
}

/// The stored form of a token.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// An invitation token: 32 random bytes as 43 base64url characters. Its
/// `Debug` never shows the value, so it cannot end up in a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct InvitationToken(String);

impl InvitationToken {
    /// Length of every token we issue.
    pub const LEN: usize = 43;

    /// A fresh random token.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Accepts a presented token that could be one we issued (a cheap
    /// rejection before any SQL).
    ///
    /// # Errors
    /// `INVALID_TOKEN` for anything else.
    pub fn parse(raw: &str) -> DomainResult<Self> {
        let plausible = raw.len() == Self::LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if plausible {
            Ok(Self(raw.to_owned()))
        } else {
            Err(DomainError::InvalidToken)
        }
    }

    /// The SHA-256 hex digest stored in place of the token.
    pub fn hash(&self) -> String {
        hash_token(&self.0)
    }

    /// The token itself, to hand to the customer once.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for InvitationToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InvitationToken(***)")
    }
}

/// The invitation behind a token and its survey, checked for use at `now`.
///
/// Unknown and revoked tokens (and those of erased customers) are all
/// `INVALID_TOKEN`, so nothing tells whether some other token exists.
///
/// # Errors
/// `INVALID_TOKEN`, `ALREADY_SUBMITTED`, `TOKEN_EXPIRED`, or `CONFLICT` when
/// the survey is closed or not open at `now`.
pub(crate) async fn resolve(
    db: &impl ConnectionTrait,
    token: &InvitationToken,
    now: DateTime<Utc>,
) -> DomainResult<(survey_invitations::Model, Survey)> {
    let (invitation, survey, _) = resolve_with(db, token, now, "", Params::new()).await?;
    Ok((invitation, survey))
}

/// [`resolve`], with more columns read in the same statement: `columns`
/// (each starting with `, `) may name the invitation as `i` and its survey
/// as `s`, and the `:name` parameters bound in `params`. Returns the row
/// too, to read them from.
///
/// One statement reads the invitation and its survey with its questions,
/// translations and scale ([`parts_columns`]).
pub(crate) async fn resolve_with(
    db: &impl ConnectionTrait,
    token: &InvitationToken,
    now: DateTime<Utc>,
    columns: &str,
    mut params: Params,
) -> DomainResult<(survey_invitations::Model, Survey, QueryResult)> {
    params.bind("token_hash", token.hash());
    let text = format!(
        "SELECT {}, {}{}{columns} FROM survey_invitations i \
         JOIN surveys s ON s.id = i.survey_id WHERE i.token_hash = :token_hash",
        prefixed_columns::<survey_invitations::Entity>("i"),
        prefixed_columns::<surveys::Entity>("s"),
        parts_columns(db.get_database_backend()),
    );
    let row = db
        .query_one_raw(params.statement(db.get_database_backend(), &text)?)
        .await?
        .ok_or(DomainError::InvalidToken)?;
    let invitation = survey_invitations::Model::from_query_result(&row, "i_")?;
    // Erasing a customer revokes their live invitations in the same
    // transaction, so a revoked token also covers an erased customer (and
    // the claim in `submit` checks the customer again).
    if invitation.revoked_at.is_some() {
        return Err(DomainError::InvalidToken);
    }
    if invitation.used_at.is_some() {
        return Err(DomainError::AlreadySubmitted);
    }
    if invitation.expires_at <= now {
        return Err(DomainError::TokenExpired);
    }
    let survey = from_columns(&row)?;
    if !survey.is_open_at(now) {
        let reason = match survey.status {
            SurveyStatus::Active if survey.opens_at.is_some_and(|t| now < t) => {
                "this survey is not open yet"
            }
            _ => "this survey is closed",
        };
        return Err(DomainError::conflict(reason));
    }
    Ok((invitation, survey, row))
}

/// Every column of `E` as `alias.column AS alias_column`, for reading
/// several tables' models from one row (`Model::from_query_result(row, "alias_")`).
fn prefixed_columns<E: EntityTrait>(alias: &str) -> String {
    E::Column::iter()
        .map(|c| {
            let name = c.as_str();
            format!("{alias}.{name} AS {alias}_{name}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Fails unless `survey` takes invitations at `now`: ACTIVE and not past its
/// `closesAt`.
pub(super) fn check_invitable(survey: &Survey, now: DateTime<Utc>) -> DomainResult<()> {
    if survey.status != SurveyStatus::Active {
        return Err(DomainError::conflict(
            "invitations can only be sent for an ACTIVE survey",
        ));
    }
    if survey.closes_at.is_some_and(|t| t <= now) {
        return Err(DomainError::conflict("the survey has passed its closesAt"));
    }
    Ok(())
}

/// The customers of an invitation call, sorted: those skipped (with why),
/// those to invite, and which of those hold a live invitation.
struct Invitees {
    skipped: Vec<(i64, SkipReason)>,
    to_issue: Vec<i64>,
    live: HashSet<i64>,
    found: HashMap<i64, customers::Model>,
    /// Each invitee's own locale, as stored on the customer.
    locales: HashMap<i64, String>,
}

async fn sort_invitees(
    db: &impl ConnectionTrait,
    survey_id: i64,
    customer_ids: &[i64],
) -> DomainResult<Invitees> {
    let mut seen = HashSet::new();
    let ids: Vec<i64> = customer_ids
        .iter()
        .copied()
        .filter(|id| seen.insert(*id))
        .collect();
    let found: HashMap<i64, customers::Model> = customers::Entity::find()
        .filter(customers::Column::Id.is_in(ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let existing = survey_invitations::Entity::find()
        .filter(survey_invitations::Column::SurveyId.eq(survey_id))
        .filter(survey_invitations::Column::CustomerId.is_in(ids.clone()))
        .filter(survey_invitations::Column::RevokedAt.is_null())
        .all(db)
        .await?;
    let responded: HashSet<i64> = existing
        .iter()
        .filter(|i| i.used_at.is_some())
        .map(|i| i.customer_id)
        .collect();
    let live: HashSet<i64> = existing
        .iter()
        .filter(|i| i.used_at.is_none())
        .map(|i| i.customer_id)
        .collect();
    let mut skipped = Vec::new();
    let mut to_issue = Vec::new();
    let locales = found
        .values()
        .filter_map(|c| Some((c.id, c.locale.clone()?)))
        .collect();
    for id in ids {
        let reason = match found.get(&id) {
            None => Some(SkipReason::UnknownCustomer),
            Some(c) if c.erased_at.is_some() => Some(SkipReason::Erased),
            Some(c) if c.churned_at.is_some() => Some(SkipReason::Churned),
            Some(_) if responded.contains(&id) => Some(SkipReason::AlreadyResponded),
            Some(_) => None,
        };
        match reason {
            Some(reason) => skipped.push((id, reason)),
            None => to_issue.push(id),
        }
    }
    Ok(Invitees {
        skipped,
        to_issue,
        live,
        found,
        locales,
    })
}

/// Revokes the live invitations of `customer_ids` to the survey.
pub(super) async fn revoke_live(
    db: &impl ConnectionTrait,
    survey_id: i64,
    customer_ids: Vec<i64>,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let revoked: Vec<i64> = survey_invitations::Entity::find()
        .filter(survey_invitations::Column::SurveyId.eq(survey_id))
        .filter(survey_invitations::Column::CustomerId.is_in(customer_ids.clone()))
        .filter(survey_invitations::Column::UsedAt.is_null())
        .filter(survey_invitations::Column::RevokedAt.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|i| i.id)
        .collect();
    super::mail::forget_links(db, &revoked).await?;
    survey_invitations::Entity::update_many()
        .col_expr(survey_invitations::Column::RevokedAt, Expr::value(now))
        .filter(survey_invitations::Column::SurveyId.eq(survey_id))
        .filter(survey_invitations::Column::CustomerId.is_in(customer_ids))
        .filter(survey_invitations::Column::UsedAt.is_null())
        .filter(survey_invitations::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Stores one new invitation per customer and returns them with their
/// tokens (the only time a token is shown); `reissued` for those in `live`.
#[allow(clippy::too_many_arguments)]
async fn issue(
    db: &impl ConnectionTrait,
    survey_id: i64,
    customer_ids: &[i64],
    live: &HashSet<i64>,
    locale_of: impl Fn(i64) -> Option<String>,
    hidden_of: &HashMap<i64, String>,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> DomainResult<Vec<IssuedInvitation>> {
    let tokens: Vec<(i64, InvitationToken)> = customer_ids
        .iter()
        .map(|id| (*id, InvitationToken::generate()))
        .collect();
    let rows = tokens
        .iter()
        .map(|(customer_id, token)| survey_invitations::ActiveModel {
            survey_id: Set(survey_id),
            customer_id: Set(*customer_id),
            token_hash: Set(token.hash()),
            expires_at: Set(expires_at),
            created_at: Set(now),
            locale: Set(locale_of(*customer_id)),
            hidden_fields: Set(hidden_of.get(customer_id).cloned()),
            ..Default::default()
        });
    survey_invitations::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await
        .on_unique("another invitation for one of these customers was issued meanwhile; retry")?;
    let stored: HashMap<String, i64> = survey_invitations::Entity::find()
        .filter(survey_invitations::Column::SurveyId.eq(survey_id))
        .filter(survey_invitations::Column::CustomerId.is_in(customer_ids.to_vec()))
        .filter(survey_invitations::Column::UsedAt.is_null())
        .filter(survey_invitations::Column::RevokedAt.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.token_hash, i.id))
        .collect();
    tokens
        .into_iter()
        .map(|(customer_id, token)| {
            let invitation_id = stored.get(&token.hash()).copied().ok_or_else(|| {
                DomainError::Internal(anyhow::anyhow!("issued invitation vanished"))
            })?;
            Ok(IssuedInvitation {
                invitation_id,
                customer_id,
                token: token.expose().to_owned(),
                expires_at,
                reissued: live.contains(&customer_id),
            })
        })
        .collect()
}

/// Stores one new invitation and returns its id and token (the only time
/// the token is shown). The caller has revoked any live one first.
pub(super) async fn issue_one(
    db: &impl ConnectionTrait,
    survey_id: i64,
    customer_id: i64,
    locale: Option<String>,
    hidden_fields: Option<String>,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> DomainResult<(i64, String)> {
    let token = InvitationToken::generate();
    let stored = survey_invitations::ActiveModel {
        survey_id: Set(survey_id),
        customer_id: Set(customer_id),
        token_hash: Set(token.hash()),
        expires_at: Set(expires_at),
        created_at: Set(now),
        locale: Set(locale),
        hidden_fields: Set(hidden_fields),
        ..Default::default()
    }
    .insert(db)
    .await
    .on_unique("another invitation for this customer was issued meanwhile; retry")?;
    Ok((stored.id, token.expose().to_owned()))
}

/// Checks an invitation request before the transaction opens.
pub(crate) fn check_invite(
    customer_ids: &[i64],
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    if customer_ids.is_empty() || customer_ids.len() > MAX_INVITES_PER_CALL {
        return Err(DomainError::validation(
            "customerIds",
            format!("name between 1 and {MAX_INVITES_PER_CALL} customers"),
        ));
    }
    if expires_at <= now {
        return Err(DomainError::validation(
            "expiresAt",
            "must be in the future",
        ));
    }
    Ok(())
}

/// Issues one new token per invitable customer of an ACTIVE survey,
/// revoking live ones first; says who was skipped and why. With `email`,
/// only customers who may be mailed are invited, and their invitation
/// e-mails and reminders are queued in the same transaction.
///
/// Each invitation carries a locale: `locale` when given (one the survey
/// is available in), else the customer's own locale when the survey is
/// available in it (or in its language), else none; and the hidden field
/// values `hidden` gives its customer ([`super::hidden_fields`]).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn invite(
    txn: &impl ConnectionTrait,
    survey_id: i64,
    customer_ids: &[i64],
    locale: Option<&str>,
    hidden: &[RecipientFields],
    expires_at: DateTime<Utc>,
    email: Option<&super::mail::EmailRequest>,
    now: DateTime<Utc>,
) -> DomainResult<InvitationBatch> {
    let survey = load(txn, survey_id).await?;
    check_invitable(&survey, now)?;
    let hidden_of = recipient_fields(&survey, customer_ids, hidden)?;
    let available = available_locales(&survey);
    let locale = match locale {
        Some(raw) => {
            let tag = super::locale::parse("locale", raw)?;
            if !available.contains(&tag) {
                return Err(DomainError::validation(
                    "locale",
                    format!(
                        "the survey is not available in {tag}; it is in: {}",
                        available.join(", ")
                    ),
                ));
            }
            Some(tag)
        }
        None => None,
    };
    let Invitees {
        mut skipped,
        mut to_issue,
        live,
        found,
        locales,
    } = sort_invitees(txn, survey_id, customer_ids).await?;
    if email.is_some() {
        let candidates: Vec<customers::Model> = to_issue
            .iter()
            .filter_map(|id| found.get(id).cloned())
            .collect();
        let (reachable, unreachable) = super::mail::mailable(txn, &candidates).await?;
        to_issue = reachable;
        skipped.extend(unreachable);
    }
    let locale_of = |customer_id: i64| {
        locale.clone().or_else(|| {
            let own = locales.get(&customer_id)?;
            super::locale::best_match(std::slice::from_ref(own), &available)
        })
    };
    let mut batch = InvitationBatch {
        skipped,
        ..Default::default()
    };
    let reissue: Vec<i64> = to_issue
        .iter()
        .copied()
        .filter(|id| live.contains(id))
        .collect();
    if !reissue.is_empty() {
        revoke_live(txn, survey_id, reissue, now).await?;
    }
    if !to_issue.is_empty() {
        batch.issued = issue(
            txn, survey_id, &to_issue, &live, locale_of, &hidden_of, expires_at, now,
        )
        .await?;
    }
    if let Some(request) = email {
        let mail_locales: HashMap<i64, Option<String>> = found
            .into_iter()
            .map(|(id, customer)| (id, customer.locale))
            .collect();
        super::mail::enqueue(txn, &survey, &batch.issued, &mail_locales, request, now).await?;
    }
    Ok(batch)
}

/// Checks the hidden field values of an invitation call against the
/// survey's keys and the customers invited; returns each customer's stored
/// values. Errors name `hiddenFields.<i>.customerId` or
/// `hiddenFields.<i>.values.<j>.key|value`.
fn recipient_fields(
    survey: &Survey,
    customer_ids: &[i64],
    hidden: &[RecipientFields],
) -> DomainResult<HashMap<i64, String>> {
    let mut out = HashMap::new();
    for (i, recipient) in hidden.iter().enumerate() {
        let field = format!("hiddenFields.{i}");
        if !customer_ids.contains(&recipient.customer_id) {
            return Err(DomainError::validation(
                format!("{field}.customerId"),
                "is not one of the customers invited",
            ));
        }
        let values = super::hidden_fields::check_values(
            &format!("{field}.values"),
            &survey.hidden_fields,
            &recipient.values,
        )?;
        let stored = super::hidden_fields::values_to_json(&values);
        if out
            .insert(recipient.customer_id, stored.unwrap_or_default())
            .is_some()
        {
            return Err(DomainError::validation(
                format!("{field}.customerId"),
                "given more than once",
            ));
        }
    }
    out.retain(|_, json| !json.is_empty());
    Ok(out)
}

/// The survey behind a live token, shown in the locale chosen for its
/// respondent (see [`super::locale`]).
pub(crate) async fn survey_for_token(
    db: &DatabaseConnection,
    token: &str,
    preferences: &[String],
) -> DomainResult<InvitedSurvey> {
    let token = InvitationToken::parse(token)?;
    let (invitation, survey) = resolve(db, &token, Utc::now()).await?;
    let locales = available_locales(&survey);
    let locale = super::locale::choose(
        invitation.locale.as_deref(),
        preferences,
        survey.locale.as_deref(),
        &locales,
    );
    Ok(InvitedSurvey {
        survey: localize(survey, locale.as_deref()),
        locale,
        locales,
        expires_at: invitation.expires_at,
    })
}

/// A survey as one respondent sees it.
#[derive(Clone, Debug)]
pub struct InvitedSurvey {
    /// The survey with its texts in `locale`.
    pub survey: Survey,
    /// The locale shown (none when the survey declares no locale).
    pub locale: Option<String>,
    /// Every locale the survey is available in, its default first.
    pub locales: Vec<String>,
    /// When the invitation expires.
    pub expires_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_parse_only_when_they_could_be_ours() {
        let rejects = [
            ("", "empty"),
            ("abc", "short"),
            (&"A".repeat(44)[..], "long"),
            (&format!("{}=", "A".repeat(42))[..], "padding"),
            (&format!("{}/", "A".repeat(42))[..], "standard base64"),
            (&format!("{}\u{0}", "A".repeat(42))[..], "NUL"),
        ];
        for (raw, why) in rejects {
            assert!(
                matches!(InvitationToken::parse(raw), Err(DomainError::InvalidToken)),
                "{why}"
            );
        }
        for _ in 0..100 {
            let token = InvitationToken::generate();
            let parsed = InvitationToken::parse(token.expose()).expect("round trip");
            assert_eq!(parsed.hash(), token.hash());
            assert_eq!(token.hash().len(), 64);
            assert_eq!(format!("{token:?}"), "InvitationToken(***)");
        }
    }
}
