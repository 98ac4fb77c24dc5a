//! CSI factor sets (SPEC §5): admin-configured weights, versions, and the index
//! per response and per set of responses.
//!
//! - [`factor_sets`]: the [`CsiService`] (create, update, publish, revise,
//!   archive, read) and the validated input types.
//! - [`presets`]: ready-made driver lists (ACSI) to start a set from.
//! - [`ratings`]: storing factor ratings against a published version, and the
//!   index of one response.
//! - [`report`]: the aggregate index, per-factor priorities, trend and
//!   previous-period comparison, aggregated in SQL.
//! - [`compute`]: the formulas, in exact decimal arithmetic.

pub mod compute;
pub mod factor_sets;
pub mod presets;
pub mod ratings;
pub mod report;
mod types;

pub use compute::{CsiValue, Scale};
pub use factor_sets::CsiService;
pub use report::{report, CsiReport, Granularity, ReportFilter, ReportQuery};
pub use types::{
    Factor, FactorInput, FactorKey, FactorSet, FactorSetInput, FactorSetStatus, FactorSetUpdate,
    Label, NewFactor, ValidatedFactorSet, Weight,
};
