//! CSI factor sets (SPEC §5): admin-configured weights, versions, and the index
//! per response and per set of responses.
//!
//! - [`CsiService`] (here): the area's operations (create, update, publish,
//!   revise, archive, read, report), each checking the actor's capability and
//!   delegating to the topic modules below.
//! - [`factor_sets`]: factor-set versions and their lifecycle.
//! - [`presets`]: ready-made driver lists (ACSI) to start a set from.
//! - [`ratings`]: storing factor ratings against a published version, and the
//!   index of one response.
//! - [`report`]: the aggregate index, per-factor priorities, trend and
//!   previous-period comparison, aggregated in SQL.
//! - [`preview`]: a published version's report under a draft's weights,
//!   beside the published one, from the same aggregates.
//! - [`drivers`]: derived importance (relative weights of a regression of
//!   overall satisfaction on the factors) and the importance–performance map.
//! - [`segments`]: the report per customer segment, small ones suppressed.
//! - [`compute`]: the formulas, in exact decimal arithmetic.

pub mod compute;
pub mod confidence;
pub mod drivers;
pub mod factor_sets;
mod pass;
mod pivot;
pub mod presets;
pub mod preview;
pub mod ratings;
pub mod report;
pub mod segments;
mod types;

pub use compute::{CsiValue, Scale};
pub use drivers::{Drivers, ImportanceBasis, ImportancePerformance};
pub use preview::{CsiPreview, PreviewQuery};
pub use report::{report, CsiReport, Granularity, ReportFilter, ReportQuery};
pub use types::{
    Factor, FactorInput, FactorKey, FactorSet, FactorSetInput, FactorSetStatus, FactorSetUpdate,
    Label, NewFactor, ValidatedFactorSet, Weight,
};

use sea_orm::DatabaseConnection;

use crate::auth::{Actor, Capability};
use crate::error::DomainResult;
use crate::pagination::{KeyCursor, Page, PageRequest};
use presets::Preset;

/// CSI factor sets: configuration (ADMIN), reading and reports (everyone).
#[derive(Clone)]
pub struct CsiService {
    db: DatabaseConnection,
}

impl CsiService {
    /// The service over `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Creates version 1 of a new set, as a `DRAFT`.
    ///
    /// # Errors
    /// `FORBIDDEN` unless ADMIN; `BAD_USER_INPUT` naming the field (`name`,
    /// `scaleMin`, `scaleMax`, `factors`, `factors.<i>.key|label|weight`).
    #[tracing::instrument(skip(self, actor, input), fields(user_id = actor.user_id))]
    pub async fn create(&self, actor: &Actor, input: FactorSetInput) -> DomainResult<FactorSet> {
        actor.require(Capability::ConfigureCsi)?;
        factor_sets::create(&self.db, input).await
    }

    /// Changes a `DRAFT`: name, scale, and (when given) the whole factor list.
    ///
    /// # Errors
    /// `FORBIDDEN` unless ADMIN; `NOT_FOUND`; `CONFLICT` when the version is not
    /// a draft or `lock_version` is stale (someone saved in between);
    /// `BAD_USER_INPUT` as for [`CsiService::create`].
    #[tracing::instrument(skip(self, actor, update), fields(user_id = actor.user_id))]
    pub async fn update(
        &self,
        actor: &Actor,
        id: i64,
        update: FactorSetUpdate,
    ) -> DomainResult<FactorSet> {
        actor.require(Capability::ConfigureCsi)?;
        factor_sets::update(&self.db, id, update).await
    }

    /// Publishes a `DRAFT`: from now on it is frozen and ratings may point to it.
    ///
    /// # Errors
    /// `FORBIDDEN` unless ADMIN; `NOT_FOUND`; `CONFLICT` unless it is a draft.
    #[tracing::instrument(skip(self, actor), fields(user_id = actor.user_id))]
    pub async fn publish(&self, actor: &Actor, id: i64) -> DomainResult<FactorSet> {
        actor.require(Capability::ConfigureCsi)?;
        factor_sets::publish(&self.db, id).await
    }

    /// Starts the next `DRAFT` version of a published set, copying its name,
    /// scale and factors. A family has at most one draft at a time.
    ///
    /// # Errors
    /// `FORBIDDEN` unless ADMIN; `NOT_FOUND`; `CONFLICT` unless the version is
    /// `PUBLISHED`, or when the family already has a draft.
    #[tracing::instrument(skip(self, actor), fields(user_id = actor.user_id))]
    pub async fn revise(&self, actor: &Actor, id: i64) -> DomainResult<FactorSet> {
        actor.require(Capability::ConfigureCsi)?;
        factor_sets::revise(&self.db, id).await
    }

    /// Archives every version of the set's family (drafts included): the set is
    /// retired but its history and reports stay readable. Archiving an archived
    /// family changes nothing.
    ///
    /// # Errors
    /// `FORBIDDEN` unless ADMIN; `NOT_FOUND`; `CONFLICT` while an `ACTIVE`
    /// survey uses any version of the family.
    #[tracing::instrument(skip(self, actor), fields(user_id = actor.user_id))]
    pub async fn archive(&self, actor: &Actor, id: i64) -> DomainResult<FactorSet> {
        actor.require(Capability::ConfigureCsi)?;
        factor_sets::archive(&self.db, id).await
    }

    /// A page of versions, optionally of one status, by family then version.
    ///
    /// # Errors
    /// `FORBIDDEN` without `ReadConfiguration`; database failures.
    pub async fn list(
        &self,
        actor: &Actor,
        status: Option<FactorSetStatus>,
        request: &PageRequest<KeyCursor<i64>>,
    ) -> DomainResult<Page<FactorSet>> {
        actor.require(Capability::ReadConfiguration)?;
        factor_sets::page(&self.db, status, request).await
    }

    /// How many versions there are, optionally of one status.
    ///
    /// # Errors
    /// `FORBIDDEN` without `ReadConfiguration`; database failures.
    pub async fn count(&self, actor: &Actor, status: Option<FactorSetStatus>) -> DomainResult<i64> {
        actor.require(Capability::ReadConfiguration)?;
        factor_sets::count(&self.db, status).await
    }

    /// Checks that `actor` may read factor sets, for fields that follow a
    /// link to a version loaded in a batch
    /// ([`factor_sets::factor_sets_by_ids`]): the rule of [`Self::get`].
    ///
    /// # Errors
    /// `FORBIDDEN` without `ReadConfiguration`.
    pub fn authorize_read(&self, actor: &Actor) -> DomainResult<()> {
        actor.require(Capability::ReadConfiguration)
    }

    /// One version.
    ///
    /// # Errors
    /// `FORBIDDEN` without `ReadConfiguration`; `NOT_FOUND`.
    pub async fn get(&self, actor: &Actor, id: i64) -> DomainResult<FactorSet> {
        actor.require(Capability::ReadConfiguration)?;
        factor_sets::load(&self.db, id).await
    }

    /// One factor of a version, or `None` (the rule of [`Self::get`]).
    ///
    /// # Errors
    /// `FORBIDDEN` without `ReadConfiguration`; database failures.
    pub async fn factor(&self, actor: &Actor, id: i64) -> DomainResult<Option<Factor>> {
        actor.require(Capability::ReadConfiguration)?;
        factor_sets::factor(&self.db, id).await
    }

    /// The presets to start a set from.
    ///
    /// # Errors
    /// `FORBIDDEN` without `ReadConfiguration`.
    pub fn presets(&self, actor: &Actor) -> DomainResult<Vec<Preset>> {
        actor.require(Capability::ReadConfiguration)?;
        Ok(presets::all())
    }

    /// The CSI report of one version (see [`report::report`]).
    ///
    /// # Errors
    /// `FORBIDDEN` without `ReadReports`; as [`report::report`].
    pub async fn report(&self, actor: &Actor, query: ReportQuery) -> DomainResult<CsiReport> {
        actor.require(Capability::ReadReports)?;
        report::report(&self.db, query).await
    }

    /// A published version's report beside the report its ratings would
    /// give under the weights of a draft of the same family (see
    /// [`preview::preview`]). Reads only.
    ///
    /// # Errors
    /// `FORBIDDEN` without `PreviewCsiWeights` (ADMIN, MANAGER); as
    /// [`preview::preview`].
    #[tracing::instrument(skip(self, actor), fields(user_id = actor.user_id))]
    pub async fn preview(&self, actor: &Actor, query: PreviewQuery) -> DomainResult<CsiPreview> {
        actor.require(Capability::PreviewCsiWeights)?;
        preview::preview(&self.db, query).await
    }

    /// Derived importance of `report`'s factors over the ratings it read
    /// (see [`drivers::drivers`]).
    ///
    /// # Errors
    /// `FORBIDDEN` without `ReadReports`; database failures.
    pub async fn drivers(&self, actor: &Actor, report: &CsiReport) -> DomainResult<Drivers> {
        actor.require(Capability::ReadReports)?;
        drivers::drivers(&self.db, report).await
    }

    /// The importance–performance map of `report`; `drivers` must be given
    /// for the derived basis (see [`drivers::importance_performance`]).
    ///
    /// # Errors
    /// `FORBIDDEN` without `ReadReports`.
    pub fn importance_performance(
        &self,
        actor: &Actor,
        report: &CsiReport,
        basis: ImportanceBasis,
        drivers: Option<&Drivers>,
    ) -> DomainResult<ImportancePerformance> {
        actor.require(Capability::ReadReports)?;
        Ok(drivers::importance_performance(report, basis, drivers))
    }

    /// `report`'s figures per customer segment of `by`, segments with
    /// fewer than `threshold` responses suppressed (see
    /// [`segments::segments`]; check the threshold with
    /// [`crate::segments::threshold`]).
    ///
    /// # Errors
    /// `FORBIDDEN` without `ReadReports`; database failures.
    pub async fn segments(
        &self,
        actor: &Actor,
        report: &CsiReport,
        by: crate::segments::SegmentBy,
        threshold: i64,
    ) -> DomainResult<Vec<segments::CsiSegment>> {
        actor.require(Capability::ReadReports)?;
        segments::segments(&self.db, report, by, threshold).await
    }

    /// The connection, for batch loaders.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }
}
