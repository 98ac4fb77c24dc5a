//! The services a running server shares across requests.
//!
//! Each area adds its service as one field and one line in [`Services::new`].

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use domain::customers::CustomerService;
use domain::exports::ExportService;
use domain::feedback::{SurveyResponse, SurveyService};
use domain::loyalty::LoyaltyService;
use domain::metrics::MetricsService;
use domain::users::UserService;
use sea_orm::DatabaseConnection;

use crate::auth::JwtKeys;
use crate::http::export::ExportLinks;
use crate::throttle::PublicLimiter;

/// Everything resolvers need, cloned cheaply into each request.
#[derive(Clone)]
pub struct Services {
    pub db: DatabaseConnection,
    pub jwt: JwtKeys,
    /// Base URL for links handed out (invitation forms).
    pub public_url: String,
    /// Statements sent to the database since start (see `domain::db`).
    pub statements: Arc<AtomicU64>,
    pub users: UserService,
    pub loyalty: LoyaltyService,
    pub customers: CustomerService,
    pub csi: domain::csi::CsiService,
    pub surveys: SurveyService,
    /// New survey responses, for this process's `feedbackReceived`
    /// subscribers. Fed directly on SQLite, and on PostgreSQL by the relay
    /// that hears every process's responses (`crate::feedback_relay`).
    pub feedback_events: tokio::sync::broadcast::Sender<Arc<SurveyResponse>>,
    /// Throttles public respondent operations per client address (across
    /// processes on PostgreSQL).
    pub public_throttle: Arc<PublicLimiter>,
    pub metrics: MetricsService,
    /// E-mail settings: whether mail can be sent, reminder pacing, the
    /// opt-out link key.
    pub mail: Arc<MailSettings>,
    /// Webhook endpoints; URLs checked by the configured rules
    /// (`Services::with_webhook_rules`).
    pub webhooks: domain::webhooks::WebhookService,
    /// CSV exports (`createExport`, `GET /exports/{token}`).
    pub exports: ExportService,
    /// Signs and checks export download links.
    pub export_links: ExportLinks,
    /// Parsed documents and persisted query texts, bounded
    /// (`crate::graphql::documents`).
    pub documents: Arc<crate::graphql::documents::DocumentCache>,
}

/// What the e-mail features need at request time.
#[derive(Clone, Debug)]
pub struct MailSettings {
    /// An SMTP server is configured, so `delivery: EMAIL` is accepted.
    pub enabled: bool,
    /// The length of a reminder "day".
    pub reminder_day: std::time::Duration,
    /// Signs and checks opt-out links.
    pub opt_out: domain::feedback::mail::OptOutKey,
}

impl MailSettings {
    /// The settings of `config`, with the opt-out key derived from the JWT
    /// key `secret`.
    pub fn new(config: &crate::config::Config, secret: &[u8]) -> Self {
        Self {
            enabled: config.smtp_url.is_some(),
            reminder_day: config.reminder_day,
            opt_out: domain::feedback::mail::OptOutKey::derive(secret),
        }
    }
}

impl Default for MailSettings {
    /// No e-mail; an opt-out key of random bytes (no link verifies).
    fn default() -> Self {
        let mut secret = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut secret);
        Self {
            enabled: false,
            reminder_day: std::time::Duration::from_secs(86_400),
            opt_out: domain::feedback::mail::OptOutKey::derive(&secret),
        }
    }
}

/// Responses buffered for slow subscribers before they skip ahead.
pub const FEEDBACK_CHANNEL_CAPACITY: usize = 256;

impl Services {
    /// Builds every area's service over one connection pool.
    pub fn new(
        db: DatabaseConnection,
        jwt: JwtKeys,
        users: UserService,
        public_url: String,
        statements: Arc<AtomicU64>,
        export_links: ExportLinks,
    ) -> Self {
        Self {
            jwt,
            public_url,
            statements,
            users,
            loyalty: LoyaltyService::new(db.clone()),
            customers: CustomerService::new(db.clone()),
            csi: domain::csi::CsiService::new(db.clone()),
            surveys: SurveyService::new(db.clone()),
            feedback_events: tokio::sync::broadcast::channel(FEEDBACK_CHANNEL_CAPACITY).0,
            public_throttle: Arc::new(PublicLimiter::for_database(&db)),
            metrics: MetricsService::new(db.clone()),
            mail: Arc::default(),
            webhooks: domain::webhooks::WebhookService::new(
                db.clone(),
                domain::webhooks::UrlRules::default(),
            ),
            exports: ExportService::new(db.clone()),
            export_links,
            documents: Arc::default(),
            db,
        }
    }

    /// The same services, webhook URLs checked by `rules`.
    #[must_use]
    pub fn with_webhook_rules(mut self, rules: domain::webhooks::UrlRules) -> Self {
        self.webhooks = domain::webhooks::WebhookService::new(self.db.clone(), rules);
        self
    }
}
