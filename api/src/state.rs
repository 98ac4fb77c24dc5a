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
    /// CSV exports (`createExport`, `GET /exports/{token}`).
    pub exports: ExportService,
    /// Signs and checks export download links.
    pub export_links: ExportLinks,
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
            exports: ExportService::new(db.clone()),
            export_links,
            db,
        }
    }
}
