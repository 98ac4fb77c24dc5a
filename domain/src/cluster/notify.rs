//! Survey responses announced to every process over PostgreSQL's
//! `LISTEN`/`NOTIFY`.
//!
//! The payload is the response id only: the receiving process reads the row
//! itself, and its subscribers' own authorisation decides who sees it. On
//! SQLite (one process per file) nothing is announced here; the API keeps
//! its in-process channel.

use std::time::Duration;

use sea_orm::sqlx::postgres::{PgListener, PgPoolOptions};
use sea_orm::{DatabaseBackend, DatabaseConnection};

use super::driver_error;
use crate::error::DomainResult;

/// The notification channel of stored survey responses.
pub const FEEDBACK_CHANNEL: &str = "rapport_feedback_received";

/// How long the listener waits before it reconnects after an error.
const RECONNECT_PAUSE: Duration = Duration::from_millis(250);

/// Whether announcements travel through the database (PostgreSQL).
pub fn crosses_processes(db: &DatabaseConnection) -> bool {
    db.get_database_backend() == DatabaseBackend::Postgres
}

/// The expression that announces a stored response to every process
/// listening, for the `RETURNING` list of the statement that inserts it
/// (`id` names the new row's id); `None` on SQLite, where the submitting
/// process tells its own subscribers.
///
/// `NOTIFY` is transactional: listeners hear the id once the transaction
/// commits, and never when it rolls back, so a dashboard reads only
/// committed responses; and announcing costs no statement of its own.
pub(crate) fn announce_feedback_expr(backend: DatabaseBackend) -> Option<String> {
    (backend == DatabaseBackend::Postgres)
        .then(|| format!("pg_notify('{FEEDBACK_CHANNEL}', CAST(id AS TEXT))"))
}

/// What the listener heard.
#[derive(Debug, PartialEq, Eq)]
pub enum Heard {
    /// A response was stored (by any process).
    Feedback(i64),
    /// The connection was lost and is listening again: announcements made
    /// in between were missed.
    Reconnected,
}

/// A `LISTEN` on [`FEEDBACK_CHANNEL`], on a connection of its own (a
/// one-connection pool beside the request pool, so it never takes a
/// request's connection), reconnecting by itself.
pub struct FeedbackListener {
    listener: PgListener,
    /// The connection failed since the last thing reported.
    gap: bool,
    /// An id heard on the new connection while the gap was being reported.
    pending: Option<i64>,
}

impl FeedbackListener {
    /// Listens on PostgreSQL; `None` on SQLite.
    ///
    /// # Errors
    /// When the first connection or the `LISTEN` fails.
    pub async fn connect(db: &DatabaseConnection) -> DomainResult<Option<Self>> {
        if !crosses_processes(db) {
            return Ok(None);
        }
        let options = db.get_postgres_connection_pool().connect_options();
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            .connect_lazy_with((*options).clone());
        let mut listener = PgListener::connect_with(&pool)
            .await
            .map_err(driver_error)?;
        listener
            .listen(FEEDBACK_CHANNEL)
            .await
            .map_err(driver_error)?;
        Ok(Some(Self {
            listener,
            gap: false,
            pending: None,
        }))
    }

    /// The next thing heard. Waits through lost connections (retrying every
    /// quarter second); once listening again it answers
    /// [`Heard::Reconnected`] before any id heard on the new connection.
    pub async fn next(&mut self) -> Heard {
        if let Some(id) = self.pending.take() {
            return Heard::Feedback(id);
        }
        loop {
            match self.listener.try_recv().await {
                Ok(Some(notification)) => match notification.payload().parse() {
                    Ok(id) if self.gap => {
                        self.gap = false;
                        self.pending = Some(id);
                        return Heard::Reconnected;
                    }
                    Ok(id) => return Heard::Feedback(id),
                    Err(_) => tracing::warn!(
                        payload = notification.payload(),
                        "unreadable feedback notification"
                    ),
                },
                // sqlx noticed the lost connection, reconnected and listens again.
                Ok(None) => {
                    self.gap = false;
                    return Heard::Reconnected;
                }
                Err(error) => {
                    if !self.gap {
                        tracing::warn!(error = %error, "feedback listener lost its connection; reconnecting");
                    }
                    self.gap = true;
                    tokio::time::sleep(RECONNECT_PAUSE).await;
                }
            }
        }
    }
}
