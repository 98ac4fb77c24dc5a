//! The e-mail deliverer: sends invitation and reminder e-mails
//! (`domain::feedback::mail`) through the SMTP server of
//! `RAPPORT_SMTP_URL`, with `lettre`.
//!
//! Each due message is checked against the state now
//! ([`mail::prepare`]): one no longer needed is settled without sending.
//! A sent message loses its link from the outbox payload. Failures the
//! server calls permanent (5xx) are given up at once; others (refused
//! connections, timeouts, 4xx) are retried with back-off.

use std::time::Duration;

use anyhow::{anyhow, bail, Context as _};
use chrono::Utc;
use domain::feedback::mail::{self, OptOutKey, Prepared, NOT_NEEDED};
use domain::outbox::{Channel, Message, Outcome, RetryPolicy};
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use sea_orm::DatabaseConnection;
use secrecy::ExposeSecret;

use crate::config::Config;
use crate::state::Services;

/// Longest wait for the SMTP server per command.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Sends the `email` channel's messages.
pub struct EmailDeliverer {
    db: DatabaseConnection,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    public_url: String,
    opt_out: OptOutKey,
    policy: RetryPolicy,
}

impl EmailDeliverer {
    /// Checks the e-mail settings of `config` (used at start-up).
    ///
    /// # Errors
    /// An SMTP URL that does not parse, a missing or malformed sender.
    pub fn check(config: &Config) -> anyhow::Result<()> {
        transport(config)?;
        sender(config)?;
        Ok(())
    }

    /// The deliverer of `config`'s SMTP server.
    ///
    /// # Errors
    /// As [`Self::check`].
    pub fn new(config: &Config, services: &Services) -> anyhow::Result<Self> {
        Ok(Self {
            db: services.db.clone(),
            transport: transport(config)?,
            from: sender(config)?,
            public_url: services.public_url.clone(),
            opt_out: services.mail.opt_out.clone(),
            policy: RetryPolicy {
                first_delay: config.smtp_retry,
                ..RetryPolicy::default()
            },
        })
    }

    fn message(&self, message: &Message, mail: &mail::Mail) -> Result<lettre::Message, String> {
        let to_address = mail
            .to_address
            .parse()
            .map_err(|_| "the customer's e-mail address is not valid".to_owned())?;
        let to_name = (!mail.to_name.is_empty()).then(|| mail.to_name.clone());
        let domain = self.from.email.domain().to_owned();
        lettre::Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(to_name, to_address))
            .subject(mail.subject.clone())
            .message_id(Some(format!("<{}@{domain}>", message.id.simple())))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{}>", mail.unsubscribe_url),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".to_owned(),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Content-Language"),
                mail.locale.code().to_owned(),
            ))
            .multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                mail.html.clone(),
            ))
            .map_err(|e| format!("the message could not be built: {e}"))
    }

    /// Removes the link from a settled message; a failure leaves it for the
    /// next submission, revocation or erasure to remove.
    async fn forget_link(&self, message: &Message) {
        if let Err(error) = mail::forget_sent_link(&self.db, message.id).await {
            tracing::warn!(error = %error, message_id = %message.id, "link not removed from a settled e-mail");
        }
    }
}

#[async_trait::async_trait]
impl super::Deliverer for EmailDeliverer {
    fn channel(&self) -> Channel {
        Channel::Email
    }

    fn policy(&self) -> RetryPolicy {
        self.policy
    }

    async fn deliver(&self, message: &Message) -> Outcome {
        let prepared = match mail::prepare(
            &self.db,
            &message.payload,
            &self.public_url,
            &self.opt_out,
            Utc::now(),
        )
        .await
        {
            Ok(prepared) => prepared,
            Err(error) => {
                return Outcome::Retry {
                    error: format!("not prepared: {error}"),
                    status: None,
                }
            }
        };
        let mail = match prepared {
            Prepared::Send(mail) => mail,
            Prepared::NotNeeded(reason) => {
                self.forget_link(message).await;
                return Outcome::GiveUp {
                    error: format!("{NOT_NEEDED}: {reason}"),
                    status: None,
                };
            }
        };
        let email = match self.message(message, &mail) {
            Ok(email) => email,
            Err(error) => {
                self.forget_link(message).await;
                return Outcome::GiveUp {
                    error,
                    status: None,
                };
            }
        };
        match self.transport.send(email).await {
            Ok(response) => {
                self.forget_link(message).await;
                Outcome::Delivered {
                    status: Some(i32::from(u16::from(response.code()))),
                }
            }
            Err(error) => {
                let status = error.status().map(|code| i32::from(u16::from(code)));
                let error_text = format!("SMTP: {error}");
                if error.is_permanent() {
                    self.forget_link(message).await;
                    Outcome::GiveUp {
                        error: error_text,
                        status,
                    }
                } else {
                    Outcome::Retry {
                        error: error_text,
                        status,
                    }
                }
            }
        }
    }
}

/// The SMTP transport of `RAPPORT_SMTP_URL`. `tls=starttls` requires
/// STARTTLS, `tls=none` (or no `tls`) speaks plain SMTP, `smtps://` uses
/// implicit TLS.
fn transport(config: &Config) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
    let Some(url) = &config.smtp_url else {
        bail!("RAPPORT_SMTP_URL is not set");
    };
    let url = lettre_url(url.expose_secret())?;
    // The URL may hold a password: errors name the setting, never the value.
    let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(&url)
        .map_err(|_| anyhow!("RAPPORT_SMTP_URL is not a valid smtp:// or smtps:// URL"))?;
    Ok(builder.timeout(Some(SMTP_TIMEOUT)).build())
}

/// Translates our `tls=` values to lettre's: `starttls` → `required`,
/// `none` → no parameter.
fn lettre_url(url: &str) -> anyhow::Result<String> {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, query),
        None => (url, ""),
    };
    let mut params = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair {
            "tls=starttls" | "tls=required" => params.push("tls=required"),
            "tls=opportunistic" => params.push("tls=opportunistic"),
            "tls=none" => {}
            other if other.starts_with("tls=") => {
                bail!("RAPPORT_SMTP_URL: tls must be starttls, opportunistic or none")
            }
            other => params.push(other),
        }
    }
    Ok(if params.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", params.join("&"))
    })
}

/// The sender of `RAPPORT_MAIL_FROM`.
fn sender(config: &Config) -> anyhow::Result<Mailbox> {
    config
        .mail_from
        .as_deref()
        .context("RAPPORT_MAIL_FROM is required with RAPPORT_SMTP_URL")?
        .parse()
        .map_err(|e| anyhow!("RAPPORT_MAIL_FROM is not an address: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_settings_translate_to_lettre() {
        let cases = [
            ("smtp://h:25?tls=none", "smtp://h:25"),
            (
                "smtp://u:p@h:587?tls=starttls",
                "smtp://u:p@h:587?tls=required",
            ),
            ("smtps://u:p@h", "smtps://u:p@h"),
            ("smtp://h?tls=none&x=1", "smtp://h?x=1"),
        ];
        for (given, expected) in cases {
            assert_eq!(lettre_url(given).expect("valid"), expected);
        }
        assert!(lettre_url("smtp://h?tls=maybe").is_err());
    }
}
