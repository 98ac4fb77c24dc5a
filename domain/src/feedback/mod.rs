//! Surveys and incentivised feedback (SPEC §4): surveys and their questions,
//! personal invitations, the public respondent flow, incentives through the
//! loyalty ledger, results, and the follow-ups that close the loop.

mod customers;
mod follow_ups;
mod invitations;
mod model;
mod results;
mod submission;
mod surveys;

use sea_orm::DatabaseConnection;

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
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}
