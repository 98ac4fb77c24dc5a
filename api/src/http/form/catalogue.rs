//! The form page's own text (buttons, errors, thanks, the points sentence,
//! scale end labels) from Fluent catalogues, `api/locales/<locale>/form.ftl`,
//! compiled into the binary.
//!
//! The page is served before anyone knows the survey (the handler never
//! looks at the token), so it carries every locale's text and picks one in
//! the browser once the survey has loaded. [`Catalogue::page_json`] renders
//! each message once per locale into a template whose variables are left as
//! `{name}` placeholders; a message that selects on `$count` is rendered once
//! per CLDR plural category (`one`, `few`, `many`, `other`, …). The page
//! chooses the category with the browser's `Intl.PluralRules`, formats the
//! number with `Intl.NumberFormat` (1,000 · 1.000 · 1 000) and fills in the
//! placeholders as text.

use std::collections::BTreeMap;

use fluent_bundle::{FluentArgs, FluentBundle, FluentResource, FluentValue};
use serde_json::{Map, Value};
use unic_langid::LanguageIdentifier;

/// The locales with a catalogue, the fallback first.
pub const LOCALES: [&str; 5] = ["en", "de", "el", "fr", "es"];

/// The locale whose text stands in for a missing catalogue or message.
pub const FALLBACK: &str = "en";

/// Every message the page uses.
pub const MESSAGES: &[&str] = &[
    "page-title",
    "loading",
    "noscript",
    "sent-by",
    "privacy",
    "valid-until",
    "incentive",
    "required",
    "scale-low",
    "scale-high",
    "nps-low",
    "nps-high",
    "submit",
    "sending",
    "back",
    "next",
    "progress",
    "answer-required",
    "answer-invalid",
    "choose-at-least",
    "choose-at-most",
    "choose-between",
    "choose-exactly",
    "check-question",
    "check-answers",
    "thanks",
    "thanks-points",
    "error-invalid-token",
    "error-token-expired",
    "error-already-submitted",
    "error-closed",
    "error-rate-limited",
    "error-unavailable",
    "error-timeout",
    "error-generic",
    "error-network",
];

/// The messages whose text depends on the number `$count`.
pub const PLURALS: &[&str] = &[
    "incentive",
    "thanks-points",
    "choose-at-least",
    "choose-at-most",
    "choose-exactly",
];

/// CLDR plural categories.
const CATEGORIES: [&str; 6] = ["zero", "one", "two", "few", "many", "other"];

/// Variables a message may use; the page fills them in.
const VARIABLES: [&str; 7] = ["org", "date", "points", "page", "pages", "min", "max"];

const SOURCES: [(&str, &str); 5] = [
    ("en", include_str!("../../../locales/en/form.ftl")),
    ("de", include_str!("../../../locales/de/form.ftl")),
    ("el", include_str!("../../../locales/el/form.ftl")),
    ("fr", include_str!("../../../locales/fr/form.ftl")),
    ("es", include_str!("../../../locales/es/form.ftl")),
];

/// A catalogue that does not parse, or a message that does not render.
#[derive(Debug, thiserror::Error)]
#[error("form catalogue {locale}: {problem}")]
pub struct CatalogueError {
    /// The catalogue's locale.
    pub locale: String,
    /// What is wrong.
    pub problem: String,
}

/// The parsed catalogues, one Fluent bundle per locale.
pub struct Catalogue {
    bundles: Vec<(&'static str, FluentBundle<FluentResource>)>,
}

impl Catalogue {
    /// Parses the compiled-in catalogues.
    ///
    /// # Errors
    /// A catalogue with a syntax error, or a locale tag that does not parse.
    pub fn load() -> Result<Self, CatalogueError> {
        let mut bundles = Vec::with_capacity(SOURCES.len());
        for (locale, source) in SOURCES {
            let problem = |problem: String| CatalogueError {
                locale: locale.to_owned(),
                problem,
            };
            let resource = FluentResource::try_new(source.to_owned())
                .map_err(|(_, errors)| problem(format!("{errors:?}")))?;
            let id: LanguageIdentifier = locale.parse().map_err(|e| problem(format!("{e}")))?;
            let mut bundle = FluentBundle::new(vec![id]);
            // The page shows plain text; no Unicode isolation marks.
            bundle.set_use_isolating(false);
            bundle
                .add_resource(resource)
                .map_err(|errors| problem(format!("{errors:?}")))?;
            bundles.push((locale, bundle));
        }
        Ok(Self { bundles })
    }

    fn bundle(&self, locale: &str) -> Option<&FluentBundle<FluentResource>> {
        self.bundles
            .iter()
            .find(|(l, _)| *l == locale)
            .map(|(_, b)| b)
    }

    /// Message `id` in `locale` with `args`; the fallback locale's text when
    /// the locale or the message is missing; `None` when neither has it.
    pub fn format(&self, locale: &str, id: &str, args: &FluentArgs) -> Option<String> {
        let render = |bundle: &FluentBundle<FluentResource>| {
            let pattern = bundle.get_message(id)?.value()?;
            let mut errors = Vec::new();
            let text = bundle.format_pattern(pattern, Some(args), &mut errors);
            errors.is_empty().then(|| text.into_owned())
        };
        self.bundle(locale)
            .and_then(render)
            .or_else(|| self.bundle(FALLBACK).and_then(render))
    }

    /// Message `id` in `locale` as the page's template: variables stay
    /// `{name}`, and `$count` selects the variant of plural `category`.
    pub fn template(&self, locale: &str, id: &str, category: &str) -> Option<String> {
        let mut args = FluentArgs::new();
        for name in VARIABLES {
            args.set(name, FluentValue::from(format!("{{{name}}}")));
        }
        args.set("count", FluentValue::from(category.to_owned()));
        self.format(locale, id, &args)
    }

    /// Every locale's messages as the page reads them: `{locale: {id:
    /// template}}`, where a plural message is `{category: template}`.
    ///
    /// # Errors
    /// A message that is in no catalogue.
    pub fn page_json(&self) -> Result<Value, CatalogueError> {
        let mut all = Map::new();
        for locale in LOCALES {
            let missing = |id: &str| CatalogueError {
                locale: locale.to_owned(),
                problem: format!("message `{id}` is missing or does not render"),
            };
            let mut messages = Map::new();
            for id in MESSAGES {
                let value = if PLURALS.contains(id) {
                    let mut forms = BTreeMap::new();
                    for category in CATEGORIES {
                        let text = self
                            .template(locale, id, category)
                            .ok_or_else(|| missing(id))?;
                        forms.insert(category.to_owned(), Value::String(text));
                    }
                    Value::Object(forms.into_iter().collect())
                } else {
                    Value::String(
                        self.template(locale, id, "other")
                            .ok_or_else(|| missing(id))?,
                    )
                };
                messages.insert((*id).to_owned(), value);
            }
            all.insert(locale.to_owned(), Value::Object(messages));
        }
        Ok(Value::Object(all))
    }
}

/// The catalogue locale for an `Accept-Language` header: the supported
/// language with the highest quality (ties: the first listed), matched on the
/// primary subtag (`de-AT` → `de`); [`FALLBACK`] when none matches.
pub fn negotiate(accept_language: Option<&str>) -> &'static str {
    let Some(header) = accept_language else {
        return FALLBACK;
    };
    let mut best: Option<(f32, &'static str)> = None;
    for range in header.split(',') {
        let mut parts = range.split(';');
        let tag = parts.next().unwrap_or_default().trim();
        let quality = parts
            .find_map(|p| p.trim().strip_prefix("q="))
            .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())
            .unwrap_or(0.0);
        if quality.is_nan() || quality <= 0.0 {
            continue;
        }
        let primary = tag.split(['-', '_']).next().unwrap_or_default();
        let Some(locale) = LOCALES
            .iter()
            .find(|l| l.eq_ignore_ascii_case(primary))
            .copied()
        else {
            continue;
        };
        if best.is_none_or(|(q, _)| quality > q) {
            best = Some((quality, locale));
        }
    }
    best.map_or(FALLBACK, |(_, locale)| locale)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> Catalogue {
        Catalogue::load().expect("the catalogues parse")
    }

    /// The ids of the messages a catalogue source defines.
    fn ids(source: &str) -> Vec<String> {
        let resource = fluent_syntax::parser::parse(source).expect("the catalogue parses");
        resource
            .body
            .iter()
            .filter_map(|entry| match entry {
                fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_owned()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn every_locale_defines_exactly_the_messages_the_page_uses() {
        let mut expected: Vec<String> = MESSAGES.iter().map(|m| (*m).to_owned()).collect();
        expected.sort();
        for (locale, source) in SOURCES {
            let mut found = ids(source);
            found.sort();
            assert_eq!(found, expected, "catalogue {locale}");
        }
        assert_eq!(
            SOURCES.map(|(l, _)| l),
            LOCALES,
            "a source for every locale"
        );
    }

    #[test]
    fn every_message_renders_in_every_locale_without_errors_and_differs_from_english() {
        let catalogue = catalogue();
        let json = catalogue.page_json().expect("every message renders");
        for locale in LOCALES {
            let bundle = catalogue.bundle(locale).expect("a bundle");
            for id in MESSAGES {
                assert!(bundle.has_message(id), "{locale} lacks {id}");
            }
            if locale != FALLBACK {
                // Translated, not copied: the submit button differs from English.
                assert_ne!(json[locale]["submit"], json[FALLBACK]["submit"], "{locale}");
            }
        }
        assert_eq!(json["de"]["sent-by"], "Gesendet von {org}");
        assert_eq!(json["el"]["scale-low"], "Καθόλου ικανοποίηση");
    }

    /// `$count` selects the plural form; `$points` is the number as the
    /// browser formats it for the locale.
    fn points(c: &Catalogue, locale: &str, id: &str, count: i64, shown: &str) -> String {
        let mut args = FluentArgs::new();
        args.set("count", FluentValue::from(count));
        args.set("points", FluentValue::from(shown.to_owned()));
        c.format(locale, id, &args).expect("renders")
    }

    #[test]
    fn plural_forms_render_for_1_2_5_and_1000_points_in_every_locale() {
        let c = catalogue();
        let cases = [
            (
                "en",
                ["1 point", "2 points", "5 points", "1,000 points"],
                ["1", "2", "5", "1,000"],
            ),
            (
                "de",
                ["1 Punkt", "2 Punkte", "5 Punkte", "1.000 Punkte"],
                ["1", "2", "5", "1.000"],
            ),
            (
                "el",
                ["1 πόντο", "2 πόντους", "5 πόντους", "1.000 πόντους"],
                ["1", "2", "5", "1.000"],
            ),
            (
                "fr",
                ["1 point", "2 points", "5 points", "1\u{202f}000 points"],
                ["1", "2", "5", "1\u{202f}000"],
            ),
            (
                "es",
                ["1 punto", "2 puntos", "5 puntos", "1000 puntos"],
                ["1", "2", "5", "1000"],
            ),
        ];
        for (locale, expected, shown) in cases {
            for ((count, want), shown) in [1, 2, 5, 1000].into_iter().zip(expected).zip(shown) {
                let text = points(&c, locale, "thanks-points", count, shown);
                assert!(text.contains(want), "{locale} {count}: {text}");
            }
        }
        assert_eq!(
            points(&c, "en", "incentive", 1, "1"),
            "Answer this survey to earn 1 loyalty point."
        );
        assert_eq!(
            points(&c, "de", "incentive", 1000, "1.000"),
            "Beantworten Sie diese Umfrage und erhalten Sie 1.000 Treuepunkte."
        );
        // French counts 0 as singular; English does not.
        assert_eq!(
            points(&c, "fr", "thanks-points", 0, "0"),
            "Vous avez gagné 0 point."
        );
        assert_eq!(
            points(&c, "en", "thanks-points", 0, "0"),
            "You earned 0 points."
        );
    }

    #[test]
    fn choice_limit_hints_take_the_plural_of_the_number_they_name() {
        let c = catalogue();
        let hint = |locale: &str, id: &str, count: i64| {
            let mut args = FluentArgs::new();
            args.set("count", FluentValue::from(count));
            args.set("min", FluentValue::from(count.to_string()));
            args.set("max", FluentValue::from(count.to_string()));
            c.format(locale, id, &args).expect("renders")
        };
        assert_eq!(
            hint("en", "choose-at-least", 2),
            "Choose at least 2 options."
        );
        assert_eq!(hint("en", "choose-at-most", 1), "Choose up to 1 option.");
        assert_eq!(hint("en", "choose-exactly", 3), "Choose exactly 3 options.");
        assert_eq!(
            hint("de", "choose-at-most", 3),
            "Wählen Sie höchstens 3 Optionen."
        );
        assert_eq!(
            hint("de", "choose-exactly", 1),
            "Wählen Sie genau 1 Option."
        );
        assert_eq!(
            hint("el", "choose-at-least", 2),
            "Επιλέξτε τουλάχιστον 2 απαντήσεις."
        );
        assert_eq!(
            hint("fr", "choose-at-most", 1),
            "Choisissez jusqu’à 1 option."
        );
        assert_eq!(hint("es", "choose-at-least", 1), "Elija al menos 1 opción.");
        let json = c.page_json().expect("renders");
        assert_eq!(
            json["en"]["choose-between"],
            "Choose {min} to {max} options."
        );
        assert_eq!(
            json["de"]["choose-at-least"]["one"],
            "Wählen Sie mindestens {min} Option."
        );
        assert_eq!(
            json["el"]["choose-at-most"]["other"],
            "Επιλέξτε έως {max} απαντήσεις."
        );
    }

    #[test]
    fn page_templates_keep_placeholders_and_give_each_plural_category_its_variant() {
        let json = catalogue().page_json().expect("renders");
        assert_eq!(
            json["en"]["thanks-points"]["one"],
            "You earned {points} point."
        );
        assert_eq!(
            json["en"]["thanks-points"]["other"],
            "You earned {points} points."
        );
        // A category the catalogue has no variant for takes the default.
        assert_eq!(
            json["en"]["thanks-points"]["few"],
            "You earned {points} points."
        );
        assert_eq!(
            json["fr"]["incentive"]["many"],
            "Répondez à cette enquête pour gagner {points} de points de fidélité."
        );
        assert_eq!(
            json["el"]["valid-until"],
            "Μπορείτε να απαντήσετε έως τις {date}."
        );
        // No Unicode isolation marks around placeholders.
        let text = json.to_string();
        assert!(!text.contains('\u{2068}') && !text.contains('\u{2069}'));
    }

    #[test]
    fn accept_language_picks_the_best_supported_locale() {
        assert_eq!(negotiate(None), "en");
        assert_eq!(negotiate(Some("")), "en");
        assert_eq!(negotiate(Some("de-AT,de;q=0.9,en;q=0.8")), "de");
        assert_eq!(negotiate(Some("it,el;q=0.5,fr;q=0.7")), "fr");
        assert_eq!(negotiate(Some("el-GR")), "el");
        assert_eq!(negotiate(Some("ES")), "es");
        assert_eq!(negotiate(Some("de;q=0, fr;q=0.1")), "fr");
        assert_eq!(negotiate(Some("ja, zh-CN;q=0.9")), "en");
        assert_eq!(negotiate(Some("de;q=abc, el")), "el");
        assert_eq!(negotiate(Some("fr;q=0.8, es;q=0.8")), "fr");
    }

    #[test]
    fn a_missing_locale_falls_back_to_english() {
        let c = catalogue();
        assert_eq!(
            c.template("it", "submit", "other").as_deref(),
            Some("Send my answers")
        );
        assert_eq!(c.template("de", "no-such-message", "other"), None);
    }
}
