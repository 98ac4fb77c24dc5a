//! The customer classifications the metrics group by (SPEC §3), owned by the
//! customers area.

pub use crate::customers::{ChurnReason, RelationshipStage, RelationshipType};
