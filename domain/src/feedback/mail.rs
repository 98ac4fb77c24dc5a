//! Survey invitations and reminders by e-mail (issue 20 §2): who may be
//! mailed, the messages queued in the outbox with the invitation, what each
//! says in the invitation's language, and the opt-out.
//!
//! - Consent: an invitation e-mail goes only to a customer with an e-mail
//!   address, `marketingConsent` true (SPEC §3 knows no other consent), not
//!   erased and not opted out of survey e-mail. Others are skipped with a
//!   reason and get no invitation.
//! - Queueing: the invitation e-mail and the survey's reminders
//!   ([`ReminderPlan`]) are written to the outbox in the transaction that
//!   issues the invitation; a reminder is due `k × intervalDays` after it
//!   and only reminders due before the invitation expires are queued.
//! - Sending ([`prepare`]): each message is checked again when it is due:
//!   it is sent only while the invitation is pending and unexpired, the
//!   survey open, and the customer still reachable with consent; otherwise
//!   it is settled as not needed (an error starting with [`NOT_NEEDED`]).
//!   Addresses and names are read when sending, never stored in the outbox.
//! - The link: tokens are stored only as hashes, so the message carries the
//!   raw token in its payload until it is sent; it is removed from the
//!   payload once sent and from every message of an invitation once the
//!   invitation is submitted, revoked (re-issued) or its customer erased
//!   ([`forget_links`]).
//! - Opt-out: a link per customer, `{id}.{HMAC}` under a key derived from
//!   the server's secret ([`OptOutKey`]); following it records the choice
//!   in `customer_email_opt_outs`. Marketing consent is left as it is.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::{json, Value};
use sha2::Sha256;

use super::invitations::{IssuedInvitation, SkipReason};
use super::model::{Survey, SurveyStatus};
use super::surveys::load;
use crate::error::{DomainError, DomainResult};
use crate::outbox::{self, Channel, DeliveryState, MessageStatus, NewMessage};
use crate::sql::Params;
use entity::{customers, survey_invitations};

/// Outbox topic of an invitation e-mail.
pub const INVITATION_TOPIC: &str = "survey.invitation";
/// Outbox topic of a reminder e-mail.
pub const REMINDER_TOPIC: &str = "survey.reminder";
/// How the last error of a message that was settled without sending starts
/// (the invitation was answered, revoked or expired, the customer opted
/// out, ...).
pub const NOT_NEEDED: &str = "not needed";
/// Most reminders per invitation.
pub const MAX_REMINDERS: i32 = 3;
/// Longest interval between reminders, in days.
pub const MAX_INTERVAL_DAYS: i32 = 30;

/// How `inviteToSurvey` hands out its links.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InvitationDelivery {
    /// The links are returned to the caller, who delivers them.
    #[default]
    LinkOnly,
    /// The server e-mails each customer their link (and reminders).
    Email,
}

/// What an e-mailed invitation needs besides the customers.
#[derive(Clone, Debug)]
pub struct EmailRequest {
    /// The language of the e-mails (`de`, `el-GR`, ...); by default each
    /// customer's locale, else the survey's, else English.
    pub locale: Option<String>,
    /// The length of a reminder "day" (24 h; shorter in tests).
    pub day: Duration,
}

/// A survey's reminders: `count` (0..=3) reminder e-mails after the
/// invitation e-mail, `interval_days` (1..=30) apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReminderPlan {
    pub count: i32,
    pub interval_days: i32,
}

impl Default for ReminderPlan {
    /// No reminders (interval 3 days when some are set).
    fn default() -> Self {
        Self {
            count: 0,
            interval_days: 3,
        }
    }
}

impl ReminderPlan {
    /// Checks the bounds.
    ///
    /// # Errors
    /// `BAD_USER_INPUT` naming `count` or `intervalDays`.
    pub fn checked(self) -> DomainResult<Self> {
        if !(0..=MAX_REMINDERS).contains(&self.count) {
            return Err(DomainError::validation(
                "count",
                format!("must be between 0 and {MAX_REMINDERS}"),
            ));
        }
        if !(1..=MAX_INTERVAL_DAYS).contains(&self.interval_days) {
            return Err(DomainError::validation(
                "intervalDays",
                format!("must be between 1 and {MAX_INTERVAL_DAYS}"),
            ));
        }
        Ok(self)
    }
}

/// The reminder plan of survey `survey_id` (none set: no reminders).
///
/// # Errors
/// Database failures.
pub async fn reminder_plan(
    db: &impl ConnectionTrait,
    survey_id: i64,
) -> DomainResult<ReminderPlan> {
    let mut params = Params::new();
    params.bind("survey", survey_id);
    let statement = params.statement(
        db.get_database_backend(),
        "SELECT reminder_count, interval_days FROM survey_reminder_plans WHERE survey_id = :survey",
    )?;
    Ok(match db.query_one_raw(statement).await? {
        Some(row) => ReminderPlan {
            count: row.try_get("", "reminder_count")?,
            interval_days: row.try_get("", "interval_days")?,
        },
        None => ReminderPlan::default(),
    })
}

/// Sets the reminder plan of survey `survey_id` (any status); invitations
/// already sent keep the reminders they were sent with.
///
/// # Errors
/// `NOT_FOUND`; database failures.
pub(crate) async fn set_reminder_plan(
    txn: &impl ConnectionTrait,
    survey_id: i64,
    plan: ReminderPlan,
    now: DateTime<Utc>,
) -> DomainResult<Survey> {
    let survey = load(txn, survey_id).await?;
    let mut params = Params::new();
    params
        .bind("survey", survey_id)
        .bind("count", plan.count)
        .bind("interval", plan.interval_days)
        .bind("now", now.timestamp_millis());
    let statement = params.statement(
        txn.get_database_backend(),
        "INSERT INTO survey_reminder_plans (survey_id, reminder_count, interval_days, updated_at) \
         VALUES (:survey, :count, :interval, :now) \
         ON CONFLICT (survey_id) DO UPDATE SET reminder_count = excluded.reminder_count, \
         interval_days = excluded.interval_days, updated_at = excluded.updated_at",
    )?;
    txn.execute_raw(statement).await?;
    Ok(survey)
}

/// Which of `ids` opted out of survey e-mail.
async fn opted_out(db: &impl ConnectionTrait, ids: &[i64]) -> DomainResult<HashSet<i64>> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    // Ids are integers from our own rows, listed literally.
    let list = ids
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let statement = Params::new().statement(
        db.get_database_backend(),
        &format!("SELECT customer_id FROM customer_email_opt_outs WHERE customer_id IN ({list})"),
    )?;
    db.query_all_raw(statement)
        .await?
        .iter()
        .map(|row| Ok(row.try_get::<i64>("", "customer_id")?))
        .collect()
}

/// Why `customer` cannot be mailed, if they cannot.
fn unreachable(customer: &customers::Model, opted_out: bool) -> Option<SkipReason> {
    if customer
        .email
        .as_deref()
        .is_none_or(|e| e.trim().is_empty())
    {
        Some(SkipReason::NoEmail)
    } else if !customer.marketing_consent {
        Some(SkipReason::NoConsent)
    } else if opted_out {
        Some(SkipReason::OptedOut)
    } else {
        None
    }
}

/// Splits `candidates` (invitable customers) into those who may be mailed
/// and those skipped with why.
pub(crate) async fn mailable(
    db: &impl ConnectionTrait,
    candidates: &[customers::Model],
) -> DomainResult<(Vec<i64>, Vec<(i64, SkipReason)>)> {
    let ids: Vec<i64> = candidates.iter().map(|c| c.id).collect();
    let out = opted_out(db, &ids).await?;
    let mut reachable = Vec::new();
    let mut skipped = Vec::new();
    for customer in candidates {
        match unreachable(customer, out.contains(&customer.id)) {
            Some(reason) => skipped.push((customer.id, reason)),
            None => reachable.push(customer.id),
        }
    }
    Ok((reachable, skipped))
}

/// Queues the invitation e-mail of each issued invitation and its
/// reminders, on the issuing transaction.
pub(crate) async fn enqueue(
    txn: &impl ConnectionTrait,
    survey: &Survey,
    issued: &[IssuedInvitation],
    locales: &HashMap<i64, Option<String>>,
    request: &EmailRequest,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let plan = reminder_plan(txn, survey.id).await?;
    let day = chrono::Duration::from_std(request.day)
        .map_err(|e| DomainError::Internal(anyhow::anyhow!("reminder day: {e}")))?;
    for invitation in issued {
        let locale = MailLocale::pick(
            [
                request.locale.as_deref(),
                locales
                    .get(&invitation.customer_id)
                    .and_then(|l| l.as_deref()),
                survey.locale.as_deref(),
            ]
            .into_iter()
            .flatten(),
        );
        let payload = |reminder: i32| {
            json!({
                "invitationId": invitation.invitation_id,
                "customerId": invitation.customer_id,
                "surveyId": survey.id,
                "locale": locale.code(),
                "reminder": reminder,
                "token": invitation.token,
            })
        };
        outbox::enqueue(
            txn,
            NewMessage {
                channel: Channel::Email,
                topic: INVITATION_TOPIC.into(),
                target: Some(invitation.invitation_id.to_string()),
                payload: payload(0),
                not_before: None,
            },
        )
        .await?;
        for k in 1..=plan.count {
            let at = now + day * (plan.interval_days * k);
            if at >= invitation.expires_at {
                break;
            }
            outbox::enqueue(
                txn,
                NewMessage {
                    channel: Channel::Email,
                    topic: REMINDER_TOPIC.into(),
                    target: Some(invitation.invitation_id.to_string()),
                    payload: payload(k),
                    not_before: Some(at),
                },
            )
            .await?;
        }
    }
    Ok(())
}

/// Removes the link (the raw token) from every e-mail of `invitation_ids`,
/// pending or sent: called when an invitation is submitted, revoked or its
/// customer erased.
///
/// # Errors
/// Database failures (the caller's transaction rolls back).
pub async fn forget_links(db: &impl ConnectionTrait, invitation_ids: &[i64]) -> DomainResult<()> {
    let targets: Vec<String> = invitation_ids.iter().map(i64::to_string).collect();
    outbox::rewrite_payloads(db, Channel::Email, &targets, |payload| {
        payload
            .as_object_mut()
            .is_some_and(|fields| fields.remove("token").is_some())
    })
    .await
}

/// Removes the link from message `id` once it was sent.
///
/// # Errors
/// Database failures.
pub async fn forget_sent_link(db: &impl ConnectionTrait, id: uuid::Uuid) -> DomainResult<()> {
    outbox::rewrite_payload(db, id, |payload| {
        payload
            .as_object_mut()
            .is_some_and(|fields| fields.remove("token").is_some())
    })
    .await
}

/// The languages of the e-mails; others fall back to English.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailLocale {
    En,
    De,
    El,
    Fr,
    Es,
}

impl MailLocale {
    /// The first of `candidates` whose language has texts (`de-AT` → `de`);
    /// English when none has.
    pub fn pick<'a>(candidates: impl IntoIterator<Item = &'a str>) -> Self {
        candidates
            .into_iter()
            .find_map(|tag| {
                let language = tag
                    .split(['-', '_'])
                    .next()
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                match language.as_str() {
                    "en" => Some(Self::En),
                    "de" => Some(Self::De),
                    "el" => Some(Self::El),
                    "fr" => Some(Self::Fr),
                    "es" => Some(Self::Es),
                    _ => None,
                }
            })
            .unwrap_or(Self::En)
    }

    /// The language tag.
    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::De => "de",
            Self::El => "el",
            Self::Fr => "fr",
            Self::Es => "es",
        }
    }

    fn texts(self) -> &'static Texts {
        match self {
            Self::En => &EN,
            Self::De => &DE,
            Self::El => &EL,
            Self::Fr => &FR,
            Self::Es => &ES,
        }
    }
}

/// The words of the e-mails in one language. `{survey}` stands for the
/// survey's title.
struct Texts {
    invitation_subject: &'static str,
    reminder_subject: &'static str,
    greeting: &'static str,
    invitation_intro: &'static str,
    reminder_intro: &'static str,
    action: &'static str,
    valid_until: &'static str,
    opt_out: &'static str,
}

const EN: Texts = Texts {
    invitation_subject: "Your opinion on {survey}",
    reminder_subject: "Reminder: your opinion on {survey}",
    greeting: "Hello",
    invitation_intro: "we would like to hear what you think. Answering takes a few minutes.",
    reminder_intro:
        "you have not answered our survey yet. We would still like to hear what you think.",
    action: "Answer the survey",
    valid_until: "This personal link works until",
    opt_out: "No more survey e-mails? Unsubscribe",
};

const DE: Texts = Texts {
    invitation_subject: "Ihre Meinung zu {survey}",
    reminder_subject: "Erinnerung: Ihre Meinung zu {survey}",
    greeting: "Hallo",
    invitation_intro:
        "wir möchten gern wissen, was Sie denken. Die Antwort dauert nur wenige Minuten.",
    reminder_intro:
        "Sie haben unsere Umfrage noch nicht beantwortet. Ihre Meinung interessiert uns weiterhin.",
    action: "Zur Umfrage",
    valid_until: "Dieser persönliche Link gilt bis",
    opt_out: "Keine Umfrage-E-Mails mehr? Abmelden",
};

const EL: Texts = Texts {
    invitation_subject: "Η γνώμη σας για {survey}",
    reminder_subject: "Υπενθύμιση: η γνώμη σας για {survey}",
    greeting: "Γεια σας",
    invitation_intro: "θα θέλαμε να μάθουμε τη γνώμη σας. Η απάντηση διαρκεί λίγα λεπτά.",
    reminder_intro: "δεν έχετε απαντήσει ακόμη στην έρευνά μας. Η γνώμη σας μας ενδιαφέρει.",
    action: "Απαντήστε στην έρευνα",
    valid_until: "Αυτός ο προσωπικός σύνδεσμος ισχύει έως",
    opt_out: "Δεν θέλετε άλλα email ερευνών; Διαγραφή",
};

const FR: Texts = Texts {
    invitation_subject: "Votre avis sur {survey}",
    reminder_subject: "Rappel : votre avis sur {survey}",
    greeting: "Bonjour",
    invitation_intro: "nous aimerions connaître votre avis. Répondre prend quelques minutes.",
    reminder_intro:
        "vous n'avez pas encore répondu à notre enquête. Votre avis nous intéresse toujours.",
    action: "Répondre à l'enquête",
    valid_until: "Ce lien personnel est valable jusqu'au",
    opt_out: "Plus d'e-mails d'enquête ? Se désabonner",
};

const ES: Texts = Texts {
    invitation_subject: "Su opinión sobre {survey}",
    reminder_subject: "Recordatorio: su opinión sobre {survey}",
    greeting: "Hola",
    invitation_intro: "nos gustaría conocer su opinión. Responder lleva unos minutos.",
    reminder_intro:
        "todavía no ha respondido a nuestra encuesta. Su opinión nos sigue interesando.",
    action: "Responder a la encuesta",
    valid_until: "Este enlace personal es válido hasta el",
    opt_out: "¿No quiere más correos de encuestas? Darse de baja",
};

/// A message ready to send.
#[derive(Clone)]
pub struct Mail {
    /// The customer's address as stored.
    pub to_address: String,
    /// The customer's name, on one line.
    pub to_name: String,
    pub locale: MailLocale,
    /// On one line.
    pub subject: String,
    pub text: String,
    pub html: String,
    /// For `List-Unsubscribe`.
    pub unsubscribe_url: String,
}

impl std::fmt::Debug for Mail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mail")
            .field("locale", &self.locale)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// What to do with a due e-mail.
#[derive(Debug)]
pub enum Prepared {
    Send(Box<Mail>),
    /// Settle without sending, for this reason.
    NotNeeded(&'static str),
}

/// The payload of an invitation or reminder e-mail.
struct Payload {
    invitation_id: i64,
    customer_id: i64,
    locale: MailLocale,
    reminder: bool,
    token: Option<String>,
}

impl Payload {
    fn parse(value: &Value) -> DomainResult<Self> {
        let int = |key: &str| {
            value.get(key).and_then(Value::as_i64).ok_or_else(|| {
                DomainError::Internal(anyhow::anyhow!("e-mail payload without {key}"))
            })
        };
        Ok(Self {
            invitation_id: int("invitationId")?,
            customer_id: int("customerId")?,
            locale: MailLocale::pick(value.get("locale").and_then(Value::as_str)),
            reminder: value.get("reminder").and_then(Value::as_i64).unwrap_or(0) > 0,
            token: value
                .get("token")
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }
}

/// Checks a due e-mail against the state now and writes it, with links
/// under `public_url`.
///
/// # Errors
/// Database failures; `INTERNAL` on a payload that is not an e-mail's.
pub async fn prepare(
    db: &impl ConnectionTrait,
    payload: &Value,
    public_url: &str,
    key: &OptOutKey,
    now: DateTime<Utc>,
) -> DomainResult<Prepared> {
    let payload = Payload::parse(payload)?;
    let Some(invitation) = survey_invitations::Entity::find_by_id(payload.invitation_id)
        .one(db)
        .await?
    else {
        return Ok(Prepared::NotNeeded("the invitation no longer exists"));
    };
    if invitation.used_at.is_some() {
        return Ok(Prepared::NotNeeded("the invitation was answered"));
    }
    if invitation.revoked_at.is_some() {
        return Ok(Prepared::NotNeeded("the invitation was revoked"));
    }
    if invitation.expires_at <= now {
        return Ok(Prepared::NotNeeded("the invitation expired"));
    }
    let survey = load(db, invitation.survey_id).await?;
    if survey.status != SurveyStatus::Active || survey.closes_at.is_some_and(|t| t <= now) {
        return Ok(Prepared::NotNeeded("the survey is closed"));
    }
    let Some(customer) = customers::Entity::find_by_id(payload.customer_id)
        .one(db)
        .await?
    else {
        return Ok(Prepared::NotNeeded("the customer no longer exists"));
    };
    if customer.erased_at.is_some() {
        return Ok(Prepared::NotNeeded("the customer was erased"));
    }
    let out = opted_out(db, &[customer.id]).await?.contains(&customer.id);
    match unreachable(&customer, out) {
        Some(SkipReason::NoEmail) => return Ok(Prepared::NotNeeded("the customer has no e-mail")),
        Some(SkipReason::OptedOut) => return Ok(Prepared::NotNeeded("the customer opted out")),
        Some(_) => return Ok(Prepared::NotNeeded("the customer withdrew consent")),
        None => {}
    }
    // Checked last: a link removed on submission or revocation is reported
    // by the reason above.
    let Some(token) = payload.token.as_deref() else {
        return Ok(Prepared::NotNeeded("the link is no longer valid"));
    };
    let form_url = format!("{public_url}/s/{token}");
    let unsubscribe_url = format!("{public_url}/unsubscribe/{}", key.token(customer.id));
    let texts = payload.locale.texts();
    let title = one_line(&survey.title);
    let name = one_line(&customer.name);
    let subject_template = if payload.reminder {
        texts.reminder_subject
    } else {
        texts.invitation_subject
    };
    let intro = if payload.reminder {
        texts.reminder_intro
    } else {
        texts.invitation_intro
    };
    let expires = invitation.expires_at.format("%Y-%m-%d").to_string();
    let subject = subject_template.replace("{survey}", &title);
    let text = format!(
        "{greeting} {name},\n\n{intro}\n\n{action}: {form_url}\n\n{valid} {expires}.\n\n-- \n{opt_out}: {unsubscribe_url}\n",
        greeting = texts.greeting,
        action = texts.action,
        valid = texts.valid_until,
        opt_out = texts.opt_out,
    );
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{subject_h}</title></head><body>\
         <p>{greeting} {name_h},</p><p>{intro_h}</p>\
         <p><a href=\"{form_h}\">{action}</a></p>\
         <p>{valid} {expires}.</p>\
         <hr><p><small><a href=\"{unsub_h}\">{opt_out}</a></small></p></body></html>\n",
        lang = payload.locale.code(),
        subject_h = escape_html(&subject),
        greeting = escape_html(texts.greeting),
        name_h = escape_html(&name),
        intro_h = escape_html(intro),
        form_h = escape_html(&form_url),
        action = escape_html(texts.action),
        valid = escape_html(texts.valid_until),
        unsub_h = escape_html(&unsubscribe_url),
        opt_out = escape_html(texts.opt_out),
    );
    Ok(Prepared::Send(Box::new(Mail {
        to_address: customer.email.unwrap_or_default().trim().to_owned(),
        to_name: name,
        locale: payload.locale,
        subject,
        text,
        html,
        unsubscribe_url,
    })))
}

/// `value` on one line: control characters (CR, LF, ...) become spaces, so
/// a name or a title cannot start a new header line.
pub fn one_line(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// `value` safe inside HTML text and attribute values.
pub fn escape_html(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The key of opt-out links, derived from the server's secret: a link
/// names its customer and proves it was made here, with nothing stored.
#[derive(Clone)]
pub struct OptOutKey([u8; 32]);

impl std::fmt::Debug for OptOutKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OptOutKey(***)")
    }
}

type HmacSha256 = Hmac<Sha256>;

impl OptOutKey {
    /// The key derived from `secret` (the server's JWT key).
    pub fn derive(secret: &[u8]) -> Self {
        let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
        mac.update(b"rapport e-mail opt-out v1");
        Self(mac.finalize().into_bytes().into())
    }

    fn mac(&self, customer_id: i64) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(customer_id.to_string().as_bytes());
        mac
    }

    /// The opt-out token of `customer_id`: `{id}.{base64url HMAC}`.
    pub fn token(&self, customer_id: i64) -> String {
        let tag = self.mac(customer_id).finalize().into_bytes();
        format!("{customer_id}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// The customer an opt-out token names, when it was made with this key.
    pub fn verify(&self, token: &str) -> Option<i64> {
        let (id, tag) = token.split_once('.')?;
        let customer_id: i64 = id.parse().ok()?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        self.mac(customer_id).verify_slice(&tag).ok()?;
        Some(customer_id)
    }
}

/// Records that `customer_id` wants no more survey e-mail (again: no
/// change). Returns false when there is no such customer.
///
/// # Errors
/// Database failures.
pub async fn opt_out(
    db: &impl ConnectionTrait,
    customer_id: i64,
    now: DateTime<Utc>,
) -> DomainResult<bool> {
    if customers::Entity::find_by_id(customer_id)
        .one(db)
        .await?
        .is_none()
    {
        return Ok(false);
    }
    let mut params = Params::new();
    params
        .bind("customer", customer_id)
        .bind("now", now.timestamp_millis());
    let statement = params.statement(
        db.get_database_backend(),
        "INSERT INTO customer_email_opt_outs (customer_id, opted_out_at) VALUES (:customer, :now) \
         ON CONFLICT (customer_id) DO NOTHING",
    )?;
    db.execute_raw(statement).await?;
    Ok(true)
}

/// The kind of an invitation's e-mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmailKind {
    Invitation,
    Reminder,
}

/// Where an invitation's e-mail stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmailState {
    /// Waiting to be sent (a reminder not yet due, or a retry after a
    /// failure).
    Queued,
    Sent,
    /// Given up after failures (or refused by the mail server for good).
    Failed,
    /// Settled without sending: no longer needed.
    NotNeeded,
}

/// One e-mail of an invitation, for staff.
#[derive(Clone, Debug)]
pub struct EmailDelivery {
    pub id: uuid::Uuid,
    pub kind: EmailKind,
    pub state: EmailState,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When it is due (queued ones).
    pub scheduled_at: Option<DateTime<Utc>>,
    pub sent_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
}

impl EmailDelivery {
    fn from_status(status: MessageStatus) -> Self {
        let state = match status.state {
            DeliveryState::Queued => EmailState::Queued,
            DeliveryState::Delivered => EmailState::Sent,
            DeliveryState::Failed
                if status
                    .last_error
                    .as_deref()
                    .is_some_and(|e| e.starts_with(NOT_NEEDED)) =>
            {
                EmailState::NotNeeded
            }
            DeliveryState::Failed => EmailState::Failed,
        };
        Self {
            id: status.id,
            kind: if status.topic == REMINDER_TOPIC {
                EmailKind::Reminder
            } else {
                EmailKind::Invitation
            },
            state,
            attempts: status.attempts,
            last_error: status.last_error,
            created_at: status.created_at,
            scheduled_at: status.next_attempt_at,
            sent_at: status.delivered_at,
            failed_at: status.failed_at,
        }
    }
}

/// The e-mails of invitation `invitation_id`, the invitation first, then
/// its reminders in order.
///
/// # Errors
/// Database failures.
pub(crate) async fn deliveries(
    db: &impl ConnectionTrait,
    invitation_id: i64,
) -> DomainResult<Vec<EmailDelivery>> {
    let mut list: Vec<EmailDelivery> = outbox::for_target(
        db,
        Channel::Email,
        &invitation_id.to_string(),
        u64::try_from(MAX_REMINDERS + 1).unwrap_or(4),
    )
    .await?
    .into_iter()
    .map(EmailDelivery::from_status)
    .collect();
    list.sort_by_key(|d| {
        (
            d.kind == EmailKind::Reminder,
            d.scheduled_at.or(d.sent_at).or(d.failed_at),
        )
    });
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opt_out_tokens_verify_only_with_their_key_and_customer() {
        let key = OptOutKey::derive(b"one secret of enough length for tests");
        let other = OptOutKey::derive(b"another secret of enough length, too");
        let token = key.token(42);
        assert_eq!(key.verify(&token), Some(42));
        assert_eq!(other.verify(&token), None);
        let forged = token.replacen("42.", "43.", 1);
        assert_eq!(key.verify(&forged), None);
        assert_eq!(key.verify("42"), None);
        assert_eq!(key.verify(""), None);
    }

    #[test]
    fn locales_fall_back_by_language_then_to_english() {
        assert_eq!(MailLocale::pick(["de-AT"]), MailLocale::De);
        assert_eq!(MailLocale::pick(["pt-BR", "el_GR"]), MailLocale::El);
        assert_eq!(MailLocale::pick(["pt"]), MailLocale::En);
        assert_eq!(MailLocale::pick(Vec::<&str>::new()), MailLocale::En);
    }

    #[test]
    fn header_values_stay_on_one_line_and_html_is_escaped() {
        assert_eq!(
            one_line("Ann\r\nBcc: x@example.com"),
            "Ann  Bcc: x@example.com"
        );
        assert_eq!(
            escape_html("<b>\"A&B\"</b>'"),
            "&lt;b&gt;&quot;A&amp;B&quot;&lt;/b&gt;&#39;"
        );
    }
}
