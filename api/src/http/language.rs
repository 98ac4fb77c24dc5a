//! The respondent's languages from `Accept-Language`, best first.
//!
//! Parsing is bounded: only the header's first [`MAX_HEADER_LEN`] bytes are
//! read and at most [`MAX_ENTRIES`] entries kept; malformed entries, `*` and
//! entries with `q=0` are dropped. Equal weights keep the header's order.

use actix_web::http::header;
use actix_web::HttpRequest;

/// Most bytes of the header read.
pub const MAX_HEADER_LEN: usize = 512;
/// Most entries kept.
pub const MAX_ENTRIES: usize = 16;

/// The language tags of an `Accept-Language` value, by weight then order.
pub fn parse(value: &str) -> Vec<String> {
    let mut cut = value.len().min(MAX_HEADER_LEN);
    while !value.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut entries: Vec<(u16, usize, String)> = Vec::new();
    for (i, entry) in value[..cut].split(',').take(MAX_ENTRIES).enumerate() {
        let mut parts = entry.split(';');
        let tag = parts.next().unwrap_or("").trim();
        if tag.is_empty() || tag == "*" || tag.len() > 35 {
            continue;
        }
        let mut weight = 1000u16;
        for param in parts {
            let Some((key, q)) = param.split_once('=') else {
                continue;
            };
            if key.trim().eq_ignore_ascii_case("q") {
                weight = q
                    .trim()
                    .parse::<f32>()
                    .ok()
                    .filter(|q| (0.0..=1.0).contains(q))
                    .map(|q| (q * 1000.0).round() as u16)
                    .unwrap_or(0);
            }
        }
        if weight > 0 {
            entries.push((weight, i, tag.to_owned()));
        }
    }
    entries.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    entries.into_iter().map(|(_, _, tag)| tag).collect()
}

/// The request's preferred languages (empty without the header).
pub fn preferences(req: &HttpRequest) -> Vec<String> {
    req.headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(parse)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_order_the_languages() {
        assert_eq!(
            parse("fr;q=0.5, de-AT , en;q=0.8, *;q=0.1, it;q=0"),
            vec!["de-AT", "en", "fr"]
        );
        assert_eq!(parse("el, de;q=bogus"), vec!["el"]);
        assert!(parse("").is_empty());
    }

    #[test]
    fn parsing_is_bounded() {
        let long = vec!["en"; 1000].join(",");
        assert_eq!(parse(&long).len(), MAX_ENTRIES);
        let huge = format!("de,{}", "x".repeat(10_000));
        assert_eq!(parse(&huge), vec!["de"]);
    }
}
