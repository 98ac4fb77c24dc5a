//! CSV exports of whole data sets (issue 20 §4): one survey's responses with
//! their answers, the customers, and one loyalty programme's ledger entries
//! over a period.
//!
//! An export is read in keyset pages of [`PAGE_ROWS`] rows by id, each page
//! its own short read: no transaction is held while a client downloads, and
//! memory stays bounded by one page whatever the size of the set. It is not a
//! snapshot: the ids are bounded by the largest id present when the export
//! opens (rows added later are left out), but a row changed during the
//! download (an erasure, a helpful mark) shows as it is when its page is read.
//!
//! - [`ExportService`] (here): who may export what, and opening an export.
//! - `csv`: RFC 4180 lines with the formula-injection guard.
//! - `responses`, `customers`, `ledger`: the columns and pages of each kind.

mod csv;
mod customers;
mod ledger;
mod responses;

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DatabaseConnection};

use crate::auth::{Actor, Capability};
use crate::error::{DomainError, DomainResult};
use crate::feedback::SurveyService;
use crate::loyalty::LoyaltyService;
use crate::metrics::Period;

/// Rows read per page.
pub const PAGE_ROWS: u64 = 1000;

/// The UTF-8 byte order mark each export starts with: without it, Excel
/// reads a CSV file in the system's legacy code page and garbles every
/// non-ASCII letter; LibreOffice, Google Sheets and Python's `utf-8-sig`
/// skip it.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// What an export holds.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum ExportKind {
    /// One survey's responses, one column per question.
    SurveyResponses,
    /// Every customer.
    Customers,
    /// One programme's ledger entries that occurred in a period.
    LedgerEntries,
}

impl ExportKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SurveyResponses => "SURVEY_RESPONSES",
            Self::Customers => "CUSTOMERS",
            Self::LedgerEntries => "LEDGER_ENTRIES",
        }
    }

    /// Parses a wire name.
    pub fn parse(raw: &str) -> Option<Self> {
        [Self::SurveyResponses, Self::Customers, Self::LedgerEntries]
            .into_iter()
            .find(|k| k.as_str() == raw)
    }
}

/// The kinds of record whose ids appear in exports, so that the caller can
/// write them as its clients know them (the API writes global ids).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Record {
    Customer,
    SurveyResponse,
    LedgerEntry,
    Membership,
}

/// Writes a record's id for the export.
pub type IdFormat = fn(Record, i64) -> String;

/// A validated export request: the kind and the parameters it takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportSpec {
    pub kind: ExportKind,
    /// For `SURVEY_RESPONSES`: the survey.
    pub survey_id: Option<i64>,
    /// For `LEDGER_ENTRIES`: the programme.
    pub program_id: Option<i64>,
    /// For `LEDGER_ENTRIES`: the period `[from, to)` of `occurredAt`.
    pub period: Option<Period>,
}

impl ExportSpec {
    /// Checks that `kind` gets exactly the parameters it takes:
    /// `SURVEY_RESPONSES` a survey; `CUSTOMERS` nothing; `LEDGER_ENTRIES` a
    /// programme and a period.
    ///
    /// # Errors
    /// `BAD_USER_INPUT` naming the missing or superfluous field.
    pub fn parse(
        kind: ExportKind,
        survey_id: Option<i64>,
        program_id: Option<i64>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> DomainResult<Self> {
        let wants = |field: &'static str, given: bool, wanted: bool| match (given, wanted) {
            (false, true) => Err(DomainError::validation(
                field,
                format!("is required for a {} export", kind.as_str()),
            )),
            (true, false) => Err(DomainError::validation(
                field,
                format!("does not apply to a {} export", kind.as_str()),
            )),
            _ => Ok(()),
        };
        let ledger = kind == ExportKind::LedgerEntries;
        wants(
            "surveyId",
            survey_id.is_some(),
            kind == ExportKind::SurveyResponses,
        )?;
        wants("programId", program_id.is_some(), ledger)?;
        wants("from", from.is_some(), ledger)?;
        wants("to", to.is_some(), ledger)?;
        let period = match (from, to) {
            (Some(from), Some(to)) => Some(Period::parse(from, to)?),
            _ => None,
        };
        Ok(Self {
            kind,
            survey_id,
            program_id,
            period,
        })
    }

    /// The file name offered to the browser.
    pub fn filename(&self) -> String {
        match (self.kind, self.survey_id, self.program_id, self.period) {
            (ExportKind::SurveyResponses, Some(survey), _, _) => {
                format!("survey-{survey}-responses.csv")
            }
            (ExportKind::LedgerEntries, _, Some(program), Some(period)) => {
                format!("program-{program}-ledger-{}-{}.csv", period.from, period.to)
            }
            (ExportKind::Customers, ..) => "customers.csv".to_owned(),
            _ => "export.csv".to_owned(),
        }
    }
}

/// Who may export what, and the exports themselves.
#[derive(Clone)]
pub struct ExportService {
    db: DatabaseConnection,
}

impl ExportService {
    /// The service over `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Checks that `actor` may take `spec` out of the system now: the role
    /// holds [`Capability::ExportData`] and the survey or programme exists.
    /// Called when a download link is made and again when it is used.
    ///
    /// # Errors
    /// `FORBIDDEN` for AGENT; `NOT_FOUND` for an unknown survey or programme.
    pub async fn authorize(&self, actor: &Actor, spec: &ExportSpec) -> DomainResult<()> {
        actor.require(Capability::ExportData)?;
        if let Some(id) = spec.survey_id {
            SurveyService::new(self.db.clone())
                .survey(actor, id)
                .await?;
        }
        if let Some(id) = spec.program_id {
            LoyaltyService::new(self.db.clone())
                .program(actor, id)
                .await?
                .ok_or(DomainError::NotFound("loyalty program"))?;
        }
        Ok(())
    }

    /// Opens `spec` for reading after [`Self::authorize`]; ids are written
    /// with `ids`.
    ///
    /// # Errors
    /// As [`Self::authorize`]; database failures.
    #[tracing::instrument(skip_all, fields(user_id = actor.user_id, kind = spec.kind.as_str()))]
    pub async fn open(
        &self,
        actor: &Actor,
        spec: ExportSpec,
        ids: IdFormat,
    ) -> DomainResult<Export> {
        self.authorize(actor, &spec).await?;
        let source = match spec.kind {
            ExportKind::SurveyResponses => {
                let survey_id = spec.survey_id.ok_or(DomainError::NotFound("survey"))?;
                let survey = SurveyService::new(self.db.clone())
                    .survey(actor, survey_id)
                    .await?;
                Source::Responses(Box::new(responses::Layout::new(survey)))
            }
            ExportKind::Customers => Source::Customers,
            ExportKind::LedgerEntries => Source::Ledger {
                program_id: spec
                    .program_id
                    .ok_or(DomainError::NotFound("loyalty program"))?,
                period: spec
                    .period
                    .ok_or(DomainError::validation("from", "is required"))?,
            },
        };
        let bound = source.last_id(&self.db).await?;
        Ok(Export {
            db: self.db.clone(),
            source,
            ids,
            after: 0,
            bound,
            started: false,
            done: false,
        })
    }
}

/// What an open export reads.
enum Source {
    Responses(Box<responses::Layout>),
    Customers,
    Ledger { program_id: i64, period: Period },
}

impl Source {
    /// The largest id the export will include.
    async fn last_id(&self, db: &impl ConnectionTrait) -> DomainResult<i64> {
        let table = match self {
            Source::Responses(_) => "survey_responses",
            Source::Customers => "customers",
            Source::Ledger { .. } => "ledger_entries",
        };
        let sql = format!("SELECT COALESCE(MAX(id), 0) AS last FROM {table}");
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                sql,
            ))
            .await?;
        Ok(match row {
            Some(row) => row.try_get::<i64>("", "last")?,
            None => 0,
        })
    }
}

/// An export being read: call [`Export::next_chunk`] until it returns `None`.
pub struct Export {
    db: DatabaseConnection,
    source: Source,
    ids: IdFormat,
    /// The id of the last row written.
    after: i64,
    /// The largest id included.
    bound: i64,
    started: bool,
    done: bool,
}

impl Export {
    /// The next piece of the file: first the byte order mark and the header,
    /// then one page of records at a time; `None` at the end.
    ///
    /// # Errors
    /// Database failures; the file is then incomplete.
    pub async fn next_chunk(&mut self) -> DomainResult<Option<Vec<u8>>> {
        if self.done {
            return Ok(None);
        }
        let mut out = Vec::new();
        if !self.started {
            self.started = true;
            out.extend_from_slice(BOM);
            let names = match &self.source {
                Source::Responses(layout) => layout.header(),
                Source::Customers => customers::header(),
                Source::Ledger { .. } => ledger::header(),
            };
            csv::header(&names, &mut out);
            return Ok(Some(out));
        }
        let page = Page {
            after: self.after,
            bound: self.bound,
            limit: PAGE_ROWS,
            ids: self.ids,
        };
        let (rows, last) = match &self.source {
            Source::Responses(layout) => layout.page(&self.db, &page, &mut out).await?,
            Source::Customers => customers::page(&self.db, &page, &mut out).await?,
            Source::Ledger { program_id, period } => {
                ledger::page(&self.db, *program_id, period, &page, &mut out).await?
            }
        };
        match last {
            Some(last) if rows == PAGE_ROWS => self.after = last,
            _ => self.done = true,
        }
        if out.is_empty() {
            return Ok(None);
        }
        Ok(Some(out))
    }
}

/// One page to read: ids in `(after, bound]`, at most `limit` rows.
pub(crate) struct Page {
    pub after: i64,
    pub bound: i64,
    pub limit: u64,
    pub ids: IdFormat,
}

/// An instant as written in exports: RFC 3339 in UTC.
pub(crate) fn instant(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}
