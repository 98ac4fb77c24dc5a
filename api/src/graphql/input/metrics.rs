//! The filter every relationship metric accepts.

use async_graphql::InputObject;

use crate::graphql::object::metrics::RelationshipType;
use crate::graphql::scalar::Date;

/// Narrows a metric to some customers. Every part is optional; parts combine
/// with AND.
#[derive(InputObject, Clone, Default)]
pub struct MetricsFilter {
    /// Only customers carrying this tag (compared case-insensitively).
    #[graphql(validator(chars_max_length = 100))]
    pub tag: Option<String>,
    /// Only customers served this way.
    pub relationship_type: Option<RelationshipType>,
    /// Only customers acquired on or after this UTC date.
    pub acquired_from: Option<Date>,
    /// Only customers acquired before this UTC date (exclusive).
    pub acquired_to: Option<Date>,
}

impl From<MetricsFilter> for domain::metrics::MetricsFilter {
    /// The domain validates (blank tag, inverted range) when it runs the metric.
    fn from(input: MetricsFilter) -> Self {
        Self {
            tag: input.tag,
            relationship_type: input.relationship_type.map(Into::into),
            acquired_from: input.acquired_from.map(Into::into),
            acquired_to: input.acquired_to.map(Into::into),
        }
    }
}
