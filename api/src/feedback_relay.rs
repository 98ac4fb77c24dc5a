//! How a stored survey response reaches the `feedbackReceived` subscribers
//! of every process.
//!
//! On SQLite (one process per file) the submitting process puts the
//! response straight into its own channel. On PostgreSQL the statement that
//! stores the response also announces its id with `NOTIFY`
//! (`domain::cluster::notify`), heard when the transaction commits; every
//! process, the submitting one included, runs [`relay`], which hears the
//! id, reads the row once and hands it to its own subscribers. A lost
//! listening connection is re-established by itself; responses stored
//! during the gap are not delivered (docs/DEPLOY.md says so), and the
//! sockets stay open.

use std::sync::Arc;
use std::time::Duration;

use domain::cluster::notify::{self, FeedbackListener, Heard};
use domain::feedback::SurveyResponse;

use crate::state::Services;

/// Pause before retrying a listener that could not connect at all.
const CONNECT_RETRY: Duration = Duration::from_secs(1);

/// Tells this process's live dashboards of a committed response (SQLite);
/// on PostgreSQL the response was announced as it was stored, and [`relay`]
/// delivers it.
pub fn publish(services: &Services, response: SurveyResponse) {
    if !notify::crosses_processes(&services.db) {
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
