//! A per-client cap on logins in flight, so one client cannot take every
//! password-hashing slot: its surplus waits briefly for a slot of its own,
//! then is refused with `RATE_LIMITED`; other clients are not queued behind it.
//!
//! The state is per process and keyed by whatever client address the caller
//! passes (the API layer's one definition of it).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{DomainError, DomainResult};

/// Logins (each one password verification) one client may have in flight,
/// at most: with fewer than three hashing slots (see [`ClientGate::new`]) it
/// is one less than the slots, so one client never holds them all.
pub const MAX_LOGINS_IN_FLIGHT_PER_CLIENT: usize = 2;
/// How long a client's further login waits for one of its slots before it is
/// refused with `RATE_LIMITED`.
pub const LOGIN_SLOT_WAIT: Duration = Duration::from_secs(1);
/// Clients tracked before idle entries are swept.
const SWEEP_AT: usize = 10_000;

/// Login slots per client.
#[derive(Debug)]
pub(super) struct ClientGate {
    slots: Mutex<HashMap<String, Arc<Semaphore>>>,
    per_client: usize,
}

impl ClientGate {
    /// A gate in front of a hasher with `hashing_slots` verifications at once:
    /// each client gets [`MAX_LOGINS_IN_FLIGHT_PER_CLIENT`] slots, or one less
    /// than `hashing_slots` when that is smaller (at least one).
    pub(super) fn new(hashing_slots: usize) -> Self {
        Self {
            slots: Mutex::default(),
            per_client: MAX_LOGINS_IN_FLIGHT_PER_CLIENT
                .min(hashing_slots.saturating_sub(1))
                .max(1),
        }
    }

    /// Takes one of `client`'s slots, waiting up to [`LOGIN_SLOT_WAIT`].
    ///
    /// # Errors
    /// `RATE_LIMITED` when the client's slots stay taken.
    pub(super) async fn enter(&self, client: &str) -> DomainResult<OwnedSemaphorePermit> {
        let slots = {
            let mut map = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            if map.len() >= SWEEP_AT {
                // Only the map holds an idle client's semaphore.
                map.retain(|_, s| Arc::strong_count(s) > 1);
            }
            map.entry(client.to_owned())
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_client)))
                .clone()
        };
        match tokio::time::timeout(LOGIN_SLOT_WAIT, slots.acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(closed)) => Err(DomainError::Internal(closed.into())),
            Err(_elapsed) => Err(DomainError::RateLimited {
                retry_after_secs: 1,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_client_gets_its_slots_and_no_more_while_others_get_theirs() {
        let gate = ClientGate::new(8);
        assert_eq!(ClientGate::new(2).per_client, 1, "one slot stays free");
        assert_eq!(ClientGate::new(1).per_client, 1);
        let first = gate.enter("10.0.0.1").await.expect("slot 1");
        let _second = gate.enter("10.0.0.1").await.expect("slot 2");
        let started = std::time::Instant::now();
        assert!(matches!(
            gate.enter("10.0.0.1").await,
            Err(DomainError::RateLimited { .. })
        ));
        assert!(started.elapsed() >= LOGIN_SLOT_WAIT);
        let _other = gate.enter("10.0.0.2").await.expect("another client");
        drop(first);
        let _third = gate.enter("10.0.0.1").await.expect("a slot freed");
    }
}
