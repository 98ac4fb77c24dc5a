//! The input of `createExport`.

use async_graphql::{InputObject, ID};

use crate::graphql::object::export::ExportKind;
use crate::graphql::scalar::{parse_key, Date, NodeType};

/// Asks for a CSV export's download link.
#[derive(InputObject)]
pub struct CreateExportInput {
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
    /// What to export.
    pub kind: ExportKind,
    /// For `SURVEY_RESPONSES` (required there, refused elsewhere): the survey.
    pub survey_id: Option<ID>,
    /// For `LEDGER_ENTRIES` (required there, refused elsewhere): the programme.
    pub program_id: Option<ID>,
    /// For `LEDGER_ENTRIES`: the first day of the period (inclusive, UTC).
    pub from: Option<Date>,
    /// For `LEDGER_ENTRIES`: the day after the period (exclusive, UTC).
    pub to: Option<Date>,
}

impl TryFrom<&CreateExportInput> for domain::exports::ExportSpec {
    type Error = domain::DomainError;

    fn try_from(input: &CreateExportInput) -> Result<Self, Self::Error> {
        let survey_id = input
            .survey_id
            .as_ref()
            .map(|id| parse_key(NodeType::Survey, "surveyId", id))
            .transpose()?;
        let program_id = input
            .program_id
            .as_ref()
            .map(|id| parse_key(NodeType::LoyaltyProgram, "programId", id))
            .transpose()?;
        Self::parse(
            input.kind.into(),
            survey_id,
            program_id,
            input.from.map(|d| d.0),
            input.to.map(|d| d.0),
        )
    }
}
