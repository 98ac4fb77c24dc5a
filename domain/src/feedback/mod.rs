//! Surveys and incentivised feedback (SPEC §4): surveys and their questions,
//! personal invitations, the public respondent flow, incentives through the
//! loyalty ledger, results, and the follow-ups that close the loop.
//!
//! - [`SurveyService`] (here): the area's operations, each checking the
//!   actor's capability and delegating to the topic modules below.
//! - `surveys`: surveys and their questions, their lifecycle and listing.
//! - `invitations`: personal invitation tokens.
//! - `submission`: the public respondent flow and its incentive.
//! - `results`: responses, helpful marks and aggregated results.
//! - `follow_ups`: follow-ups opened by dissatisfied responses.
//! - `customers`: responses per customer and erasure.

mod customers;
mod follow_ups;
mod invitations;
mod model;
mod results;
mod submission;
mod surveys;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use crate::auth::{Actor, Capability};
use crate::db::begin_write;
use crate::error::DomainResult;
use crate::pagination::{Page, PageRequest};

pub use customers::{on_customer_erased, responses_for_customers, ResponseDetail};
pub use follow_ups::FollowUpFilter;
pub use invitations::{
    hash_token, InvitationBatch, InvitationToken, IssuedInvitation, SkipReason,
    MAX_INVITES_PER_CALL,
};
pub use model::{
    Answer, FollowUp, FollowUpReason, FollowUpStatus, Question, QuestionKind, Survey,
    SurveyResponse, SurveyStatus, NPS_SCALE, RATING_SCALE,
};
pub use results::{HelpfulBonus, HelpfulMark, QuestionResult, ResponseFilter, SurveyResults};
pub use submission::{AnswerInput, Receipt, MAX_ANSWERS};
pub use surveys::{
    NewQuestion, SurveyDraft, SurveyFilter, SurveyPatch, DEFAULT_CSI_THRESHOLD, MAX_QUESTIONS,
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

    /// Surveys, newest first, optionally by status.
    ///
    /// # Errors
    /// `FORBIDDEN`; `BAD_USER_INPUT` on page arguments.
    pub async fn surveys(
        &self,
        actor: &Actor,
        filter: SurveyFilter,
        page: PageRequest<i64>,
    ) -> DomainResult<Page<Survey>> {
        actor.require(Capability::ReadSurveys)?;
        surveys::surveys(&self.db, filter, page).await
    }

    /// Stores a respondent's answers (public, no staff actor): validates them,
    /// then in one transaction marks the invitation used, stores the response,
    /// answers and CSI ratings, credits the incentive once and opens a
    /// follow-up when the response shows dissatisfaction.
    ///
    /// # Errors
    /// `INVALID_TOKEN`, `TOKEN_EXPIRED`, `ALREADY_SUBMITTED`, `CONFLICT` (survey
    /// closed or not open), `BAD_USER_INPUT` naming the question.
    #[tracing::instrument(skip_all, fields(answers = answers.len()))]
    pub async fn submit(&self, token: &str, answers: Vec<AnswerInput>) -> DomainResult<Receipt> {
        let now = Utc::now();
        let resolved = submission::resolve_submission(&self.db, token, answers, now).await?;
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
    /// revoked and re-issued.
    ///
    /// # Errors
    /// `FORBIDDEN`; `NOT_FOUND`; `CONFLICT` unless the survey is ACTIVE;
    /// `BAD_USER_INPUT` on `expiresAt` in the past or too many customers.
    #[tracing::instrument(skip_all, fields(user_id = actor.user_id, survey_id, customers = customer_ids.len()))]
    pub async fn invite(
        &self,
        actor: &Actor,
        survey_id: i64,
        customer_ids: &[i64],
        expires_at: DateTime<Utc>,
    ) -> DomainResult<InvitationBatch> {
        actor.require(Capability::ManageSurveys)?;
        let now = Utc::now();
        invitations::check_invite(customer_ids, expires_at, now)?;
        let txn = begin_write(&self.db).await?;
        let batch = invitations::invite(&txn, survey_id, customer_ids, expires_at, now).await?;
        txn.commit().await?;
        Ok(batch)
    }

    /// The survey as the holder of `token` sees it (public, no staff actor).
    ///
    /// # Errors
    /// `INVALID_TOKEN`, `TOKEN_EXPIRED`, `ALREADY_SUBMITTED`, or `CONFLICT`
    /// for a closed survey.
    #[tracing::instrument(skip_all)]
    pub async fn survey_for_token(&self, token: &str) -> DomainResult<(Survey, DateTime<Utc>)> {
        invitations::survey_for_token(&self.db, token).await
    }

    /// A survey's responses, newest first.
    ///
    /// # Errors
    /// `FORBIDDEN`; `NOT_FOUND` for an unknown survey.
    pub async fn responses(
        &self,
        actor: &Actor,
        survey_id: i64,
        filter: ResponseFilter,
        page: PageRequest<i64>,
    ) -> DomainResult<Page<SurveyResponse>> {
        actor.require(Capability::ReadSurveys)?;
        results::responses(&self.db, survey_id, filter, page).await
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

    /// One response.
    ///
    /// # Errors
    /// `FORBIDDEN`; `NOT_FOUND`.
    pub async fn response(&self, actor: &Actor, id: i64) -> DomainResult<SurveyResponse> {
        actor.require(Capability::ReadSurveys)?;
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

    /// Follow-ups, newest first, by status and survey.
    ///
    /// # Errors
    /// `FORBIDDEN`; `BAD_USER_INPUT` on page arguments.
    pub async fn follow_ups(
        &self,
        actor: &Actor,
        filter: FollowUpFilter,
        page: PageRequest<i64>,
    ) -> DomainResult<Page<FollowUp>> {
        actor.require(Capability::ReadSurveys)?;
        follow_ups::follow_ups(&self.db, filter, page).await
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
