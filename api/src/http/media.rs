//! Content negotiation for `/graphql`, per the GraphQL-over-HTTP
//! specification: the answer is `application/graphql-response+json` when the
//! client's `Accept` prefers it, `application/json` otherwise.
//!
//! The two media types differ only in status codes (see
//! [`crate::http::graphql`]): under `application/json` every well-formed
//! request is answered 200; under `application/graphql-response+json` a
//! request that never reached execution is answered 4xx.

use actix_web::http::header::{HeaderMap, ACCEPT};

/// The media type of an answer from `/graphql`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaType {
    /// `application/json`: the default, and the answer to `*/*`, to a missing
    /// `Accept` and to an `Accept` that names no supported type.
    Json,
    /// `application/graphql-response+json`.
    GraphqlResponseJson,
}

impl MediaType {
    /// The `Content-Type` value.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Json => "application/json",
            MediaType::GraphqlResponseJson => "application/graphql-response+json",
        }
    }

    /// The media type to answer a request with these headers in.
    pub fn negotiate(headers: &HeaderMap) -> Self {
        Self::from_accept(accept(headers).as_deref())
    }

    /// The media type to answer a request with this `Accept` value in.
    ///
    /// Each supported type takes the quality of the most specific range that
    /// matches it (`application/json` is matched by `application/json`,
    /// `application/*` and `*/*`). The higher quality wins; at equal quality a
    /// type named explicitly beats one matched by a wildcard, then the one
    /// listed first wins, and `application/json` wins what is left (a lone
    /// `*/*`). A range with a `charset` other than UTF-8 matches nothing. When
    /// no supported type is acceptable the `Accept` header is disregarded and
    /// the answer is `application/json`, as the specification allows.
    pub fn from_accept(accept: Option<&str>) -> Self {
        let Some(accept) = accept else {
            return MediaType::Json;
        };
        let ranges: Vec<Range> = accept.split(',').filter_map(Range::parse).collect();
        let json = best_match(&ranges, "application", "json");
        let graphql = best_match(&ranges, "application", "graphql-response+json");
        match (graphql, json) {
            (Some(g), Some(j)) if g.quality > 0 && g.beats(&j) => MediaType::GraphqlResponseJson,
            (Some(g), None) if g.quality > 0 => MediaType::GraphqlResponseJson,
            _ => MediaType::Json,
        }
    }
}

/// Whether a client with these headers takes an HTML page (GraphiQL): no
/// `Accept`, or one that accepts `text/html` directly or by a wildcard.
pub fn accepts_html(headers: &HeaderMap) -> bool {
    match accept(headers) {
        None => true,
        Some(accept) => {
            let ranges: Vec<Range> = accept.split(',').filter_map(Range::parse).collect();
            best_match(&ranges, "text", "html").is_some_and(|m| m.quality > 0)
        }
    }
}

/// Every `Accept` header, joined (a request may carry several).
fn accept(headers: &HeaderMap) -> Option<String> {
    let values: Vec<&str> = headers
        .get_all(ACCEPT)
        .filter_map(|v| v.to_str().ok())
        .collect();
    if values.is_empty() {
        None
    } else {
        Some(values.join(","))
    }
}

/// One media range of an `Accept` header.
struct Range {
    kind: String,
    subtype: String,
    /// Quality in thousandths, 0..=1000.
    quality: u16,
    /// A `charset` parameter other than UTF-8.
    foreign_charset: bool,
}

impl Range {
    fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split(';');
        let (kind, subtype) = parts.next()?.trim().split_once('/')?;
        let (kind, subtype) = (kind.trim(), subtype.trim());
        if kind.is_empty() || subtype.is_empty() {
            return None;
        }
        let mut quality = 1000;
        let mut foreign_charset = false;
        for param in parts {
            let Some((name, value)) = param.split_once('=') else {
                continue;
            };
            let value = value.trim().trim_matches('"');
            match name.trim().to_ascii_lowercase().as_str() {
                "q" => {
                    let q: f32 = value.parse().ok()?;
                    if !(0.0..=1.0).contains(&q) {
                        return None;
                    }
                    // In range 0..=1000 after the check above.
                    quality = (q * 1000.0).round() as u16;
                }
                "charset" => {
                    let charset = value.to_ascii_lowercase();
                    foreign_charset = charset != "utf-8" && charset != "utf8";
                }
                _ => {}
            }
        }
        Some(Range {
            kind: kind.to_ascii_lowercase(),
            subtype: subtype.to_ascii_lowercase(),
            quality,
            foreign_charset,
        })
    }

    /// 2 for an exact match of `kind/subtype`, 1 for `kind/*`, 0 for `*/*`.
    fn specificity(&self, kind: &str, subtype: &str) -> Option<u8> {
        if self.foreign_charset {
            return None;
        }
        match (self.kind.as_str(), self.subtype.as_str()) {
            (k, s) if k == kind && s == subtype => Some(2),
            (k, "*") if k == kind => Some(1),
            ("*", "*") => Some(0),
            _ => None,
        }
    }
}

/// How a supported type is matched by an `Accept` header.
struct Match {
    quality: u16,
    specificity: u8,
    position: usize,
}

impl Match {
    /// Strictly preferred over `other`.
    fn beats(&self, other: &Match) -> bool {
        (
            self.quality,
            self.specificity,
            std::cmp::Reverse(self.position),
        ) > (
            other.quality,
            other.specificity,
            std::cmp::Reverse(other.position),
        )
    }
}

/// The most specific range matching `kind/subtype`; the first of equals.
fn best_match(ranges: &[Range], kind: &str, subtype: &str) -> Option<Match> {
    let mut best: Option<Match> = None;
    for (position, range) in ranges.iter().enumerate() {
        let Some(specificity) = range.specificity(kind, subtype) else {
            continue;
        };
        if best.as_ref().is_none_or(|b| specificity > b.specificity) {
            best = Some(Match {
                quality: range.quality,
                specificity,
                position,
            });
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::MediaType::{GraphqlResponseJson as Gql, Json};
    use super::*;

    #[test]
    fn the_preferred_supported_type_is_chosen() {
        let cases: &[(Option<&str>, MediaType)] = &[
            (None, Json),
            (Some(""), Json),
            (Some("*/*"), Json),
            (Some("application/*"), Json),
            (Some("application/json"), Json),
            (Some("application/graphql-response+json"), Gql),
            (Some("Application/GraphQL-Response+JSON"), Gql),
            (
                Some("application/graphql-response+json; charset=utf-8"),
                Gql,
            ),
            // Apollo Client, graphql-request
            (
                Some("application/graphql-response+json, application/json;q=0.9"),
                Gql,
            ),
            // urql
            (
                Some("application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed"),
                Gql,
            ),
            (
                Some("application/json, application/graphql-response+json"),
                Json,
            ),
            (
                Some("application/json;q=0.5, application/graphql-response+json"),
                Gql,
            ),
            (
                Some("application/graphql-response+json;q=0.5, application/json"),
                Json,
            ),
            (Some("application/graphql-response+json, */*"), Gql),
            (Some("*/*, application/graphql-response+json"), Gql),
            (Some("application/graphql-response+json;q=0"), Json),
            (
                Some("application/graphql-response+json;charset=latin1"),
                Json,
            ),
            (Some("text/html"), Json),
            (Some("nonsense, ;;, /, a/"), Json),
            (Some("application/graphql-response+json;q=2"), Json),
        ];
        for (accept, expected) in cases {
            assert_eq!(MediaType::from_accept(*accept), *expected, "{accept:?}");
        }
    }
}
