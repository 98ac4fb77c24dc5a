//! Segments of a report: its figures split by a customer attribute
//! (relationship type, stage, loyalty tier or tag), with small segments
//! suppressed so that no individual customer can be singled out.
//!
//! The CSI report ([`crate::csi::segments`]) and survey results
//! ([`crate::feedback::segments`]) group their own aggregates by the segment
//! key that [`customer_segments`] gives each customer; this module holds the
//! rules they share:
//!
//! - **Current values.** A customer counts in the segment of their
//!   relationship type, stage and tier *now*, not at the time they answered:
//!   the customer record keeps no history of its stage, and a tier follows
//!   lifetime points, which only grow. docs/csi.md#segments says so.
//! - **Overlap.** A customer with several tags counts in each tag's segment;
//!   a member of several programmes counts in the tier of each. Segments of
//!   `TAG` (and `TIER` across programmes) therefore need not add up to the
//!   report.
//! - **No segment.** Ratings and responses of customers without a value
//!   (no relationship type, no tag, below every tier, or no customer) are in
//!   no segment.
//! - **Suppression** ([`suppress`]): a segment with fewer responses than the
//!   threshold (at least [`MIN_SEGMENT_RESPONSES`]) shows no figure and no
//!   count, only that it is suppressed.

use crate::error::{DomainError, DomainResult};

/// The smallest threshold a query may ask for, and the default: a segment
/// needs at least this many responses to show figures.
pub const MIN_SEGMENT_RESPONSES: i64 = 5;

/// The customer attribute a report is split by.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum SegmentBy {
    /// The customer's relationship type (customers without one are left out).
    RelationshipType,
    /// The customer's relationship stage.
    Stage,
    /// The loyalty tier the customer has reached in each programme.
    Tier,
    /// Each of the customer's tags.
    Tag,
}

/// Checks a requested threshold: `None` is the default, anything below
/// [`MIN_SEGMENT_RESPONSES`] is refused.
///
/// # Errors
/// `BAD_USER_INPUT` on `field` below the minimum.
pub fn threshold(requested: Option<i64>, field: &str) -> DomainResult<i64> {
    match requested {
        None => Ok(MIN_SEGMENT_RESPONSES),
        Some(n) if n < MIN_SEGMENT_RESPONSES => Err(DomainError::validation(
            field,
            format!("must be at least {MIN_SEGMENT_RESPONSES}, so that no individual can be singled out"),
        )),
        Some(n) => Ok(n),
    }
}

/// A derived table `(customer_id, seg_key, seg_label)`: one row per customer
/// and segment they are in, from current values. SQL text only, no values.
pub(crate) fn customer_segments(by: SegmentBy) -> &'static str {
    match by {
        SegmentBy::RelationshipType => {
            "SELECT c.id AS customer_id, c.relationship_type AS seg_key, \
             c.relationship_type AS seg_label FROM customers c \
             WHERE c.relationship_type IS NOT NULL"
        }
        SegmentBy::Stage => {
            "SELECT c.id AS customer_id, c.relationship_stage AS seg_key, \
             c.relationship_stage AS seg_label FROM customers c"
        }
        // The highest tier reached in each programme (as `loyalty::tier_for`).
        SegmentBy::Tier => {
            "SELECT m.customer_id AS customer_id, CAST(t.id AS TEXT) AS seg_key, \
             t.name AS seg_label FROM memberships m \
             JOIN loyalty_tiers t ON t.program_id = m.program_id \
             AND t.min_lifetime_points <= m.lifetime_points \
             WHERE NOT EXISTS (SELECT 1 FROM loyalty_tiers h \
             WHERE h.program_id = m.program_id AND h.min_lifetime_points <= m.lifetime_points \
             AND h.min_lifetime_points > t.min_lifetime_points)"
        }
        SegmentBy::Tag => {
            "SELECT g.customer_id AS customer_id, g.tag AS seg_key, g.tag AS seg_label \
             FROM customer_tags g"
        }
    }
}

/// The `customers` column holding `by`'s segment when a customer has at
/// most one (its key and label both); `None` for tiers and tags.
pub(crate) fn customer_column(by: SegmentBy) -> Option<&'static str> {
    match by {
        SegmentBy::RelationshipType => Some("relationship_type"),
        SegmentBy::Stage => Some("relationship_stage"),
        SegmentBy::Tier | SegmentBy::Tag => None,
    }
}

/// One segment before suppression: its key, label and response count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentHead {
    /// `RELATIONSHIP_TYPE` and `STAGE`: the stored enum name; `TIER`: the
    /// tier's id; `TAG`: the tag.
    pub key: String,
    /// The tier's name; otherwise the key.
    pub label: String,
    pub responses: i64,
}

/// Which segments are suppressed, in the order of `segments` (sorted by key
/// here). A segment is suppressed when it has fewer than `threshold`
/// responses. When exactly one is, the smallest of the others is suppressed
/// too (ties: the first by key), so its count cannot be found by
/// subtracting the shown counts from the report's total.
pub fn suppress(segments: &mut [SegmentHead], threshold: i64) -> Vec<bool> {
    segments.sort_by(|a, b| a.key.cmp(&b.key));
    let mut hidden: Vec<bool> = segments.iter().map(|s| s.responses < threshold).collect();
    if hidden.iter().filter(|h| **h).count() == 1 {
        let smallest = segments
            .iter()
            .enumerate()
            .filter(|(i, _)| !hidden[*i])
            .min_by_key(|(i, s)| (s.responses, *i))
            .map(|(i, _)| i);
        if let Some(i) = smallest {
            hidden[i] = true;
        }
    }
    hidden
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(key: &str, responses: i64) -> SegmentHead {
        SegmentHead {
            key: key.into(),
            label: key.into(),
            responses,
        }
    }

    #[test]
    fn thresholds_below_five_are_refused() {
        assert_eq!(threshold(None, "minResponses").ok(), Some(5));
        assert_eq!(threshold(Some(5), "minResponses").ok(), Some(5));
        assert_eq!(threshold(Some(12), "minResponses").ok(), Some(12));
        assert!(matches!(
            threshold(Some(4), "minResponses"),
            Err(DomainError::Validation { field, .. }) if field == "minResponses"
        ));
    }

    #[test]
    fn segments_below_the_threshold_are_suppressed() {
        let mut segments = vec![head("b", 5), head("a", 4), head("c", 9), head("d", 3)];
        // a (4) and d (3) are below 5; two are suppressed, no complement needed.
        assert_eq!(suppress(&mut segments, 5), [true, false, false, true]);
        assert_eq!(segments[0].key, "a");
    }

    #[test]
    fn a_lone_suppressed_segment_takes_the_smallest_other_with_it() {
        let mut segments = vec![head("a", 4), head("b", 7), head("c", 6), head("d", 6)];
        assert_eq!(suppress(&mut segments, 5), [true, false, true, false]);
        let mut none = vec![head("a", 5), head("b", 6)];
        assert_eq!(suppress(&mut none, 5), [false, false]);
        let mut alone = vec![head("a", 2)];
        assert_eq!(suppress(&mut alone, 5), [true]);
    }
}
