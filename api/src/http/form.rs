//! `GET /s/{token}`: the survey form page, a working form client out of the box.
//!
//! One small, dependency-free HTML document (inline CSS and JS, mobile
//! viewport). The server never writes the token or any survey text into the
//! HTML: the script reads the token from the URL, loads the survey through
//! the public `surveyInvitation` query and submits with `submitSurveyResponse`,
//! building every element with `textContent` (never `innerHTML`), so survey
//! and user text is shown literally. A per-response nonce in a strict
//! Content-Security-Policy allows only this page's own script and style, and
//! `connect-src 'self'` only this server's `/graphql`.
//!
//! The page's own text comes from the Fluent catalogues ([`catalogue`]): the
//! server renders the first words (title, "Loading…") in the best locale of
//! `Accept-Language` and embeds every locale's messages as JSON (a data
//! block read with `textContent`); the script switches to the survey's
//! locale once it has loaded. The organisation's name, logo, accent and
//! privacy link ([`branding`]) are checked settings, escaped into the HTML.

pub mod branding;
pub mod catalogue;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use fluent_bundle::{FluentArgs, FluentValue};
use rand::RngCore;

use self::branding::{escape_html, Branding};
use self::catalogue::{Catalogue, CatalogueError, LOCALES};

const TEMPLATE: &str = include_str!("form/page.html");
const STYLE: &str = include_str!("form/form.css");
const SCRIPT: &str = include_str!("form/form.js");

/// The Content-Security-Policy of the form page for a nonce and the page's
/// `img-src` sources ([`Branding::img_src`]).
pub fn content_security_policy(nonce: &str, img_src: &str) -> String {
    format!(
        "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; \
         connect-src 'self'; img-src {img_src}; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'"
    )
}

/// The form page, prepared at start-up: one HTML text per catalogue locale,
/// with `{{NONCE}}` left to fill per response.
pub struct FormPage {
    pages: Vec<(&'static str, String)>,
    img_src: String,
}

impl FormPage {
    /// Renders the page for every locale with `branding`.
    ///
    /// # Errors
    /// A catalogue that does not parse or lacks a message.
    pub fn new(branding: &Branding) -> Result<Self, CatalogueError> {
        let catalogue = Catalogue::load()?;
        let messages = catalogue.page_json()?;
        let data = serde_json::json!({ "catalogues": messages, "org": branding.org_name });
        // A JSON data block: no `<`, `>` or `&` can end it or start markup.
        let json = data
            .to_string()
            .replace('<', "\\u003c")
            .replace('>', "\\u003e")
            .replace('&', "\\u0026");
        let accent = branding.accent();
        let mut pages = Vec::with_capacity(LOCALES.len());
        for locale in LOCALES {
            let mut args = FluentArgs::new();
            if let Some(org) = &branding.org_name {
                args.set("org", FluentValue::from(org.clone()));
            }
            let text =
                |id: &str| escape_html(&catalogue.format(locale, id, &args).unwrap_or_default());
            let mut header = String::new();
            if let Some(logo) = &branding.logo_url {
                header.push_str(&format!(
                    "<img class=\"logo\" src=\"{}\" alt=\"{}\">",
                    escape_html(logo),
                    escape_html(branding.org_name.as_deref().unwrap_or_default())
                ));
            }
            if branding.org_name.is_some() {
                header.push_str(&format!(
                    "<p class=\"sender\" id=\"sender\" data-i18n=\"sent-by\">{}</p>",
                    text("sent-by")
                ));
            }
            if !header.is_empty() {
                header = format!("<header class=\"brand\">{header}</header>\n");
            }
            let footer = branding
                .privacy_url
                .as_ref()
                .map_or_else(String::new, |url| {
                    format!(
                    "<footer><a id=\"privacy\" href=\"{}\" data-i18n=\"privacy\">{}</a></footer>\n",
                    escape_html(url),
                    text("privacy")
                )
                });
            let page = fill(TEMPLATE, |name| match name {
                "LANG" => Some(locale.to_owned()),
                "TITLE" => Some(text("page-title")),
                "LOADING" => Some(text("loading")),
                "NOSCRIPT" => Some(text("noscript")),
                "ACCENT" => Some(accent.hex.clone()),
                "ACCENT_TEXT" => Some(accent.text.to_owned()),
                "STYLE" => Some(STYLE.to_owned()),
                "SCRIPT" => Some(SCRIPT.to_owned()),
                "HEADER" => Some(header.clone()),
                "FOOTER" => Some(footer.clone()),
                "CATALOGUE" => Some(json.clone()),
                _ => None,
            });
            pages.push((locale, page));
        }
        Ok(Self {
            pages,
            img_src: branding.img_src(),
        })
    }

    /// The page in `locale` (a catalogue locale; else the first) with `nonce`.
    pub fn render(&self, locale: &str, nonce: &str) -> String {
        let page = self
            .pages
            .iter()
            .find(|(l, _)| *l == locale)
            .or(self.pages.first())
            .map_or("", |(_, p)| p.as_str());
        fill(page, |name| (name == "NONCE").then(|| nonce.to_owned()))
    }
}

/// `template` with each `{{NAME}}` replaced by `value(NAME)` in one pass
/// (inserted text is never scanned again); unknown names stay as they are.
fn fill(template: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len() + 1024);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}").and_then(|end| {
            let name = &after[..end];
            let ok = !name.is_empty() && name.chars().all(|c| c.is_ascii_uppercase() || c == '_');
            ok.then(|| value(name).map(|v| (v, end))).flatten()
        }) {
            Some((v, end)) => {
                out.push_str(&v);
                rest = &after[end + 2..];
            }
            None => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Serves the form page in the best locale of `Accept-Language`. The token
/// is not looked at here (the page asks the API), so this handler touches no
/// database and logs no path (see `http::request_span`, which records route
/// patterns, never paths).
pub async fn survey_form(request: HttpRequest, page: web::Data<FormPage>) -> HttpResponse {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let nonce = STANDARD.encode(bytes);
    let accept = request
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let locale = catalogue::negotiate(accept);
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            content_security_policy(&nonce, &page.img_src),
        ))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::VARY, "Accept-Language"))
        .body(page.render(locale, &nonce))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(branding: &Branding) -> FormPage {
        FormPage::new(branding).expect("the page renders")
    }

    #[test]
    fn page_uses_no_inner_html_and_only_nonced_inline_code() {
        let html = page(&Branding::default()).render("en", "abc");
        for source in [TEMPLATE, SCRIPT, html.as_str()] {
            assert!(!source.contains("innerHTML"));
            assert!(!source.contains("outerHTML"));
            assert!(!source.contains("insertAdjacentHTML"));
            assert!(!source.contains("document.write"));
        }
        assert_eq!(html.matches("<script").count(), 2);
        assert_eq!(html.matches("<script nonce=\"abc\">").count(), 1);
        assert_eq!(
            html.matches("<script type=\"application/json\" id=\"catalogue\" nonce=\"abc\">")
                .count(),
            1
        );
        assert_eq!(html.matches("<style nonce=\"abc\">").count(), 1);
        assert!(!html.contains("{{"), "every placeholder is filled");
        let csp = content_security_policy("abc", "'self' data:");
        assert!(csp.contains("script-src 'nonce-abc'"));
        assert!(csp.contains("connect-src 'self'"));
        assert!(csp.contains("img-src 'self' data:;"));
        assert!(!csp.contains("unsafe-inline"));
    }

    #[test]
    fn the_first_words_are_in_the_negotiated_locale() {
        let p = page(&Branding::default());
        let de = p.render("de", "n");
        assert!(de.contains("<html lang=\"de\">"));
        assert!(de.contains("<title>Umfrage</title>"));
        assert!(de.contains("Die Umfrage wird geladen…"));
        let el = p.render("el", "n");
        assert!(el.contains("<title>Έρευνα</title>"));
        assert!(p.render("xx", "n").contains("<html lang=\"en\">"));
    }

    #[test]
    fn branding_is_escaped_into_the_page_and_the_catalogue_cannot_end_its_block() {
        let branding = Branding {
            org_name: Some("</script><b>A&B</b>".to_owned()),
            logo_url: Some("https://cdn.example.com/logo.png".to_owned()),
            accent: Some(branding::parse_accent("#ffdd00").expect("valid")),
            privacy_url: Some("/privacy".to_owned()),
        };
        let html = page(&branding).render("de", "n");
        assert!(html.contains(
            "<img class=\"logo\" src=\"https://cdn.example.com/logo.png\" alt=\"&lt;/script&gt;&lt;b&gt;A&amp;B&lt;/b&gt;\">"
        ));
        assert!(html.contains("Gesendet von &lt;/script&gt;&lt;b&gt;A&amp;B&lt;/b&gt;</p>"));
        assert!(html.contains(
            "<a id=\"privacy\" href=\"/privacy\" data-i18n=\"privacy\">Datenschutzhinweis</a>"
        ));
        assert!(html.contains("--accent: #ffdd00; --accent-text: #000;"));
        assert_eq!(
            html.matches("</script>").count(),
            2,
            "the name cannot close a script"
        );
        assert!(html.contains("\\u003c/script\\u003e\\u003cb\\u003eA\\u0026B"));
        assert!(!html.contains("<b>"));
    }

    #[test]
    fn fill_replaces_known_names_once() {
        let out = fill("a {{X}} b {{Y}} {{x}} {{", |n| {
            (n == "X").then(|| "{{Y}}".to_owned())
        });
        assert_eq!(out, "a {{Y}} b {{Y}} {{x}} {{");
    }
}
