//! The opt-out link of survey e-mails (`/unsubscribe/{token}`, public).
//!
//! `GET` changes nothing: it shows a page with one button, so that mail
//! scanners that follow links do not unsubscribe anyone. `POST` (the button,
//! or a mail client's RFC 8058 one-click `List-Unsubscribe=One-Click`)
//! records the customer's choice (`domain::feedback::mail::opt_out`); from
//! then on they get no invitation or reminder e-mails. An unknown or forged
//! token answers 404.

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::Utc;
use domain::feedback::mail::{self, escape_html};

use crate::state::Services;

/// `GET /unsubscribe/{token}`: the confirmation page.
pub async fn confirm(services: web::Data<Services>, token: web::Path<String>) -> HttpResponse {
    if services.mail.opt_out.verify(&token).is_none() {
        return unknown();
    }
    page(
        StatusCode::OK,
        &format!(
            "<h1>Unsubscribe</h1><p>Stop survey e-mails to this address?</p>\
             <form method=\"post\" action=\"/unsubscribe/{}\">\
             <button type=\"submit\">Unsubscribe</button></form>",
            escape_html(&token)
        ),
    )
}

/// `POST /unsubscribe/{token}`: records the opt-out (again: no change).
pub async fn record(services: web::Data<Services>, token: web::Path<String>) -> HttpResponse {
    let Some(customer_id) = services.mail.opt_out.verify(&token) else {
        return unknown();
    };
    match mail::opt_out(&services.db, customer_id, Utc::now()).await {
        Ok(true) => page(
            StatusCode::OK,
            "<h1>Unsubscribed</h1><p>You will receive no more survey e-mails.</p>",
        ),
        Ok(false) => unknown(),
        Err(error) => {
            tracing::warn!(error = %error, "opt-out not recorded");
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                "<h1>Please try again</h1><p>Your choice could not be recorded just now.</p>",
            )
        }
    }
}

fn unknown() -> HttpResponse {
    page(
        StatusCode::NOT_FOUND,
        "<h1>Link not valid</h1><p>This unsubscribe link is not valid.</p>",
    )
}

fn page(status: StatusCode, body: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
        ))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>Survey e-mails</title></head><body>{body}</body></html>\n"
        ))
}
