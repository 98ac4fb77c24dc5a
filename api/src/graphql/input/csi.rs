//! Inputs of the CSI factor-set operations; each converts into its domain type.

use crate::graphql::scalar::Decimal;
use async_graphql::{InputObject, ID};

use crate::graphql::error::ApiResult;
use crate::graphql::object::customer::RelationshipType;
use crate::graphql::scalar::{parse_id, NodeType};

/// One factor of a set.
#[derive(InputObject, Clone)]
pub struct CsiFactorInput {
    /// Stable key, `[a-z0-9_]{1,40}`, unique in the set.
    pub key: String,
    /// Label shown to staff and respondents.
    pub label: String,
    /// Positive decimal (as a string, e.g. `"0.35"`), at most 1000000. Weights
    /// need not sum to 1.
    pub weight: Decimal,
}

impl From<CsiFactorInput> for domain::csi::FactorInput {
    fn from(input: CsiFactorInput) -> Self {
        Self {
            key: input.key,
            label: input.label,
            weight: input.weight.0,
        }
    }
}

/// A new factor set (version 1, DRAFT).
#[derive(InputObject)]
pub struct CreateCsiFactorSetInput {
    /// Name of the set.
    pub name: String,
    /// Lowest rating, 0..9; default 1.
    pub scale_min: Option<i32>,
    /// Highest rating, 1..10 and above `scaleMin`; default 5.
    pub scale_max: Option<i32>,
    /// 1 to 50 factors with unique keys.
    pub factors: Vec<CsiFactorInput>,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

impl From<CreateCsiFactorSetInput> for domain::csi::FactorSetInput {
    fn from(input: CreateCsiFactorSetInput) -> Self {
        Self {
            name: input.name,
            scale_min: input.scale_min,
            scale_max: input.scale_max,
            factors: input.factors.into_iter().map(Into::into).collect(),
        }
    }
}

/// Changes to a DRAFT; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateCsiFactorSetInput {
    /// The draft version's id.
    pub id: ID,
    /// The `lockVersion` you read; if someone saved since, the update is `CONFLICT`.
    pub lock_version: i32,
    /// New name.
    pub name: Option<String>,
    /// New lowest rating.
    pub scale_min: Option<i32>,
    /// New highest rating.
    pub scale_max: Option<i32>,
    /// The complete new factor list (replaces the current one).
    pub factors: Option<Vec<CsiFactorInput>>,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

impl From<UpdateCsiFactorSetInput> for domain::csi::FactorSetUpdate {
    fn from(input: UpdateCsiFactorSetInput) -> Self {
        Self {
            lock_version: input.lock_version,
            name: input.name,
            scale_min: input.scale_min,
            scale_max: input.scale_max,
            factors: input
                .factors
                .map(|factors| factors.into_iter().map(Into::into).collect()),
        }
    }
}

/// The draft version to publish.
#[derive(InputObject)]
pub struct PublishCsiFactorSetInput {
    /// The draft version's id.
    pub id: ID,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

/// The published version to revise.
#[derive(InputObject)]
pub struct ReviseCsiFactorSetInput {
    /// The published version's id.
    pub id: ID,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

/// The factor set to archive.
#[derive(InputObject)]
pub struct ArchiveCsiFactorSetInput {
    /// Any version's id.
    pub id: ID,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

/// Which ratings a CSI report counts; every given criterion applies.
#[derive(InputObject, Default)]
pub struct CsiReportFilter {
    /// Only customers with this tag.
    pub tag: Option<String>,
    /// Only customers of this relationship type.
    pub relationship_type: Option<RelationshipType>,
    /// Only ratings given in responses to this survey.
    pub survey_id: Option<ID>,
}

impl TryFrom<CsiReportFilter> for domain::csi::ReportFilter {
    type Error = crate::graphql::error::ApiError;

    fn try_from(input: CsiReportFilter) -> ApiResult<Self> {
        Ok(Self {
            tag: input.tag,
            relationship_type: input.relationship_type.map(Into::into),
            survey_id: input
                .survey_id
                .map(|id| parse_id(NodeType::Survey, "filter.surveyId", &id))
                .transpose()?,
        })
    }
}
