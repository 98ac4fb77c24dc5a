//! The key of per-parent first-page loaders: which parent, and how many rows.

/// The first `limit` rows of a parent's list (no cursor).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FirstPage {
    pub parent_id: i64,
    pub limit: u64,
}

/// Groups keys by page size, so each distinct size costs one batch query.
pub fn by_limit(keys: &[FirstPage]) -> std::collections::BTreeMap<u64, Vec<i64>> {
    let mut groups: std::collections::BTreeMap<u64, Vec<i64>> = Default::default();
    for key in keys {
        groups.entry(key.limit).or_default().push(key.parent_id);
    }
    groups
}
