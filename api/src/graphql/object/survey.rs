//! Surveys, questions, invitations, responses, results and follow-ups.

use crate::graphql::scalar::Date;
use crate::graphql::scalar::DateTime;
use crate::graphql::scalar::Decimal;
use async_graphql::{ComplexObject, Context, Enum, Object, SimpleObject, ID};
use domain::feedback::ResponseDetail;

use crate::graphql::context::ContextExt;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::loader::latest_responses::{LatestResponses, LatestResponsesLoader};
use crate::graphql::loader::Loader;
use crate::graphql::object::csi::{CsiFactorSet, Granularity};
use crate::graphql::object::customer::Customer;
use crate::graphql::object::link;
use crate::graphql::object::loyalty::LoyaltyProgram;
use crate::graphql::object::segment::{SegmentBy, SurveySegment, SurveyTrend};
use crate::graphql::scalar::{global_id, parse_id, NodeType};

/// A survey's life cycle.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::feedback::SurveyStatus")]
pub enum SurveyStatus {
    /// Being written; editable; cannot be answered.
    Draft,
    /// Published: invitations can be sent and answered.
    Active,
    /// Closed: no more responses.
    Closed,
}

/// What a question asks for.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::feedback::QuestionKind")]
pub enum QuestionKind {
    /// Satisfaction 1..5 (5 = completely satisfied).
    Rating,
    /// A rating of one factor of the survey's CSI factor set, on the set's scale (1..5 by default).
    CsiFactor,
    /// Likelihood to recommend, 0..10.
    Nps,
    /// Exactly one of the options.
    SingleChoice,
    /// One or more of the options.
    MultipleChoice,
    /// Free text, up to `maxLength` characters.
    Text,
    /// Several statements (`rows`), each rated on one scale 1..5; answered
    /// with `rowRatings`.
    Matrix,
    /// A calendar date (`YYYY-MM-DD`), optionally within
    /// `earliestDate`..`latestDate`; answered with `date`.
    Date,
}

/// Why a customer was not invited.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::feedback::SkipReason")]
pub enum InvitationSkipReason {
    /// No customer has this id.
    UnknownCustomer,
    /// The customer's personal data was erased.
    Erased,
    /// The customer has churned.
    Churned,
    /// The customer already answered this survey.
    AlreadyResponded,
    /// `delivery: EMAIL`, and the customer has no e-mail address.
    NoEmail,
    /// `delivery: EMAIL`, and the customer gave no marketing consent.
    NoConsent,
    /// `delivery: EMAIL`, and the customer opted out of survey e-mail.
    OptedOut,
}

/// Why a follow-up was opened.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::feedback::FollowUpReason")]
pub enum FollowUpReason {
    /// The response's CSI is below the survey's `csiThreshold`.
    LowCsi,
    /// An NPS answer of 0..6.
    NpsDetractor,
    /// A RATING answer of 1 or 2.
    LowRating,
}

/// Whether a follow-up still needs attention.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::feedback::FollowUpStatus")]
pub enum FollowUpStatus {
    /// Raised, not yet handled.
    Open,
    /// Handled, with a note.
    Resolved,
}

/// One question of a survey.
pub struct SurveyQuestion(pub domain::feedback::Question);

#[Object]
impl SurveyQuestion {
    /// The question's global id; answers name it as `questionId`.
    async fn id(&self) -> ID {
        global_id(NodeType::SurveyQuestion, self.0.id)
    }
    /// 1-based order in the survey.
    async fn position(&self) -> i32 {
        self.0.position
    }
    /// The question as shown to the respondent.
    async fn text(&self) -> &str {
        &self.0.text
    }
    /// Whether an answer is required.
    async fn required(&self) -> bool {
        self.0.required
    }
    /// What the question asks for.
    async fn kind(&self) -> QuestionKind {
        self.0.kind.into()
    }
    /// For `CSI_FACTOR`: the factor's key in the survey's factor set.
    async fn factor_key(&self) -> Option<&str> {
        self.0.factor_key.as_deref()
    }
    /// For the choice kinds: the options, in order (answers send these strings).
    async fn options(&self) -> &[String] {
        &self.0.options
    }
    /// For the choice kinds: the options as shown, in the same order as
    /// `options` (their translations on `surveyInvitation`; answers still
    /// send the `options` values).
    async fn option_labels(&self) -> &[String] {
        &self.0.option_labels
    }
    /// For `TEXT`: the most characters accepted.
    async fn max_length(&self) -> Option<i32> {
        self.0.max_length
    }
    /// For `MULTIPLE_CHOICE`: the fewest options an answer must choose
    /// (null: one).
    async fn min_choices(&self) -> Option<i32> {
        self.0.settings.min_choices
    }
    /// For `MULTIPLE_CHOICE`: the most options an answer may choose (null:
    /// all).
    async fn max_choices(&self) -> Option<i32> {
        self.0.settings.max_choices
    }
    /// For `MATRIX`: the statements rated, in order (default locale);
    /// `rowRatings` answers follow this order.
    async fn rows(&self) -> &[String] {
        &self.0.settings.rows
    }
    /// For `MATRIX`: the rows as shown, in the same order as `rows` (their
    /// translations on `surveyInvitation`).
    async fn row_labels(&self) -> &[String] {
        &self.0.row_labels
    }
    /// For `DATE`: the earliest date accepted.
    async fn earliest_date(&self) -> Option<Date> {
        self.0.settings.earliest.map(Into::into)
    }
    /// For `DATE`: the latest date accepted.
    async fn latest_date(&self) -> Option<Date> {
        self.0.settings.latest.map(Into::into)
    }
    /// For `RATING`, `CSI_FACTOR`, `NPS` and `MATRIX`: the text under the
    /// lowest button (its translation on `surveyInvitation`); null: the
    /// form shows its own text.
    async fn min_label(&self) -> Option<&str> {
        self.0.settings.min_label.as_deref()
    }
    /// For `RATING`, `CSI_FACTOR`, `NPS` and `MATRIX`: the text under the
    /// highest button (its translation on `surveyInvitation`); null: the
    /// form shows its own text.
    async fn max_label(&self) -> Option<&str> {
        self.0.settings.max_label.as_deref()
    }
    /// The 1-based page of the form that shows the question.
    async fn page(&self) -> i32 {
        self.0.page
    }
    /// For rated kinds and `MATRIX` rows: the lowest accepted rating.
    async fn scale_min(&self) -> Option<i32> {
        self.0.scale.map(|s| s.0)
    }
    /// For rated kinds and `MATRIX` rows: the highest accepted rating.
    async fn scale_max(&self) -> Option<i32> {
        self.0.scale.map(|s| s.1)
    }
    /// Whether this RATING question is the survey's overall satisfaction
    /// measure (CSI driver analysis).
    async fn is_overall_satisfaction(&self) -> bool {
        self.0.overall_satisfaction
    }
    /// Shown only when this condition on an earlier question's answer
    /// holds; null: always shown. A form shows and hides the question as
    /// the answers change and leaves out the answer of a hidden one
    /// (`submitSurveyResponse` refuses it).
    async fn show_when(&self) -> Option<QuestionCondition> {
        self.0.show_when.clone().map(QuestionCondition)
    }
}

/// When a question is shown: the earlier question's answer includes one of
/// `anyOf` (a choice question), its rating lies within
/// `ratingMin`..`ratingMax` (a rated question; either bound may be open),
/// the rating of its row `matrixRow` does (a matrix question), or its date is
/// after `dateAfter` and before `dateBefore` (a date question; either may be
/// open). An unanswered or hidden earlier question hides the question.
pub struct QuestionCondition(pub domain::feedback::Condition);

#[Object]
impl QuestionCondition {
    /// The earlier question tested.
    async fn question_id(&self) -> ID {
        global_id(NodeType::SurveyQuestion, self.0.question_id)
    }
    /// Its position in the survey.
    async fn question_position(&self) -> i32 {
        self.0.position
    }
    /// For a choice question: the options (`SurveyQuestion.options` values)
    /// of which any shows the question; empty for a rated question.
    async fn any_of(&self) -> &[String] {
        &self.0.any_of
    }
    /// For a rated question: the lowest rating that shows the question.
    async fn rating_min(&self) -> Option<i32> {
        self.0.rating_min
    }
    /// For a rated question: the highest rating that shows the question.
    async fn rating_max(&self) -> Option<i32> {
        self.0.rating_max
    }
    /// For a matrix question: the 1-based row whose rating is tested.
    async fn matrix_row(&self) -> Option<i32> {
        self.0.matrix_row
    }
    /// For a date question: the question is shown for dates after this day.
    async fn date_after(&self) -> Option<Date> {
        self.0.date_after.map(Into::into)
    }
    /// For a date question: the question is shown for dates before this day.
    async fn date_before(&self) -> Option<Date> {
        self.0.date_before.map(Into::into)
    }
}

/// A key and its value.
#[derive(SimpleObject)]
pub struct KeyValue {
    /// The key.
    pub key: String,
    /// The value.
    pub value: String,
}

/// A survey (SPEC §4).
pub struct Survey(pub domain::feedback::Survey);

#[Object]
impl Survey {
    /// The survey's global id.
    async fn id(&self) -> ID {
        global_id(NodeType::Survey, self.0.id)
    }
    /// Title shown to respondents.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// Introduction shown to respondents.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// Language of the questions (BCP 47), e.g. `en` or `de-CH`: the
    /// default locale.
    async fn locale(&self) -> Option<&str> {
        self.0.locale.as_deref()
    }
    /// Shown to respondents after their answers are stored.
    async fn thank_you(&self) -> Option<&str> {
        self.0.thank_you.as_deref()
    }
    /// Every locale respondents can see it in: the default `locale` first,
    /// then its translations' (empty without a default locale).
    async fn locales(&self) -> Vec<String> {
        domain::feedback::available_locales(&self.0)
    }
    /// Its texts in further locales, by locale.
    async fn translations(&self) -> Vec<SurveyTranslation> {
        self.0
            .translations
            .iter()
            .map(|t| SurveyTranslation {
                translation: t.clone(),
                questions: self.0.questions.clone(),
            })
            .collect()
    }
    /// The hidden field keys it declares: values `inviteToSurvey` may give
    /// each invitation, kept with the response (`SurveyResponse.hiddenFields`)
    /// and never shown to the respondent.
    async fn hidden_fields(&self) -> &[String] {
        &self.0.hidden_fields
    }
    /// `DRAFT` → `ACTIVE` → `CLOSED`.
    async fn status(&self) -> SurveyStatus {
        self.0.status.into()
    }
    /// Responses are accepted from this time (none: from publication).
    async fn opens_at(&self) -> Option<DateTime> {
        self.0.opens_at.map(Into::into)
    }
    /// Responses are accepted until this time (none: until closed).
    async fn closes_at(&self) -> Option<DateTime> {
        self.0.closes_at.map(Into::into)
    }
    /// The id of the CSI factor-set version its `CSI_FACTOR` questions rate.
    async fn factor_set_id(&self) -> Option<ID> {
        self.0
            .factor_set_id
            .map(|id| global_id(NodeType::CsiFactorSet, id))
    }
    /// The CSI factor-set version its `CSI_FACTOR` questions rate (batched).
    async fn factor_set(&self, ctx: &Context<'_>) -> ApiResult<Option<CsiFactorSet>> {
        link::factor_set(ctx, self.0.factor_set_id).await
    }
    /// The id of the loyalty programme that rewards responses.
    async fn loyalty_program_id(&self) -> Option<ID> {
        self.0
            .program_id
            .map(|id| global_id(NodeType::LoyaltyProgram, id))
    }
    /// The loyalty programme that rewards responses (batched).
    async fn loyalty_program(&self, ctx: &Context<'_>) -> ApiResult<Option<LoyaltyProgram>> {
        link::loyalty_program(ctx, self.0.program_id).await
    }
    /// Points credited once for a complete response.
    async fn incentive_points(&self) -> i64 {
        self.0.incentive_points
    }
    /// Points credited once when staff mark a response helpful.
    async fn helpful_bonus_points(&self) -> i64 {
        self.0.helpful_bonus_points
    }
    /// A response whose CSI (0..100) is below this raises a follow-up; null: never for CSI.
    async fn csi_threshold(&self) -> Option<Decimal> {
        self.0.csi_threshold.map(Into::into)
    }
    /// The reminder e-mails that follow an invitation e-mail
    /// (`setSurveyReminders`); no reminders unless set.
    async fn reminders(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<crate::graphql::object::invitation::SurveyReminders> {
        let plan = ctx
            .services()?
            .surveys
            .reminder_plan(ctx.actor()?, self.0.id)
            .await?;
        Ok(plan.into())
    }
    /// The questions in order.
    async fn questions(&self) -> Vec<SurveyQuestion> {
        self.0
            .questions
            .iter()
            .cloned()
            .map(SurveyQuestion)
            .collect()
    }
    /// When the survey was created.
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }
    /// When the survey last changed.
    async fn updated_at(&self) -> DateTime {
        self.0.updated_at.into()
    }
}

/// The survey as the holder of an invitation token sees it (the answer of
/// the public `surveyInvitation`); staff see invitations as `SurveyInvitation`.
/// Its texts are in `locale`.
pub struct InvitedSurvey(pub domain::feedback::InvitedSurvey);

#[Object]
impl InvitedSurvey {
    /// Title of the survey.
    async fn title(&self) -> &str {
        &self.0.survey.title
    }
    /// Introduction.
    async fn description(&self) -> Option<&str> {
        self.0.survey.description.as_deref()
    }
    /// The language shown (BCP 47): the invitation's locale, else the best
    /// match of `Accept-Language`, else the survey's default; null when
    /// the survey declares no locale. The response records it.
    async fn locale(&self) -> Option<&str> {
        self.0.locale.as_deref()
    }
    /// Every locale the survey is available in, its default first.
    async fn locales(&self) -> &[String] {
        &self.0.locales
    }
    /// Shown after the answers are stored.
    async fn thank_you(&self) -> Option<&str> {
        self.0.survey.thank_you.as_deref()
    }
    /// Points credited for a complete response (0 when the survey rewards none).
    async fn incentive_points(&self) -> i64 {
        if self.0.survey.program_id.is_some() {
            self.0.survey.incentive_points
        } else {
            0
        }
    }
    /// The invitation is valid until this time.
    async fn expires_at(&self) -> DateTime {
        self.0.expires_at.into()
    }
    /// The survey closes at this time, if set.
    async fn closes_at(&self) -> Option<DateTime> {
        self.0.survey.closes_at.map(Into::into)
    }
    /// The questions in order.
    async fn questions(&self) -> Vec<SurveyQuestion> {
        self.0
            .survey
            .questions
            .iter()
            .cloned()
            .map(SurveyQuestion)
            .collect()
    }
}

/// A survey's texts in one locale other than its default.
pub struct SurveyTranslation {
    translation: domain::feedback::SurveyTranslation,
    questions: Vec<domain::feedback::Question>,
}

#[Object]
impl SurveyTranslation {
    /// The locale (BCP 47).
    async fn locale(&self) -> &str {
        &self.translation.locale
    }
    /// The title in this locale.
    async fn title(&self) -> &str {
        &self.translation.title
    }
    /// The introduction in this locale.
    async fn description(&self) -> Option<&str> {
        self.translation.description.as_deref()
    }
    /// The thank-you text in this locale.
    async fn thank_you(&self) -> Option<&str> {
        self.translation.thank_you.as_deref()
    }
    /// The translated questions, in the survey's order (questions not yet
    /// translated are absent).
    async fn questions(&self) -> Vec<SurveyQuestionTranslation> {
        self.questions
            .iter()
            .filter_map(|q| {
                let t = self.translation.questions.get(&q.id)?;
                Some(SurveyQuestionTranslation {
                    question: q.clone(),
                    text: t.text.clone(),
                    options: t.options.clone(),
                    rows: t.rows.clone(),
                    min_label: t.min_label.clone(),
                    max_label: t.max_label.clone(),
                })
            })
            .collect()
    }
    /// When this translation was last set.
    async fn updated_at(&self) -> DateTime {
        self.translation.updated_at.into()
    }
}

/// One question's text and option labels in a translation.
pub struct SurveyQuestionTranslation {
    question: domain::feedback::Question,
    text: String,
    options: Vec<String>,
    rows: Vec<String>,
    min_label: Option<String>,
    max_label: Option<String>,
}

#[Object]
impl SurveyQuestionTranslation {
    /// The question's global id.
    async fn question_id(&self) -> ID {
        global_id(NodeType::SurveyQuestion, self.question.id)
    }
    /// The question (in the default locale).
    async fn question(&self) -> SurveyQuestion {
        SurveyQuestion(self.question.clone())
    }
    /// The question's text in this locale.
    async fn text(&self) -> &str {
        &self.text
    }
    /// The option labels in this locale, in the question's order.
    async fn options(&self) -> &[String] {
        &self.options
    }
    /// The MATRIX row labels in this locale, in the question's order.
    async fn rows(&self) -> &[String] {
        &self.rows
    }
    /// The scale's lowest end label in this locale.
    async fn min_label(&self) -> Option<&str> {
        self.min_label.as_deref()
    }
    /// The scale's highest end label in this locale.
    async fn max_label(&self) -> Option<&str> {
        self.max_label.as_deref()
    }
}

/// A newly issued invitation. The token is shown only here: send the form URL
/// to the customer and do not store the token.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct IssuedInvitation {
    /// The invitation's id.
    pub invitation_id: ID,
    /// The invited customer.
    pub customer_id: ID,
    /// The personal token (43 URL-safe characters), shown once.
    pub token: String,
    /// The form page for this token, `{publicUrl}/s/{token}`.
    pub form_url: String,
    /// The invitation is valid until this time.
    pub expires_at: DateTime,
    /// Whether a live invitation of this customer was revoked to issue this one.
    pub reissued: bool,
}

/// A customer who was not invited, and why.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct SkippedInvitation {
    /// The customer id as given.
    pub customer_id: ID,
    /// Why no invitation was issued.
    pub reason: InvitationSkipReason,
}

#[ComplexObject]
impl IssuedInvitation {
    /// The invited customer (batched).
    async fn customer(&self, ctx: &Context<'_>) -> ApiResult<Option<Customer>> {
        link::customer(
            ctx,
            Some(parse_id(
                NodeType::Customer,
                "customerId",
                &self.customer_id,
            )?),
        )
        .await
    }
}

#[ComplexObject]
impl SkippedInvitation {
    /// The customer, when one has this id (batched); null for
    /// `UNKNOWN_CUSTOMER`.
    async fn customer(&self, ctx: &Context<'_>) -> ApiResult<Option<Customer>> {
        link::customer(
            ctx,
            Some(parse_id(
                NodeType::Customer,
                "customerId",
                &self.customer_id,
            )?),
        )
        .await
    }
}

/// One stored answer, with the id of its response's survey.
pub struct SurveyAnswer(pub domain::feedback::Answer, pub i64);

/// The question `question_id` of the survey `survey_id`, through the survey
/// loader (who can read surveys).
async fn question_of(
    ctx: &Context<'_>,
    survey_id: i64,
    question_id: i64,
) -> ApiResult<Option<SurveyQuestion>> {
    Ok(link::survey(ctx, Some(survey_id)).await?.and_then(|s| {
        s.0.questions
            .into_iter()
            .find(|q| q.id == question_id)
            .map(SurveyQuestion)
    }))
}

#[Object]
impl SurveyAnswer {
    /// The id of the question answered.
    async fn question_id(&self) -> ID {
        global_id(NodeType::SurveyQuestion, self.0.question_id)
    }
    /// The question answered (batched through its survey).
    async fn question(&self, ctx: &Context<'_>) -> ApiResult<Option<SurveyQuestion>> {
        question_of(ctx, self.1, self.0.question_id).await
    }
    /// For rated kinds.
    async fn rating(&self) -> Option<i32> {
        self.0.rating
    }
    /// For the choice kinds: the chosen options.
    async fn choices(&self) -> &[String] {
        &self.0.choices
    }
    /// For `TEXT`: exactly as submitted.
    async fn text(&self) -> Option<&str> {
        self.0.text.as_deref()
    }
    /// For `MATRIX`: one rating or null (not rated) per row, in the
    /// question's row order; empty for other kinds.
    async fn row_ratings(&self) -> &[Option<i32>] {
        &self.0.row_ratings
    }
    /// For `DATE`.
    async fn date(&self) -> Option<Date> {
        self.0.date.map(Into::into)
    }
}

/// What `markFeedbackHelpful` did about the survey's helpful bonus.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum HelpfulBonusOutcome {
    /// This call marked the response and credited the bonus.
    Credited,
    /// The response was already marked and an earlier mark credited the
    /// bonus; nothing was credited now.
    AlreadyCredited,
    /// No bonus is credited for this response: the survey has no loyalty
    /// programme or a helpful bonus of 0 points (or had when first marked).
    NoBonus,
}

/// A stored survey response; `markFeedbackHelpful`'s result also says what
/// happened to the helpful bonus.
pub struct SurveyResponse(
    pub domain::feedback::SurveyResponse,
    pub Option<domain::feedback::HelpfulBonus>,
);

impl From<domain::feedback::SurveyResponse> for SurveyResponse {
    fn from(response: domain::feedback::SurveyResponse) -> Self {
        Self(response, None)
    }
}

impl From<domain::feedback::HelpfulMark> for SurveyResponse {
    fn from(mark: domain::feedback::HelpfulMark) -> Self {
        Self(mark.response, Some(mark.bonus))
    }
}

#[Object]
impl SurveyResponse {
    /// The response's global id.
    async fn id(&self) -> ID {
        global_id(NodeType::SurveyResponse, self.0.id)
    }
    /// The id of the survey answered.
    async fn survey_id(&self) -> ID {
        global_id(NodeType::Survey, self.0.survey_id)
    }
    /// The survey answered (batched).
    async fn survey(&self, ctx: &Context<'_>) -> ApiResult<Option<Survey>> {
        link::survey(ctx, Some(self.0.survey_id)).await
    }
    /// The respondent's id.
    async fn customer_id(&self) -> ID {
        global_id(NodeType::Customer, self.0.customer_id)
    }
    /// The respondent (batched).
    async fn customer(&self, ctx: &Context<'_>) -> ApiResult<Option<Customer>> {
        link::customer(ctx, Some(self.0.customer_id)).await
    }
    /// When it was submitted.
    async fn submitted_at(&self) -> DateTime {
        self.0.submitted_at.into()
    }
    /// The response's CSI (0..100) over the factors it rated, weights
    /// renormalised over those factors.
    async fn csi(&self) -> Option<Decimal> {
        self.0.csi.map(Into::into)
    }
    /// The weighted mean factor rating on the factor set's scale.
    async fn weighted_mean(&self) -> Option<Decimal> {
        self.0.weighted_mean.map(Into::into)
    }
    /// The id of the factor-set version it was answered under.
    async fn factor_set_id(&self) -> Option<ID> {
        self.0
            .factor_set_id
            .map(|id| global_id(NodeType::CsiFactorSet, id))
    }
    /// The factor-set version it was answered under (batched).
    async fn factor_set(&self, ctx: &Context<'_>) -> ApiResult<Option<CsiFactorSet>> {
        link::factor_set(ctx, self.0.factor_set_id).await
    }
    /// The locale the respondent answered in (null when the survey declared none).
    async fn locale(&self) -> Option<&str> {
        self.0.locale.as_deref()
    }
    /// The hidden field values its invitation carried, by key (cleared when
    /// the customer is erased).
    async fn hidden_fields(&self) -> Vec<KeyValue> {
        self.0
            .hidden_fields
            .iter()
            .map(|(key, value)| KeyValue {
                key: key.clone(),
                value: value.clone(),
            })
            .collect()
    }
    /// Whether staff marked it helpful.
    async fn helpful(&self) -> bool {
        self.0.helpful_at.is_some()
    }
    /// When staff marked it helpful.
    async fn helpful_at(&self) -> Option<DateTime> {
        self.0.helpful_at.map(Into::into)
    }
    /// On `markFeedbackHelpful`'s result: whether this call credited the
    /// helpful bonus (`CREDITED`), an earlier mark did (`ALREADY_CREDITED`)
    /// or no bonus applies (`NO_BONUS`). Null when the response is read
    /// anywhere else.
    async fn helpful_bonus(&self) -> Option<HelpfulBonusOutcome> {
        use domain::feedback::HelpfulBonus;
        self.1.map(|bonus| match bonus {
            HelpfulBonus::Credited { .. } => HelpfulBonusOutcome::Credited,
            HelpfulBonus::AlreadyCredited => HelpfulBonusOutcome::AlreadyCredited,
            HelpfulBonus::NoBonus => HelpfulBonusOutcome::NoBonus,
        })
    }
    /// On `markFeedbackHelpful`'s result: the points this call credited (0
    /// unless `helpfulBonus` is `CREDITED`). Null elsewhere.
    async fn helpful_bonus_points_credited(&self) -> Option<i64> {
        use domain::feedback::HelpfulBonus;
        self.1.map(|bonus| match bonus {
            HelpfulBonus::Credited { points } => points,
            _ => 0,
        })
    }
    /// The answers, in the order stored.
    async fn answers(&self) -> Vec<SurveyAnswer> {
        let survey_id = self.0.survey_id;
        self.0
            .answers
            .iter()
            .cloned()
            .map(|a| SurveyAnswer(a, survey_id))
            .collect()
    }
}

/// One value of a question's distribution.
#[derive(SimpleObject)]
pub struct DistributionBucket {
    /// A rating (`"1"`…) or an option.
    pub value: String,
    /// How many answers had it.
    pub count: i64,
}

/// Results of one question, with the id of its survey.
pub struct QuestionResults(pub domain::feedback::QuestionResult, pub i64);

#[Object]
impl QuestionResults {
    /// The question's id.
    async fn question_id(&self) -> ID {
        global_id(NodeType::SurveyQuestion, self.0.question_id)
    }
    /// The question (batched through its survey).
    async fn question(&self, ctx: &Context<'_>) -> ApiResult<Option<SurveyQuestion>> {
        question_of(ctx, self.1, self.0.question_id).await
    }
    /// Its position.
    async fn position(&self) -> i32 {
        self.0.position
    }
    /// Its text.
    async fn text(&self) -> &str {
        &self.0.text
    }
    /// Its kind.
    async fn kind(&self) -> QuestionKind {
        self.0.kind.into()
    }
    /// Responses that answered it.
    async fn answers(&self) -> i64 {
        self.0.answers
    }
    /// Mean rating (rated kinds), 4 decimals.
    async fn mean(&self) -> Option<Decimal> {
        self.0.mean.map(Into::into)
    }
    /// Value → count: every scale value for rated kinds, every option for
    /// choice kinds (a multiple-choice answer counts once per option); empty
    /// for TEXT, MATRIX (see `rows`) and DATE.
    async fn distribution(&self) -> Vec<DistributionBucket> {
        buckets(&self.0.distribution)
    }
    /// For `MATRIX`: each row's count, mean and distribution, in row order.
    async fn rows(&self) -> Vec<MatrixRowResults> {
        self.0.rows.iter().cloned().map(MatrixRowResults).collect()
    }
    /// For `DATE`: the earliest date answered.
    async fn earliest_date(&self) -> Option<Date> {
        self.0.earliest_date.map(Into::into)
    }
    /// For `DATE`: the latest date answered.
    async fn latest_date(&self) -> Option<Date> {
        self.0.latest_date.map(Into::into)
    }
}

fn buckets(distribution: &[(String, i64)]) -> Vec<DistributionBucket> {
    distribution
        .iter()
        .map(|(value, count)| DistributionBucket {
            value: value.clone(),
            count: *count,
        })
        .collect()
}

/// Results of one row of a MATRIX question.
pub struct MatrixRowResults(pub domain::feedback::MatrixRowResult);

#[Object]
impl MatrixRowResults {
    /// The row's statement (default locale).
    async fn row(&self) -> &str {
        &self.0.row
    }
    /// Responses that rated this row.
    async fn answers(&self) -> i64 {
        self.0.answers
    }
    /// The row's mean rating, 4 decimals.
    async fn mean(&self) -> Option<Decimal> {
        self.0.mean.map(Into::into)
    }
    /// Each scale value (`"1"`…`"5"`) → count.
    async fn distribution(&self) -> Vec<DistributionBucket> {
        buckets(&self.0.distribution)
    }
}

/// A survey's results, counted in the database.
pub struct SurveyResults(pub domain::feedback::SurveyResults);

#[Object]
impl SurveyResults {
    /// The CSI report of the survey's factor-set version over this survey's
    /// responses, from the survey's creation to today by month; null when the
    /// survey has no factor set.
    async fn csi_report(&self) -> Option<crate::graphql::object::csi::CsiReport> {
        self.0
            .csi
            .clone()
            .map(crate::graphql::object::csi::CsiReport::new)
    }
    /// The survey's id.
    async fn survey_id(&self) -> ID {
        global_id(NodeType::Survey, self.0.survey_id)
    }
    /// The survey (batched).
    async fn survey(&self, ctx: &Context<'_>) -> ApiResult<Option<Survey>> {
        link::survey(ctx, Some(self.0.survey_id)).await
    }
    /// Invitations issued and not revoked (a re-issued invitation counts once).
    async fn invitations_sent(&self) -> i64 {
        self.0.invitations_sent
    }
    /// Responses stored.
    async fn responses(&self) -> i64 {
        self.0.responses
    }
    /// `responses / invitationsSent · 100`, 2 decimals; null without invitations.
    async fn response_rate(&self) -> Option<Decimal> {
        self.0.response_rate.map(Into::into)
    }
    /// Customer satisfaction: share of 4–5 among all RATING answers, in percent (2 decimals).
    async fn csat(&self) -> Option<Decimal> {
        self.0.csat.map(Into::into)
    }
    /// RATING answers counted for `csat`.
    async fn rating_answers(&self) -> i64 {
        self.0.rating_answers
    }
    /// Net promoter score: % promoters (9–10) − % detractors (0–6), in percent points (−100..100).
    async fn nps(&self) -> Option<Decimal> {
        self.0.nps.map(Into::into)
    }
    /// 95 % Wilson score interval of `csat`, in percent (2 decimals);
    /// `sampleSize` is `ratingAnswers`.
    async fn csat_interval(&self) -> crate::graphql::object::confidence::ConfidenceInterval {
        crate::graphql::object::confidence::ConfidenceInterval(self.0.csat_confidence)
    }
    /// 95 % interval of `nps`: `nps ± 1.96 · 100 · √((p₊ + p₋ − (p₊ − p₋)²) / n)`
    /// over the n NPS answers, clipped to −100..100 (2 decimals).
    async fn nps_interval(&self) -> crate::graphql::object::confidence::ConfidenceInterval {
        crate::graphql::object::confidence::ConfidenceInterval(self.0.nps_confidence)
    }
    /// NPS answers of 9–10.
    async fn promoters(&self) -> i64 {
        self.0.promoters
    }
    /// NPS answers of 7–8.
    async fn passives(&self) -> i64 {
        self.0.passives
    }
    /// NPS answers of 0–6.
    async fn detractors(&self) -> i64 {
        self.0.detractors
    }
    /// CSAT and NPS per customer segment (relationship type, stage, loyalty
    /// tier or tag, current values) over all the survey's responses, sorted
    /// by key. Segments with fewer than `minResponses` responses are
    /// suppressed (no figure, no count); when only one is, the smallest
    /// other one is suppressed with it. One grouped query.
    async fn segments(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer attribute to split by.")] by: SegmentBy,
        #[graphql(
            desc = "Fewest responses a segment needs to show figures: at least 5, and 5 when omitted."
        )]
        min_responses: Option<i64>,
    ) -> ApiResult<Vec<SurveySegment>> {
        let threshold = domain::segments::threshold(min_responses, "minResponses")?;
        let actor = ctx.actor()?;
        Ok(ctx
            .services()?
            .surveys
            .segments(actor, self.0.survey_id, by.into(), threshold)
            .await?
            .into_iter()
            .map(SurveySegment)
            .collect())
    }
    /// CSAT and NPS per period of `granularity`, from the survey's first
    /// response (or creation) to today, empty periods included, each with
    /// the significance of its change since the period before. One grouped
    /// query.
    async fn trend(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Trend period length; MONTH when omitted.")] granularity: Option<
            Granularity,
        >,
    ) -> ApiResult<Vec<SurveyTrend>> {
        let actor = ctx.actor()?;
        let granularity = granularity.map_or(domain::csi::Granularity::Month, Into::into);
        Ok(ctx
            .services()?
            .surveys
            .trend(actor, self.0.survey_id, granularity)
            .await?
            .into_iter()
            .map(SurveyTrend)
            .collect())
    }
    /// Per-question distributions and means, in question order.
    async fn questions(&self) -> Vec<QuestionResults> {
        self.0
            .questions
            .iter()
            .cloned()
            .map(|q| QuestionResults(q, self.0.survey_id))
            .collect()
    }
}

/// A follow-up raised by a dissatisfied response.
pub struct FollowUp(pub domain::feedback::FollowUp);

#[Object]
impl FollowUp {
    /// The follow-up's global id.
    async fn id(&self) -> ID {
        global_id(NodeType::FollowUp, self.0.id)
    }
    /// The id of the response that raised it.
    async fn response_id(&self) -> ID {
        global_id(NodeType::SurveyResponse, self.0.response_id)
    }
    /// The response that raised it (batched).
    async fn response(&self, ctx: &Context<'_>) -> ApiResult<Option<SurveyResponse>> {
        link::response(ctx, Some(self.0.response_id)).await
    }
    /// The id of the response's survey.
    async fn survey_id(&self) -> ID {
        global_id(NodeType::Survey, self.0.survey_id)
    }
    /// The response's survey (batched).
    async fn survey(&self, ctx: &Context<'_>) -> ApiResult<Option<Survey>> {
        link::survey(ctx, Some(self.0.survey_id)).await
    }
    /// The dissatisfied customer's id.
    async fn customer_id(&self) -> ID {
        global_id(NodeType::Customer, self.0.customer_id)
    }
    /// The dissatisfied customer (batched).
    async fn customer(&self, ctx: &Context<'_>) -> ApiResult<Option<Customer>> {
        link::customer(ctx, Some(self.0.customer_id)).await
    }
    /// Every reason that applied.
    async fn reasons(&self) -> Vec<FollowUpReason> {
        self.0.reasons.iter().map(|r| (*r).into()).collect()
    }
    /// `OPEN` or `RESOLVED`.
    async fn status(&self) -> FollowUpStatus {
        self.0.status.into()
    }
    /// When the response raised it.
    async fn opened_at(&self) -> DateTime {
        self.0.opened_at.into()
    }
    /// When it was resolved.
    async fn resolved_at(&self) -> Option<DateTime> {
        self.0.resolved_at.map(Into::into)
    }
    /// The id of the staff user who resolved it.
    async fn resolved_by_id(&self) -> Option<ID> {
        self.0.resolved_by.map(|id| global_id(NodeType::User, id))
    }
    /// The staff user who resolved it (batched). ADMIN only, like `users`:
    /// other roles get `FORBIDDEN` on this field.
    async fn resolved_by(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Option<crate::graphql::object::user::User>> {
        link::user(ctx, self.0.resolved_by).await
    }
    /// What was done.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
}

/// Most responses `Customer.latestSurveyResponses` returns.
pub(crate) const MAX_LATEST_RESPONSES: i32 = 20;

/// The feedback area's part of `Customer`: their latest responses and CSI.
pub struct CustomerFeedback(pub i64);

#[Object]
impl CustomerFeedback {
    /// The customer's latest survey responses, newest first, with their CSI
    /// (batched across a page of customers). Needs survey read access.
    async fn latest_survey_responses(
        &self,
        ctx: &async_graphql::Context<'_>,
        #[graphql(desc = "How many (1..=20).", default = 1)] first: i32,
    ) -> crate::graphql::error::ApiResult<Vec<SurveyResponse>> {
        use crate::graphql::context::ContextExt as _;
        let actor = ctx.actor()?;
        ctx.services()?.surveys.authorize_response_read(actor)?;
        if !(1..=MAX_LATEST_RESPONSES).contains(&first) {
            return Err(
                domain::DomainError::validation("first", "must be between 1 and 20").into(),
            );
        }
        // Answers cost a second statement; a dashboard showing CSI skips it.
        let detail = if ctx.look_ahead().field("answers").exists() {
            ResponseDetail::WithAnswers
        } else {
            ResponseDetail::Summary
        };
        let key = LatestResponses {
            customer_id: self.0,
            limit: u64::try_from(first).unwrap_or(1),
            detail,
        };
        let rows = ctx
            .data::<Loader<LatestResponsesLoader>>()?
            .load_one(key)
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(SurveyResponse::from).collect())
    }

    /// The customer's own CSI: the index of their most recent response (of
    /// the last 20) that rated CSI factors, 0..100; null when none did.
    async fn csi(&self, ctx: &async_graphql::Context<'_>) -> ApiResult<Option<Decimal>> {
        let actor = ctx.actor()?;
        ctx.services()?.surveys.authorize_response_read(actor)?;
        let key = LatestResponses {
            customer_id: self.0,
            limit: MAX_LATEST_RESPONSES as u64,
            detail: ResponseDetail::Summary,
        };
        let rows = ctx
            .data::<Loader<LatestResponsesLoader>>()?
            .load_one(key)
            .await
            .map_err(ApiError::from)?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .find_map(|r| r.csi.map(Into::into)))
    }
}
