//! Surveys and incentivised feedback (SPEC §4): surveys and their questions,
//! personal invitations, the public respondent flow, incentives through the
//! loyalty ledger, results, and the follow-ups that close the loop.
//!
//! - [`SurveyService`] (here): the area's operations, each checking the
//!   actor's capability and delegating to the topic modules below.
//! - `surveys`: surveys and their questions, their lifecycle and listing.
//! - `invitations`: personal invitation tokens.
//! - `invitation_records`: invitations as staff see them: listed with a
//!   derived status, revoked, re-issued.
//! - `submission`: the public respondent flow and its incentive.
//! - `results`: responses, helpful marks and aggregated results.
//! - `breakdown`: CSAT and NPS per customer segment and per trend period.
//! - `follow_ups`: follow-ups opened by dissatisfied responses.
//! - `customers`: responses per customer and erasure.
//! - [`mail`]: invitations and reminders by e-mail, and the opt-out.
//! - [`conditions`]: questions shown only when an earlier answer matches.
//! - [`hidden_fields`]: values an invitation carries into its response.
//! - `translations`, `locale`: a survey's texts in further locales and the
//!   choice of the locale a respondent sees.

mod breakdown;
pub mod conditions;
pub(crate) mod customers;
mod follow_ups;
pub mod hidden_fields;
mod invitation_records;
mod invitations;
pub mod locale;
pub mod mail;
mod model;
mod results;
mod submission;
mod surveys;
mod translations;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use crate::auth::{Actor, Capability};
use crate::db::begin_write;
use crate::error::DomainResult;
use crate::keyset::OrderCursor;
use crate::pagination::{Page, PageRequest};

pub use breakdown::{AnswerScores, SurveySegment, SurveySegmentFigures, SurveyTrendPoint};
pub use conditions::{Condition, ConditionInput};
pub use customers::{on_customer_erased, responses_for_customers, ResponseDetail};
pub use follow_ups::{FollowUpFilter, FollowUpOrder, FollowUpOrderField};
pub use hidden_fields::RecipientFields;
pub use invitation_records::{Invitation, InvitationFilter, InvitationStatus, Reissued};
pub use invitations::{
    hash_token, InvitationBatch, InvitationToken, InvitedSurvey, IssuedInvitation, SkipReason,
    MAX_INVITES_PER_CALL,
};
pub use model::{
    Answer, FollowUp, FollowUpReason, FollowUpStatus, Question, QuestionKind, QuestionSettings,
    QuestionTranslation, Survey, SurveyResponse, SurveyStatus, SurveyTranslation, MATRIX_SCALE,
    NPS_SCALE, RATING_SCALE,
};
pub use results::{
    responses_by_ids, HelpfulBonus, HelpfulMark, MatrixRowResult, QuestionResult, ResponseFilter,
    ResponseOrder, ResponseOrderField, SurveyResults,
};
pub use submission::{AnswerInput, Receipt, MAX_ANSWERS};
pub use surveys::{
    surveys_by_ids, NewQuestion, SurveyDraft, SurveyFilter, SurveyOrder, SurveyOrderField,
    SurveyPatch, DEFAULT_CSI_THRESHOLD, MAX_MATRIX_ROWS, MAX_PAGES, MAX_QUESTIONS, MIN_MATRIX_ROWS,
};
pub use translations::{
    available_locales, QuestionTranslationInput, TranslationInput, MAX_TRANSLATIONS,
};

/// Surveys, invitations, responses, results and follow-ups.
#[derive(Clone)]
pub struct SurveyService {
    db: DatabaseConnection,
}

impl SurveyService {
    /// The service over `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Creates a DRAFT survey with its questions.
    ///
    /// # Errors
    /// `FORBIDDEN` below MANAGER; `BAD_USER_INPUT` naming the field.
    #[tracing::instrument(skip_all, fields(user_id = actor.user_id))]
    pub async fn create_survey(&self, actor: &Actor, draft: SurveyDraft) -> DomainResult<Survey> {
        actor.require(Capability::ManageSurveys)?;
        let draft = surveys::validate(draft)?;
        let txn = begin_write(&self.db).await?;
        let survey = surveys::create_survey(&txn, actor.user_id, draft).await?;
        txn.commit().await?;
        Ok(survey)
    }

    /// Changes a DRAFT survey; `questions`, when given, replaces them all.
    ///
    /// # Errors
    /// `FORBIDDEN`; `NOT_FOUND`; `CONFLICT` unless the survey is a DRAFT;
    /// `BAD_USER_INPUT` naming the field.
    #[tracing::instrument(skip_all, fields(user_id = actor.user_id, survey_id = id))]
    pub async fn update_survey(
        &self,
        actor: &Actor,
        id: i64,
        patch: SurveyPatch,
    ) -> DomainResult<Survey> {
        actor.require(Capability::ManageSurveys)?;
        let txn = begin_write(&self.db).await?;
        let survey = surveys::update_survey(&txn, id, patch).await?;
        txn.commit().await?;
        Ok(survey)
    }

    /// Publishes a DRAFT: checks it has questions, that every CSI_FACTOR
    /// question names a factor of the survey's PUBLISHED factor set, and that
    /// the programme exists; then the survey is ACTIVE.
    ///
    /// # Errors
    /// `FORBIDDEN`; `NOT_FOUND`; `CONFLICT` unless DRAFT; `BAD_USER_INPUT`
    /// naming the offending question or reference.
    #[tracing::instrument(skip_all, fields(user_id = actor.user_id, survey_id = id))]
    pub async fn publish_survey(&self, actor: &Actor, id: i64) -> DomainResult<Survey> {
        actor.require(Capability::ManageSurveys)?;
        let txn = begin_write(&self.db).await?;
        let survey = surveys::publish_survey(&txn, id).await?;
        txn.commit().await?;
        Ok(survey)
    }

    /// Closes a DRAFT or ACTIVE survey; its tokens then answer `CONFLICT`.
    ///
    /// # Errors
    /// `FORBIDDEN`; `NOT_FOUND`; `CONFLICT` when already closed.
    #[tracing::instrument(skip_all, fields(user_id = actor.user_id, survey_id = id))]
    pub async fn close_survey(&self, actor: &Actor, id: i64) -> DomainResult<Survey> {
        actor.require(Capability::ManageSurveys)?;
        let txn = begin_write(&self.db).await?;
        let survey = surveys::close_survey(&txn, id).await?;
        txn.commit().await?;
        Ok(survey)
    }

    /// One survey.
    ///
    /// # Errors
    /// `FORBIDDEN`; `NOT_FOUND`.
    pub async fn survey(&self, actor: &Actor, id: i64) -> DomainResult<Survey> {
        actor.require(Capability::ReadSurveys)?;
        surveys::load(&self.db, id).await
    }

    /// Surveys matching `filter`, in `order`.
    ///
    /// # Errors
    /// `FORBIDDEN`; `BAD_USER_INPUT` on the filter or a cursor of another order.
    pub async fn surveys(
        &self,
        actor: &Actor,
        filter: &SurveyFilter,
        order: SurveyOrder,
        page: &PageRequest<OrderCursor>,
    ) -> DomainResult<Page<Survey>> {
        actor.require(Capability::ReadSurveys)?;
        surveys::surveys(&self.db, filter, order, page).await
    }

    /// How many surveys match `filter`.
    ///
    /// # Errors
    /// `FORBIDDEN`; `BAD_USER_INPUT` on the filter.
    pub async fn count_surveys(&self, actor: &Actor, filter: &SurveyFilter) -> DomainResult<i64> {
        actor.require(Capability::ReadSurveys)?;
        surveys::count(&self.db, filter).await
    }

    /// Stores a respondent's answers (public, no staff actor): validates them,
    /// then in one transaction marks the invitation used, stores the response,
    /// answers and CSI ratings, credits the incentive once and opens a
    /// follow-up when the response shows dissatisfaction.
    ///
    /// # Errors
    /// `INVALID_TOKEN`, `TOKEN_EXPIRED`, `ALREADY_SUBMITTED`, `CONFLICT` (survey
    /// closed or not open), `BAD_USER_INPUT` naming the question.
    ///
    /// The response records the locale chosen as for [`Self::survey_for_token`]
    /// (`preferences`: the respondent's languages, best first).
    #[tracing::instrument(skip_all, fields(answers = answers.len()))]
    pub async fn submit(
        &self,
        token: &str,
        answers: Vec<AnswerInput>,
        preferences: &[String],
    ) -> DomainResult<Receipt> {
        let now = Utc::now();
        let resolved =
            submission::resolve_submission(&self.db, token, answers, preferences, now).await?;
        let txn = begin_write(&self.db).await?;
        let (response_id, points_awarded) = submission::record(&txn, &resolved, now).await?;
        txn.commit().await?;
        Ok(submission::receipt(
            resolved,
            response_id,
            points_awarded,
            now,
        ))
    }

    /// Invites customers to an ACTIVE survey: one new token per customer,
    /// returned once. Unknown, erased and churned customers and those who
    /// already answered are skipped with a reason; a live invitation is
    /// revoked and re-issued. With `email`, customers who may not be mailed
    /// ([`mail`]) are skipped too, and the e-mails of the others queued.
    ///
    /// # Errors
    /// `FORBIDDEN`; `NOT_FOUND`; `CONFLICT` unless the survey is ACTIVE;
    /// `BAD_USER_INPUT` on `expiresAt` in the past, too many customers, or
    /// `hiddenFields` (an undeclared key, a value too long, a customer not
    /// invited).
    #[tracing::instrument(skip_all, fields(user_id = actor.user_id, survey_id, customers = customer_ids.len()))]
    #[allow(clippy::too_many_arguments)]
    pub async fn invite(
        &self,
        actor: &Actor,
        survey_id: i64,
        customer_ids: &[i64],
        locale: Option<&str>,
        hidden: &[RecipientFields],
        expires_at: DateTime<Utc>,
        email: Option<&mail::EmailRequest>,
    ) -> DomainResult<InvitationBatch> {
        actor.require(Capability::ManageSurveys)?;
        let now = Utc::now();
        invitations::check_invite(customer_ids, expires_at, now)?;
        let txn = begin_write(&self.db).await?;
        let batch = invitations::invite(
            &txn,
            survey_id,
            customer_ids,
            locale,
            hidden,
            expires_at,
            email,
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(batch)
    }

    /// Sets a survey's reminder plan (MANAGER+); invitations already
    /// e-mailed keep the reminders they were sent with.
    ///
    /// # Errors
    /// `FORBIDDEN`; `NOT_FOUND`; `BAD_USER_INPUT` naming `count` or
    /// `intervalDays`.
    #[tracing::instrument(skip_all, fields(user_id = actor.user_id, survey_id))]
    pub async fn set_reminder_plan(
        &self,
        actor: &Actor,
        survey_id: i64,
        plan: mail::ReminderPlan,
    ) -> DomainResult<(Survey, mail::ReminderPlan)> {
        actor.require(Capability::ManageSurveys)?;
        let plan = plan.checked()?;
        let txn = begin_write(&self.db).await?;
        let survey = mail::set_reminder_plan(&txn, survey_id, plan, Utc::now()).await?;
        txn.commit().await?;
        Ok((survey, plan))
    }

    /// A survey's reminder plan (readers of surveys).
    ///
    /// # Errors
    /// `FORBIDDEN`; database failures.
    pub async fn reminder_plan(
        &self,
        actor: &Actor,
        survey_id: i64,
    ) -> DomainResult<mail::ReminderPlan> {
        actor.require(Capability::ReadSurveys)?;
        mail::reminder_plan(&self.db, survey_id).await
    }

    /// The e-mails of an invitation with their delivery state (MANAGER+).
    ///
    /// # Errors
    /// `FORBIDDEN`; database failures.
    pub async fn email_deliveries(
        &self,
        actor: &Actor,
        invitation_id: i64,
    ) -> DomainResult<Vec<mail::EmailDelivery>> {
        actor.require(Capability::ManageSurveys)?;
        mail::deliveries(&self.db, invitation_id).await
    }

    /// A survey's invitations, newest first, with their status now; never
    /// a token. Those who may invite may list (SPEC §2: MANAGER+).
    ///
    /// # Errors
    /// `FORBIDDEN` below MANAGER; `NOT_FOUND` for an unknown survey.
    pub async fn invitations(
        &self,
        actor: &Actor,
        survey_id: i64,
        filter: &InvitationFilter,
        page: PageRequest<i64>,
    ) -> DomainResult<Page<Invitation>> {
        actor.require(Capability::ManageSurveys)?;
        invitation_records::list(&self.db, survey_id, filter, page, Utc::now()).await
    }

    /// One invitation, with its status now; never its token (MANAGER+).
    ///
    /// # Errors
    /// `FORBIDDEN` below MANAGER; `NOT_FOUND`.
    pub async fn invitation(&self, actor: &Actor, id: i64) -> DomainResult<Invitation> {
        actor.require(Capability::ManageSurveys)?;
        invitation_records::get(&self.db, id, Utc::now()).await
    }

    /// How many of a survey's invitations match `filter` (the `totalCount`
    /// of [`Self::invitations`]).
    ///
    /// # Errors
    /// `FORBIDDEN` below MANAGER.
    pub async fn count_invitations(
        &self,
        actor: &Actor,
        survey_id: i64,
        filter: &InvitationFilter,
    ) -> DomainResult<i64> {
        actor.require(Capability::ManageSurveys)?;
        invitation_records::count(&self.db, survey_id, filter, Utc::now()).await
    }

    /// Revokes an unused invitation: from now on its token answers like an
    /// unknown one (`INVALID_TOKEN`), on the form page too.
    ///
    /// # Errors
    /// `FORBIDDEN` below MANAGER; `NOT_FOUND`; `CONFLICT` when it was
    /// submitted or is already revoked.
    #[tracing::instrument(skip_all, fields(user_id = actor.user_id, invitation_id = id))]
    pub async fn revoke_invitation(&self, actor: &Actor, id: i64) -> DomainResult<Invitation> {
        actor.require(Capability::ManageSurveys)?;
        let now = Utc::now();
        let txn = begin_write(&self.db).await?;
        let invitation = invitation_records::revoke(&txn, id, now).await?;
        txn.commit().await?;
        Ok(invitation)
    }

    /// Issues a new token for an invitation's customer and survey, returned
    /// once; the old token is dead at once. Without `expires_at` the new one
    /// runs as long from now as the old one ran from its sending.
    ///
    /// # Errors
    /// `FORBIDDEN` below MANAGER; `NOT_FOUND`; `BAD_USER_INPUT` on
    /// `expiresAt` not in the future; `CONFLICT` when the invitation was
    /// submitted, the customer answered, is erased or churned, or the survey
    /// takes no invitations.
    #[tracing::instrument(skip_all, fields(user_id = actor.user_id, invitation_id = id))]
    pub async fn reissue_invitation(
        &self,
        actor: &Actor,
        id: i64,
        expires_at: Option<DateTime<Utc>>,
    ) -> DomainResult<Reissued> {
        actor.require(Capability::ManageSurveys)?;
        let now = Utc::now();
        invitation_records::check_reissue(expires_at, now)?;
        let txn = begin_write(&self.db).await?;
        let reissued = invitation_records::reissue(&txn, id, expires_at, now).await?;
        txn.commit().await?;
        Ok(reissued)
    }

    /// The survey as the holder of `token` sees it (public, no staff actor),
    /// in the invitation's locale, else the best match of `preferences`
    /// (the respondent's languages, best first), else the default.
    ///
    /// # Errors
    /// `INVALID_TOKEN`, `TOKEN_EXPIRED`, `ALREADY_SUBMITTED`, or `CONFLICT`
    /// for a closed survey.
    #[tracing::instrument(skip_all)]
    pub async fn survey_for_token(
        &self,
        token: &str,
        preferences: &[String],
    ) -> DomainResult<InvitedSurvey> {
        invitations::survey_for_token(&self.db, token, preferences).await
    }

    /// Sets one locale's translation of a DRAFT or ACTIVE survey, replacing
    /// any earlier one for that locale. On an ACTIVE survey it must be
    /// complete.
    ///
    /// # Errors
    /// `FORBIDDEN` below MANAGER; `NOT_FOUND`; `CONFLICT` for a CLOSED
    /// survey; `BAD_USER_INPUT` naming the field (`locale`, `title`,
    /// `questions.<i>.text`, …, or `translations.<locale>.…` when incomplete).
    #[tracing::instrument(skip_all, fields(user_id = actor.user_id, survey_id))]
    pub async fn set_translation(
        &self,
        actor: &Actor,
        survey_id: i64,
        input: TranslationInput,
    ) -> DomainResult<Survey> {
        actor.require(Capability::ManageSurveys)?;
        let txn = begin_write(&self.db).await?;
        let survey = translations::set(&txn, survey_id, input).await?;
        txn.commit().await?;
        Ok(survey)
    }

    /// Removes one locale's translation of a DRAFT or ACTIVE survey.
    ///
    /// # Errors
    /// `FORBIDDEN` below MANAGER; `NOT_FOUND` (survey or translation);
    /// `CONFLICT` for a CLOSED survey; `BAD_USER_INPUT` on `locale`.
    #[tracing::instrument(skip_all, fields(user_id = actor.user_id, survey_id))]
    pub async fn remove_translation(
        &self,
        actor: &Actor,
        survey_id: i64,
        locale: &str,
    ) -> DomainResult<Survey> {
        actor.require(Capability::ManageSurveys)?;
        let txn = begin_write(&self.db).await?;
        let survey = translations::remove(&txn, survey_id, locale).await?;
        txn.commit().await?;
        Ok(survey)
    }

    /// Responses matching `filter`, in `order`.
    ///
    /// # Errors
    /// `FORBIDDEN`; `BAD_USER_INPUT` on the filter (ranges, CSI outside
    /// 0..100, overlong text) or a cursor of another order.
    pub async fn responses(
        &self,
        actor: &Actor,
        filter: &ResponseFilter,
        order: ResponseOrder,
        page: &PageRequest<OrderCursor>,
    ) -> DomainResult<Page<SurveyResponse>> {
        actor.require(Capability::ReadSurveys)?;
        results::responses(&self.db, filter, order, page).await
    }

    /// How many responses match `filter`.
    ///
    /// # Errors
    /// `FORBIDDEN`; `BAD_USER_INPUT` on the filter.
    pub async fn count_responses(
        &self,
        actor: &Actor,
        filter: &ResponseFilter,
    ) -> DomainResult<i64> {
        actor.require(Capability::ReadSurveys)?;
        results::count_responses(&self.db, filter).await
    }

    /// Checks that `actor` may read survey responses, for fields that show
    /// responses loaded in a batch ([`crate::feedback::responses_for_customers`])
    /// or pushed by the live feed: the rule of [`Self::response`].
    ///
    /// # Errors
    /// `FORBIDDEN`.
    pub fn authorize_response_read(&self, actor: &Actor) -> DomainResult<()> {
        actor.require(Capability::ReadSurveys)
    }

    /// Checks that `actor` may read surveys, for fields that follow a link
    /// to a survey loaded in a batch ([`surveys_by_ids`]): the rule of
    /// [`Self::survey`].
    ///
    /// # Errors
    /// `FORBIDDEN`.
    pub fn authorize_survey_read(&self, actor: &Actor) -> DomainResult<()> {
        actor.require(Capability::ReadSurveys)
    }

    /// One response.
    ///
    /// # Errors
    /// `FORBIDDEN`; `NOT_FOUND`.
    pub async fn response(&self, actor: &Actor, id: i64) -> DomainResult<SurveyResponse> {
        actor.require(Capability::ReadSurveys)?;
        results::load_response(&self.db, id).await
    }

    /// A response announced by another process (its id, from
    /// `cluster::notify`), read for this process's live subscribers. No
    /// actor: each subscriber was authorised with
    /// [`authorize_response_read`](Self::authorize_response_read) when it
    /// subscribed, and the WebSocket re-reads its user.
    ///
    /// # Errors
    /// `NOT_FOUND` (erased since); database failures.
    pub async fn announced_response(&self, id: i64) -> DomainResult<SurveyResponse> {
        results::load_response(&self.db, id).await
    }

    /// Marks a response helpful and credits the survey's helpful bonus, once:
    /// marking it again returns the response and credits nothing. Says which
    /// happened ([`HelpfulBonus`]).
    ///
    /// # Errors
    /// `FORBIDDEN` below MANAGER; `NOT_FOUND`.
    #[tracing::instrument(skip_all, fields(user_id = actor.user_id, response_id = id))]
    pub async fn mark_helpful(&self, actor: &Actor, id: i64) -> DomainResult<HelpfulMark> {
        actor.require(Capability::MarkFeedbackHelpful)?;
        let now = Utc::now();
        let txn = begin_write(&self.db).await?;
        let mark = results::mark_helpful(&txn, actor.user_id, id, now).await?;
        txn.commit().await?;
        Ok(mark)
    }

    /// Invitations, responses, response rate, per-question distributions and
    /// means, CSAT and NPS, all counted in SQL.
    ///
    /// # Errors
    /// `FORBIDDEN`; `NOT_FOUND`.
    pub async fn results(&self, actor: &Actor, survey_id: i64) -> DomainResult<SurveyResults> {
        actor.require(Capability::ReadSurveys)?;
        results::results(&self.db, survey_id).await
    }

    /// A survey's CSAT and NPS per customer segment of `by`, segments with
    /// fewer than `threshold` responses suppressed (check it with
    /// [`crate::segments::threshold`]).
    ///
    /// # Errors
    /// `FORBIDDEN`; database failures.
    pub async fn segments(
        &self,
        actor: &Actor,
        survey_id: i64,
        by: crate::segments::SegmentBy,
        threshold: i64,
    ) -> DomainResult<Vec<SurveySegment>> {
        actor.require(Capability::ReadSurveys)?;
        breakdown::segments(&self.db, survey_id, by, threshold).await
    }

    /// A survey's CSAT and NPS per trend period, from its first response (or
    /// creation) to today, with the significance of each step.
    ///
    /// # Errors
    /// `FORBIDDEN`; `NOT_FOUND`; `BAD_USER_INPUT` on `granularity` beyond
    /// the most trend periods.
    pub async fn trend(
        &self,
        actor: &Actor,
        survey_id: i64,
        granularity: crate::csi::Granularity,
    ) -> DomainResult<Vec<SurveyTrendPoint>> {
        actor.require(Capability::ReadSurveys)?;
        results::trend(&self.db, survey_id, granularity).await
    }

    /// Follow-ups matching `filter`, in `order`.
    ///
    /// # Errors
    /// `FORBIDDEN`; `BAD_USER_INPUT` on the filter or a cursor of another order.
    pub async fn follow_ups(
        &self,
        actor: &Actor,
        filter: &FollowUpFilter,
        order: FollowUpOrder,
        page: &PageRequest<OrderCursor>,
    ) -> DomainResult<Page<FollowUp>> {
        actor.require(Capability::ReadSurveys)?;
        follow_ups::follow_ups(&self.db, filter, order, page, Utc::now()).await
    }

    /// How many follow-ups match `filter`.
    ///
    /// # Errors
    /// `FORBIDDEN`; `BAD_USER_INPUT` on the filter.
    pub async fn count_follow_ups(
        &self,
        actor: &Actor,
        filter: &FollowUpFilter,
    ) -> DomainResult<i64> {
        actor.require(Capability::ReadSurveys)?;
        follow_ups::count(&self.db, filter, Utc::now()).await
    }

    /// One follow-up, or `None` (the rule of [`Self::follow_ups`]).
    ///
    /// # Errors
    /// `FORBIDDEN`; database failures.
    pub async fn follow_up(&self, actor: &Actor, id: i64) -> DomainResult<Option<FollowUp>> {
        actor.require(Capability::ReadSurveys)?;
        follow_ups::load_optional(&self.db, id).await
    }

    /// One question with its survey's id, or `None` (the rule of
    /// [`Self::survey`]).
    ///
    /// # Errors
    /// `FORBIDDEN`; database failures.
    pub async fn question(&self, actor: &Actor, id: i64) -> DomainResult<Option<Question>> {
        actor.require(Capability::ReadSurveys)?;
        surveys::question(&self.db, id).await
    }

    /// Resolves an OPEN follow-up with a note.
    ///
    /// # Errors
    /// `FORBIDDEN` below MANAGER; `NOT_FOUND`; `CONFLICT` when already
    /// resolved; `BAD_USER_INPUT` on a blank or overlong note.
    #[tracing::instrument(skip_all, fields(user_id = actor.user_id, follow_up_id = id))]
    pub async fn resolve_follow_up(
        &self,
        actor: &Actor,
        id: i64,
        note: &str,
    ) -> DomainResult<FollowUp> {
        actor.require(Capability::ResolveFollowUps)?;
        let note = follow_ups::check_note(note)?;
        let txn = begin_write(&self.db).await?;
        let follow_up = follow_ups::resolve_follow_up(&txn, actor.user_id, id, note).await?;
        txn.commit().await?;
        Ok(follow_up)
    }
}
