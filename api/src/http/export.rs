//! CSV export downloads: the signed, short-lived links that `createExport`
//! hands out, and `GET /exports/{token}`, which streams the file.
//!
//! A link's token is `v1.<claims>.<signature>`: the claims (base64url JSON:
//! the user, the export's kind and parameters, the expiry) and an
//! HMAC-SHA256 over them with a key derived from the JWT key
//! ([`crate::config::Config::export_link_key`]), so nothing is stored. A link
//! may be used again until it expires (a browser retrying a download works);
//! at each use the user is looked up again and the role re-checked, so a link
//! stops working when its user is deactivated or loses the capability.
//!
//! The file is written page by page as the client reads it
//! (`domain::exports`): the server holds one page at a time, and when the
//! client goes away the stream is dropped and no further page is read.

use std::time::Duration;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, NaiveDate, Utc};
use domain::exports::{ExportKind, ExportSpec, Record};
use domain::DomainError;
use hmac::Mac as _;
use serde::{Deserialize, Serialize};

use crate::auth::current_actor;
use crate::graphql::scalar::{global_id, NodeType};
use crate::state::Services;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// The version prefix of link tokens.
const VERSION: &str = "v1";

/// Signs and checks export download links.
#[derive(Clone)]
pub struct ExportLinks {
    /// The HMAC keyed once; each use clones it.
    mac: HmacSha256,
    ttl: Duration,
}

/// What a link's token says.
#[derive(Serialize, Deserialize)]
struct LinkClaims {
    /// The user who asked for the export.
    u: i64,
    /// The export's kind and parameters.
    k: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    s: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    p: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    f: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    t: Option<NaiveDate>,
    /// Expiry, seconds since the epoch.
    e: i64,
}

/// Why a link is refused before its user is even looked up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkError {
    /// Not a token this server signed (malformed or altered).
    Invalid,
    /// Signed, but past its expiry.
    Expired,
}

impl ExportLinks {
    /// Links signed with `key` that work for `ttl`.
    ///
    /// # Errors
    /// Only if the HMAC refuses the key (it takes keys of any length).
    pub fn new(key: &[u8], ttl: Duration) -> anyhow::Result<Self> {
        let mac = <HmacSha256 as hmac::Mac>::new_from_slice(key)
            .map_err(|e| anyhow::anyhow!("export link key: {e}"))?;
        Ok(Self { mac, ttl })
    }

    fn mac(&self) -> HmacSha256 {
        self.mac.clone()
    }

    /// A token for `user_id` to download `spec`, and when it expires.
    pub fn issue(
        &self,
        user_id: i64,
        spec: &ExportSpec,
        now: DateTime<Utc>,
    ) -> (String, DateTime<Utc>) {
        let ttl = chrono::Duration::from_std(self.ttl).unwrap_or(chrono::Duration::minutes(5));
        let expires_at = now + ttl;
        let claims = LinkClaims {
            u: user_id,
            k: spec.kind.as_str().to_owned(),
            s: spec.survey_id,
            p: spec.program_id,
            f: spec.period.map(|p| p.from),
            t: spec.period.map(|p| p.to),
            e: expires_at.timestamp(),
        };
        // Serialising plain integers, strings and dates cannot fail.
        let json = serde_json::to_vec(&claims).unwrap_or_default();
        let body = format!("{VERSION}.{}", URL_SAFE_NO_PAD.encode(json));
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        (format!("{body}.{signature}"), expires_at)
    }

    /// The user and export a token stands for.
    ///
    /// # Errors
    /// [`LinkError::Invalid`] unless this server signed it unchanged;
    /// [`LinkError::Expired`] after its expiry.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<(i64, ExportSpec), LinkError> {
        let (body, signature) = token.rsplit_once('.').ok_or(LinkError::Invalid)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| LinkError::Invalid)?;
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        mac.verify_slice(&signature)
            .map_err(|_| LinkError::Invalid)?;
        let claims = body
            .strip_prefix(VERSION)
            .and_then(|rest| rest.strip_prefix('.'))
            .and_then(|claims| URL_SAFE_NO_PAD.decode(claims).ok())
            .and_then(|json| serde_json::from_slice::<LinkClaims>(&json).ok())
            .ok_or(LinkError::Invalid)?;
        if now.timestamp() >= claims.e {
            return Err(LinkError::Expired);
        }
        let kind = ExportKind::parse(&claims.k).ok_or(LinkError::Invalid)?;
        let spec = ExportSpec::parse(kind, claims.s, claims.p, claims.f, claims.t)
            .map_err(|_| LinkError::Invalid)?;
        Ok((claims.u, spec))
    }
}

/// Global ids in exports, as the GraphQL API writes them.
fn export_id(record: Record, key: i64) -> String {
    let node = match record {
        Record::Customer => NodeType::Customer,
        Record::SurveyResponse => NodeType::SurveyResponse,
        Record::LedgerEntry => NodeType::LedgerEntry,
        Record::Membership => NodeType::Membership,
    };
    global_id(node, key).to_string()
}

/// A refusal with a plain-text reason.
fn refuse(status: actix_web::http::StatusCode, reason: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/plain; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(format!("{reason}\n"))
}

/// `GET /exports/{token}`: streams the export the link stands for as
/// `text/csv`. Refusals are plain text: 403 for a link that is not valid or
/// whose user may no longer export, 410 for an expired link, 404 when the
/// survey or programme is gone.
pub async fn download(path: web::Path<String>, services: web::Data<Services>) -> HttpResponse {
    use actix_web::http::StatusCode;
    let (user_id, spec) = match services.export_links.verify(&path, Utc::now()) {
        Ok(found) => found,
        Err(LinkError::Invalid) => {
            return refuse(StatusCode::FORBIDDEN, "This export link is not valid.")
        }
        Err(LinkError::Expired) => {
            return refuse(
                StatusCode::GONE,
                "This export link has expired; create a new one.",
            )
        }
    };
    let filename = spec.filename();
    let opened = match current_actor(user_id, &services.users).await {
        Ok(actor) => services.exports.open(&actor, spec, export_id).await,
        Err(e) => Err(e),
    };
    let export = match opened {
        Ok(export) => export,
        Err(DomainError::Unauthenticated | DomainError::Forbidden) => {
            return refuse(
                StatusCode::FORBIDDEN,
                "The user who created this export link may no longer export these data.",
            )
        }
        Err(DomainError::NotFound(what)) => {
            return refuse(
                StatusCode::NOT_FOUND,
                &format!("The {what} no longer exists."),
            )
        }
        Err(DomainError::Unavailable(e)) => {
            tracing::warn!(error = %e, "export: database unavailable");
            return refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "The database is unavailable; try again shortly.",
            );
        }
        Err(e) => {
            tracing::error!(error = ?e, "export: failed to open");
            return refuse(StatusCode::INTERNAL_SERVER_ERROR, "The export failed.");
        }
    };
    let body = futures::stream::unfold(Some(export), |state| async move {
        let mut export = state?;
        match export.next_chunk().await {
            Ok(Some(chunk)) => Some((Ok(web::Bytes::from(chunk)), Some(export))),
            Ok(None) => None,
            Err(e) => {
                // The status line is already sent: ending the stream with an
                // error aborts the response, so the client sees a truncated
                // transfer instead of a file that looks complete.
                tracing::error!(error = ?e, "export: failed while streaming");
                Some((
                    Err(actix_web::error::ErrorInternalServerError("export failed")),
                    None,
                ))
            }
        }
    });
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .streaming(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links() -> ExportLinks {
        ExportLinks::new(&[7; 32], Duration::from_secs(300)).expect("key")
    }

    fn spec() -> ExportSpec {
        ExportSpec::parse(ExportKind::SurveyResponses, Some(4), None, None, None).expect("spec")
    }

    #[test]
    fn a_link_round_trips_until_it_expires() {
        let now = Utc::now();
        let (token, expires_at) = links().issue(9, &spec(), now);
        assert_eq!(expires_at, now + chrono::Duration::seconds(300));
        assert_eq!(links().verify(&token, now), Ok((9, spec())));
        assert_eq!(
            links().verify(&token, now + chrono::Duration::seconds(301)),
            Err(LinkError::Expired)
        );
    }

    #[test]
    fn altered_or_foreign_links_are_invalid() {
        let now = Utc::now();
        let (token, _) = links().issue(9, &spec(), now);
        let (body, signature) = token.rsplit_once('.').expect("signed");
        let other = ExportLinks::new(&[8; 32], Duration::from_secs(300)).expect("key");
        let forged_claims = format!(
            "v1.{}.{signature}",
            URL_SAFE_NO_PAD.encode(br#"{"u":1,"k":"CUSTOMERS","e":99999999999}"#)
        );
        for (what, bad) in [
            ("other key", other.issue(9, &spec(), now).0),
            ("claims swapped", forged_claims),
            ("signature cut", format!("{body}.{}", &signature[1..])),
            ("no signature", body.to_owned()),
            ("garbage", "nonsense".to_owned()),
        ] {
            assert_eq!(links().verify(&bad, now), Err(LinkError::Invalid), "{what}");
        }
    }
}
