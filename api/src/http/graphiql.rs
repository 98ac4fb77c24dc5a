//! `GET /graphiql` and `GET /graphiql/assets/{name}`: GraphiQL served by this
//! binary, so it works without internet access and under a strict
//! Content-Security-Policy.
//!
//! The page and its assets are compiled in (`api/assets/graphiql/`): a pinned
//! GraphiQL 3 UMD build with React 18, vendored from the npm registry by
//! `tools/vendor-graphiql.sh`, and Rapport's own start-up script and styles.
//! The page has no inline script or style, so its policy allows scripts,
//! styles and connections from this server's origin only (plus its `ws://` /
//! `wss://` twin for subscriptions on `/graphql/ws`), and fonts and images
//! from `data:` URLs (GraphiQL's stylesheet embeds its fonts). One exception:
//! the scroll lock of GraphiQL's menus and dialogs adds a `<style>` element,
//! which carries a per-response nonce that the policy allows for styles only
//! (`start.js` hands it over from a `<meta>` element).
//!
//! The routes exist only when GraphiQL is on (`Config::graphiql_enabled`:
//! development, or `RAPPORT_GRAPHIQL=true`); otherwise they answer 404.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rand::RngCore as _;

/// One file the GraphiQL page loads from `/graphiql/assets/{name}`.
#[derive(Debug)]
pub struct Asset {
    /// The file name in the URL.
    pub name: &'static str,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// Its content, compiled in.
    pub bytes: &'static [u8],
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// Every asset the page loads, in the order it loads them.
pub const ASSETS: &[Asset] = &[
    Asset {
        name: "graphiql.min.css",
        content_type: CSS,
        bytes: include_bytes!("../../assets/graphiql/graphiql.min.css"),
    },
    Asset {
        name: "rapport.css",
        content_type: CSS,
        bytes: include_bytes!("../../assets/graphiql/rapport.css"),
    },
    Asset {
        name: "react.production.min.js",
        content_type: JS,
        bytes: include_bytes!("../../assets/graphiql/react.production.min.js"),
    },
    Asset {
        name: "react-dom.production.min.js",
        content_type: JS,
        bytes: include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
    },
    Asset {
        name: "graphiql.min.js",
        content_type: JS,
        bytes: include_bytes!("../../assets/graphiql/graphiql.min.js"),
    },
    Asset {
        name: "start.js",
        content_type: JS,
        bytes: include_bytes!("../../assets/graphiql/start.js"),
    },
];

/// The page: static HTML that loads [`ASSETS`] and nothing else.
const PAGE: &str = include_str!("../../assets/graphiql/index.html");

/// How long browsers may reuse an asset without asking again. Short, because
/// the URLs carry no version: an upgraded server is picked up within the hour.
const ASSET_MAX_AGE: &str = "public, max-age=3600";

/// Mounts `/graphiql` and its assets.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/graphiql", web::get().to(page))
        .route("/graphiql/", web::get().to(page))
        .route("/graphiql/assets/{name}", web::get().to(asset));
}

/// The Content-Security-Policy of the page. `host` is the host (and port)
/// the browser addressed; when it is a plain host name or address, the
/// WebSocket origins `ws://host` and `wss://host` are named as well, for
/// browsers whose `'self'` does not cover WebSockets.
pub fn content_security_policy(nonce: &str, host: Option<&str>) -> String {
    let sockets = host
        .filter(|host| is_plain_host(host))
        .map(|host| format!(" ws://{host} wss://{host}"))
        .unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; \
         font-src 'self' data:; connect-src 'self'{sockets}; object-src 'none'; \
         base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
}

/// A host, an IPv4 address or a bracketed IPv6 address, with an optional
/// port: nothing that could end a CSP source or add a directive.
fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

/// `GET /graphiql`: the page, with its policy.
pub async fn page(req: HttpRequest) -> HttpResponse {
    page_response(&req)
}

/// The GraphiQL page as an answer to `req` (also served for a browser's
/// `GET /graphql` without a query).
pub fn page_response(req: &HttpRequest) -> HttpResponse {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let nonce = STANDARD.encode(bytes);
    let info = req.connection_info();
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            content_security_policy(&nonce, Some(info.host())),
        ))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::VARY, "accept"))
        .body(PAGE.replace("{NONCE}", &nonce))
}

/// `GET /graphiql/assets/{name}`: one of [`ASSETS`], or 404.
pub async fn asset(name: web::Path<String>) -> HttpResponse {
    match ASSETS.iter().find(|asset| asset.name == name.as_str()) {
        Some(asset) => HttpResponse::Ok()
            .content_type(asset.content_type)
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .insert_header((header::CACHE_CONTROL, ASSET_MAX_AGE))
            .body(asset.bytes),
        None => HttpResponse::NotFound().finish(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_every_asset_and_nothing_from_elsewhere() {
        for asset in ASSETS {
            let url = format!("/graphiql/assets/{}", asset.name);
            assert!(PAGE.contains(&url), "{url} is loaded by the page");
        }
        let loaded = PAGE.matches("/graphiql/assets/").count();
        assert_eq!(loaded, ASSETS.len(), "the page loads only known assets");
        assert!(!PAGE.contains("://"), "no absolute URL in the page");
        assert!(!PAGE.contains("<script>"), "no inline script");
        assert!(!PAGE.contains("<style"), "no inline style");
    }

    #[test]
    fn the_policy_names_websockets_only_for_a_plain_host() {
        let policy = content_security_policy("n0nce", Some("127.0.0.1:8080"));
        assert!(
            policy.contains("script-src 'self';"),
            "no nonce for scripts"
        );
        assert!(policy.contains("style-src 'self' 'nonce-n0nce';"));
        assert!(policy.contains("connect-src 'self' ws://127.0.0.1:8080 wss://127.0.0.1:8080;"));
        assert!(policy.starts_with("default-src 'self';"));
        for hostile in ["evil.com; script-src *", "a b", "x'y", ""] {
            let policy = content_security_policy("n", Some(hostile));
            assert!(
                policy.contains("connect-src 'self';"),
                "{hostile:?} is left out: {policy}"
            );
        }
        assert!(content_security_policy("n", None).contains("connect-src 'self';"));
    }
}
