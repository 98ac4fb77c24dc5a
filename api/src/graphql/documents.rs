//! Parsed documents, kept once per distinct query text, and the texts of
//! Automatic Persisted Queries (Apollo's protocol: `extensions.persistedQuery`
//! `{ version: 1, sha256Hash }`).
//!
//! One bounded least-recently-used map keyed by the SHA-256 of the query
//! text: a persisted query's hash is that key, so registering a query and
//! parsing it fill the same entry. The bound is on entries and on the total
//! bytes of query text held (a parsed document is proportional to its text);
//! a text larger than a sixteenth of the byte bound is never kept. A client
//! sending ever new documents only replaces the least recently used ones.
//!
//! What is kept is the parse only. Everything that depends on the request
//! (the shape and cost limits, which read variables, and async-graphql's
//! validation, which checks argument values with the variables substituted)
//! runs on every request, so a document over a limit is refused every time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::parser::types::ExecutableDocument;
use sha2::{Digest, Sha256};

/// Default bound on the number of kept texts.
pub const DEFAULT_MAX_ENTRIES: usize = 1024;

/// Default bound on the total bytes of kept texts.
pub const DEFAULT_MAX_BYTES: usize = 4 * 1024 * 1024;

/// The SHA-256 of a query text.
pub type Hash = [u8; 32];

/// The SHA-256 of `query`.
pub fn hash(query: &str) -> Hash {
    Sha256::digest(query.as_bytes()).into()
}

/// `hex`, lowercase, as a hash; `None` unless it is 64 hex digits.
pub fn parse_hash(hex: &str) -> Option<Hash> {
    let mut out = [0u8; 32];
    if hex.len() != 64 {
        return None;
    }
    for (i, pair) in hex.as_bytes().chunks(2).enumerate() {
        let digit = |b: u8| (b as char).to_digit(16);
        out[i] = u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).ok()?;
    }
    Some(out)
}

struct Entry {
    query: Arc<str>,
    document: Option<Arc<ExecutableDocument>>,
    last_used: u64,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<Hash, Entry>,
    bytes: usize,
    clock: u64,
}

/// The bounded cache; shared by the HTTP transport (persisted queries) and
/// the request gate (parsing, `crate::graphql::gate`).
pub struct DocumentCache {
    inner: Mutex<Inner>,
    max_entries: usize,
    max_bytes: usize,
}

impl Default for DocumentCache {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_ENTRIES, DEFAULT_MAX_BYTES)
    }
}

impl std::fmt::Debug for DocumentCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (entries, bytes) = self.size();
        f.debug_struct("DocumentCache")
            .field("entries", &entries)
            .field("bytes", &bytes)
            .field("max_entries", &self.max_entries)
            .field("max_bytes", &self.max_bytes)
            .finish()
    }
}

impl DocumentCache {
    /// A cache of at most `max_entries` texts totalling at most `max_bytes`.
    pub fn new(max_entries: usize, max_bytes: usize) -> Self {
        Self {
            inner: Mutex::default(),
            max_entries: max_entries.max(1),
            max_bytes,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves a consistent map (every
        // update is a single insert or remove), so a poisoned lock is usable.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// How many texts are kept and their total bytes.
    pub fn size(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.entries.len(), inner.bytes)
    }

    /// The text registered under `hash`, if it is still kept.
    pub fn query(&self, hash: &Hash) -> Option<Arc<str>> {
        let mut inner = self.lock();
        inner.clock += 1;
        let now = inner.clock;
        inner.entries.get_mut(hash).map(|entry| {
            entry.last_used = now;
            entry.query.clone()
        })
    }

    /// Keeps `query` (already checked to hash to `hash`).
    pub fn register(&self, hash: Hash, query: &str) {
        self.insert(hash, query, None);
    }

    /// The parsed document of `query`, if kept.
    pub fn document(&self, hash: &Hash) -> Option<Arc<ExecutableDocument>> {
        let mut inner = self.lock();
        inner.clock += 1;
        let now = inner.clock;
        let entry = inner.entries.get_mut(hash)?;
        entry.last_used = now;
        entry.document.clone()
    }

    /// Keeps `query`'s parsed `document`.
    pub fn store_document(&self, hash: Hash, query: &str, document: Arc<ExecutableDocument>) {
        self.insert(hash, query, Some(document));
    }

    fn insert(&self, hash: Hash, query: &str, document: Option<Arc<ExecutableDocument>>) {
        if query.len() > self.max_bytes / 16 {
            return;
        }
        let mut inner = self.lock();
        inner.clock += 1;
        let now = inner.clock;
        if let Some(entry) = inner.entries.get_mut(&hash) {
            entry.last_used = now;
            if document.is_some() {
                entry.document = document;
            }
            return;
        }
        while !inner.entries.is_empty()
            && (inner.entries.len() >= self.max_entries
                || inner.bytes + query.len() > self.max_bytes)
        {
            let Some(oldest) = inner
                .entries
                .iter()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| *k)
            else {
                break;
            };
            if let Some(gone) = inner.entries.remove(&oldest) {
                inner.bytes -= gone.query.len();
            }
        }
        inner.bytes += query.len();
        inner.entries.insert(
            hash,
            Entry {
                query: Arc::from(query),
                document,
                last_used: now,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(query: &str) -> Arc<ExecutableDocument> {
        Arc::new(async_graphql::parser::parse_query(query).expect("parses"))
    }

    #[test]
    fn hashes_read_back_from_hex() {
        let h = hash("{ a }");
        let hex: String = h.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(parse_hash(&hex), Some(h));
        assert_eq!(parse_hash(&hex.to_uppercase()), Some(h));
        assert_eq!(parse_hash(&hex[..62]), None);
        assert_eq!(parse_hash(&"g".repeat(64)), None);
    }

    #[test]
    fn unique_documents_stay_within_the_entry_bound_and_the_recent_ones_stay() {
        let cache = DocumentCache::new(8, 1 << 20);
        let keep = "{ kept }";
        cache.store_document(hash(keep), keep, doc(keep));
        for i in 0..1000 {
            let q = format!("{{ f{i} }}");
            cache.store_document(hash(&q), &q, doc(&q));
            // Used between the others, so it is never the least recent.
            assert!(cache.document(&hash(keep)).is_some(), "evicted at {i}");
        }
        assert_eq!(cache.size().0, 8);
        let last = "{ f999 }";
        assert!(cache.document(&hash(last)).is_some());
        assert!(cache.document(&hash("{ f0 }")).is_none());
    }

    #[test]
    fn the_byte_bound_holds_and_large_texts_are_not_kept() {
        let cache = DocumentCache::new(10_000, 16 * 1024);
        for i in 0..1000 {
            let q = format!("{{ f{i} {} }}", "x ".repeat(200));
            cache.register(hash(&q), &q);
            assert!(cache.size().1 <= 16 * 1024, "{:?}", cache.size());
        }
        assert!(cache.size().0 < 50, "{:?}", cache.size());
        let large = format!("{{ {} }}", "y ".repeat(1024));
        cache.register(hash(&large), &large);
        assert!(cache.query(&hash(&large)).is_none());
    }

    #[test]
    fn a_registered_text_gets_its_document_later() {
        let cache = DocumentCache::default();
        let q = "{ a }";
        cache.register(hash(q), q);
        assert_eq!(cache.query(&hash(q)).as_deref(), Some(q));
        assert!(cache.document(&hash(q)).is_none());
        cache.store_document(hash(q), q, doc(q));
        assert!(cache.document(&hash(q)).is_some());
        assert_eq!(cache.size(), (1, q.len()));
    }
}
