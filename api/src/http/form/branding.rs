//! Who sends the survey: the organisation name, logo, accent colour and
//! privacy notice shown on the form page (settings `RAPPORT_ORG_NAME`,
//! `RAPPORT_ORG_LOGO_URL`, `RAPPORT_ORG_ACCENT`, `RAPPORT_PRIVACY_URL`).
//!
//! Each value is checked when the settings are read, so the page can trust
//! them: URLs are `https://` or a path on this server (the logo's origin is
//! added to the page's `img-src`, nothing else), the accent is a hex colour,
//! and the name is plain text of a sensible length (escaped into the HTML).

/// The accent used when none is set.
pub const DEFAULT_ACCENT: &str = "#2457c5";

/// The longest organisation name.
pub const MAX_ORG_NAME: usize = 100;

/// The longest logo or privacy URL.
pub const MAX_URL: usize = 2048;

/// The form page's branding, checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Branding {
    /// Shown as "Sent by …" and as the logo's text alternative.
    pub org_name: Option<String>,
    /// `https://…` or `/…` on this server.
    pub logo_url: Option<String>,
    /// Buttons and the chosen answer; `None`: [`DEFAULT_ACCENT`].
    pub accent: Option<Accent>,
    /// `https://…` or `/…` on this server.
    pub privacy_url: Option<String>,
}

impl Branding {
    /// The accent colour in force.
    pub fn accent(&self) -> Accent {
        self.accent
            .clone()
            .unwrap_or_else(|| parse_accent(DEFAULT_ACCENT).unwrap_or_else(|_| Accent::black()))
    }

    /// The `img-src` sources the page needs: this server, `data:` (the empty
    /// favicon), and the logo's origin when it is on another host.
    pub fn img_src(&self) -> String {
        match self.logo_url.as_deref().and_then(origin) {
            Some(origin) => format!("'self' data: {origin}"),
            None => "'self' data:".to_owned(),
        }
    }
}

/// A hex colour with the text colour (black or white) that contrasts more
/// with it, so text on the accent keeps at least 4.5:1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accent {
    /// `#rrggbb`, lower case.
    pub hex: String,
    /// `#000` or `#fff`.
    pub text: &'static str,
}

impl Accent {
    fn black() -> Self {
        Self {
            hex: "#000000".to_owned(),
            text: "#fff",
        }
    }
}

/// Checks an accent colour: `#rgb` or `#rrggbb`.
///
/// # Errors
/// Anything else, with the reason (this is a `clap` value parser).
pub fn parse_accent(raw: &str) -> Result<Accent, String> {
    let digits = raw
        .trim()
        .strip_prefix('#')
        .filter(|d| (d.len() == 3 || d.len() == 6) && d.chars().all(|c| c.is_ascii_hexdigit()))
        .ok_or_else(|| format!("`{raw}` is not a hex colour such as #2457c5"))?;
    let full: String = if digits.len() == 3 {
        digits.chars().flat_map(|c| [c, c]).collect()
    } else {
        digits.to_owned()
    }
    .to_ascii_lowercase();
    let channel = |i: usize| {
        let v = f64::from(u8::from_str_radix(&full[i..i + 2], 16).unwrap_or(0)) / 255.0;
        if v <= 0.040_45 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    // WCAG relative luminance; contrast = (L1 + 0.05) / (L2 + 0.05).
    let luminance = 0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4);
    let with_white = 1.05 / (luminance + 0.05);
    let with_black = (luminance + 0.05) / 0.05;
    Ok(Accent {
        hex: format!("#{full}"),
        text: if with_white >= with_black {
            "#fff"
        } else {
            "#000"
        },
    })
}

/// Checks an organisation name: 1 to [`MAX_ORG_NAME`] characters, no
/// control characters.
///
/// # Errors
/// An empty, too long or control-character name.
pub fn parse_org_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("the organisation name is empty".to_owned());
    }
    if name.chars().count() > MAX_ORG_NAME {
        return Err(format!(
            "the organisation name is longer than {MAX_ORG_NAME} characters"
        ));
    }
    if name.chars().any(char::is_control) {
        return Err("the organisation name contains a control character".to_owned());
    }
    Ok(name.to_owned())
}

/// Checks a logo or privacy notice URL: `https://host[:port]/…` or a path on
/// this server (`/…`, not `//…`), without spaces, quotes, angle brackets,
/// backslashes or control characters, at most [`MAX_URL`] bytes.
///
/// # Errors
/// Any other URL (`http:`, `javascript:`, `data:`, relative paths, user
/// info in the authority), with the reason.
pub fn parse_url(raw: &str) -> Result<String, String> {
    let url = raw.trim();
    if url.len() > MAX_URL {
        return Err(format!("the URL is longer than {MAX_URL} bytes"));
    }
    if url
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || "\"'<>\\`".contains(c))
    {
        return Err(
            "the URL contains a space, quote, angle bracket, backslash or control character"
                .to_owned(),
        );
    }
    if url.starts_with('/') && !url.starts_with("//") {
        return Ok(url.to_owned());
    }
    if origin(url).is_none() {
        return Err(format!(
            "`{url}` is neither an https:// URL nor a path on this server such as /logo.png"
        ));
    }
    Ok(url.to_owned())
}

/// `https://host[:port]` of an https URL with a plain host name or address;
/// `None` for anything else (including paths on this server).
fn origin(url: &str) -> Option<String> {
    let rest = url
        .get(..8)
        .filter(|s| s.eq_ignore_ascii_case("https://"))?;
    let after = &url[rest.len()..];
    let authority = after.split(['/', '?', '#']).next().unwrap_or_default();
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    let host_ok = !host.is_empty()
        && !host.starts_with(['.', '-'])
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.chars().all(|c| c.is_ascii_digit()));
    (host_ok && port_ok).then(|| format!("https://{}", authority.to_ascii_lowercase()))
}

/// HTML escaping: the one implementation, shared with the e-mails.
pub use domain::feedback::mail::escape_html;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_are_hex_colours_with_a_readable_text_colour() {
        let blue = parse_accent("#2457C5").expect("valid");
        assert_eq!((blue.hex.as_str(), blue.text), ("#2457c5", "#fff"));
        let yellow = parse_accent("#fd0").expect("valid");
        assert_eq!((yellow.hex.as_str(), yellow.text), ("#ffdd00", "#000"));
        assert_eq!(parse_accent("#000").expect("valid").text, "#fff");
        assert_eq!(parse_accent("#ffffff").expect("valid").text, "#000");
        for bad in [
            "",
            "2457c5",
            "#2457c",
            "#12345g",
            "red",
            "#2457c5; }",
            "url(x)",
            "#1234",
        ] {
            assert!(parse_accent(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(Branding::default().accent().hex, DEFAULT_ACCENT);
    }

    #[test]
    fn urls_are_https_or_paths_on_this_server() {
        for good in [
            "https://cdn.example.com/logo.png",
            "https://cdn.example.com:8443/a/b.svg?v=2",
            "HTTPS://Example.com",
            "/static/logo.png",
            "/privacy",
        ] {
            assert_eq!(parse_url(good).as_deref(), Ok(good), "{good}");
        }
        for bad in [
            "http://example.com/logo.png",
            "javascript:alert(1)",
            "data:image/png;base64,AAAA",
            "//evil.example/logo.png",
            "logo.png",
            "https://user:pw@example.com/logo.png",
            "https://example.com/a b.png",
            "https://example.com/\"onerror=x",
            "https://example.com/<x>",
            "https:///logo.png",
            "https://exa_mple.com/",
            "https://example.com:99999999/",
            "/a\\b",
        ] {
            assert!(parse_url(bad).is_err(), "{bad:?} accepted");
        }
        assert!(parse_url(&format!("https://example.com/{}", "a".repeat(MAX_URL))).is_err());
    }

    #[test]
    fn the_logo_origin_is_allowed_as_an_image_source_and_nothing_more() {
        let mut branding = Branding::default();
        assert_eq!(branding.img_src(), "'self' data:");
        branding.logo_url = Some("/logo.png".to_owned());
        assert_eq!(branding.img_src(), "'self' data:");
        branding.logo_url = Some("https://CDN.example.com:8443/x/logo.png?v=1".to_owned());
        assert_eq!(
            branding.img_src(),
            "'self' data: https://cdn.example.com:8443"
        );
    }

    #[test]
    fn organisation_names_are_short_plain_text() {
        assert_eq!(
            parse_org_name("  Aegean Air  ").as_deref(),
            Ok("Aegean Air")
        );
        assert_eq!(parse_org_name("<b>&Co</b>").as_deref(), Ok("<b>&Co</b>"));
        assert!(parse_org_name("  ").is_err());
        assert!(parse_org_name("a\nb").is_err());
        assert!(parse_org_name(&"x".repeat(MAX_ORG_NAME + 1)).is_err());
        assert!(parse_org_name(&"ü".repeat(MAX_ORG_NAME)).is_ok());
    }

    #[test]
    fn html_escaping_covers_text_and_attributes() {
        assert_eq!(
            escape_html(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
