//! CSV exports: their kinds and the download link `createExport` returns.

use async_graphql::{Enum, SimpleObject};

use crate::graphql::scalar::DateTime;

/// What a CSV export holds.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::exports::ExportKind")]
pub enum ExportKind {
    /// One survey's responses: one column per question, then CSI, NPS, NPS
    /// category, CSAT satisfied and helpful, then one per hidden field
    /// (`Hidden: <key>`). Needs `surveyId`.
    SurveyResponses,
    /// Every customer; erased customers without personal data.
    Customers,
    /// One loyalty programme's ledger entries that occurred in a period.
    /// Needs `programId`, `from` and `to`.
    LedgerEntries,
}

/// The result of `createExport`: a short-lived link to the CSV file.
#[derive(SimpleObject)]
pub struct CreateExportPayload {
    /// Echoes the input's `clientMutationId`.
    pub client_mutation_id: Option<String>,
    /// Download with a plain `GET` (no `Authorization` header needed) until
    /// `expiresAt`; it may be used more than once. The creator's role is
    /// checked again at each download.
    pub url: String,
    /// When the link stops working.
    pub expires_at: DateTime,
    /// The file name the download offers.
    pub filename: String,
}
