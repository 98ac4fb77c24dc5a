//! Language tags for surveys: validation and normalisation of BCP 47 tags,
//! and the choice of the locale a respondent sees.
//!
//! The choice, in order: the invitation's locale (when the survey still has
//! it); else the best match of the respondent's preferences (the
//! `Accept-Language` list, best first: an exact tag, then the tag cut back
//! one subtag at a time, `de-AT` → `de`, then any locale of the same
//! language, `de` → `de-CH`); else the survey's default locale.

use crate::error::{DomainError, DomainResult};

/// Longest language tag accepted.
pub const MAX_LOCALE_LEN: usize = 35;

/// Normalises a BCP 47 language tag: language lower case (`de`), script
/// title case (`Latn`), region upper case (`AT`, `419`), the rest lower
/// case; `_` is read as `-`. Returns `None` for anything else.
pub fn normalize(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > MAX_LOCALE_LEN {
        return None;
    }
    let mut out: Vec<String> = Vec::new();
    for (i, part) in raw.split(['-', '_']).enumerate() {
        if part.is_empty() || part.len() > 8 || !part.chars().all(|c| c.is_ascii_alphanumeric()) {
            return None;
        }
        let lower = part.to_ascii_lowercase();
        let piece = if i == 0 {
            if !(2..=3).contains(&part.len()) || !part.chars().all(|c| c.is_ascii_alphabetic()) {
                return None;
            }
            lower
        } else if part.len() == 4 && part.chars().all(|c| c.is_ascii_alphabetic()) && i == 1 {
            let mut chars = lower.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        } else if (part.len() == 2 && part.chars().all(|c| c.is_ascii_alphabetic()))
            || (part.len() == 3 && part.chars().all(|c| c.is_ascii_digit()))
        {
            part.to_ascii_uppercase()
        } else {
            lower
        };
        out.push(piece);
    }
    Some(out.join("-"))
}

/// [`normalize`], or `BAD_USER_INPUT` on `field`.
///
/// # Errors
/// `BAD_USER_INPUT` naming `field` when `raw` is not a language tag.
pub fn parse(field: &str, raw: &str) -> DomainResult<String> {
    normalize(raw).ok_or_else(|| {
        DomainError::validation(
            field,
            "must be a BCP 47 language tag such as de, de-AT or el",
        )
    })
}

fn language(tag: &str) -> &str {
    tag.split('-').next().unwrap_or(tag)
}

/// The locale of `available` that best serves `preferences` (best first),
/// or `None` when none shares a language with any of them.
pub fn best_match(preferences: &[String], available: &[String]) -> Option<String> {
    let find = |tag: &str| {
        available
            .iter()
            .find(|a| a.eq_ignore_ascii_case(tag))
            .cloned()
    };
    for preference in preferences {
        let Some(preference) = normalize(preference) else {
            continue;
        };
        let mut tag = preference.as_str();
        loop {
            if let Some(found) = find(tag) {
                return Some(found);
            }
            match tag.rfind('-') {
                Some(cut) => tag = &tag[..cut],
                None => break,
            }
        }
        if let Some(found) = available
            .iter()
            .find(|a| language(a).eq_ignore_ascii_case(language(&preference)))
        {
            return Some(found.clone());
        }
    }
    None
}

/// The locale shown: the invitation's when available, else the best match
/// of `preferences`, else `default` (see the module docs).
pub fn choose(
    invitation: Option<&str>,
    preferences: &[String],
    default: Option<&str>,
    available: &[String],
) -> Option<String> {
    invitation
        .and_then(|l| available.iter().find(|a| a.as_str() == l).cloned())
        .or_else(|| best_match(preferences, available))
        .or_else(|| default.map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(tags: &[&str]) -> Vec<String> {
        tags.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn tags_are_normalised_or_refused() {
        assert_eq!(normalize("DE_at").as_deref(), Some("de-AT"));
        assert_eq!(normalize("zh-hant-tw").as_deref(), Some("zh-Hant-TW"));
        assert_eq!(normalize("es-419").as_deref(), Some("es-419"));
        assert_eq!(normalize(" el ").as_deref(), Some("el"));
        for bad in [
            "",
            "d",
            "deutsch",
            "de--AT",
            "de-AT!",
            "1e",
            &"a".repeat(40),
        ] {
            assert_eq!(normalize(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_best_match_falls_back_by_subtag_then_language() {
        let available = v(&["en", "de", "el", "fr-CA"]);
        assert_eq!(
            best_match(&v(&["de-AT"]), &available).as_deref(),
            Some("de")
        );
        assert_eq!(
            best_match(&v(&["fr"]), &available).as_deref(),
            Some("fr-CA")
        );
        assert_eq!(
            best_match(&v(&["it", "EL"]), &available).as_deref(),
            Some("el")
        );
        assert_eq!(best_match(&v(&["it", "*"]), &available), None);
        assert_eq!(
            choose(Some("el"), &v(&["de"]), Some("en"), &available).as_deref(),
            Some("el")
        );
        assert_eq!(
            choose(Some("pt"), &v(&["it"]), Some("en"), &available).as_deref(),
            Some("en")
        );
    }
}
