//! How a stored survey response reaches the `feedbackReceived` subscribers
//! of every process.
//!
//! On SQLite (one process per file) the submitting process puts the
//! response straight into its own channel. On PostgreSQL it announces the
//! id with `NOTIFY` (`domain::cluster::notify`); every process, the
//! submitting one included, runs [`relay`], which hears the id, reads the
//! row once and hands it to its own subscribers. A lost listening
//! connection is re-established by itself; responses stored during the gap
//! are not delivered (docs/DEPLOY.md says so), and the sockets stay open.

use std::sync::Arc;
use std::time::Duration;

use domain::cluster::notify::{self, FeedbackListener, Heard};
use domain::feedback::SurveyResponse;

use crate::state::Services;

/// Pause before retrying a listener that could not connect at all.
const CONNECT_RETRY: Duration = Duration::from_secs(1);

/// Tells live dashboards of a committed response. Never fails the
/// submission: a lost announcement only means a dashboard misses it.
pub async fn publish(services: &Services, response: SurveyResponse) {
    if notify::crosses_processes(&services.db) {
        if let Err(error) = notify::announce_feedback(&services.db, response.id).await {
            tracing::warn!(error = %error, response_id = response.id, "response not announced to live dashboards");
        }
    } else {
        // No subscriber is not an error.
        let _ = services.feedback_events.send(Arc::new(response));
    }
}

/// Relays announced responses to this process's subscribers, for the
/// process's lifetime (PostgreSQL); returns at once on SQLite.
pub async fn relay(services: Services) {
    if !notify::crosses_processes(&services.db) {
        return;
    }
    let mut listener = loop {
        match FeedbackListener::connect(&services.db).await {
            Ok(Some(listener)) => break listener,
            Ok(None) => return,
            Err(error) => {
                tracing::warn!(error = %error, "feedback listener could not connect; retrying");
                tokio::time::sleep(CONNECT_RETRY).await;
            }
        }
    };
    loop {
        match listener.next().await {
            Heard::Feedback(id) => {
                if services.feedback_events.receiver_count() == 0 {
                    continue;
                }
                match services.surveys.announced_response(id).await {
                    Ok(response) => {
                        let _ = services.feedback_events.send(Arc::new(response));
                    }
                    Err(error) => {
                        tracing::warn!(error = %error, response_id = id, "announced response not read");
                    }
                }
            }
            Heard::Reconnected => {
                tracing::info!("feedback listener listening again; responses stored during the gap were not relayed");
            }
        }
    }
}
