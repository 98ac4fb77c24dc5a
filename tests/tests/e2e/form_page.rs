//! The survey form page's languages and branding as served over HTTP: the
//! first words in the best locale of `Accept-Language`, every catalogue in
//! the page, the organisation's settings escaped into it, the logo's origin
//! (and nothing else) added to `img-src`, and bad settings refused when read.
//! (The page in a browser: tests/browser/test_form_a11y.py.)

use clap::Parser as _;

use crate::helpers::{spawn_app, spawn_app_with, Engine};

on_both_engines!(
    the_page_opens_in_the_browsers_language,
    branding_settings_reach_the_page_escaped_and_widen_img_src_only_for_the_logo
);

async fn page(
    app: &crate::helpers::TestApp,
    accept_language: Option<&str>,
) -> (String, String, String) {
    let mut request = app
        .client
        .get(format!("{}/s/{}", app.address, "A".repeat(43)));
    if let Some(value) = accept_language {
        request = request.header("accept-language", value);
    }
    let response = request.send().await.expect("form page");
    assert_eq!(response.status().as_u16(), 200);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (csp, vary) = (header("content-security-policy"), header("vary"));
    (response.text().await.expect("html"), csp, vary)
}

async fn the_page_opens_in_the_browsers_language(engine: Engine) {
    let app = spawn_app(engine).await;

    let (html, csp, vary) = page(&app, Some("el-GR,el;q=0.9,en;q=0.5")).await;
    assert!(html.contains("<html lang=\"el\">"), "{html}");
    assert!(html.contains("<title>Έρευνα</title>"));
    assert!(html.contains("Φόρτωση της έρευνας…"));
    assert!(vary.starts_with("Accept-Language"), "{vary}");
    assert!(csp.contains("img-src 'self' data:;"), "{csp}");
    // Every catalogue travels with the page (the survey's locale decides later).
    for submit in [
        "Send my answers",
        "Antworten senden",
        "Αποστολή απαντήσεων",
        "Envoyer mes réponses",
        "Enviar mis respuestas",
    ] {
        assert!(html.contains(submit), "{submit}");
    }
    // No branding configured: no header, no privacy link.
    assert!(!html.contains("<header"));
    assert!(!html.contains("id=\"privacy\""));

    let (html, _, _) = page(&app, Some("it, de;q=0.8, fr;q=0.5")).await;
    assert!(html.contains("<html lang=\"de\">"));
    assert!(html.contains("<title>Umfrage</title>"));
    let (html, _, _) = page(&app, Some("ja")).await;
    assert!(html.contains("<html lang=\"en\">"));
    let (html, _, _) = page(&app, None).await;
    assert!(html.contains("<title>Survey</title>"));
}

async fn branding_settings_reach_the_page_escaped_and_widen_img_src_only_for_the_logo(
    engine: Engine,
) {
    let app = spawn_app_with(
        engine,
        &[
            "--org-name",
            "Acme <Air> & \"Sons\"",
            "--org-logo-url",
            "https://cdn.example.com/brand/logo.svg",
            "--org-accent",
            "#FD0",
            "--privacy-url",
            "https://acme.example/privacy",
        ],
    )
    .await;

    let (html, csp, _) = page(&app, Some("fr")).await;
    assert!(
        csp.contains("img-src 'self' data: https://cdn.example.com;"),
        "{csp}"
    );
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(html.contains(
        "<img class=\"logo\" src=\"https://cdn.example.com/brand/logo.svg\" alt=\"Acme &lt;Air&gt; &amp; &quot;Sons&quot;\">"
    ));
    assert!(html.contains("Envoyé par Acme &lt;Air&gt; &amp; &quot;Sons&quot;</p>"));
    assert!(html.contains(
        "<a id=\"privacy\" href=\"https://acme.example/privacy\" data-i18n=\"privacy\">Politique de confidentialité</a>"
    ));
    // A light accent gets dark text.
    assert!(html.contains("--accent: #ffdd00; --accent-text: #000;"));
    // In the JSON block the name cannot close the script or open markup.
    assert!(
        html.contains(r#""org":"Acme \u003cAir\u003e \u0026 \"Sons\"""#),
        "{html}"
    );
    assert!(!html.contains("<Air>"));
}

#[test]
fn bad_branding_settings_are_refused() {
    for (flag, value) in [
        ("--org-accent", "red"),
        ("--org-accent", "#12345"),
        ("--org-logo-url", "http://cdn.example.com/logo.png"),
        ("--org-logo-url", "javascript:alert(1)"),
        ("--org-logo-url", "//cdn.example.com/logo.png"),
        ("--privacy-url", "data:text/html,hi"),
        ("--privacy-url", "https://example.com/\"><script>"),
        ("--org-name", "   "),
    ] {
        let parsed = api::cli::Cli::try_parse_from(["rapport", flag, value]);
        assert!(parsed.is_err(), "{flag} {value} accepted");
    }
    let cli = api::cli::Cli::try_parse_from([
        "rapport",
        "--org-accent",
        "#0B5394",
        "--privacy-url",
        "/privacy",
    ])
    .expect("valid settings");
    let branding = cli.config.branding();
    assert_eq!(branding.accent().hex, "#0b5394");
    assert_eq!(branding.privacy_url.as_deref(), Some("/privacy"));
}
